package dnsname

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestHashesAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		require.Equal(t, hashString(s), hashBytes([]byte(s)))
	})
}

func TestSvcTable(t *testing.T) {
	require.Nil(t, (*svcTable)(nil).slot(1, []byte("x")))
	require.Nil(t, newSvcTable(nil, 1))
	for _, n := range []int{1, 2, 3, 7, 100, 1000} {
		m := make(map[string]*svcNode, n)
		for i := range n {
			m[fmt.Sprintf("svc-%d.ns", i)] = &svcNode{self: &entry{}}
		}
		tab := newSvcTable(m, 1)
		used := 0
		for _, s := range tab.slots {
			if s.node != nil {
				used++
			}
		}
		require.Equal(t, n, used)
		require.LessOrEqual(t, 2*n, len(tab.slots))
		for k, v := range m {
			s := tab.slot(hashString(k), []byte(k))
			require.NotNil(t, s, k)
			require.Same(t, v, s.node, k)
			require.Same(t, v.self, s.self, k)
		}
		for i := range 2 * n {
			k := fmt.Sprintf("other-%d.ns", i)
			require.Nil(t, tab.slot(hashString(k), []byte(k)), k)
		}
	}
}
