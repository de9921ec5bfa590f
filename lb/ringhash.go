package lb

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
)

// Ring sizes, Envoy's (ring_hash_lb.cc, RingHashLbConfig).
const (
	// DefaultMinRingSize is the minimum ring size when
	// RingHashConfig.MinRingSize is zero.
	DefaultMinRingSize = 1024
	// DefaultMaxRingSize is the maximum ring size when
	// RingHashConfig.MaxRingSize is zero, and the largest accepted.
	DefaultMaxRingSize = 8 << 20
)

// RingHashConfig configures a RingHash picker (and the ring of a
// BoundedLoad picker).
type RingHashConfig struct {
	// MinRingSize is the smallest number of ring entries; the least
	// weighted backend gets at least ⌈MinRingSize·w_min/W⌉ of them and
	// every other backend proportionally more. Zero means
	// DefaultMinRingSize.
	MinRingSize int
	// MaxRingSize caps the ring. Zero means DefaultMaxRingSize, which is
	// also the largest accepted.
	MaxRingSize int
}

func (c RingHashConfig) sizes() (lo, hi uint64, err error) {
	lo, hi = uint64(DefaultMinRingSize), uint64(DefaultMaxRingSize)
	if c.MinRingSize != 0 {
		lo = uint64(c.MinRingSize)
	}
	if c.MaxRingSize != 0 {
		hi = uint64(c.MaxRingSize)
	}
	if c.MinRingSize < 0 || c.MaxRingSize < 0 || hi > DefaultMaxRingSize || lo > hi {
		return 0, 0, fmt.Errorf("%w: min %d, max %d: want 0 < min ≤ max ≤ %d",
			ErrInvalidRingSize, c.MinRingSize, c.MaxRingSize, DefaultMaxRingSize)
	}
	return lo, hi, nil
}

// RingHash is consistent hashing on a ring (Karger et al. 1997) as
// libketama and Envoy's ring_hash policy do it: each backend is hashed to
// several points of a 64-bit ring, and a key goes to the first point at or
// after its own hash, wrapping around.
//
// The ring is sized as Envoy sizes it: the least weighted backend gets
// ⌈MinRingSize·w_min/W⌉ points and each backend points in proportion to its
// weight (running sums, so fractional shares round consistently), the whole
// scaled down to MaxRingSize if larger. Point j of a backend is the frozen
// hash of its frozen key, "_" and j in decimal (Envoy hashes "address_j"
// with xxHash64). Points are sorted by hash, ties by frozen key, so the
// ring does not depend on input order.
//
// Balance is only statistical: with v points per backend a backend's share
// of the ring has a relative standard deviation of about 1/√v. With the
// default MinRingSize, N = 1000 equal backends get 2 points each and very
// uneven shares; raise MinRingSize (Envoy's advice) to trade memory for
// balance. Removing a backend moves only its keys, unless it changes the
// number of points per backend (⌈MinRingSize/N⌉ for equal weights), in
// which case the others gain points and take some keys from each other.
//
// Pick finds the point with an index of the top bits of the hash, O(1)
// expected, instead of Envoy's binary search. Memory is 12 bytes a point
// plus at most 8 bytes a point of index. It is not safe for concurrent use.
type RingHash struct {
	minSize, maxSize uint64
	backends         []Backend
	ring             ring
}

var _ Picker = (*RingHash)(nil)

// NewRingHash returns a RingHash picker with no backends. It fails with
// ErrInvalidRingSize when the sizes are out of order or too large.
func NewRingHash(cfg RingHashConfig) (*RingHash, error) {
	lo, hi, err := cfg.sizes()
	if err != nil {
		return nil, err
	}
	return &RingHash{minSize: lo, maxSize: hi}, nil
}

// Update replaces the backends and rebuilds the ring.
func (r *RingHash) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	r.backends = bs
	r.ring.build(bs, r.minSize, r.maxSize)
	return nil
}

// Pick returns the backend owning the first ring point at or after the
// key's hash.
func (r *RingHash) Pick(k Key) (Backend, bool) {
	if len(r.ring.hashes) == 0 {
		return Backend{}, false
	}
	return r.backends[r.ring.owners[r.ring.find(k.sum())]], true
}

