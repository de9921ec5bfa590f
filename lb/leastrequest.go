package lb

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
)

// DefaultChoiceCount is the number of random candidates LeastRequest
// compares when LeastRequestConfig.ChoiceCount is zero: Envoy's default
// (least_request choice_count), "power of two choices".
const DefaultChoiceCount = 2

// LeastRequestConfig configures a LeastRequest picker.
type LeastRequestConfig struct {
	// ChoiceCount is how many candidates each pick draws; 0 means
	// DefaultChoiceCount. Envoy requires at least 2; so does svcnet.
	ChoiceCount int
	// Rand draws the candidates. Nil means a PCG seeded with (0, 0).
	Rand *rand.Rand
}

// LeastRequest is "power of d choices" (Mitzenmacher), Envoy's
// least_request policy: each pick draws ChoiceCount backends at random,
// with replacement, and takes the one with the fewest open requests; ties
// keep the earlier draw, as Envoy's loop does
// (source/extensions/load_balancing_policies/least_request).
//
// With unequal weights svcnet draws candidates in proportion to weight and
// compares open requests per unit of weight. (Envoy instead switches to
// weighted EDF with weights divided by active requests; the two agree on
// the aim, not on the sequence.)
//
// Pick opens a request on the chosen backend and Done closes one. Update
// keeps the counts of backends that stay. Pick costs O(d) draws (O(d log n)
// with weights). It is not safe for concurrent use.
type LeastRequest struct {
	rng      *rand.Rand
	choices  int
	backends []Backend
	byAddr   map[netip.AddrPort]int32
	active   []uint64
	w        []uint64
	cum      []uint64 // prefix sums of weights, nil when uniform
}

var _ ConnPicker = (*LeastRequest)(nil)

// NewLeastRequest returns a LeastRequest picker with no backends. It
// fails with ErrInvalidConfig when ChoiceCount is 1 or negative.
func NewLeastRequest(cfg LeastRequestConfig) (*LeastRequest, error) {
	c := cfg.ChoiceCount
	if c == 0 {
		c = DefaultChoiceCount
	}
	if c < 2 {
		return nil, fmt.Errorf("%w: choice count %d, want at least 2", ErrInvalidConfig, cfg.ChoiceCount)
	}
	return &LeastRequest{rng: defaultRand(cfg.Rand), choices: c}, nil
}

// Update replaces the backends, keeping the request counts of those that
// stay. It costs O(n log n).
func (l *LeastRequest) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	active := make([]uint64, len(bs))
	w := make([]uint64, len(bs))
	for i, b := range bs {
		if j, ok := l.byAddr[b.Addr]; ok {
			active[i] = l.active[j]
		}
		w[i] = b.weight()
	}
	l.cum = nil
	if !uniform(bs) {
		l.cum = make([]uint64, len(bs))
		var s uint64
		for i := range w {
			s += w[i]
			l.cum[i] = s
		}
	}
	l.backends, l.active, l.w = bs, active, w
	l.byAddr = index(bs)
	return nil
}

// draw returns a random backend index, in proportion to weight.
func (l *LeastRequest) draw() int {
	if l.cum == nil {
		return l.rng.IntN(len(l.backends))
	}
	r := l.rng.Uint64N(l.cum[len(l.cum)-1])
	i, _ := slices.BinarySearch(l.cum, r+1)
	return i
}

// Pick opens a request on the least loaded of ChoiceCount random
// backends and returns it. The key is ignored.
func (l *LeastRequest) Pick(Key) (Backend, bool) {
	if len(l.backends) == 0 {
		return Backend{}, false
	}
	best := l.draw()
	for range l.choices - 1 {
		c := l.draw()
		if l.active[c]*l.w[best] < l.active[best]*l.w[c] {
			best = c
		}
	}
	l.active[best]++
	return l.backends[best], true
}

// Done closes a request on b.
func (l *LeastRequest) Done(b Backend) {
	if i, ok := l.byAddr[b.Addr]; ok && l.active[i] > 0 {
		l.active[i]--
	}
}

// open counts a request on addr that Affinity sent there.
func (l *LeastRequest) open(addr netip.AddrPort) {
	if i, ok := l.byAddr[addr]; ok {
		l.active[i]++
	}
}
