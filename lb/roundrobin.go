package lb

import (
	"math/rand/v2"
	"net/netip"
	"slices"
)

// RoundRobinConfig configures a RoundRobin picker.
type RoundRobinConfig struct {
	// Rand chooses the starting backend, so that a fleet of proxies does
	// not send their first connections to the same backend in lockstep.
	// Nil means a PCG seeded with (0, 0).
	Rand *rand.Rand
}

// RoundRobin hands out backends in turn, in frozen-key order (IPVS rr,
// kube-proxy's default IPVS scheduler). It starts at a random backend.
// Weights are ignored; see WeightedRoundRobin.
//
// Update is incremental: the next turn stays with the backend that had it,
// or passes to the first one after it when it left. It is not safe for
// concurrent use.
type RoundRobin struct {
	rng      *rand.Rand
	backends []Backend
	next     int
}

var _ Picker = (*RoundRobin)(nil)

// NewRoundRobin returns a RoundRobin picker with no backends.
func NewRoundRobin(cfg RoundRobinConfig) *RoundRobin {
	return &RoundRobin{rng: defaultRand(cfg.Rand)}
}

// Update replaces the backends. It costs O(n log n).
func (r *RoundRobin) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	switch {
	case len(bs) == 0:
		r.next = 0
	case len(r.backends) == 0:
		r.next = r.rng.IntN(len(bs))
	default:
		at := r.backends[r.next].Addr
		i, _ := slices.BinarySearchFunc(bs, at, func(b Backend, a netip.AddrPort) int { return b.Addr.Compare(a) })
		r.next = i % len(bs)
	}
	r.backends = bs
	return nil
}

// Pick returns the backend whose turn it is. The key is ignored.
func (r *RoundRobin) Pick(Key) (Backend, bool) {
	if len(r.backends) == 0 {
		return Backend{}, false
	}
	b := r.backends[r.next]
	r.next++
	if r.next == len(r.backends) {
		r.next = 0
	}
	return b, true
}
