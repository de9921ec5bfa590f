package endpoints

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

// TestPermuteSuffix: the permutation is a bijection of the 27^5
// suffixes, checked exhaustively.
func TestPermuteSuffix(t *testing.T) {
	seen := make([]bool, suffixSpace)
	for x := range uint32(suffixSpace) {
		y := permuteSuffix(x)
		if y >= suffixSpace || seen[y] {
			t.Fatalf("permuteSuffix(%d) = %d: out of range or twice", x, y)
		}
		seen[y] = true
	}
}

// TestSliceName: <service>-<5 characters>, the prefix cut to 58 as the
// API server's name generator cuts it, distinct for a Service's slices.
func TestSliceName(t *testing.T) {
	s := &svcState{key: service.NamespacedName{Namespace: "default", Name: "web"}}
	re := regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	names := map[string]bool{}
	for seq := range uint64(2000) {
		n := sliceName(s, seq)
		require.Regexp(t, re, n)
		require.False(t, names[n], "%s twice", n)
		names[n] = true
	}
	require.Equal(t, sliceName(s, 1), sliceName(s, 1))
	other := &svcState{key: service.NamespacedName{Namespace: "prod", Name: "web"}}
	require.NotEqual(t, sliceName(s, 1), sliceName(other, 1))
	require.NotEqual(t, sliceName(s, 1), sliceName(s, 1+suffixSpace), "past 27^5 the wraps are appended")
	require.Equal(t, sliceName(s, 1)+"1", sliceName(s, 1+suffixSpace))

	long := &svcState{key: service.NamespacedName{Namespace: "default", Name: strings.Repeat("a", 63)}}
	n := sliceName(long, 1)
	require.Len(t, n, 63)
	require.Equal(t, strings.Repeat("a", 58), n[:58])
}
