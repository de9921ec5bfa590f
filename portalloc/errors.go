package portalloc

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers test with errors.Is.
var (
	// ErrFull reports that no port is left to allocate.
	ErrFull = errors.New("portalloc: range is full")
	// ErrAllocated reports that the requested port is already allocated.
	ErrAllocated = errors.New("portalloc: port is already allocated")
	// ErrNotInRange reports a port outside the allocator's range.
	ErrNotInRange = errors.New("portalloc: port is not in range")
	// ErrInvalidRange reports a port range that cannot be parsed or cannot
	// back an allocator.
	ErrInvalidRange = errors.New("portalloc: invalid range")
	// ErrSnapshot reports a snapshot that cannot be restored: corrupt,
	// truncated, of an unknown version, or taken from a different range.
	ErrSnapshot = errors.New("portalloc: invalid snapshot")
)

// Error is the error returned by the operations of this package. It names
// the operation and the bad value and wraps one of the sentinel errors,
// possibly with more detail. Its zero value is not useful.
type Error struct {
	// Op is the operation: "new", "parse range", "allocate",
	// "allocate next", "release", "restore".
	Op string
	// Value is the offending value as text: a port, a range, an input.
	Value string
	// Err is the cause; errors.Is(Err, ErrX) holds for one sentinel ErrX.
	Err error
}

// Error formats the error as "portalloc: <op> <value>: <cause>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("portalloc: ")
	b.WriteString(e.Op)
	if e.Value != "" {
		b.WriteString(" ")
		b.WriteString(e.Value)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "portalloc: "))
	}
	return b.String()
}

// Unwrap returns the cause, so that errors.Is sees the sentinel.
func (e *Error) Unwrap() error { return e.Err }
