// Package coredns compares svcnet's dnsserver with CoreDNS's kubernetes
// plugin (github.com/coredns/coredns v1.14), in one run on one machine.
//
// It is its own Go module, like peers/cilium: CoreDNS v1.14 builds on
// k8s.io v0.35 and a large dependency graph of its own, which must not
// reach svcnet or the other peers (peers/ pins k8s.io v0.37). It has no
// exported code: the comparison lives in its tests.
//
// CoreDNS runs as it does in a cluster, minus the API server: its own
// server (core/dnsserver.NewServer) with one plugin, kubernetes, parsed
// from the Corefile stanza kubeadm writes ("kubernetes cluster.local
// in-addr.arpa ip6.arpa", pods as the test asks), serving the zones
// cluster.local., in-addr.arpa. and ip6.arpa.; names of no zone are
// REFUSED by CoreDNS's server, as svcnet's zero Config does. Its API
// connection is a fake, as in CoreDNS's own handler tests: the same
// Services, EndpointSlices, Pods and Namespaces, converted to
// k8s.io/api objects and trimmed by CoreDNS's own object.ToService,
// object.EndpointSliceToEndpoints, object.ToPod and object.ToNamespace,
// held in maps indexed as CoreDNS's informers index them.
//
// The differential test sends the same queries over UDP to both servers
// and compares rcode, flags, the answer and additional sets and the SOA
// in the authority section:
//
//	go test ./...
//
// The differences that remain are by design, listed in dnsserver's
// package documentation: owner names are lowercase in svcnet where
// CoreDNS echoes the query's case, and the SOA serial counts changes in
// svcnet where CoreDNS has a Unix time; both are compared
// case-insensitively and without the serial.
//
// The benchmarks measure each server over loopback UDP with the same
// 10 000 Services / 50 000 endpoints: queries per second and latency
// percentiles under a Go load generator, allocations per query in the
// server path, and the memory each holds for the cluster:
//
//	go test -run '^$' -bench . -benchtime 5s ./...
//
// and bench.sh runs each server pinned to one core (taskset) with the
// load on the other, the setup of the README's table.
package coredns
