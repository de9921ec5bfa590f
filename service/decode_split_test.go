package service

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSplitYAMLDocuments: documents split as SplitYAML splits them, each
// numbered by its position (from 1) and with the line it starts on.
func TestSplitYAMLDocuments(t *testing.T) {
	for _, in := range []string{
		"a: 1\n---\nb: 2\n",
		"---\n# only a comment\n---\n\n\na: 1\n--- # next\nb: 2\n...\n",
		"a: 1\r\n---\r\nb: 2",
		"",
		"---\n---\n",
	} {
		got := SplitYAMLDocuments([]byte(in))
		want := SplitYAML([]byte(in))
		require.Len(t, got, len(want), "%q", in)
		for i := range got {
			require.Equal(t, strings.TrimLeft(string(want[i]), "\r\n"), string(got[i].Data), "%q: document %d", in, i+1)
		}
	}
	docs := SplitYAMLDocuments([]byte("---\n# only a comment\n---\n\n\na: 1\n--- # next\nb: 2\n"))
	lines := map[int]int{}
	for i, d := range docs {
		lines[i+1] = d.Line
	}
	require.Equal(t, map[int]int{1: 6, 2: 8}, lines)
}
