package lb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestLeastConnIPVS(t *testing.T) {
	l := NewLeastConn(LeastConnConfig{})
	bs := testBackends(3)
	require.NoError(t, l.Update(bs))
	// Ties go to the first in order, as IPVS's list scan.
	for i := range 6 {
		b, _ := l.Pick(Key{})
		require.Equal(t, bs[i%3], b)
	}
	l.Done(bs[1])
	l.Done(bs[1])
	b, _ := l.Pick(Key{})
	require.Equal(t, bs[1], b)
	require.Equal(t, uint64(1), l.Conns(bs[1]))
	// Counts survive an update for backends that stay.
	require.NoError(t, l.Update(append(bs, Backend{Addr: addr4(9), Ready: true})))
	require.Equal(t, uint64(2), l.Conns(bs[0]))
	b, _ = l.Pick(Key{})
	require.Equal(t, addr4(9), b.Addr)
	// bs[1] and addr4(9) now both have one; the first in order wins.
	b, _ = l.Pick(Key{})
	require.Equal(t, bs[1], b)
	l.Done(Backend{Addr: addr4(77)}) // unknown: no-op
}

// TestWeightedLeastConn: with connections that never close, wlc fills
// backends in proportion to weight.
func TestWeightedLeastConn(t *testing.T) {
	l := NewLeastConn(LeastConnConfig{Weighted: true})
	bs := weighted(1, 2, 3)
	require.NoError(t, l.Update(bs))
	counts := map[netip.AddrPort]int{}
	for range 600 {
		b, _ := l.Pick(Key{})
		counts[b.Addr]++
	}
	require.Equal(t, 100, counts[bs[0].Addr])
	require.Equal(t, 200, counts[bs[1].Addr])
	require.Equal(t, 300, counts[bs[2].Addr])
}

// TestLeastConnModel checks the heap against IPVS's linear scan.
func TestLeastConnModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		weightedMode := rapid.Bool().Draw(t, "weighted")
		ws := rapid.SliceOfN(rapid.Uint32Range(1, 5), 1, 10).Draw(t, "weights")
		bs := weighted(ws...)
		l := NewLeastConn(LeastConnConfig{Weighted: weightedMode})
		if err := l.Update(bs); err != nil {
			t.Fatal(err)
		}
		conns := make([]uint64, len(bs))
		for range rapid.IntRange(1, 100).Draw(t, "steps") {
			if rapid.Bool().Draw(t, "pick") {
				// IPVS lc/wlc: first backend with the least conns/weight.
				best := 0
				for i := range bs {
					wi, wb := uint64(1), uint64(1)
					if weightedMode {
						wi, wb = uint64(ws[i]), uint64(ws[best])
					}
					if conns[i]*wb < conns[best]*wi {
						best = i
					}
				}
				got, _ := l.Pick(Key{})
				if got != bs[best] {
					t.Fatalf("picked %v, IPVS would pick %v (conns %v)", got.Addr, bs[best].Addr, conns)
				}
				conns[best]++
			} else {
				i := rapid.IntRange(0, len(bs)-1).Draw(t, "done")
				l.Done(bs[i])
				if conns[i] > 0 {
					conns[i]--
				}
			}
		}
	})
}

func TestLeastRequest(t *testing.T) {
	l, err := NewLeastRequest(LeastRequestConfig{Rand: seeded(5)})
	require.NoError(t, err)
	bs := testBackends(10)
	require.NoError(t, l.Update(bs))
	// Requests that never finish: two choices keep the loads within a few.
	counts := map[netip.AddrPort]int{}
	for range 10000 {
		b, _ := l.Pick(Key{})
		counts[b.Addr]++
	}
	for _, c := range counts {
		require.InDelta(t, 1000, c, 5)
	}
	// With more choices, tighter.
	l, err = NewLeastRequest(LeastRequestConfig{ChoiceCount: 5, Rand: seeded(5)})
	require.NoError(t, err)
	require.NoError(t, l.Update(bs))
	clear(counts)
	for range 10000 {
		b, _ := l.Pick(Key{})
		counts[b.Addr]++
	}
	for _, c := range counts {
		require.InDelta(t, 1000, c, 2)
	}
}

// TestLeastRequestWeighted: requests that finish at once leave the choice
// to the weighted draw, which converges to the weights.
func TestLeastRequestWeighted(t *testing.T) {
	l, err := NewLeastRequest(LeastRequestConfig{Rand: seeded(6)})
	require.NoError(t, err)
	bs := weighted(1, 3, 6)
	require.NoError(t, l.Update(bs))
	counts := map[netip.AddrPort]int{}
	for range 100000 {
		b, _ := l.Pick(Key{})
		l.Done(b)
		counts[b.Addr]++
	}
	require.InDelta(t, 10000, counts[bs[0].Addr], 500)
	require.InDelta(t, 30000, counts[bs[1].Addr], 700)
	require.InDelta(t, 60000, counts[bs[2].Addr], 700)
	// Long-lived requests: loads per unit of weight even out.
	l, _ = NewLeastRequest(LeastRequestConfig{Rand: seeded(6)})
	require.NoError(t, l.Update(bs))
	clear(counts)
	for range 10000 {
		b, _ := l.Pick(Key{})
		counts[b.Addr]++
	}
	require.InDelta(t, 1000, counts[bs[0].Addr], 50)
	require.InDelta(t, 6000, counts[bs[2].Addr], 50)
}
