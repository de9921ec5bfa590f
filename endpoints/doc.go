// Package endpoints tracks EndpointSlices: which pods back which
// Service, in slices of at most MaxEndpointsPerSlice endpoints, as
// kube-controller-manager's EndpointSlice controller and its reconciler
// (k8s.io/endpointslice) compute them — as an embeddable state machine
// that is fed events and returns the slice writes they cause.
//
// The main flow, as an embedder runs it:
//
//	c := endpoints.NewController(endpoints.Config{}) // 100 endpoints per slice
//	c, err := endpoints.New(cfg)                     // a Config from a user: a *ConfigError, no panic
//	changes, _ := c.UpsertNode(node)                 // pods on it may have endpoints
//	apply(changes)
//	changes, _ = c.UpsertService(svc)                // a placeholder slice per family
//	apply(changes)
//	changes, err = c.UpsertPod(pod)                  // the pod's endpoint, in place
//	if errors.Is(err, endpoints.ErrEndpointIP) {
//		// the pod was left out: a loopback or link-local IP
//	}
//	if errors.Is(err, endpoints.ErrNodeNotFound) {
//		// left out until its node is upserted (*NodeNotFoundError)
//	}
//	apply(changes) // always: changes are complete even with an error
//	for _, s := range c.Slices(svc.Key()) { ... }    // the current slices
//
// where apply hands each Change (Created, Updated with the old and the
// new slice, Deleted) to the DNS resolver and the proxies, which update
// only what changed. Slice.Generation counts the writes of a slice.
//
// # Semantics
//
// They are Kubernetes' own; the code cites the function it follows.
//
//   - A Service with a selector (an empty one selects every pod of its
//     namespace) gets slices, unless it is of type ExternalName
//     (syncService). Its pods are those of its namespace that the
//     selector matches, except pods Succeeded or Failed and pods without
//     an IP (ShouldPodBeInEndpoints). Terminating pods stay, with the
//     terminating condition.
//   - A Service that loses its selector or becomes ExternalName keeps
//     the slices it had, untouched: syncService returns before the
//     reconciler. DNS and proxies keep serving those endpoints, as in a
//     cluster, until the Service is deleted (its slices go with it) or
//     gets a selector back (its slices are reconciled from what they
//     hold).
//   - A pod on a node the controller does not know (never upserted, or
//     deleted) gets no endpoint, and is reported as a *NodeNotFoundError
//     naming the pod, the node and the Service, unless the Service
//     publishes not-ready addresses: then its endpoint has no zone
//     (reconcileByAddressType). Upserting the node adds the endpoints of
//     its pods; deleting it removes them.
//   - One family of slices per entry of spec.ipFamilies, address type
//     IPv4 or IPv6; without ipFamilies, the family of spec.clusterIP, or
//     both for a headless Service (getAddressTypesForService).
//   - Conditions (KEP-1672): serving is the pod's Ready condition,
//     terminating its deletion timestamp, ready is
//     publishNotReadyAddresses, or serving and not terminating.
//   - Ports: a numeric targetPort as is; a named one resolved by name and
//     protocol in the pod's containers, then its sidecars (FindPort); a
//     pod where it does not resolve has that port left out, and pods with
//     different resolved port sets go to different slices.
//   - Hostname when the pod's hostname is set and its subdomain is the
//     Service's name; nodeName; zone from the node's
//     topology.kubernetes.io/zone label.
//   - Hints (KEP-4444, trafficdist): under trafficDistribution
//     PreferClose or PreferSameZone each ready endpoint is hinted to its
//     own zone; PreferSameNode adds its node.
//   - Labels: the Service's own labels, kubernetes.io/service-name,
//     endpointslice.kubernetes.io/managed-by, and
//     service.kubernetes.io/headless without a cluster IP; an owner
//     reference to the Service.
//   - Packing follows the reconciler: endpoints change in place; a slice
//     left empty is deleted; new endpoints fill the fullest updated slices
//     first, then the untouched slice closest to full that takes them
//     all, and a new slice only when none does; an endpoint whose
//     address or hostname changed (its identity hash) leaves its slice
//     and is placed anew; a create paired with a delete becomes an
//     update; a family without endpoints has one placeholder slice,
//     with no ports. The placeholder stays beside slices with endpoints
//     while a pod of the Service that may have endpoints has the empty
//     port set without adding one to the family (no address of it, or
//     an unknown node), as the reconciler files that port set as desired
//     all the same. Following the same steps on the endpoints that
//     changed, svcnet writes no more slices than Kubernetes does on the
//     same events, and from the same slices it writes the same slice
//     set (peers/endpointslice checks it on rolling updates and on
//     random sequences of Service, pod and node events).
//   - Names look as Kubernetes' do: <service>-<5 characters>, the
//     API server's generateName suffix; here the characters are the
//     slice's number through a fixed permutation (no random number is
//     drawn), so the same inputs give the same names.
//
// # Cost
//
// Kubernetes, on every pod event, lists every Service of the pod's
// namespace and matches each selector, then rebuilds the desired state of
// each matching Service from all its pods and compares it with all its
// slices. svcnet files each Service under one key=value pair of its
// selector in an inverted index, keeps each pod's endpoint where it is,
// and works only on what changed: a pod event costs O(its labels + the
// Services that select it) plus, per Service, O(log slices) to find room
// for a new endpoint and the copy-on-write of the one slice it writes —
// whatever the number of Services in the namespace. Versions of a slice
// share their endpoints: Slice.Endpoints is a list of pointers to
// immutable Endpoints, so a write copies that list (8 bytes an
// endpoint, bounded by MaxEndpointsPerSlice) and makes only the
// endpoints that changed. A readiness flip in a 100-endpoint slice
// allocates 1.4 KB in 4 allocations (the list, the new endpoint, the
// Slice and the change list), where a copy of the endpoints' values
// was 10.1 KB; what it allocates is most of what it costs, as the
// collector's work. A
// Service event costs O(its pods), or O(pods of its namespace) when its
// selector changes (plus O(endpoints in its slices) when it gets a
// selector back). A node event costs O(pods on the node × their
// Services), and nothing when neither the node's existence nor its zone
// changed.
//
// # Deliberate differences from Kubernetes
//
//   - A pod IP that the API server would refuse in a slice (unparsable,
//     unspecified, loopback, link-local: ValidateEndpointIP, CVE-2021-25737)
//     keeps the whole pod out of every slice, and UpsertPod reports it as
//     a *SkippedPodError; Kubernetes would write it and see the write fail.
//   - Node events sync at once: a node upserted under pods that were left
//     out for it, deleted from under its pods, or whose zone changed
//     updates the endpoints of its pods in the same call. Kubernetes
//     syncs nothing on node events; its Services pick the change up at
//     their next sync (a retry, which the skip's error requeued, for a
//     node that appears). The slices are the same after that sync.
//   - A pod that turns Succeeded or Failed leaves its slices at once;
//     Kubernetes' pod handler ignores a change of phase alone
//     (podEndpointsChanged) and removes it at the Service's next sync.
//   - A Service deleted, or recreated with a new UID, has its slices
//     deleted by the controller; in Kubernetes the garbage collector
//     deletes them, through their owner references.
//   - A pod without status.podIPs but with status.podIP uses podIP.
//   - When a Service's labels change, all its slices are rewritten with
//     them, the headless label included; Kubernetes compares the labels
//     but the reserved ones, so a slice it does not write for another
//     reason keeps a stale headless label (the cluster IP changes only
//     through type ExternalName).
//   - Topology-aware hints by annotation (service.kubernetes.io/topology-mode:
//     Auto, KEP-2433) are not modelled: such a Service gets no hints.
//     Kubernetes' trigger-time annotation (EndpointsLastChangeTriggerTime)
//     is not written: no clock.
//   - A Service's deletionTimestamp is ignored; Kubernetes stops creating
//     slices for a Service pending deletion (finalize).
//   - Within a slice, endpoint order is not Kubernetes' (which is random):
//     a removed endpoint's place goes to the slice's last one. Which
//     endpoints share a slice is deterministic, where Kubernetes picks
//     them at random (EndpointSet.PopAny); so after a while two
//     Kubernetes controllers, like svcnet and Kubernetes, may pack the
//     same endpoints into different numbers of slices.
//
// # Concurrency
//
// A Controller is single-writer and not safe for concurrent use. The
// *Slice values it returns are immutable (each write publishes a new
// one; copy on write) and may be read from any goroutine, kept and
// shared: a DNS server can serve a snapshot while the controller moves on.
package endpoints
