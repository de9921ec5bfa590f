// Package dnsname is cluster DNS for svcnet: the names of the Kubernetes
// DNS-Based Service Discovery specification, schema 1.1.0 (kubernetes/dns,
// docs/specification.md), a resolver that answers them from Services,
// EndpointSlices and pods, and the search-path expansion a pod's stub
// resolver performs. Where the specification is silent, the resolver
// answers as CoreDNS's kubernetes plugin does.
//
// The main flow:
//
//	r := dnsname.NewResolver(dnsname.Config{}) // cluster.local, TTL 5 s, pod names off
//	r, err := dnsname.New(cfg)                 // a Config from a user: a *ConfigError, no panic
//	var b dnsname.Batch
//	b.Services(svcChanges...)  // service.Change records from the Registry
//	b.Slices(sliceChanges...)  // endpoints.Change records from the controller
//	err := r.Apply(&b)         // validates all, then publishes one snapshot
//
//	// From any number of goroutines, even while Apply runs:
//	resp := r.Resolve("web.default.svc.cluster.local", dnsname.TypeA)
//	// resp.Rcode == RcodeNoError, resp.Answer[0].Addr == 10.96.0.10
//
//	// What a pod in "shop" does for "curl http://web.default":
//	conf := dnsname.Kubelet{ClusterDNS: dnsIPs}.ClusterFirst("shop")
//	res := r.ResolveSearch(conf, "web.default", dnsname.TypeA)
//	// res.Queries: web.default.shop.svc.cluster.local. NXDOMAIN,
//	//              web.default.svc.cluster.local. NOERROR
//
// # Names
//
// ServiceName, EndpointName, SRVName, PTRName, VersionName and PodName
// build the specification's names; Parse reads them back into a Name
// (Parse(n.String(), zone) == n for every valid Name). Matching is
// case-insensitive, a trailing dot is accepted, labels are 1–63 octets and
// names at most 253, and every part follows Kubernetes' rule for it
// (ValidateDNS1123Label, ValidateDNS1123Subdomain and ValidateDNS1035Label
// give apimachinery's verdicts).
//
// # Records
//
// For a Service <svc> in <ns>, under <svc>.<ns>.svc.<zone>:
//
//   - ClusterIP (and NodePort, LoadBalancer): A and AAAA for its
//     clusterIPs by family (§2.3.1); SRV at _<port>._<proto>.<svc>... for
//     each named port, targeting the Service name, with its addresses as
//     additional records (§2.3.2); PTR for each clusterIP (§2.3.3).
//   - Headless: A and AAAA for each ready endpoint, NXDOMAIN when none is
//     ready (§2.4.1); <hostname>.<svc>... for each ready endpoint; SRV per
//     named port and ready endpoint, targeting the endpoint's name
//     (§2.4.2); PTR for each ready endpoint address (§2.4.3). An
//     endpoint's hostname is its hostname field or, as in CoreDNS, its
//     address with dashes ("10-244-1-5", "fd00--5").
//   - ExternalName: a CNAME to spec.externalName (§2.5), followed for A
//     and AAAA queries inside the zone, or through Config.Upstream; TXT
//     and the other types are NODATA, the CNAME not chased (CoreDNS).
//
// "Ready" is endpoint.conditions.ready, or any endpoint when the Service
// sets publishNotReadyAddresses. dns-version.<zone> holds TXT "1.1.0"
// (§2.2). As CoreDNS does: SRV records have priority 0 and weight
// floor(100/n); the Service name answers SRV for every port, named or not;
// endpoint names exist for ClusterIP Services too; an SRV name answers A
// and AAAA with the addresses behind it; the TTL is Config.TTL except for
// dns-version, which has 28800 s.
//
// # NXDOMAIN and NODATA
//
// A name that exists but has no record of the asked type answers NOERROR
// with no records (NODATA): AAAA of an IPv4-only Service, the zone apex,
// svc.<zone>, pod.<zone>, and <ns>.svc.<zone> of an existing namespace. A
// name that does not exist answers NXDOMAIN: unknown Services and
// namespaces, headless Services without ready endpoints, unnamed or
// unknown ports, names of shapes the specification does not define. As in
// CoreDNS, TXT of a name that exists without any record (the apex,
// svc.<zone>, <ns>.svc.<zone>) is NXDOMAIN: CoreDNS answers a TXT query
// NODATA only where the name has records of another type. Zone
// transfers (AXFR, IXFR) are REFUSED, since CoreDNS's transfer plugin is
// off by default. There
// are no wildcards (CoreDNS removed them). A namespace exists while it
// holds Services or pods, or has been declared with Batch.UpsertNamespace.
//
// # Pods
//
// Pod names <a-b-c-d>.<ns>.pod.<zone> follow Config.Pods, as CoreDNS's
// "pods" option: PodsDisabled (NXDOMAIN, the default), PodsInsecure (any
// address in an existing namespace), PodsVerified (only the addresses of
// pods known through Batch.UpsertPod). A pod name answers its address
// for A or AAAA, and SRV "0 100 0 <podname>" with the address as
// additional, as CoreDNS does.
//
// # Reverse names
//
// The reverse zones in-addr.arpa and ip6.arpa are answered as kubeadm's
// Corefile serves them from the kubernetes plugin: a known address's name
// has its PTR records and is NXDOMAIN for other types (CoreDNS's Records
// rejects reverse names); the apexes exist with no records (NODATA, and
// NXDOMAIN for TXT as at the cluster apex); an
// unknown address goes to Config.Upstream, or is NXDOMAIN.
//
// # Concurrency and cost
//
// A Resolver is a state machine: no goroutines, no clock, no randomness.
// Each Apply builds a new immutable snapshot, copy-on-write, and publishes
// it with an atomic pointer; Resolve loads the current one and never
// blocks, so any number of readers run beside the writer. The writing
// methods serialize on a mutex.
//
// A snapshot holds what the answers are made from, not the answers: per
// Service, its spec and, per EndpointSlice, one row per endpoint address
// (label, address, readiness), shared between snapshots; the PTR claims
// (which Services claim an address) in a copy-on-write sharded array;
// and a persistent hash trie from "<svc>.<ns>" to the Service. A query
// makes its records from them: 10 000 Services with 50 000 endpoints
// hold about 11 MiB, where CoreDNS's kubernetes plugin holds 19 MiB
// (peers/coredns, bench.sh) and precomputed records took 77.
//
// Applying a change costs in proportion to what changed: an EndpointSlice
// update keeps the new slice's rows (a pass over the slice), finds the
// addresses whose readiness changed by merging the old rows with the new,
// and rewrites their claims (finding an address's rows is a binary
// search in each slice of more than 16 rows); the Service's other
// slices, every other Service and the untouched parts of the tables are
// shared with the previous snapshot.
//
// ResolveInto makes the answer in a caller's Scratch, reused from one
// query to the next: it does not allocate (a server keeps a Scratch per
// goroutine; package dnsserver pools them), and takes the name as bytes,
// as a server reads it. Resolve and ResolveBytes make a new Scratch per
// call, so that the Response is the caller's to keep. The name of a large
// headless Service (and its SRV names), which lists every ready
// endpoint, would cost a sort of all of them at each query: from 64
// endpoint addresses on, the first query of each such name
// in a snapshot makes its answer, once, and the queries after it share
// it (a change makes a new Service node, and so a new cache).
//
// # Deliberate differences from CoreDNS
//
//   - Answers are sorted, and record names are canonical (lowercase,
//     fully qualified) whatever the case of the query; CoreDNS echoes the
//     query's case and returns its caches' order.
//   - There are no SOA or NS records in the resolver; negative answers
//     carry no SOA, and NS at the apex is NODATA. Package dnsserver adds
//     them on the wire, as CoreDNS does.
//   - dns-version.<zone> of a type other than TXT is NODATA; CoreDNS says
//     NXDOMAIN although the name exists.
//   - SRV names must carry their underscores; CoreDNS also accepts
//     "http.tcp.<svc>..." and ignores labels in front of a pod name.
//   - A CNAME whose in-zone target does not resolve stays in the answer;
//     CoreDNS drops it.
//   - An address claimed by several Services gets a PTR record for each
//     (ClusterIPs first, as in CoreDNS); CoreDNS returns the first
//     ClusterIP match only.
//   - PodsVerified accepts every address in status.podIPs; CoreDNS checks
//     status.podIP only.
//   - Not modelled: the options ignore empty_service, endpoint_pod_names,
//     ptr_hostname_only, multicluster and zonal names; external IPs
//     (k8s_external). Autopath, SOA, NS and ns.dns.<zone> are on the
//     wire, in package dnsserver.
//
// # Search paths
//
// Kubelet gives a ClusterFirst pod the search list <ns>.svc.<zone>
// svc.<zone> <zone> plus the node's, and ndots:5, within its limits (32
// domains, 2048 characters). ResolvConf.Candidates expands a name the way
// Go's and glibc's stub resolvers do, and ResolveSearch runs the expansion
// against the resolver, which shows what ndots:5 costs an external name:
//
//	conf.Candidates("www.example.com")
//	// www.example.com.default.svc.cluster.local., www.example.com.svc.cluster.local.,
//	// www.example.com.cluster.local., www.example.com.
package dnsname
