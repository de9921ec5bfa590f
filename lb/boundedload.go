package lb

import (
	"fmt"
	"math/bits"
	"net/netip"
)

// DefaultBalanceFactor is BoundedLoadConfig.BalanceFactor when zero:
// 125 %, the c = 1.25 that Mirrokni et al. use as their example and that
// Vimeo deployed in HAProxy.
const DefaultBalanceFactor = 125

// BoundedLoadConfig configures a BoundedLoad picker.
type BoundedLoadConfig struct {
	// BalanceFactor is c in percent, as Envoy's hash_balance_factor: no
	// backend holds more than ⌈c·(m+1)·w/W⌉ of the m+1 open connections
	// (w/W its weight share). Zero means DefaultBalanceFactor; below 100 is
	// an error.
	BalanceFactor uint32
	// Ring sizes the ring the keys are hashed onto, as for RingHash.
	Ring RingHashConfig
}

// BoundedLoad is consistent hashing with bounded loads (Mirrokni, Thorup
// and Zadimoghaddam, "Consistent Hashing with Bounded Loads", SODA 2018):
// a ring as RingHash's, but a key whose backend already holds its capacity
// ⌈c·(m+1)·w/W⌉ walks on around the ring to the first backend below
// capacity, m being the number of connections open. So a Pick never takes
// a backend above c times its fair share (plus one for rounding), whatever
// the keys. (Connections closing elsewhere can leave a backend above the
// new, lower capacity until its own close: the paper moves balls on
// deletion, a proxy cannot move an open connection.) A key moves only when
// the backends or their loads change.
//
// It is connection-aware: Pick opens a connection and Done closes it.
// Update keeps the loads of backends that stay. Pick costs O(1) expected
// while backends are below capacity, O(ring) at worst. If every backend on
// the ring is full (possible only when weights leave some backend with no
// point), Pick takes the key's first point regardless. It is not safe for
// concurrent use.
type BoundedLoad struct {
	factor           uint64
	minSize, maxSize uint64
	backends         []Backend
	byAddr           map[netip.AddrPort]int32
	ring             ring
	load             []uint64
	total            uint64
	wsum             uint64
}

var _ ConnPicker = (*BoundedLoad)(nil)

// NewBoundedLoad returns a BoundedLoad picker with no backends. It fails
// with ErrInvalidConfig for a balance factor below 100 and with
// ErrInvalidRingSize for bad ring sizes.
func NewBoundedLoad(cfg BoundedLoadConfig) (*BoundedLoad, error) {
	f := cfg.BalanceFactor
	if f == 0 {
		f = DefaultBalanceFactor
	}
	if f < 100 {
		return nil, fmt.Errorf("%w: balance factor %d%%, want at least 100%%", ErrInvalidConfig, f)
	}
	lo, hi, err := cfg.Ring.sizes()
	if err != nil {
		return nil, err
	}
	return &BoundedLoad{factor: uint64(f), minSize: lo, maxSize: hi}, nil
}

// Update replaces the backends and rebuilds the ring, keeping the loads
// of backends that stay.
func (l *BoundedLoad) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	load := make([]uint64, len(bs))
	l.total, l.wsum = 0, 0
	for i, b := range bs {
		if j, ok := l.byAddr[b.Addr]; ok {
			load[i] = l.load[j]
		}
		l.total += load[i]
		l.wsum += b.weight()
	}
	l.backends, l.load = bs, load
	l.byAddr = index(bs)
	l.ring.build(bs, l.minSize, l.maxSize)
	return nil
}

// fits reports whether backend i can take one more connection:
// load+1 ≤ ⌈c·(m+1)·w/W⌉, i.e. load·100·W < c·(m+1)·w, in 128 bits.
func (l *BoundedLoad) fits(i int32) bool {
	ah, al := bits.Mul64(l.load[i], 100*l.wsum)
	bh, bl := bits.Mul64(l.factor*(l.total+1), l.backends[i].weight())
	return ah < bh || (ah == bh && al < bl)
}

// Pick opens a connection on the first backend below capacity at or after
// the key's point on the ring.
func (l *BoundedLoad) Pick(k Key) (Backend, bool) {
	n := len(l.ring.hashes)
	if n == 0 {
		return Backend{}, false
	}
	start := l.ring.find(k.sum())
	i := l.ring.owners[start]
	for p, step := start, 0; step < n; step++ {
		if o := l.ring.owners[p]; l.fits(o) {
			i = o
			break
		}
		if p++; p == n {
			p = 0
		}
	}
	l.load[i]++
	l.total++
	return l.backends[i], true
}

// Done closes a connection on b.
func (l *BoundedLoad) Done(b Backend) {
	if i, ok := l.byAddr[b.Addr]; ok && l.load[i] > 0 {
		l.load[i]--
		l.total--
	}
}

// open counts a connection on addr that Affinity sent there.
func (l *BoundedLoad) open(addr netip.AddrPort) {
	if i, ok := l.byAddr[addr]; ok {
		l.load[i]++
		l.total++
	}
}
