package lb

import (
	"math/rand/v2"
	"strconv"
)

// defaultRand returns the generator used when a config leaves Rand nil: a
// PCG with seed (0, 0), so that output is reproducible. Give each proxy its
// own seed so that a fleet does not make the same choices.
func defaultRand(r *rand.Rand) *rand.Rand {
	if r != nil {
		return r
	}
	return rand.New(rand.NewPCG(0, 0))
}

// RandomConfig configures a Random picker.
type RandomConfig struct {
	// Rand is the randomness. Nil means a PCG seeded with (0, 0).
	Rand *rand.Rand
}

// Random picks a backend uniformly at random by modelling the chain of
// rules kube-proxy's iptables mode writes for a Service
// (pkg/proxy/iptables/proxier.go): for n endpoints, rule i (from 0) jumps
// to endpoint i with probability 1/(n−i), and the last rule always jumps.
//
// The model is exact down to the integers the kernel compares: kube-proxy
// prints each probability with "%0.10f" (computeProbability), iptables'
// libxt_statistic stores it as the uint32 0x80000000 × p, and the kernel's
// xt_statistic matches when (get_random_u32() & 0x7FFFFFFF) is below that.
// Each rule draws its own random number, so a pick costs up to n draws,
// as a packet traversing the chain does. The rounding to ten decimals and
// to 2^-31 makes the split uniform to about 1e-9, which the tests check.
//
// Random ignores the key and the weights. It is not safe for concurrent use.
type Random struct {
	rng        *rand.Rand
	backends   []Backend
	thresholds []uint32 // rule i matches when draw&0x7fffffff < thresholds[i]
}

var _ Picker = (*Random)(nil)

// NewRandom returns a Random picker with no backends.
func NewRandom(cfg RandomConfig) *Random {
	return &Random{rng: defaultRand(cfg.Rand)}
}

// chainThreshold returns the integer the kernel compares for rule i of a
// chain of n rules (i < n-1): kube-proxy's "%0.10f" of 1/(n-i), parsed as
// iptables does (atof) and scaled by 0x80000000 with C's truncating
// conversion to uint32.
func chainThreshold(i, n int) uint32 {
	s := strconv.FormatFloat(1/float64(n-i), 'f', 10, 64)
	p, _ := strconv.ParseFloat(s, 64) // a formatted float always parses
	return uint32(0x80000000 * p)
}

// Update replaces the backends and rewrites the chain. It costs O(n).
func (r *Random) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	r.backends = bs
	r.thresholds = r.thresholds[:0]
	for i := 0; i+1 < len(bs); i++ {
		r.thresholds = append(r.thresholds, chainThreshold(i, len(bs)))
	}
	return nil
}

// Pick walks the chain: each rule draws a random number and jumps with
// its probability; the last rule always jumps. The key is ignored.
func (r *Random) Pick(Key) (Backend, bool) {
	n := len(r.backends)
	if n == 0 {
		return Backend{}, false
	}
	for i, t := range r.thresholds {
		if r.rng.Uint32()&0x7fffffff < t {
			return r.backends[i], true
		}
	}
	return r.backends[n-1], true
}
