package ipam

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/svcnet/svcnet/internal/bitmap"
)

// Allocator hands out addresses from one or more ranges of one family. It
// is safe for concurrent use: every method takes an internal mutex, and no
// method calls back into user code while holding it (All releases it around
// each batch it yields). The zero Allocator is not usable; build one with
// New, NewPool or NewRanges.
type Allocator struct {
	mu     sync.Mutex
	is4    bool
	segs   []*segment // pool order: AllocateNext tries them in this order
	sorted []*segment // the segments with addresses, by first address
	rand   *rand.Rand
	seq    bool
	used   uint64
	label  string // the ranges as text, for errors
}

// segment is one prefix or range of a pool: size usable addresses from
// first, the lowest static of which form the KEP-3070 lower band.
type segment struct {
	first      u128
	size       uint64
	static     uint64
	used       uint64
	staticUsed uint64
	set        offsetSet
	is4        bool
	label      string
}

func (s *segment) addrAt(off uint64) netip.Addr { return s.first.plus(off).addr(s.is4) }

func (s *segment) newSet(denseLimit uint64) offsetSet {
	if s.size <= denseLimit {
		return bitmap.New(s.size)
	}
	return newRunSet()
}

// New returns an allocator of the usable addresses of prefix, as Kubernetes
// counts them for a Service CIDR: never the network address, for IPv4 never
// the broadcast address, so nothing at all in an IPv4 /31 or /32 or an
// IPv6 /128 (see the package doc). The KEP-3070 lower band of min(max(16, size/16), 256)
// addresses, where size counts every address of the prefix, is used by
// AllocateNext only when the rest is full. prefix is masked first
// (10.0.0.7/24 means 10.0.0.0/24). IPv6 prefixes shorter than /64 are
// rejected with ErrInvalidRange, as Kubernetes' IPAddress allocator does.
//
// New allocates memory in proportion to the range only for ranges of up to
// 2^20 addresses (at most 130 KiB); larger ranges start empty.
func New(prefix netip.Prefix, opts ...Option) (*Allocator, error) {
	return NewPool([]netip.Prefix{prefix}, opts...)
}

// NewPool returns one allocator over several prefixes of one family, like
// the ServiceCIDRs of KEP-1880: AllocateNext takes from the first prefix,
// in the given order, that has a free address (upper band, then lower band,
// then the next prefix), while Allocate, Release and Has work on any of
// them. The prefixes must not overlap. Each prefix is sized and banded as by
// New.
func NewPool(prefixes []netip.Prefix, opts ...Option) (*Allocator, error) {
	if len(prefixes) == 0 {
		return nil, &Error{Op: "new", Value: "pool", Err: fmt.Errorf("%w: no prefix", ErrInvalidRange)}
	}
	segs := make([]*segment, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.IsValid() {
			return nil, &Error{Op: "new", Value: "prefix " + p.String(), Err: fmt.Errorf("%w: invalid prefix", ErrInvalidRange)}
		}
		p = p.Masked()
		if !p.Addr().Is4() && p.Bits() < 64 {
			return nil, &Error{Op: "new", Value: p.String(), Err: fmt.Errorf("%w: IPv6 prefix shorter than /64 (the shortest allowed prefix length is 64)", ErrInvalidRange)}
		}
		first, size, static := prefixRange(p)
		segs = append(segs, &segment{first: first, size: size, static: static, is4: p.Addr().Is4(), label: p.String()})
	}
	return newAllocator(segs, opts)
}

// NewRanges returns one allocator over several inclusive ranges of one
// family, such as a MetalLB address pool for LoadBalancer Services. Every
// address of every range is usable and there is no static band. AllocateNext
// takes from the first range, in the given order, that has room. The ranges
// must be valid (Range.Validate) and must not overlap.
func NewRanges(ranges []Range, opts ...Option) (*Allocator, error) {
	if len(ranges) == 0 {
		return nil, &Error{Op: "new", Value: "pool", Err: fmt.Errorf("%w: no range", ErrInvalidRange)}
	}
	segs := make([]*segment, 0, len(ranges))
	for _, r := range ranges {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		segs = append(segs, &segment{first: toU128(r.First), size: r.Size(), is4: r.First.Is4(), label: r.String()})
	}
	return newAllocator(segs, opts)
}

