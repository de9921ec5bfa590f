package lb

import (
	"math/rand/v2"
	"net/netip"
)

// WeightedRoundRobinConfig configures a WeightedRoundRobin picker.
type WeightedRoundRobinConfig struct {
	// Rand chooses the starting phase of the schedule, so that a fleet of
	// proxies does not synchronise. Nil means a PCG seeded with (0, 0).
	Rand *rand.Rand
}

// WeightedRoundRobin hands out backends in proportion to their weights by
// earliest-deadline-first scheduling, as Envoy's round_robin policy does
// with weights: backend i is due at virtual times k/w_i, and each pick
// takes the earliest due backend (ties to frozen-key order).
//
// Its guarantees, which the tests check:
//   - exact proportions: between updates, every cycle of W = Σw picks gives
//     each backend exactly its weight in turns, interleaved;
//   - a random start: the schedule begins at a random phase of the cycle,
//     and backends due at the same time go in an order drawn at random
//     once (a hash of their frozen keys with a random seed), so with equal
//     weights two proxies with different seeds start at different backends;
//   - no burst after an update: a backend that joins, or whose weight
//     changes, is first due at the first multiple of 1/w after the current
//     virtual time, as if it had always been there; the others keep their
//     schedule. (Envoy once sent a burst to newly added hosts, whose
//     deadlines started at zero.)
//
// Pick costs O(log n). It is not safe for concurrent use.
type WeightedRoundRobin struct {
	rng      *rand.Rand
	backends []Backend
	sched    edf
	started  bool
	tieSeed  uint64
}

var _ Picker = (*WeightedRoundRobin)(nil)

// NewWeightedRoundRobin returns a WeightedRoundRobin picker with no
// backends.
func NewWeightedRoundRobin(cfg WeightedRoundRobinConfig) *WeightedRoundRobin {
	return &WeightedRoundRobin{rng: defaultRand(cfg.Rand)}
}

// Update replaces the backends, keeping the schedule of those that stay
// with the same weight. It costs O(n log n).
func (r *WeightedRoundRobin) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	if !r.started && len(bs) > 0 {
		// Random phase u/2^32 of the first cycle.
		r.sched.reset(uint64(r.rng.Uint32()), 1<<32)
		r.tieSeed = r.rng.Uint64()
		r.started = true
	}
	type state struct{ k, w uint64 }
	old := make(map[netip.AddrPort]state, len(r.sched.heap))
	for _, it := range r.sched.heap {
		old[r.backends[it.idx].Addr] = state{it.k, it.w}
	}
	r.sched.heap = r.sched.heap[:0]
	for i, b := range bs {
		w := b.weight()
		k := r.sched.firstDeadline(w)
		if s, ok := old[b.Addr]; ok && s.w == w {
			k = s.k
		}
		fk := frozenKey(b.Addr)
		r.sched.push(int32(i), k, w, mix64(hashBytes(fk[:], r.tieSeed)))
	}
	r.sched.fix()
	r.backends = bs
	return nil
}

// Pick returns the backend due first. The key is ignored.
func (r *WeightedRoundRobin) Pick(Key) (Backend, bool) {
	if len(r.backends) == 0 {
		return Backend{}, false
	}
	return r.backends[r.sched.pick()], true
}
