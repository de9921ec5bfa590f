package sealed

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

type payload struct {
	Name  string   `json:"name"`
	Ports []int    `json:"ports"`
	Tags  []string `json:"tags"`
}

func TestRoundTrip(t *testing.T) {
	in := payload{Name: "web", Ports: []int{80, 443}, Tags: []string{"a", "é"}}
	data, err := Seal("test.payload", 3, in)
	require.NoError(t, err)
	var out payload
	require.NoError(t, Open(data, "test.payload", 3, &out))
	require.Equal(t, in, out)
}

// TestEveryCorruptionDetected flips every bit and truncates at every byte
// of a sealed payload: each result is rejected, or — when the flip only
// changes the letter case of a field name, which encoding/json matches
// case-insensitively — decodes to the very same payload.
func TestEveryCorruptionDetected(t *testing.T) {
	in := payload{Name: "web", Ports: []int{80, 443, 8080}, Tags: []string{"frontend", "prod"}}
	data, err := Seal("test.payload", 1, in)
	require.NoError(t, err)
	accepted := 0
	for i := range data {
		for bit := range 8 {
			bad := append([]byte(nil), data...)
			bad[i] ^= 1 << bit
			var out payload
			if err := Open(bad, "test.payload", 1, &out); err == nil {
				require.Equal(t, in, out, "byte %d bit %d accepted with a different payload", i, bit)
				accepted++
			} else {
				require.True(t, errors.Is(err, ErrCorrupt), "byte %d bit %d: %v", i, bit, err)
			}
		}
	}
	for n := range len(data) {
		var out payload
		require.Error(t, Open(data[:n], "test.payload", 1, &out), "truncated to %d bytes", n)
	}
	t.Logf("%d bytes, %d flips, %d accepted with the same payload", len(data), 8*len(data), accepted)
}

func TestWrongKindOrVersion(t *testing.T) {
	data, err := Seal("a", 1, payload{})
	require.NoError(t, err)
	var out payload
	require.ErrorContains(t, Open(data, "b", 1, &out), `kind "a", want "b"`)
	require.ErrorContains(t, Open(data, "a", 2, &out), "version 1, want 2")
	require.ErrorContains(t, Open(append(data, `{}`...), "a", 1, &out), "data after")
}
