package ipam

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strings"
)

// Range is an inclusive range of addresses First..Last of one family, as
// used for LoadBalancer address pools (MetalLB's "first-last" notation).
// Every address of a Range is usable, network and broadcast addresses
// included, since a range is not a subnet. The zero Range is invalid.
type Range struct {
	First, Last netip.Addr
}

// ParseRange parses "first-last", e.g. "192.0.2.10-192.0.2.20" or
// "2001:db8::10-2001:db8::ff". The range must be valid (see Range.Validate).
func ParseRange(s string) (Range, error) {
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return Range{}, &Error{Op: "parse range", Value: fmt.Sprintf("%q", s), Err: fmt.Errorf("%w: missing '-' between first and last address", ErrInvalidRange)}
	}
	f, err := netip.ParseAddr(first)
	if err != nil {
		return Range{}, &Error{Op: "parse range", Value: fmt.Sprintf("%q", s), Err: fmt.Errorf("%w: first address: %v", ErrInvalidRange, err)}
	}
	l, err := netip.ParseAddr(last)
	if err != nil {
		return Range{}, &Error{Op: "parse range", Value: fmt.Sprintf("%q", s), Err: fmt.Errorf("%w: last address: %v", ErrInvalidRange, err)}
	}
	r := Range{First: f, Last: l}
	if err := r.Validate(); err != nil {
		return Range{}, err
	}
	return r, nil
}

// MustParseRange is like ParseRange but panics on error. It is meant for
// constants in tests and examples.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns "first-last", which ParseRange parses back to r.
func (r Range) String() string {
	return r.First.String() + "-" + r.Last.String()
}

// Validate reports why r cannot back an allocator, or nil: both ends must be
// valid addresses of the same family without zone, First <= Last, and the
// range may hold at most 2^64-1 addresses (the size of an IPv6 /64 less its
// network address, the largest range svcnet serves).
func (r Range) Validate() error {
	fail := func(format string, args ...any) error {
		return &Error{Op: "new", Value: r.String(), Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidRange}, args...)...)}
	}
	switch {
	case !r.First.IsValid() || !r.Last.IsValid():
		return &Error{Op: "new", Value: "range", Err: fmt.Errorf("%w: zero address", ErrInvalidRange)}
	case r.First.Is4() != r.Last.Is4():
		return fail("addresses of different families")
	case r.First.Zone() != "" || r.Last.Zone() != "":
		return fail("addresses with zone")
	case r.Last.Less(r.First):
		return fail("last address before first")
	}
	hi, lo := sub128(toU128(r.Last), toU128(r.First))
	if hi != 0 || lo == math.MaxUint64 {
		return fail("more than 2^64-1 addresses")
	}
	return nil
}

// Size returns the number of addresses in r, or 0 if r is invalid.
func (r Range) Size() uint64 {
	if r.Validate() != nil {
		return 0
	}
	_, lo := sub128(toU128(r.Last), toU128(r.First))
	return lo + 1
}

// u128 is an address as a 128-bit integer; IPv4 addresses use their
// IPv4-mapped IPv6 form, so that one arithmetic serves both families.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (u u128) addr(is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte{byte(u.lo >> 24), byte(u.lo >> 16), byte(u.lo >> 8), byte(u.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) less(v u128) bool { return u.hi < v.hi || u.hi == v.hi && u.lo < v.lo }

func sub128(a, b u128) (hi, lo uint64) {
	lo = a.lo - b.lo
	hi = a.hi - b.hi
	if a.lo < b.lo {
		hi--
	}
	return hi, lo
}

func (u u128) plus(off uint64) u128 {
	lo := u.lo + off
	hi := u.hi
	if lo < u.lo {
		hi++
	}
	return u128{hi, lo}
}

// Band sizes of KEP-3070 ("Reserve Service IP Ranges For Dynamic and Static
// IP Allocation"): the lower band of min(max(16, size/16), 256) addresses
// is left to static allocation, where size is the number of addresses of
// the whole prefix, network and broadcast included; prefixes of 16
// addresses or fewer have no lower band. This is calculateRangeOffset in
// k8s.io/kubernetes/pkg/registry/core/service/ipallocator/bitmap.go.
const (
	staticMin  = 16
	staticMax  = 256
	staticStep = 16
)

// staticBand returns the KEP-3070 lower band size for a prefix with the
// given number of host bits.
func staticBand(hostBits int) uint64 {
	// Kubernetes computes the prefix size with k8s.io/utils/net.RangeSize,
	// which saturates at MaxInt64; any size >= 2^12 gives the cap anyway.
	if hostBits >= 12 {
		return staticMax
	}
	size := uint64(1) << hostBits
	if size <= staticMin {
		return 0
	}
	return min(max(staticMin, size/staticStep), staticMax)
}

// prefixRange returns the usable addresses of p as Kubernetes counts them,
// first address and count, and the KEP-3070 lower band size.
//
// Like k8s.io/kubernetes/pkg/registry/core/service/ipallocator: the network
// address is never usable; for IPv4 neither is the broadcast address. So
// an IPv4 /31 or /32 and an IPv6 /128 have no usable address and an IPv6
// /127 has one (Range.max in bitmap.go is RangeSize-2, resp. -1, floored
// at 0).
func prefixRange(p netip.Prefix) (first u128, size, static uint64) {
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	first = toU128(p.Addr()).plus(1)
	switch {
	case p.Addr().Is4() && hostBits <= 1:
		size = 0
	case p.Addr().Is4():
		size = 1<<hostBits - 2
	case hostBits == 64:
		size = math.MaxUint64 // 2^64 - 1
	default:
		size = 1<<hostBits - 1
	}
	return first, size, staticBand(hostBits)
}
