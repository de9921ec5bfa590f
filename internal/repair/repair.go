// Package repair is the bookkeeping of a Kubernetes-style allocator repair
// loop (pkg/registry/core/service/ipallocator/controller/repair.go and
// portallocator/controller/repair.go), shared by ipam.Repair and
// portalloc.Repair: compare the allocator with what is in use, allocate what
// is missing, and release an allocated key only once it has been seen
// leaked on a number of consecutive passes.
package repair

import (
	"errors"
	"iter"
	"slices"
)

// Allocator is what a Loop repairs: the allocated keys and the operations
// to fix them. *ipam.Allocator satisfies it for netip.Addr keys.
type Allocator[K comparable] interface {
	// Contains reports whether k is in the allocator's range, allocated
	// or not.
	Contains(k K) bool
	// Has reports whether k is allocated.
	Has(k K) bool
	// Allocate allocates k.
	Allocate(k K) error
	// Release releases k.
	Release(k K) error
	// All returns the allocated keys in increasing order.
	All() iter.Seq[K]
	// Compare orders keys as All yields them; every report list is in
	// this order.
	Compare(a, b K) int
}

// Config configures a Loop. The zero value releases a leak on the first
// pass that sees it.
type Config[K comparable] struct {
	// ErrAllocated is the sentinel that Allocate wraps when k is already
	// allocated. Pass ignores that error when it allocates a missing key:
	// the key was allocated concurrently, which is what Pass wanted.
	ErrAllocated error
	// LeakPasses is the number of consecutive passes on which a key must
	// be seen leaked before it is released; values below 1 count as 1.
	LeakPasses int
	// DryRun reports without changing the allocator.
	DryRun bool
}

// Report is what one pass found. Every list is in Allocator.Compare order
// and holds each key once. ipam.RepairReport and portalloc.RepairReport are converted
// from it and document each list for their keys, so their fields must stay
// the same, in the same order.
type Report[K comparable] struct {
	// Leaked: allocated, not in use, seen so on fewer than LeakPasses
	// consecutive passes, still kept allocated.
	Leaked []K
	// Released: leaks seen on LeakPasses consecutive passes, released
	// unless DryRun.
	Released []K
	// Missing: in use but not allocated, allocated unless DryRun.
	Missing []K
	// Duplicate: in use more than once.
	Duplicate []K
	// OutOfRange: in use but not contained in the allocator.
	OutOfRange []K
}

// Loop remembers, between passes, how many consecutive passes each leak
// was seen on. A Loop is not safe for concurrent use; the Allocator it
// repairs may be used concurrently. The zero Loop is not usable; build one
// with New.
type Loop[K comparable] struct {
	alloc  Allocator[K]
	cfg    Config[K]
	leaked map[K]int // consecutive passes each leak was seen
}

// New returns a Loop repairing a.
func New[K comparable](a Allocator[K], cfg Config[K]) *Loop[K] {
	cfg.LeakPasses = max(cfg.LeakPasses, 1)
	return &Loop[K]{alloc: a, cfg: cfg, leaked: map[K]int{}}
}

// Pass compares the allocator with inUse, the keys in use (one entry per
// user, so a key used twice appears twice), reports the differences and,
// unless DryRun, fixes the missing keys and the leaks that have aged
// LeakPasses passes. The error joins the failures to fix, which only happen
// when the allocator changes during the pass. A pass costs
// O(len(inUse) log len(inUse)) plus one walk of All.
func (r *Loop[K]) Pass(inUse []K) (Report[K], error) {
	var rep Report[K]
	var errs []error
	use := make(map[K]int, len(inUse))
	for _, k := range inUse {
		use[k]++
	}
	keys := make([]K, 0, len(use))
	for k := range use {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, r.alloc.Compare)
	for _, k := range keys {
		if use[k] > 1 {
			rep.Duplicate = append(rep.Duplicate, k)
		}
		switch {
		case !r.alloc.Contains(k):
			rep.OutOfRange = append(rep.OutOfRange, k)
		case !r.alloc.Has(k):
			rep.Missing = append(rep.Missing, k)
			if !r.cfg.DryRun {
				if err := r.alloc.Allocate(k); err != nil && !errors.Is(err, r.cfg.ErrAllocated) {
					errs = append(errs, err)
				}
			}
		}
	}
	leaked := make(map[K]int)
	for k := range r.alloc.All() {
		if use[k] > 0 {
			continue
		}
		n := r.leaked[k] + 1
		if n < r.cfg.LeakPasses {
			leaked[k] = n
			rep.Leaked = append(rep.Leaked, k)
			continue
		}
		rep.Released = append(rep.Released, k)
		if r.cfg.DryRun {
			leaked[k] = n // still allocated: keep reporting it as due
		} else if err := r.alloc.Release(k); err != nil {
			errs = append(errs, err)
		}
	}
	r.leaked = leaked
	return rep, errors.Join(errs...)
}
