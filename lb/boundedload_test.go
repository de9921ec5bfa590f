package lb

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestBoundedLoadCapacity: a pick never takes a backend above
// ⌈c·m·w/W⌉, m the connections open after it, whatever the keys (here a
// few hot keys, the case bounded loads exist for) and closes.
func TestBoundedLoadCapacity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		factor := rapid.Uint32Range(100, 300).Draw(t, "c")
		n := rapid.IntRange(1, 12).Draw(t, "n")
		bs := testBackends(n)
		if rapid.Bool().Draw(t, "weighted") {
			for i := range bs {
				bs[i].Weight = rapid.Uint32Range(1, 4).Draw(t, "w")
			}
		}
		l, err := NewBoundedLoad(BoundedLoadConfig{BalanceFactor: factor, Ring: RingHashConfig{MinRingSize: 64}})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Update(bs); err != nil {
			t.Fatal(err)
		}
		var wsum uint64
		for _, b := range bs {
			wsum += b.weight()
		}
		hot := testKeys(3, rapid.Uint64().Draw(t, "seed"))
		var open []Backend
		for range rapid.IntRange(1, 200).Draw(t, "steps") {
			if len(open) > 0 && rapid.IntRange(0, 3).Draw(t, "op") == 0 {
				i := rapid.IntRange(0, len(open)-1).Draw(t, "close")
				l.Done(open[i])
				open = append(open[:i], open[i+1:]...)
				continue
			}
			b, ok := l.Pick(hot[rapid.IntRange(0, 2).Draw(t, "key")])
			if !ok {
				t.Fatal("no pick")
			}
			open = append(open, b)
			load := uint64(0)
			for _, o := range open {
				if o.Addr == b.Addr {
					load++
				}
			}
			m := uint64(len(open))
			capacity := (uint64(factor)*m*b.weight() + 100*wsum - 1) / (100 * wsum)
			if load > capacity {
				t.Fatalf("%v holds %d of %d connections, capacity %d", b.Addr, load, m, capacity)
			}
		}
	})
}

// TestBoundedLoadIsRingHash: without load, bounded-load hashing picks what
// ring hashing picks.
func TestBoundedLoadIsRingHash(t *testing.T) {
	cfg := RingHashConfig{MinRingSize: 4096}
	l, err := NewBoundedLoad(BoundedLoadConfig{Ring: cfg})
	require.NoError(t, err)
	r := mustRing(cfg)
	bs := testBackends(20)
	require.NoError(t, l.Update(bs))
	require.NoError(t, r.Update(bs))
	for _, k := range testKeys(1000, 4) {
		a, _ := l.Pick(k)
		b, _ := r.Pick(k)
		require.Equal(t, b, a)
		l.Done(a)
	}
}

// TestBoundedLoadKeepsLoads: an update keeps the loads of backends that
// stay, so the bound still holds across it.
func TestBoundedLoadKeepsLoads(t *testing.T) {
	l, err := NewBoundedLoad(BoundedLoadConfig{BalanceFactor: 100})
	require.NoError(t, err)
	bs := testBackends(4)
	require.NoError(t, l.Update(bs))
	k := testKeys(1, 1)[0]
	for range 8 {
		l.Pick(k)
	}
	require.Equal(t, []uint64{2, 2, 2, 2}, l.load)
	require.NoError(t, l.Update(append(bs, Backend{Addr: addr4(10), Ready: true})))
	require.Equal(t, uint64(8), l.total)
	// c = 1: the new backend takes the next two connections.
	for range 2 {
		b, _ := l.Pick(k)
		require.Equal(t, addr4(10), b.Addr)
	}
}
