// Package cilium compares svcnet's lb.Maglev with Cilium's pkg/maglev
// (github.com/cilium/cilium v1.20), in one run on one machine.
//
// It is its own Go module, so that Cilium's very large dependency graph
// never reaches svcnet or its other peers. It has no code of its own: the
// comparison lives in its tests.
//
// Both implement Maglev hashing (Eisenbud et al., NSDI 2016) over the same
// table sizes with backends sorted by a frozen key, but hash different key
// strings with different functions (Cilium: MurmurHash3 of
// "[addr:port/TCP,State:active]" with a cluster seed; svcnet: its own frozen
// hash of address family, address and port), so the two tables differ slot
// by slot. What is compared is what a user sees: the table size, the
// balance (every backend within one slot), the disruption when a backend
// leaves, and the cost of building a table. The differential test checks
// the first three:
//
//	go test ./...
//
// and the benchmarks set the two builds side by side, cold (a new instance
// per table, as after an agent restart) and warm (an instance reused, as
// Cilium's own BenchmarkGetMaglevTable does), with the memory each instance
// keeps reported as held-B:
//
//	go test -run '^$' -bench . -benchmem ./...
package cilium
