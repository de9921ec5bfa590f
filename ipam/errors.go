package ipam

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers test with errors.Is.
var (
	// ErrFull reports that no address is left to allocate.
	ErrFull = errors.New("ipam: range is full")
	// ErrAllocated reports that the requested address is already allocated.
	ErrAllocated = errors.New("ipam: address is already allocated")
	// ErrNotInRange reports an address outside every usable range of the
	// allocator (a network or IPv4 broadcast address, another family, an
	// address with a zone, or simply elsewhere).
	ErrNotInRange = errors.New("ipam: address is not in range")
	// ErrInvalidRange reports a prefix or range that cannot back an
	// allocator: invalid, an IPv6 prefix shorter than /64, a range whose
	// ends are reversed or of different families, overlapping ranges.
	ErrInvalidRange = errors.New("ipam: invalid range")
	// ErrSnapshot reports a snapshot that cannot be restored: corrupt,
	// truncated, of an unknown version, or taken from different ranges.
	ErrSnapshot = errors.New("ipam: invalid snapshot")
)

// Error is the error returned by the operations of this package. It names
// the operation and the bad value and wraps one of the sentinel errors,
// possibly with more detail. Its zero value is not useful.
type Error struct {
	// Op is the operation: "new", "allocate", "allocate next", "release",
	// "restore", "parse range".
	Op string
	// Value is the offending value as text: an address, a prefix, a range.
	Value string
	// Err is the cause; errors.Is(Err, ErrX) holds for one sentinel ErrX.
	Err error
}

// Error formats the error as "ipam: <op> <value>: <cause>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ipam: ")
	b.WriteString(e.Op)
	if e.Value != "" {
		b.WriteString(" ")
		b.WriteString(e.Value)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "ipam: "))
	}
	return b.String()
}

// Unwrap returns the cause, so that errors.Is sees the sentinel.
func (e *Error) Unwrap() error { return e.Err }
