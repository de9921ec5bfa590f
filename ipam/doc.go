// Package ipam allocates IP addresses for Services: ClusterIPs from
// Service CIDRs and LoadBalancer IPs from address pools, IPv4 and IPv6.
//
// It follows the behaviour of Kubernetes' allocators
// (k8s.io/kubernetes/pkg/registry/core/service/ipallocator) and is faster
// than them, and it serves IPv6 prefixes up to a /64 instead of capping
// them at 65 536 addresses.
//
// # Flow
//
//	a, err := ipam.New(netip.MustParsePrefix("10.96.0.0/16"),
//		ipam.WithRand(rand.New(rand.NewPCG(seed, 0))))
//	ip, err := a.AllocateNext()                      // dynamic: upper band first
//	err = a.Allocate(netip.MustParseAddr("10.96.0.10")) // static: anywhere
//	err = a.Release(ip)
//	data, _ := a.Snapshot()                          // persist...
//	err = b.Restore(data)                            // ...and restore elsewhere
//	rep, err := ipam.NewRepair(a, ipam.RepairConfig{}).Pass(inUse)
//
// # Kubernetes semantics
//
// Usable addresses are those of Kubernetes' bitmap allocator: never the
// network address; for IPv4 never the broadcast address. So an IPv4 /31
// or /32 and an IPv6 /128 have none, and an IPv6 /127 has one, its second
// address (the bitmap and the newer IPAddress allocator agree on all four).
//
// KEP-3070 splits a range into a lower, static band of
// min(max(16, size/16), 256) addresses (none when the prefix has 16
// addresses or fewer; size counts every address of the prefix) and the
// upper, dynamic band. AllocateNext takes from the upper band and from the
// lower one only when the upper is full, so that addresses chosen by users
// with Allocate (DNS at .10, say) rarely collide with dynamic ones.
// Allocate works in either band.
//
// Within a band AllocateNext draws a random offset from the injected
// *rand.Rand (WithRand) and takes the first free address at or after it,
// wrapping around, like Kubernetes' randomScanStrategyWithOffset, so that
// several API servers rarely pick the same address; or, with Sequential,
// the lowest free address. A given seed and call sequence always give the
// same addresses.
//
// Several prefixes form one pool with NewPool, like the ServiceCIDRs of
// KEP-1880: AllocateNext takes from the first prefix that has room (where
// Kubernetes iterates its allocators in map order). NewRanges builds a
// pool of arbitrary first-last ranges for LoadBalancer IPs, like MetalLB's
// address pools, where every address is usable and there is no band.
//
// Repair implements Kubernetes' repair loop: it compares the allocator with
// the addresses in use, reports leaks, missing addresses, duplicates and
// out-of-range addresses, and releases a leak only once it has been seen on
// three consecutive passes (numRepairsBeforeLeakCleanup).
//
// Deliberate differences: IPv6 prefixes are served in full up to a /64
// (Kubernetes' bitmap stops at 65 536 addresses; shorter prefixes are
// rejected with ErrInvalidRange, as Kubernetes' IPAddress allocator does);
// Release of an address outside the ranges returns ErrNotInRange (Kubernetes
// ignores it); Used, Free and Size count in uint64; overlapping prefixes in
// one pool are rejected.
//
// # Data structures
//
// Each range keeps its allocated offsets (from its first usable address) in
// one of two sets, chosen by size:
//
//   - up to 2^20 addresses (an IPv4 /12, and every range Kubernetes'
//     IPv6 bitmap can hold): a hierarchical bitmap. One bit per address and
//     summary levels with one bit per full word of the level below; finding
//     the first free address at or after a random offset reads at most two
//     words per level (four levels for 2^20), so AllocateNext is O(1) and
//     allocation-free even with the range 99.99 % full. Kubernetes scans its
//     bitmap linearly from the random offset, which at 99 % use reads about
//     a hundred bits through math/big. Memory: n/8 bytes, 130 KiB at most.
//
//   - larger ranges (IPv4 up to /0, IPv6 up to /64, 2^64-1 addresses): a
//     google/btree of maximal runs [start, end) of allocated offsets. Since
//     runs are maximal, the end of the run that holds an offset is free, so
//     the first free address at or after a random offset is one floor
//     lookup, O(log runs), however full the range; memory is proportional
//     to the number of runs, at most the number of allocated addresses (16
//     bytes per run in 1 KiB nodes, about 25 bytes per address for random
//     addresses), and shrinks to a single run for a dense block. A sparse
//     bitmap (64-bit chunks keyed in a tree) would cost the same 16 bytes
//     for a lone address in a /64, but cannot skip a long full stretch in
//     O(log n).
//
// Both bands of a range share its set; per-band counts decide which band
// AllocateNext draws from, and a band's search stops at its end and wraps
// to its start.
//
// # Concurrency
//
// An Allocator is safe for concurrent use: one mutex guards its state, as
// the allocators are the contended resource of a control plane. The package
// starts no goroutine, reads no clock and uses no global random source.
//
// # Snapshots
//
// Snapshot writes a versioned binary format (see snapshot.go): the ranges
// and their allocated runs, with a CRC-32C. Restore checks everything
// before it replaces anything, so a corrupt or truncated snapshot leaves the
// allocator as it was and returns ErrSnapshot.
package ipam