// RingSize returns the number of points on the ring.
func (r *RingHash) RingSize() int { return len(r.ring.hashes) }

// ring is a sorted array of points with an index of the top bits.
type ring struct {
	hashes []uint64
	owners []int32
	// index[j] is the first point whose top bits are ≥ j; it has 2^b+1
	// entries, b = 64−shift.
	index []uint32
	shift uint
}

// ringCounts returns the number of points of each backend, as Envoy's
// Ring constructor computes them, in exact integer arithmetic.
//
// Envoy: scale = min(⌈w_min/W·minSize⌉ / (w_min/W), maxSize), and backend i
// gets points up to the running target Σ_{j≤i} scale·w_j/W, rounded up.
func ringCounts(bs []Backend, minSize, maxSize uint64) []uint64 {
	var wsum, wmin uint64
	wmin = ^uint64(0)
	for _, b := range bs {
		wsum += b.weight()
		wmin = min(wmin, b.weight())
	}
	// c = ⌈w_min·minSize/W⌉ points for the least weighted backend; the
	// ring has c·W/w_min points unless that exceeds maxSize.
	hi, lo := bits.Mul64(wmin, minSize)
	c, rem := bits.Div64(hi, lo, wsum)
	if rem != 0 {
		c++
	}
	hi, lo = bits.Mul64(c, wsum)
	mhi, mlo := bits.Mul64(maxSize, wmin)
	capped := hi > mhi || (hi == mhi && lo > mlo)
	// Target after backend i is num·cum_i/den, rounded up.
	num, den := c, wmin
	if capped {
		num, den = maxSize, wsum
	}
	counts := make([]uint64, len(bs))
	var cum, done uint64
	for i, b := range bs {
		cum += b.weight()
		hi, lo := bits.Mul64(num, cum)
		t, rem := bits.Div64(hi, lo, den)
		if rem != 0 {
			t++
		}
		counts[i] = t - done
		done = t
	}
	return counts
}

func (r *ring) build(bs []Backend, minSize, maxSize uint64) {
	r.hashes, r.owners, r.index = r.hashes[:0], r.owners[:0], r.index[:0]
	if len(bs) == 0 {
		return
	}
	counts := ringCounts(bs, minSize, maxSize)
	var total uint64
	for _, c := range counts {
		total += c
	}
	type point struct {
		h uint64
		o int32
	}
	points := make([]point, 0, total)
	var buf [frozenKeyLen + 1 + 20]byte
	for i, b := range bs {
		k := frozenKey(b.Addr)
		copy(buf[:], k[:])
		buf[frozenKeyLen] = '_'
		for j := range counts[i] {
			s := strconv.AppendUint(buf[:frozenKeyLen+1], j, 10)
			points = append(points, point{hashBytes(s, seedRing), int32(i)})
		}
	}
	// Owners are in frozen-key order, so ties sort the same everywhere.
	slices.SortFunc(points, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.o, b.o))
	})
	if cap(r.hashes) < len(points) {
		r.hashes = make([]uint64, 0, len(points))
		r.owners = make([]int32, 0, len(points))
	}
	for _, p := range points {
		r.hashes = append(r.hashes, p.h)
		r.owners = append(r.owners, p.o)
	}
	b := max(1, bits.Len(uint(len(points)-1)))
	r.shift = uint(64 - b)
	nb := 1 << b
	if cap(r.index) < nb+1 {
		r.index = make([]uint32, 0, nb+1)
	}
	r.index = r.index[:nb+1]
	p := 0
	for j := range nb {
		for p < len(r.hashes) && r.hashes[p]>>r.shift < uint64(j) {
			p++
		}
		r.index[j] = uint32(p)
	}
	r.index[nb] = uint32(len(r.hashes))
}

// find returns the first point at or after h, wrapping to 0 past the end:
// ketama_get_server's rule, which Envoy's chooseHost keeps.
func (r *ring) find(h uint64) int {
	j := h >> r.shift
	p, end := r.index[j], r.index[j+1]
	for p < end && r.hashes[p] < h {
		p++
	}
	if int(p) == len(r.hashes) {
		return 0
	}
	return int(p)
}
