package portalloc

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/svcnet/svcnet/internal/bitmap"
)

// Allocator hands out ports of a Range, as Kubernetes' NodePort allocator.
// It is safe for concurrent use: every method takes an internal mutex, and
// no method calls back into user code while holding it (All releases it
// around each batch it yields). The zero Allocator is not usable; build one
// with New.
type Allocator struct {
	r      Range
	static int // KEP-3668 lower band: offsets [0, static)
	label  string

	mu         sync.Mutex
	bits       *bitmap.Bitmap
	used       int
	staticUsed int
	rand       *rand.Rand
	seq        bool
}

// New returns an allocator of the ports of r. The KEP-3668 lower band of
// min(max(16, size/32), 128) ports (none for 16 ports or fewer) is used by
// AllocateNext only when the rest is full. It allocates a bitmap of
// r.Size/8 bytes (8.3 KiB for every port) and returns an error wrapping
// ErrInvalidRange if r is invalid.
func New(r Range, opts ...Option) (*Allocator, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	return &Allocator{
		r:      r,
		static: r.StaticBand(),
		label:  r.String(),
		bits:   bitmap.New(uint64(r.Size)),
		rand:   cfg.rand,
		seq:    cfg.sequential,
	}, nil
}

// Range returns the allocator's port range.
func (a *Allocator) Range() Range { return a.r }

func (a *Allocator) notInRange(op string, port int) error {
	return &Error{Op: op, Value: strconv.Itoa(port), Err: fmt.Errorf("%w %s", ErrNotInRange, a.label)}
}

func (a *Allocator) account(off, delta int) {
	a.used += delta
	if off < a.static {
		a.staticUsed += delta
	}
}

// Allocate reserves port, which may lie in either band. It returns an error
// wrapping ErrNotInRange if port is outside the range and ErrAllocated if
// it is already allocated. It does not allocate memory when it succeeds.
func (a *Allocator) Allocate(port int) error {
	if !a.r.Contains(port) {
		return a.notInRange("allocate", port)
	}
	off := port - a.r.Base
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.bits.Add(uint64(off)) {
		return &Error{Op: "allocate", Value: strconv.Itoa(port), Err: ErrAllocated}
	}
	a.account(off, 1)
	return nil
}

// AllocateNext reserves and returns a free port: from the upper (dynamic)
// band, or from the lower (static) band when the upper band is full
// (KEP-3668). Within a band it picks a random offset and takes the first
// free port at or after it, wrapping around, like Kubernetes; with
// Sequential it takes the lowest free port. It returns an error wrapping
// ErrFull when every port is allocated. It costs O(1) (at most six bitmap
// words read) and does not allocate memory when it succeeds.
func (a *Allocator) AllocateNext() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var off int
	switch {
	case a.used-a.staticUsed < a.r.Size-a.static:
		off = a.pick(a.static, a.r.Size)
	case a.staticUsed < a.static:
		off = a.pick(0, a.static)
	default:
		return 0, &Error{Op: "allocate next", Value: a.label, Err: ErrFull}
	}
	a.bits.Add(uint64(off))
	a.account(off, 1)
	return a.r.Base + off, nil
}

// pick returns a free offset in [lo, hi), which must have one.
func (a *Allocator) pick(lo, hi int) int {
	start := lo
	if !a.seq {
		start += a.rand.IntN(hi - lo)
	}
	if off, ok := a.bits.NextFree(uint64(start), uint64(hi)); ok {
		return int(off)
	}
	if off, ok := a.bits.NextFree(uint64(lo), uint64(hi)); ok {
		return int(off)
	}
	panic("portalloc: bug: band count says free, bitmap says full")
}

// Release returns port to the range. Releasing a port that is not allocated
// does nothing and returns nil, as in Kubernetes. Unlike Kubernetes, which
// logs and ignores it, releasing a port outside the range returns an error
// wrapping ErrNotInRange. It does not allocate memory when it succeeds.
func (a *Allocator) Release(port int) error {
	if !a.r.Contains(port) {
		return a.notInRange("release", port)
	}
	off := port - a.r.Base
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bits.Remove(uint64(off)) {
		a.account(off, -1)
	}
	return nil
}

// Has reports whether port is allocated, that is whether Allocate(port)
// would fail with ErrAllocated.
func (a *Allocator) Has(port int) bool {
	if !a.r.Contains(port) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bits.Has(uint64(port - a.r.Base))
}

// Used returns the number of allocated ports.
func (a *Allocator) Used() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Free returns the number of ports left: Range().Size - Used().
func (a *Allocator) Free() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.r.Size - a.used
}

// All returns an iterator over the allocated ports in increasing order.
//
// It holds the allocator's lock only while it collects a batch of up to 256
// ports, never while the loop body runs, so the body may call the
// allocator. It is weakly consistent, like sync.Map.Range: every port
// yielded was allocated during the iteration, ports are yielded once and in
// increasing order, and a port allocated or released concurrently may or may
// not be seen.
func (a *Allocator) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		buf := make([]int, 0, 256)
		from := uint64(0)
		for {
			buf = buf[:0]
			a.mu.Lock()
			a.bits.Ascend(from, func(x uint64) bool {
				buf = append(buf, a.r.Base+int(x))
				from = x + 1
				return len(buf) < cap(buf)
			})
			a.mu.Unlock()
			for _, p := range buf {
				if !yield(p) {
					return
				}
			}
			if len(buf) < cap(buf) {
				return
			}
		}
	}
}
