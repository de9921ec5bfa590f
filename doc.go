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
//	c.Apply(manifests)                 // v1 Nodes, Pods and Services
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
// The packages stay usable on their own; the Cluster only wires them.
// A Cluster is single-writer; Concurrent wraps it for many goroutines.
package svcnet
