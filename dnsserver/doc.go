// Package dnsserver serves a dnsname.Resolver over UDP and TCP, as a
// cluster DNS server that real stub resolvers (glibc, Go, musl, dig) use,
// answering as CoreDNS's kubernetes plugin (v1.14) does: the aa flag on
// the cluster's answers, the zone's SOA in every negative answer, SOA
// and NS at the apexes, EDNS0, truncation and TCP, forwarding of other
// names with a cache, and, optionally, autopath.
//
// It is built on github.com/miekg/dns v1, the library CoreDNS itself
// uses; no miekg/dns type appears in this package's API, so a move to its
// v2 touches this package only.
//
// The main flow:
//
//	res := dnsname.NewResolver(dnsname.Config{})   // fed by a Cluster or a Batch
//	srv, err := dnsserver.New(dnsserver.Config{
//		Resolver:  res,
//		NSAddrs:   []netip.Addr{netip.MustParseAddr("10.96.0.10")},
//		Upstreams: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53")},
//	})
//	err = srv.ListenAndServe(ctx, "10.96.0.10:53") // until ctx ends
//
//	// dig @10.96.0.10 web.default.svc.cluster.local
//	// ;; flags: qr aa rd; ANSWER: 1
//	// web.default.svc.cluster.local. 5 IN A 10.96.0.20
//
// Answer (and AppendAnswer) answer one message in wire format without a
// socket, for embedders with a transport of their own and for tests.
//
// # What is answered
//
// The served zones are the resolver's zone and the reverse zones
// in-addr.arpa. and ip6.arpa., as kubeadm's Corefile gives them to the
// kubernetes plugin. In them:
//
//   - every name the resolver answers, with the aa flag; NXDOMAIN and
//     NODATA answers carry the zone's SOA in the authority section (RFC
//     2308), with CoreDNS's fields: ns.dns.<zone>. hostmaster.<zone>.,
//     a serial, 7200, 1800, 86400, minimum = the TTL, the SOA's own TTL
//     min(TTL, 300) (plugin/backend_lookup.go, SOA);
//   - SOA at each apex, and NODATA for SOA below it (as
//     plugin/kubernetes/handler.go); NS at each apex, ns.dns.<zone>.,
//     with Config.NSAddrs as additional, and ns.dns.<zone> answering
//     those addresses;
//   - zone transfers are REFUSED.
//
// Names of no served zone are forwarded to Config.Upstreams in order, each
// with a timeout (SERVFAIL when all fail), their answers cached up to
// Config.CacheSize by their TTL (negative ones by the SOA minimum, RFC
// 2308 §5), as CoreDNS's forward and cache plugins; reverse names the
// resolver does not know are forwarded too (kubeadm's "fallthrough
// in-addr.arpa ip6.arpa"). Without upstreams they are REFUSED, as
// CoreDNS's server refuses a name no server block serves.
//
// With Config.Autopath, a query for <name>.<ns>.svc.<zone> from a known
// pod is answered with a CNAME to the first name of the pod's search
// path that exists (plugin/autopath), so that an external name costs one
// query instead of four under ndots:5.
//
// # The wire
//
// An answer over UDP fits the client's buffer: 512 octets without EDNS0,
// its EDNS0 size with it but never more than Config.UDPSize (1232, DNS
// flag day 2020); a larger answer is truncated with the tc bit, and
// clients ask again over TCP, where answers are whole. An OPT record with
// the server's size answers one. TCP connections carry pipelined queries,
// answered in order, and close when idle (Config.TCPIdleTimeout); at
// most Config.MaxTCPConns are open. Messages shorter than a header and
// responses (QR set) are dropped; malformed queries get FORMERR, opcodes
// other than QUERY NOTIMP, as miekg/dns's server (and so CoreDNS) does.
//
// The common UDP query takes a fast path that writes the answer straight
// from the records the resolver makes in a pooled dnsname.Scratch
// (ResolveInto), without allocating; any other
// query takes the miekg/dns path, and a property test checks both give
// the same message. On Linux each UDP reader reads and writes up to 32
// datagrams per system call (recvmmsg, sendmmsg), answering each query
// to the sockaddr it came from, so a query costs no allocation there
// either.
//
// # Concurrency
//
// Queries are answered from the resolver's current snapshot without a
// lock, while changes are applied; each answer is one generation's.
// SetResolver swaps the resolver for a reload. Serve returns when its
// context ends, after the queries in flight are answered. Stats returns
// the counters as plain data (requests, responses by rcode,
// truncations, forwarding and cache, a duration histogram with
// CoreDNS's buckets); cmd/svcnetd exposes them with CoreDNS's metric
// names.
//
// # Differences from CoreDNS left by design
//
// peers/coredns sends 3600 queries to this server and to CoreDNS's own
// server with the kubernetes plugin over the same objects; all answers
// agree in rcode, flags, answer and additional sets and SOA, but these:
//
//   - owner names are lowercase, where CoreDNS echoes the query's case
//     (the question section echoes it in both); the SOA serial counts
//     the resolver's generations, where CoreDNS writes a Unix time;
//   - an ExternalName whose in-zone target has no record of the asked
//     type keeps its CNAME in the answer; CoreDNS drops it (NODATA);
//   - dns-version.<zone> of a type other than TXT is NODATA (the name
//     exists); CoreDNS says NXDOMAIN;
//   - ns.dns.<zone> is matched in any case; CoreDNS matches it in
//     lowercase only (plugin/kubernetes/ns.go, isDefaultNS);
//   - and those of package dnsname (SRV names without underscores,
//     several PTRs per address, PodsVerified on every pod IP).
package dnsserver
