package ipam

import "math/rand/v2"

// Option configures an Allocator.
type Option func(*config)

type config struct {
	rand       *rand.Rand
	sequential bool
	denseLimit uint64
}

// defaultDenseLimit is the largest range, in addresses, kept in a dense
// bitmap: 2^20 addresses (an IPv4 /12, an IPv6 /108) cost 130 KiB. Larger
// ranges use a run tree whose memory follows what is allocated.
const defaultDenseLimit = 1 << 20

func newConfig(opts []Option) config {
	c := config{denseLimit: defaultDenseLimit}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.rand == nil {
		// Deterministic by default: no global source, no clock. Allocators
		// that share a range (several API servers) should each get their
		// own seed through WithRand so that their choices rarely collide.
		c.rand = rand.New(rand.NewPCG(0x5eed, 0x1ba3))
	}
	return c
}

// WithRand makes AllocateNext pick addresses at random from r, like
// Kubernetes (a random offset in the band, then the first free address at or
// after it, wrapping around). The same seed and the same sequence of calls
// give the same addresses. The allocator owns r from then on: r is not safe
// for concurrent use and must not be used elsewhere. Without WithRand an
// allocator uses a PCG source with a fixed seed.
func WithRand(r *rand.Rand) Option {
	return func(c *config) { c.rand = r }
}

// Sequential makes AllocateNext return the lowest free address of the band
// instead of a random one. It overrides WithRand.
func Sequential() Option {
	return func(c *config) { c.sequential = true }
}
