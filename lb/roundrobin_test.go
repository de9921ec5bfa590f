package lb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestRoundRobinCycles(t *testing.T) {
	r := NewRoundRobin(RoundRobinConfig{Rand: seeded(3)})
	bs := testBackends(5)
	require.NoError(t, r.Update(bs))
	first, _ := r.Pick(Key{})
	start := slicesIndex(bs, first.Addr)
	for i := 1; i < 12; i++ {
		b, _ := r.Pick(Key{})
		require.Equal(t, bs[(start+i)%5], b)
	}
}

func TestRoundRobinRandomStart(t *testing.T) {
	starts := map[netip.AddrPort]bool{}
	for seed := range uint64(20) {
		r := NewRoundRobin(RoundRobinConfig{Rand: seeded(seed)})
		require.NoError(t, r.Update(testBackends(10)))
		b, _ := r.Pick(Key{})
		starts[b.Addr] = true
	}
	require.Greater(t, len(starts), 4, "a fleet must not start in lockstep")
}

func TestRoundRobinUpdateKeepsTurn(t *testing.T) {
	r := NewRoundRobin(RoundRobinConfig{Rand: seeded(1)})
	bs := testBackends(5)
	require.NoError(t, r.Update(bs))
	for {
		if b, _ := r.Pick(Key{}); b.Addr == bs[1].Addr {
			break
		}
	}
	// bs[2] is next. Adding a backend elsewhere keeps it next.
	require.NoError(t, r.Update(append(testBackends(5), Backend{Addr: addr4(100), Ready: true})))
	b, _ := r.Pick(Key{})
	require.Equal(t, bs[2], b)
	// Removing the next one passes the turn to its successor.
	require.NoError(t, r.Update(without(bs, bs[3].Addr)))
	b, _ = r.Pick(Key{})
	require.Equal(t, bs[4], b)
}

func TestRoundRobinProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 20).Draw(t, "n")
		rounds := rapid.IntRange(1, 5).Draw(t, "rounds")
		r := NewRoundRobin(RoundRobinConfig{Rand: seeded(rapid.Uint64().Draw(t, "seed"))})
		if err := r.Update(testBackends(n)); err != nil {
			t.Fatal(err)
		}
		counts := map[netip.AddrPort]int{}
		for range n * rounds {
			b, _ := r.Pick(Key{})
			counts[b.Addr]++
		}
		for _, c := range counts {
			if c != rounds {
				t.Fatalf("uneven round robin: %v", counts)
			}
		}
	})
}

func slicesIndex(bs []Backend, a netip.AddrPort) int {
	for i, b := range bs {
		if b.Addr == a {
			return i
		}
	}
	return -1
}
