// Package proxy is the kube-proxy model: what kube-proxy computes on every
// node before it writes a rule. It turns Services and EndpointSlices into
// frontends and endpoint sets, and routes a packet as a node's data plane
// would, using package lb's pickers to choose an endpoint. The renderers
// that write these views as kernel rules live beneath it.
//
// What kube-proxy programs on every node is split in two. A Table is the
// node-independent part — every Service's frontends (ClusterIP:port,
// external IP:port, LoadBalancer ingress IP:port unless its ipMode is
// Proxy, and NodePorts, each in the Service's own IP families) and each
// port's endpoints from the EndpointSlices. It is immutable: a
// TableBuilder applies Service and slice changes to a copy-on-write clone
// and Build returns a new Table that shares everything unchanged: a
// port whose Service did not change has its endpoint list patched with
// the endpoints that differ between two versions of a slice (compared
// by pointer, as package endpoints shares unchanged ones) and points at
// the same entries as before for the rest. A Proxy
// is one node's view: Sync points it at a Table at the cost of what the
// builds between the two changed (each Table remembers its last builds'
// Services and frontends), and it keeps only
// the pickers of the ports it routes to, refreshed lazily (with their
// state) when a synced Table changed that port. Thousands of nodes, some
// of them stale, cost little more than one table:
//
//	b := proxy.NewTable().Builder()
//	b.UpsertService(svc)          // a defaulted, validated Service
//	b.ApplySlices(changes)        // from endpoints.Controller
//	t := b.Build()
//	p, _ := proxy.NewProxy(proxy.ProxyConfig{NodeName: "node-a", NodeZone: "zone-a",
//		NodeAddresses: nodeIPs, ClusterPrefixes: podAndNodeCIDRs})
//	p.Sync(t)
//	r := p.Route(proxy.Packet{Src: client, Dst: clusterIPPort, Proto: lb.TCP}, now)
//	// r.Verdict: Routed (r.Backend is PodIP:targetPort), NotServiceAddress,
//	// Unreachable, NoEndpoints, DroppedByPolicy or BlockedBySourceRange
//
// Endpoint choice follows kube-proxy's CategorizeEndpoints
// (pkg/proxy/topology.go): ready endpoints, narrowed by topology hints only
// when every ready endpoint has one and one is for this node's zone; the
// serving terminating ones when none is ready (KEP-1669); for a Local
// policy this node's endpoints only, else a drop; and traffic from inside
// the cluster to an external address of an externalTrafficPolicy Local
// Service short-circuited to the cluster endpoints. Route does not
// allocate once a port's pickers exist. A Service chooses its algorithm
// with the lb.svcnet.dev/algorithm annotation (AlgorithmAnnotation);
// without it, kube-proxy's random.
//
// Package svcnet's Cluster owns a Proxy per node and the history of
// Tables stale nodes need (versioned propagation), and routes through
// them; embedders and the simulator go through it rather than holding
// Proxies.
//
// # Concurrency
//
// A Table is immutable and safe for concurrent reads. A Proxy is not safe
// for concurrent use: it owns its pickers and drives them from one
// goroutine.
package proxy
