// Package informer feeds a svcnet.Cluster from a Kubernetes API server:
// client-go shared informers for Nodes, Services and Pods (and
// EndpointSlices) whose event handlers only enqueue keys, and one
// goroutine that reads each key's object from the informer's cache and
// calls the Cluster — AddNode/RemoveNode, ApplyPod/DeletePod,
// CreateService/UpdateService/UpdateServiceStatus/DeleteService,
// ApplyEndpointSlice/DeleteEndpointSlice — so that every Cluster call is made from that
// one goroutine (a Cluster is single-writer: see svcnet.Concurrent).
// An embedder then gets svcnet's DNS server, proxy views and rules for a
// real cluster.
//
//	c, _ := svcnet.NewCluster(svcnet.Config{ServiceCIDRs: cidrs, ImmediateSync: true})
//	d, _ := informer.New(informer.Config{Client: clientset, Cluster: c, Mode: informer.Compute})
//	go d.Run(ctx)
//	<-d.Synced()
//	resp := c.DNS().Resolve("kubernetes.default.svc.cluster.local", dnsname.TypeA) // DNS is safe from any goroutine
//	_ = d.Do(func(c *svcnet.Cluster) error { return c.PrintServices(os.Stdout, "") })
//
// # Modes
//
//   - Compute: svcnet's own endpoints controller computes the slices from
//     the Services and Pods; nothing is written to the API.
//   - Follow: the cluster's own EndpointSlices (every slice with a
//     kubernetes.io/service-name label, whoever manages it, as kube-proxy
//     and CoreDNS read them) are given to the Cluster with
//     ApplyEndpointSlice; the Cluster must be made with
//     Config.ExternalSlices.
//   - Controller: as Compute, and the computed slices are written back
//     through the client (created, updated, deleted), labelled
//     endpointslice.kubernetes.io/managed-by: Config.ManagedBy
//     (DefaultManagedBy), owned by their Service. Only slices with that
//     label are ever changed or deleted. Run it for Services that
//     Kubernetes' own controller does not manage (its controller would
//     write slices of its own beside svcnet's).
//
// # How objects map
//
// Objects convert with kube/convert. A Service's server-set metadata
// (uid, resourceVersion, generation, creationTimestamp) is dropped before
// it reaches the Cluster, whose Registry sets its own; its clusterIPs and
// nodePorts are allocated as the API server gave them, so the Cluster's
// ServiceCIDRs and NodePortRange must contain the real cluster's (a
// Service outside them fails and is reported). Its status.loadBalancer
// is written with UpdateServiceStatus. A Service deleted and created
// again under the same name (a new uid) is deleted and created in the
// Cluster. Managed fields are dropped from every cached object, to save
// memory.
//
// An object that the Cluster refuses is reported to Config.Errors and
// tried again when it next changes or at the informers' next resync;
// one that did not change since it was applied is skipped (Stats.Skipped),
// so a resync changes nothing in the Cluster. A watch that ends or
// expires is restarted by client-go's reflector, which relists: objects
// created, changed or deleted while it was down reach the Cluster then.
//
// After each batch of keys, the driver syncs every node's proxy and the
// DNS (SyncAllNodes, SyncDNS); with Config.ImmediateSync that is already
// done.
package informer
