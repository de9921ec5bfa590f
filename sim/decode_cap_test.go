package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// badStream is n documents, each an object of an unknown kind.
func badStream(n int) []byte {
	return []byte(strings.Repeat("apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n---\n", n))
}

// TestDecodeStopsAtErrorCap: past maxDecodeErrors problems the decoder
// stops decoding, so 100 times the bad documents cost about as much as
// the first ones: counted in allocations, which each decoded document
// makes dozens of.
func TestDecodeStopsAtErrorCap(t *testing.T) {
	_, err := DecodeScenario(badStream(200))
	require.ErrorContains(t, err, "too many errors")
	allocs := func(n int) float64 {
		data := badStream(n)
		return testing.AllocsPerRun(2, func() { _, _ = DecodeScenario(data) })
	}
	small, large := allocs(100), allocs(10000)
	t.Logf("allocations: %v for 100 bad documents, %v for 10000", small, large)
	require.Less(t, large, 3*small)
}
