package ipam

import "github.com/svcnet/svcnet/internal/bitmap"

// offsetSet is the set of allocated offsets of one range, offsets counted
// from the range's first usable address: a dense bitmap.Bitmap for ranges
// of up to the dense limit, a sparse runSet above. Implementations are not
// safe for concurrent use; the Allocator serialises access.
type offsetSet interface {
	// Has reports whether x is in the set.
	Has(x uint64) bool
	// Add inserts x and reports whether it was absent.
	Add(x uint64) bool
	// Remove deletes x and reports whether it was present.
	Remove(x uint64) bool
	// NextFree returns the smallest y with from <= y < end that is not in
	// the set, if any.
	NextFree(from, end uint64) (uint64, bool)
	// Ascend calls yield for every member >= from in increasing order
	// until yield returns false.
	Ascend(from uint64, yield func(uint64) bool)
	// Runs calls yield for every maximal run [start, end) of members in
	// increasing order until yield returns false.
	Runs(yield func(start, end uint64) bool)
	// AddRun inserts [start, end), which must be free and must not touch
	// another member (end < next member, start > previous member + 1);
	// Restore uses it to rebuild a set from a snapshot's maximal runs.
	AddRun(start, end uint64)
}

var (
	_ offsetSet = (*bitmap.Bitmap)(nil)
	_ offsetSet = (*runSet)(nil)
)
