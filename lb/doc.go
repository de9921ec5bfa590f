// Package lb picks backends for connections: the load-balancing
// algorithms of kube-proxy, IPVS, Envoy and Cilium behind one small
// interface. It imports nothing of svcnet's object model, so a program
// that wants only Maglev or ring hash takes only this package; the
// per-node kube-proxy model that drives these pickers is package proxy.
//
// # Algorithms
//
// Every algorithm is a Picker: Update gives it the backends (address:port,
// weight, zone, node, EndpointSlice conditions), Pick chooses one for a Key
// (client address and port, protocol, or a caller-supplied hash).
// Connection-aware pickers are ConnPickers and learn with Done when a
// connection ends.
//
//	m, err := lb.NewMaglev(lb.MaglevConfig{}) // M = 65537
//	if err != nil { ... }
//	err = m.Update([]lb.Backend{
//		{Addr: netip.MustParseAddrPort("10.0.0.1:8080"), Ready: true},
//		{Addr: netip.MustParseAddrPort("10.0.0.2:8080"), Ready: true},
//	})
//	b, ok := m.Pick(lb.Key{Src: clientAddrPort, Proto: lb.TCP})
//
// The algorithms, with their reference and the cost of a Pick for N
// backends:
//
//	NewRandom             kube-proxy iptables chain, rule i taken w.p. 1/(n−i)   O(N) draws
//	NewRoundRobin         IPVS rr, random start                                   O(1)
//	NewWeightedRoundRobin Envoy EDF, exact per cycle, no burst on update         O(log N)
//	NewLeastConn          IPVS lc / wlc                                           O(log N)
//	NewLeastRequest       Envoy least_request, power of d choices                 O(d)
//	NewSourceHash         IPVS sh, 256 buckets, not consistent                    O(1)
//	NewMaglev             Maglev (NSDI 2016), as Cilium and IPVS mh               O(1)
//	NewRingHash           ketama ring sized as Envoy's ring_hash                  O(1) expected
//	NewBoundedLoad        consistent hashing with bounded loads (Mirrokni et al.) O(1) expected
//	NewRendezvous         highest random weight                                   O(N)
//	NewAffinity           ClientIP session affinity around any Picker             O(1)
//
// Picks do not allocate (Affinity's first pick for a new client may grow its
// table). Updates are incremental where the algorithm allows: round robin
// keeps its turn, weighted round robin its schedule, the connection-aware
// pickers their counts; tables and rings are rebuilt, reusing buffers.
//
// # Determinism
//
// Backends are sorted by a frozen key (address family, address, port) and
// hashed with frozen hash functions written in this package, so that every
// node builds the same Maglev table and ring from the same backends, in
// any input order, in any process and any svcnet version; golden SHA-256
// digests in the tests pin them. Randomness comes from a *rand.Rand
// (math/rand/v2) in the config and time from the now arguments of
// Affinity: nothing reads the clock or global randomness, and the same seed
// and inputs give the same picks.
//
// # Usable backends
//
// Each algorithm picks only among the Ready backends of its last Update,
// or, when none is Ready, among those both Serving and Terminating, as
// kube-proxy does (KEP-1669). Weight 0 means 1; weights above MaxWeight, bad
// or duplicate addresses are errors (ErrInvalidWeight, ErrInvalidBackend,
// ErrDuplicateBackend) and leave the picker unchanged.
//
// # Quality
//
// TestQuality measures every algorithm the same way: balance over random
// keys (max/mean load, relative standard deviation), the fraction of keys
// that move when one backend leaves or joins against the ideal 1/N, and
// build, update and pick time; it asserts the bounds each algorithm is
// known for. For N = 1000 and 10^6 keys (go test -run TestQuality -v
// -lb.quality.keys=1000000; one run on a 2-core machine; the sampling
// noise of a count is 3.2 %):
//
//	algorithm            build   max/mean  rsd     remove one (+extra)  add one (+extra)
//	random (iptables)    124µs   1.096     3.2%    -                    -
//	roundrobin, wrr, lc  <0.3ms  1.000     0.0%    -                    -
//	p2c                  263µs   1.002     0.1%    -                    -
//	sourcehash (IPVS)    44µs    4.073     171%    744 backends idle: only 256 buckets
//	maglev M=65537       1.4ms   1.109     3.3%    0.64% (+0.54%)       0.68% (+0.58%)
//	ringhash (Envoy)     366µs   5.262     70%     0.04% (+0.00%)       0.12% (+0.00%)
//	ringhash min=65536   14ms    1.503     13%     0.07% (+0.00%)       0.12% (+0.00%)
//	boundedload c=1.25   426µs   1.250     33%     17.3% (+17.3%)       17.4% (+17.3%)
//	rendezvous           70µs    1.105     3.1%    0.10% (+0.00%)       0.10% (+0.00%)
//
// Maglev gives every backend ⌊M/N⌋ or ⌈M/N⌉ slots (its key-count spread
// above is sampling noise) and moves under 1 % of the other keys on a
// change; a ring gives backends shares with a spread of about 1/√v for v
// points each (Envoy's default ring has 2 points per backend at N = 1000);
// source hashing reshuffles most keys on any change (80–90 % at N = 10 and
// 100). A Maglev or ring-hash Pick takes 12–18 ns (BenchmarkPick).
//
// # Where svcnet differs
//
//   - IPVS counts inactive connections at 1/256 of active ones; LeastConn
//     counts open connections only.
//   - IPVS deals source-hash buckets and Maglev turns in the order backends
//     were added; svcnet in frozen-key order, so that nodes agree.
//   - Weighted Maglev takes turns by an earliest-deadline-first schedule of
//     the weights rather than Cilium's float counters or IPVS's runs of
//     weight/gcd turns: shares are exact to about a slot and interleaved.
//   - Cilium's Maglev hashes a text key with MurmurHash3 and a cluster seed;
//     svcnet's tables are therefore not slot-for-slot those of Cilium (see
//     peers/cilium for a comparison of balance, disruption and cost).
//   - LeastRequest with unequal weights draws candidates by weight and
//     compares load per unit of weight, where Envoy switches to EDF with
//     weights divided by active requests.
//
// # Concurrency
//
// No type in this package is safe for concurrent use: a proxy owns its
// pickers and drives them from one goroutine.
package lb
