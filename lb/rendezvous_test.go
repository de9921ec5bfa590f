package lb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestRendezvousMinimalDisruption: removing a backend moves exactly its
// keys; adding one moves exactly the keys it wins. Weighted or not.
func TestRendezvousMinimalDisruption(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 40).Draw(t, "n")
		bs := testBackends(n)
		if rapid.Bool().Draw(t, "weighted") {
			for i := range bs {
				bs[i].Weight = rapid.Uint32Range(1, 100).Draw(t, "w")
			}
		}
		victim := bs[rapid.IntRange(0, n-1).Draw(t, "victim")].Addr
		r := NewRendezvous()
		if err := r.Update(bs); err != nil {
			t.Fatal(err)
		}
		keys := testKeys(200, rapid.Uint64().Draw(t, "seed"))
		before := make([]netip.AddrPort, len(keys))
		for i, k := range keys {
			b, _ := r.Pick(k)
			before[i] = b.Addr
		}
		if err := r.Update(without(bs, victim)); err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			b, _ := r.Pick(k)
			if b.Addr != before[i] && before[i] != victim {
				t.Fatalf("key moved from %v, which stayed, to %v", before[i], b.Addr)
			}
		}
		// Put it back: every key returns where it was.
		if err := r.Update(bs); err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if b, _ := r.Pick(k); b.Addr != before[i] {
				t.Fatalf("key did not return to %v", before[i])
			}
		}
	})
}

func TestRendezvousWeights(t *testing.T) {
	r := NewRendezvous()
	bs := weighted(1, 2, 3, 4)
	require.NoError(t, r.Update(bs))
	counts := map[netip.AddrPort]int{}
	const keys = 100000
	for _, k := range testKeys(keys, 3) {
		b, _ := r.Pick(k)
		counts[b.Addr]++
	}
	for _, b := range bs {
		require.InDelta(t, float64(b.Weight)/10, float64(counts[b.Addr])/keys, 0.005, "%v", b.Addr)
	}
}
