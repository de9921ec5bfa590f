package portalloc

import (
	"cmp"

	"github.com/svcnet/svcnet/internal/repair"
)

// DefaultLeakPasses is the number of consecutive repair passes on which an
// allocated but unused port must be seen before it is released: 3, as
// numRepairsBeforeLeakCleanup in Kubernetes' NodePort repair controller
// (pkg/registry/core/service/portallocator/controller/repair.go). The delay
// lets a port allocated by a Service create that is still in flight reach
// the Service store before it is taken for a leak.
const DefaultLeakPasses = 3

// RepairConfig configures a Repair. The zero value releases leaks after
// DefaultLeakPasses passes and fixes what it finds.
type RepairConfig struct {
	// LeakPasses is the number of consecutive passes on which a port must
	// be seen leaked before it is released; 0 means DefaultLeakPasses, 1
	// releases leaks on the first pass.
	LeakPasses int
	// DryRun reports without changing the allocator: missing ports are not
	// allocated and leaks are not released (Report.Released lists the
	// leaks that would have been).
	DryRun bool
}

// Repair rebuilds an allocator's state from the ports actually in use, as
// the NodePort repair loop of Kubernetes does from the Services that exist.
// Call Pass periodically with the ports in use. A Repair is not safe for
// concurrent use; the Allocator it repairs may be used concurrently.
type Repair struct {
	loop *repair.Loop[int]
}

// NewRepair returns a Repair of a.
func NewRepair(a *Allocator, cfg RepairConfig) *Repair {
	if cfg.LeakPasses <= 0 {
		cfg.LeakPasses = DefaultLeakPasses
	}
	return &Repair{loop: repair.New(repairTarget{a}, repair.Config[int]{
		ErrAllocated: ErrAllocated,
		LeakPasses:   cfg.LeakPasses,
		DryRun:       cfg.DryRun,
	})}
}

// repairTarget is the Allocator as the repair loop sees it: Contains asks
// the range, whose ports the allocator holds, allocated or not.
type repairTarget struct{ *Allocator }

func (t repairTarget) Contains(port int) bool { return t.r.Contains(port) }

// Compare orders ports as the reports list them.
func (repairTarget) Compare(a, b int) int { return cmp.Compare(a, b) }

// RepairReport is what one repair pass found. Every list is in increasing
// order and holds each port once.
type RepairReport struct {
	// Leaked lists the ports allocated but not in use that were seen so on
	// fewer than LeakPasses consecutive passes: still kept allocated.
	Leaked []int
	// Released lists the leaks seen on LeakPasses consecutive passes:
	// released (unless DryRun).
	Released []int
	// Missing lists the ports in use but not allocated: allocated (unless
	// DryRun).
	Missing []int
	// Duplicate lists the ports in use more than once. Nothing can fix them
	// but recreating all but one of their users, as Kubernetes warns.
	Duplicate []int
	// OutOfRange lists the ports in use outside the allocator's range (for
	// example after the range was changed).
	OutOfRange []int
}

// Clean reports whether the pass found nothing at all.
func (r RepairReport) Clean() bool {
	return len(r.Leaked)+len(r.Released)+len(r.Missing)+len(r.Duplicate)+len(r.OutOfRange) == 0
}

// Pass compares the allocator with inUse, the ports in use (one entry per
// user, so a port used twice appears twice; Kubernetes counts a port once
// per protocol, so pass a NodePort shared by TCP and UDP of one Service
// once), reports the differences and, unless DryRun, fixes the missing
// ports and the leaks that have aged LeakPasses passes. The error joins the
// failures to fix, which only happen when the allocator changes during the
// pass. A pass costs O(len(inUse) + range size/64) time.
func (r *Repair) Pass(inUse []int) (RepairReport, error) {
	rep, err := r.loop.Pass(inUse)
	return RepairReport(rep), err
}
