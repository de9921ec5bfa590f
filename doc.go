// Package svcnet is Kubernetes Service networking as one embeddable
// object. A Cluster wires the packages that model each part — the
// service Registry (validation, defaulting, ClusterIP and NodePort
// allocation, load balancers), the endpoints controller (EndpointSlices),
// the cluster DNS (dnsname) and a kube-proxy per node (proxy, with lb's pickers) — so that
// nodes, pods and Services go in and names resolve and connections route
// as in a cluster:
//
//	c, _ := svcnet.NewCluster(svcnet.Config{
//		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
//		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
//		ImmediateSync: true,
//	})
//	c.Apply(manifests)                 // v1 Nodes, Pods, Services; EndpointSlices
//	tr, _ := c.Dial(svcnet.FromPod("default", "client"), "my-service:80")
//	fmt.Println(tr)                    // DNS → ClusterIP:80 → node's kube-proxy → PodIP:targetPort
//
// Every mutating call returns the control-plane Changes it caused
// (Service objects and EndpointSlices). Without ImmediateSync, nodes and
// the DNS apply them only when told (SyncNode, SyncAllNodes, SyncDNS), so
// that programming delay and stale nodes can be modelled: a stale node
// keeps routing with the proxy table it last applied. Tables are
// immutable and shared, so thousands of nodes cost little more than one.
//
// The Cluster is the one seam to the data path; the simulator (package
// sim) uses nothing else. Propagation is versioned: every published table
// is a generation (Generation), the Cluster keeps those of the last
// Config.TableRetention and those a node has applied, and SyncNodeTo
// programs a node with any of them — a node whose watch lags by d
// applies GenerationAt(now - d):
//
//	g, _ := c.GenerationAt(now.Add(-watchLag))
//	c.SyncNodeTo("node-a", g)          // older or newer than what it has
//	r, _ := c.Route("node-a", pkt, now) // node-a's kube-proxy, as programmed
//	node, r, _ := c.LoadBalance(nil, pkt, now) // a cloud load balancer's pick
//	c.Done(r)                          // the connection ended
//
// LoadBalance is the one entry-node policy (a fixed hash of the client,
// skipping nodes whose health check fails) and EphemeralPort the one
// source-port rule, for Dial and the simulator alike. Proxy is a
// read-only view of a node's proxy; Service, Services, Pods, Nodes and
// Slices read the control plane. Dial costs O(1) in the number of nodes:
// AddNode and RemoveNode keep an index of node addresses, and pod
// addresses are parsed once, when a pod is applied.
//
// A Service without a selector gets its endpoints from EndpointSlices
// someone else writes: ApplyEndpointSlice and DeleteEndpointSlice carry
// such applied slices (another managed-by value than the controller's)
// to the proxies and the DNS, as kube-proxy and CoreDNS consume every
// slice of a Service; Apply applies a stream's EndpointSlice documents
// the same way (CarriedSlice skips the controller's). With
// Config.ExternalSlices the controller does not run and every slice is
// applied, as kube/informer's Follow mode gives a real cluster's; either
// way Snapshot keeps the applied slices (endpointslices.go has the
// rules). ObjectList writes the cluster's
// Nodes, Services (with status), EndpointSlices (discovery.k8s.io/v1) and
// Pods as a Kubernetes v1 List, in YAML or JSON, without the fields only
// an API server sets; NodeView is a copy of a node's proxy for renderers
// such as proxy/nftables.
//
// Snapshot and Restore save and load the control plane's state (sealed,
// so corruption is an error); a failed Restore leaves the cluster exactly
// as it was, its random stream included. Before it accepts a snapshot,
// Restore checks that the Registry's allocators and Services agree, as
// kube-apiserver's repair controllers do at start-up: by default a
// crash-state snapshot is accepted and what the check found is kept for
// Restored, for Repair to fix; with Config.StrictRestore it is rejected,
// naming each Service and IP or port (service.DisagreementError).
//
// The packages stay usable on their own; the Cluster only wires them.
// A Cluster is single-writer; Concurrent wraps it for many goroutines.
package svcnet