func newAllocator(segs []*segment, opts []Option) (*Allocator, error) {
	cfg := newConfig(opts)
	a := &Allocator{is4: segs[0].is4, segs: segs, rand: cfg.rand, seq: cfg.sequential}
	labels := make([]string, len(segs))
	for i, s := range segs {
		labels[i] = s.label
		if s.is4 != a.is4 {
			return nil, &Error{Op: "new", Value: s.label, Err: fmt.Errorf("%w: pool mixes IPv4 and IPv6", ErrInvalidRange)}
		}
		s.set = s.newSet(cfg.denseLimit)
		if s.size > 0 {
			a.sorted = append(a.sorted, s)
		}
	}
	a.label = strings.Join(labels, ",")
	// Pools are usually a handful, where an insertion sort is cheapest;
	// a general sort above that keeps a long pool list O(n log n).
	if len(a.sorted) > 12 {
		slices.SortFunc(a.sorted, func(x, y *segment) int {
			switch {
			case x.first.less(y.first):
				return -1
			case y.first.less(x.first):
				return 1
			}
			return 0
		})
	} else {
		for i := 1; i < len(a.sorted); i++ {
			for j := i; j > 0 && a.sorted[j].first.less(a.sorted[j-1].first); j-- {
				a.sorted[j], a.sorted[j-1] = a.sorted[j-1], a.sorted[j]
			}
		}
	}
	for i := 1; i < len(a.sorted); i++ {
		prev, next := a.sorted[i-1], a.sorted[i]
		if last := prev.first.plus(prev.size - 1); !last.less(next.first) {
			return nil, &Error{Op: "new", Value: next.label, Err: fmt.Errorf("%w: overlaps %s", ErrInvalidRange, prev.label)}
		}
	}
	return a, nil
}

// locate returns the segment holding addr and addr's offset in it.
func (a *Allocator) locate(addr netip.Addr) (*segment, uint64, bool) {
	if !addr.IsValid() || addr.Is4() != a.is4 || addr.Zone() != "" {
		return nil, 0, false
	}
	u := toU128(addr)
	// The last segment whose first address is <= addr.
	lo, hi := 0, len(a.sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u.less(a.sorted[m].first) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 {
		return nil, 0, false
	}
	s := a.sorted[lo-1]
	h, off := sub128(u, s.first)
	if h != 0 || off >= s.size {
		return nil, 0, false
	}
	return s, off, true
}

func (a *Allocator) notInRange(op string, addr netip.Addr) error {
	return &Error{Op: op, Value: addr.String(), Err: fmt.Errorf("%w %s", ErrNotInRange, a.label)}
}

// Allocate reserves addr, which may lie in either band. It returns an error
// wrapping ErrNotInRange if addr is not a usable address of the allocator
// and ErrAllocated if it is already allocated. It does not allocate memory
// for ranges of up to 2^20 addresses.
func (a *Allocator) Allocate(addr netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, off, ok := a.locate(addr)
	if !ok {
		return a.notInRange("allocate", addr)
	}
	if !s.set.Add(off) {
		return &Error{Op: "allocate", Value: addr.String(), Err: ErrAllocated}
	}
	a.account(s, off, 1)
	return nil
}

func (a *Allocator) account(s *segment, off uint64, delta uint64) {
	s.used += delta
	a.used += delta
	if off < s.static {
		s.staticUsed += delta
	}
}

// AllocateNext reserves and returns a free address: from the first range
// with room, from its upper (dynamic) band, or from its lower (static) band
// when the upper band is full (KEP-3070). Within a band it picks a random
// offset and takes the first free address at or after it, wrapping around,
// like Kubernetes; with Sequential it takes the lowest free address. It
// returns an error wrapping ErrFull when every address is allocated.
//
// It costs O(1) for ranges of up to 2^20 addresses and O(log allocated
// runs) above, however full the range is, and does not allocate memory for
// ranges of up to 2^20 addresses.
func (a *Allocator) AllocateNext() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.segs {
		if s.used == s.size {
			continue
		}
		var off uint64
		if s.used-s.staticUsed < s.size-s.static {
			off = a.pick(s, s.static, s.size)
		} else {
			off = a.pick(s, 0, s.static)
		}
		s.set.Add(off)
		a.account(s, off, 1)
		return s.addrAt(off), nil
	}
	return netip.Addr{}, &Error{Op: "allocate next", Value: a.label, Err: ErrFull}
}

