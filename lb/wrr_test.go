package lb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func weighted(ws ...uint32) []Backend {
	bs := testBackends(len(ws))
	for i, w := range ws {
		bs[i].Weight = w
	}
	return bs
}

// TestWRRExactCycles: from the start, every cycle of W picks gives each
// backend exactly its weight; and any window of W picks is within one.
func TestWRRExactCycles(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ws := rapid.SliceOfN(rapid.Uint32Range(1, 30), 1, 8).Draw(t, "weights")
		bs := weighted(ws...)
		var total int
		for _, w := range ws {
			total += int(w)
		}
		r := NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(rapid.Uint64().Draw(t, "seed"))})
		if err := r.Update(bs); err != nil {
			t.Fatal(err)
		}
		cycles := rapid.IntRange(1, 4).Draw(t, "cycles")
		var seq []netip.AddrPort
		for range total * (cycles + 1) {
			b, _ := r.Pick(Key{})
			seq = append(seq, b.Addr)
		}
		for c := range cycles {
			counts := map[netip.AddrPort]int{}
			for _, a := range seq[c*total : (c+1)*total] {
				counts[a]++
			}
			for _, b := range bs {
				if counts[b.Addr] != int(b.Weight) {
					t.Fatalf("cycle %d: %v got %d turns, weight %d", c, b.Addr, counts[b.Addr], b.Weight)
				}
			}
		}
		off := rapid.IntRange(0, total).Draw(t, "offset")
		counts := map[netip.AddrPort]int{}
		for _, a := range seq[off : off+total] {
			counts[a]++
		}
		for _, b := range bs {
			if d := counts[b.Addr] - int(b.Weight); d < -1 || d > 1 {
				t.Fatalf("window at %d: %v got %d turns, weight %d", off, b.Addr, counts[b.Addr], b.Weight)
			}
		}
	})
}

func TestWRRInterleaves(t *testing.T) {
	// Weights 3 and 1: never three in a row of the heavy one followed by
	// a burst, but the light one every fourth pick.
	r := NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(1)})
	bs := weighted(3, 1)
	require.NoError(t, r.Update(bs))
	var gaps []int
	last := -1
	for i := range 40 {
		b, _ := r.Pick(Key{})
		if b.Addr == bs[1].Addr {
			if last >= 0 {
				gaps = append(gaps, i-last)
			}
			last = i
		}
	}
	for _, g := range gaps {
		require.Equal(t, 4, g)
	}
}

// TestWRRNoBurstAfterUpdate: a backend that joins after many picks gets its
// share from then on, not a burst to catch up.
func TestWRRNoBurstAfterUpdate(t *testing.T) {
	r := NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(9)})
	bs := weighted(1, 1)
	require.NoError(t, r.Update(bs))
	for range 1001 {
		r.Pick(Key{})
	}
	joined := Backend{Addr: addr4(50), Weight: 1, Ready: true}
	require.NoError(t, r.Update(append(bs, joined)))
	for window := range 10 {
		n := 0
		for range 3 {
			if b, _ := r.Pick(Key{}); b.Addr == joined.Addr {
				n++
			}
		}
		require.LessOrEqual(t, n, 2, "window %d", window)
	}
	// A weight change takes effect at once, without burst either.
	bs[0].Weight = 5
	require.NoError(t, r.Update(append(bs, joined)))
	counts := map[netip.AddrPort]int{}
	for range 70 {
		b, _ := r.Pick(Key{})
		counts[b.Addr]++
	}
	require.InDelta(t, 50, counts[bs[0].Addr], 1)
	require.InDelta(t, 10, counts[joined.Addr], 1)
}

func TestWRRRandomStart(t *testing.T) {
	firsts := map[netip.AddrPort]bool{}
	for seed := range uint64(20) {
		r := NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(seed)})
		require.NoError(t, r.Update(testBackends(10)))
		b, _ := r.Pick(Key{})
		firsts[b.Addr] = true
	}
	require.Greater(t, len(firsts), 4)
}

// TestWRRLongRun: renormalisation keeps the schedule exact over many
// cycles with large weights.
func TestWRRLongRun(t *testing.T) {
	r := NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(2)})
	bs := weighted(MaxWeight, MaxWeight-1, 3)
	require.NoError(t, r.Update(bs))
	const total = 2*MaxWeight + 2
	counts := map[netip.AddrPort]int{}
	for range 3 * total {
		b, _ := r.Pick(Key{})
		counts[b.Addr]++
	}
	require.Equal(t, 3*MaxWeight, counts[bs[0].Addr])
	require.Equal(t, 3*(MaxWeight-1), counts[bs[1].Addr])
	require.Equal(t, 9, counts[bs[2].Addr])
}
