package lb

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (check with errors.Is) and names the bad value.
var (
	// ErrInvalidBackend: a backend with an invalid or zoned address, or
	// port 0.
	ErrInvalidBackend = errors.New("lb: invalid backend")
	// ErrDuplicateBackend: two backends with the same address and port.
	ErrDuplicateBackend = errors.New("lb: duplicate backend")
	// ErrInvalidWeight: a backend weight above MaxWeight.
	ErrInvalidWeight = errors.New("lb: invalid weight")
	// ErrInvalidTableSize: a Maglev table size that is not a prime in
	// [2, MaxMaglevTableSize].
	ErrInvalidTableSize = errors.New("lb: invalid table size")
	// ErrTooManyBackends: more backends than a Maglev table has slots.
	ErrTooManyBackends = errors.New("lb: too many backends")
	// ErrInvalidRingSize: ring bounds out of order or above MaxRingSize.
	ErrInvalidRingSize = errors.New("lb: invalid ring size")
	// ErrInvalidConfig: any other out-of-range configuration value
	// (balance factor, choice count, affinity timeout).
	ErrInvalidConfig = errors.New("lb: invalid config")
)