// pick returns a free offset in [lo, hi), which must have one.
func (a *Allocator) pick(s *segment, lo, hi uint64) uint64 {
	start := lo
	if !a.seq {
		start += a.rand.Uint64N(hi - lo)
	}
	if off, ok := s.set.NextFree(start, hi); ok {
		return off
	}
	if off, ok := s.set.NextFree(lo, hi); ok {
		return off
	}
	panic("ipam: bug: band count says free, set says full")
}

// Release returns addr to the pool. Releasing an address that is not
// allocated does nothing and returns nil, as in Kubernetes. Unlike
// Kubernetes, which ignores it, releasing an address outside the ranges
// returns an error wrapping ErrNotInRange: it is always a caller's mistake.
// It does not allocate memory for ranges of up to 2^20 addresses.
func (a *Allocator) Release(addr netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, off, ok := a.locate(addr)
	if !ok {
		return a.notInRange("release", addr)
	}
	if s.set.Remove(off) {
		a.account(s, off, math.MaxUint64) // -1
	}
	return nil
}

// Has reports whether addr is allocated, that is whether Allocate(addr)
// would fail with ErrAllocated.
func (a *Allocator) Has(addr netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, off, ok := a.locate(addr)
	return ok && s.set.Has(off)
}

// Contains reports whether addr is a usable address of the allocator,
// allocated or not.
func (a *Allocator) Contains(addr netip.Addr) bool {
	// The segments never change after construction: no lock needed.
	_, _, ok := a.locate(addr)
	return ok
}

// Used returns the number of allocated addresses.
func (a *Allocator) Used() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Size returns the number of usable addresses, saturated at
// math.MaxUint64 (reachable only with several IPv6 /64s in one pool).
func (a *Allocator) Size() uint64 {
	var n uint64
	for _, s := range a.segs {
		if n+s.size < n {
			return math.MaxUint64
		}
		n += s.size
	}
	return n
}

// Free returns the number of addresses left, Size() - Used(), saturated at
// math.MaxUint64 like Size.
func (a *Allocator) Free() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n uint64
	for _, s := range a.segs {
		f := s.size - s.used
		if n+f < n {
			return math.MaxUint64
		}
		n += f
	}
	return n
}

// Band is the static/dynamic split of one range of an allocator (KEP-3070).
type Band struct {
	// Range holds the usable addresses; it is the zero Range for a prefix
	// without usable address (an IPv4 /31 or /32, an IPv6 /128).
	Range Range
	// Static is the number of addresses, from Range.First on, that
	// AllocateNext takes only when the others are full.
	Static uint64
}

// Bands returns the usable range and lower-band size of each prefix or
// range of the allocator, in pool order.
func (a *Allocator) Bands() []Band {
	out := make([]Band, len(a.segs))
	for i, s := range a.segs {
		if s.size > 0 {
			out[i] = Band{Range: Range{First: s.addrAt(0), Last: s.addrAt(s.size - 1)}, Static: s.static}
		}
	}
	return out
}

// All returns an iterator over the allocated addresses in increasing order.
//
// It holds the allocator's lock only while it collects a batch of up to 256
// addresses, never while the loop body runs, so the body may call the
// allocator. It is weakly consistent, like sync.Map.Range: every address
// yielded was allocated during the iteration, addresses are yielded once and
// in increasing order, and an address allocated or released concurrently may
// or may not be seen.
func (a *Allocator) All() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		buf := make([]netip.Addr, 0, 256)
		seg, from := 0, uint64(0)
		for seg < len(a.sorted) {
			buf = buf[:0]
			a.mu.Lock()
			for seg < len(a.sorted) && len(buf) < cap(buf) {
				s := a.sorted[seg]
				s.set.Ascend(from, func(x uint64) bool {
					buf = append(buf, s.addrAt(x))
					from = x + 1
					return len(buf) < cap(buf)
				})
				if len(buf) < cap(buf) {
					seg, from = seg+1, 0
				}
			}
			a.mu.Unlock()
			for _, addr := range buf {
				if !yield(addr) {
					return
				}
			}
		}
	}
}
