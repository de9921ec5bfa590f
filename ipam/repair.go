package ipam

import (
	"net/netip"

	"github.com/svcnet/svcnet/internal/repair"
)

// DefaultLeakPasses is the number of consecutive repair passes on which an
// allocated but unused address must be seen before it is released: 3, as
// numRepairsBeforeLeakCleanup in Kubernetes' repair controllers
// (pkg/registry/core/service/ipallocator/controller/repair.go). The delay
// lets an address allocated by a Service create that is still in flight
// reach the Service store before it is taken for a leak.
const DefaultLeakPasses = 3

// RepairConfig configures a Repair. The zero value releases leaks after
// DefaultLeakPasses passes and fixes what it finds.
type RepairConfig struct {
	// LeakPasses is the number of consecutive passes on which an address
	// must be seen leaked before it is released; 0 means
	// DefaultLeakPasses, 1 releases leaks on the first pass.
	LeakPasses int
	// DryRun reports without changing the allocator: missing addresses
	// are not allocated and leaks are not released (Report.Released lists
	// the leaks that would have been).
	DryRun bool
}

// Repair rebuilds an allocator's state from the addresses actually in use,
// as the ClusterIP repair loop of Kubernetes does from the Services that
// exist. Call Pass periodically with the addresses in use. A Repair is not
// safe for concurrent use; the Allocator it repairs may be used concurrently.
type Repair struct {
	loop *repair.Loop[netip.Addr]
}

// NewRepair returns a Repair of a.
func NewRepair(a *Allocator, cfg RepairConfig) *Repair {
	if cfg.LeakPasses <= 0 {
		cfg.LeakPasses = DefaultLeakPasses
	}
	return &Repair{loop: repair.New(repairTarget{a}, repair.Config[netip.Addr]{
		ErrAllocated: ErrAllocated,
		LeakPasses:   cfg.LeakPasses,
		DryRun:       cfg.DryRun,
	})}
}

// repairTarget is the Allocator as the repair loop sees it, with the
// address order its reports use.
type repairTarget struct{ *Allocator }

func (repairTarget) Compare(a, b netip.Addr) int { return a.Compare(b) }

// RepairReport is what one repair pass found. Every list is in increasing
// address order and holds each address once.
type RepairReport struct {
	// Leaked lists the addresses allocated but not in use that were seen so
	// on fewer than LeakPasses consecutive passes: still kept allocated.
	Leaked []netip.Addr
	// Released lists the leaks seen on LeakPasses consecutive passes:
	// released (unless DryRun).
	Released []netip.Addr
	// Missing lists the addresses in use but not allocated: allocated
	// (unless DryRun).
	Missing []netip.Addr
	// Duplicate lists the addresses in use more than once. Nothing can fix
	// them but recreating all but one of their users, as Kubernetes warns.
	Duplicate []netip.Addr
	// OutOfRange lists the addresses in use that are not usable addresses
	// of the allocator (for example after the range was changed).
	OutOfRange []netip.Addr
}

// Clean reports whether the pass found nothing at all.
func (r RepairReport) Clean() bool {
	return len(r.Leaked)+len(r.Released)+len(r.Missing)+len(r.Duplicate)+len(r.OutOfRange) == 0
}

// Pass compares the allocator with inUse, the addresses in use (one entry
// per user, so an address used twice appears twice), reports the
// differences and, unless DryRun, fixes the missing addresses and the
// leaks that have aged LeakPasses passes. The error joins the failures
// to fix, which only happen when the allocator changes during the pass.
// A pass costs O(len(inUse) + Used()) time and memory.
func (r *Repair) Pass(inUse []netip.Addr) (RepairReport, error) {
	rep, err := r.loop.Pass(inUse)
	return RepairReport(rep), err
}
