package service

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// descendingRequirements returns n "kNNNNNN=v" requirements in descending
// key order, the worst case of an insertion sort.
func descendingRequirements(n int) []Requirement {
	r := make([]Requirement, n)
	for i := range r {
		r[i] = Requirement{key: fmt.Sprintf("k%07d", n-i), op: Equals, values: []string{"v"}}
	}
	return r
}

// TestCanonicalCostGrowth counts the comparisons canonicalisation makes:
// ten times the requirements must cost no more than about twenty times
// the comparisons (n log n gives about 13×; the insertion sort it
// replaced gave 100×).
func TestCanonicalCostGrowth(t *testing.T) {
	count := func(n int) int {
		calls := 0
		canonicalBy(descendingRequirements(n), func(a, b *Requirement) int {
			calls++
			return compareRequirementPtrs(a, b)
		})
		return calls
	}
	small, large := count(2000), count(20000)
	require.LessOrEqual(t, large, 20*small, "comparisons: %d for 2000 requirements, %d for 20000", small, large)
}

// TestCanonicalMatchesNaive checks canonical, on both sides of the
// small-input cutoff, against a stable sort followed by dropping equal
// neighbours.
func TestCanonicalMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c", "d", "e"}), 0, 40).Draw(t, "keys")
		r := make([]Requirement, len(keys))
		for i, k := range keys {
			op := rapid.SampledFrom([]Operator{Equals, NotEquals, Exists}).Draw(t, "op")
			var vals []string
			if op != Exists {
				vals = []string{strconv.Itoa(rapid.IntRange(0, 2).Draw(t, "v"))}
			}
			r[i] = Requirement{key: k, op: op, values: vals}
		}
		want := slices.Clone(r)
		slices.SortStableFunc(want, compareRequirements)
		want = slices.CompactFunc(want, func(a, b Requirement) bool { return compareRequirements(a, b) == 0 })
		got := canonical(slices.Clone(r))
		if len(got) != len(want) {
			t.Fatalf("canonical(%v) = %v, want %v", r, got, want)
		}
		for i := range got {
			if compareRequirements(got[i], want[i]) != 0 {
				t.Fatalf("canonical(%v) = %v, want %v", r, got, want)
			}
		}
	})
}

// BenchmarkParseSelectorLarge parses selectors of n requirements in
// descending key order; compare the per-op time of n=3000 and n=30000.
func BenchmarkParseSelectorLarge(b *testing.B) {
	for _, n := range []int{3000, 30000} {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("k%07d=v", n-i)
		}
		s := strings.Join(parts, ",")
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseSelector(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSelectorErrorBounded checks that the message of a huge bad selector
// quotes a bounded prefix of the input and of the offending token, while
// the error keeps the whole input.
func TestSelectorErrorBounded(t *testing.T) {
	huge := strings.Repeat("é", 1<<20) // not a valid key
	_, err := ParseSelector("app=web," + huge)
	var se *SelectorError
	require.ErrorAs(t, err, &se)
	require.Len(t, se.Input, len("app=web,")+len(huge))
	msg := err.Error()
	require.Less(t, len(msg), 2*maxQuoted+200, "message of %d bytes", len(msg))
	require.Contains(t, msg, `"app=web,`)
	require.Contains(t, msg, strconv.Itoa(len(se.Input))+" bytes)")
	require.True(t, utf8.ValidString(msg))
}
