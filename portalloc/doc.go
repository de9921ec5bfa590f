// Package portalloc allocates NodePorts from a port range, with the
// behaviour of Kubernetes' allocator
// (k8s.io/kubernetes/pkg/registry/core/service/portallocator) and faster.
//
// # Flow
//
//	r, err := portalloc.ParseRange("30000-32767")
//	a, err := portalloc.New(r, portalloc.WithRand(rand.New(rand.NewPCG(seed, 0))))
//	port, err := a.AllocateNext() // dynamic: upper band first
//	err = a.Allocate(30005)       // static: anywhere in the range
//	err = a.Release(port)
//	data, _ := a.Snapshot()       // persist...
//	err = b.Restore(data)         // ...and restore elsewhere
//	rep, err := portalloc.NewRepair(a, portalloc.RepairConfig{}).Pass(inUse)
//
// # Kubernetes semantics
//
// Ranges are written as Kubernetes' --service-node-port-range:
// "min-max", "min+offset" or a single port; Range.String round-trips.
//
// KEP-3668 splits the range into a lower, static band of
// min(max(16, size/32), 128) ports (none when the range has 16 ports or
// fewer) and the upper, dynamic band. AllocateNext takes from the upper
// band and from the lower one only when the upper is full, so that ports
// chosen by users with Allocate rarely collide with dynamic ones. Allocate
// works in either band. Within a band AllocateNext draws a random offset
// from the injected *rand.Rand and takes the first free port at or after
// it, wrapping around, like Kubernetes' randomScanStrategyWithOffset; or,
// with Sequential, the lowest free port. A given seed and call sequence
// always give the same ports.
//
// Repair implements Kubernetes' NodePort repair loop: it compares the
// allocator with the ports in use, reports leaks, missing ports, duplicates
// and out-of-range ports, and releases a leak only once it has been seen on
// three consecutive passes (numRepairsBeforeLeakCleanup).
//
// Deliberate differences: ParseRange rejects the empty string and port 0;
// Release of a port outside the range returns ErrNotInRange (Kubernetes logs
// and ignores it).
//
// # Data structure
//
// A hierarchical bitmap: one bit per port and summary levels with one bit
// per full word of the level below (three levels for 65535 ports). Finding
// the first free port at or after a random offset reads at most two words
// per level, so AllocateNext costs O(1) and does not allocate, even with
// the range 99.99 % full; Kubernetes scans its math/big bitmap bit by bit
// from the random offset. Memory: 8.3 KiB for all 65535 ports.
//
// # Concurrency
//
// An Allocator is safe for concurrent use: one mutex guards its state. The
// package starts no goroutine, reads no clock and uses no global random
// source.
//
// # Snapshots
//
// Snapshot writes a versioned binary format (see snapshot.go): the range
// and its allocated runs, with a CRC-32C. Restore checks everything before
// it replaces anything, so a corrupt or truncated snapshot leaves the
// allocator as it was and returns ErrSnapshot.
package portalloc
