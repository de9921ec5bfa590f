package lb

import "math"

// Rendezvous is rendezvous hashing, highest random weight (Thaler and
// Ravishankar, "Using name-based mappings to increase hit rates", 1998):
// every backend scores the key with a hash of (key, backend) and the
// highest score wins. Removing a backend moves exactly the keys it won;
// adding one moves exactly the keys it now wins: the ideal 1/N.
//
// With unequal weights the score is w / −ln(u), u the hash mapped to
// (0, 1) (the logarithmic method of Schindelhauer and Schomaker, "Weighted
// distributed hash tables", SPAA 2005), which gives each backend a share
// w/W of the keys and keeps the ideal disruption. Weighted scores use
// math.Log, so in astronomically rare near-ties two architectures could
// disagree in the last bit; unweighted scores are pure integers.
//
// Pick costs O(n) (about 1 ns a backend); nothing is precomputed but one
// hash per backend. It is not safe for concurrent use.
type Rendezvous struct {
	backends []Backend
	seeds    []uint64  // frozen hash of each backend's key
	w        []float64 // weights, nil when uniform
}

var _ Picker = (*Rendezvous)(nil)

// NewRendezvous returns a Rendezvous picker with no backends.
func NewRendezvous() *Rendezvous {
	return &Rendezvous{}
}

// Update replaces the backends. It costs O(n log n).
func (r *Rendezvous) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	r.backends = bs
	r.seeds = make([]uint64, len(bs))
	for i, b := range bs {
		k := frozenKey(b.Addr)
		r.seeds[i] = hashBytes(k[:], seedRendezvous)
	}
	r.w = nil
	if !uniform(bs) {
		r.w = make([]float64, len(bs))
		for i, b := range bs {
			r.w[i] = float64(b.weight())
		}
	}
	return nil
}

// Pick returns the backend with the highest score for the key, ties to
// frozen-key order.
func (r *Rendezvous) Pick(k Key) (Backend, bool) {
	if len(r.backends) == 0 {
		return Backend{}, false
	}
	h := k.sum()
	best := 0
	if r.w == nil {
		var top uint64
		for i, s := range r.seeds {
			if v := mix64(h ^ s); v > top || i == 0 {
				best, top = i, v
			}
		}
		return r.backends[best], true
	}
	top := math.Inf(-1)
	for i, s := range r.seeds {
		// u in (0, 1): 53 random bits plus one half.
		u := (float64(mix64(h^s)>>11) + 0.5) / (1 << 53)
		if v := r.w[i] / -math.Log(u); v > top {
			best, top = i, v
		}
	}
	return r.backends[best], true
}
