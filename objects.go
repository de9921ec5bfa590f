package svcnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// publish hands control-plane changes to the proxy table and to the DNS's
// pending batch, then syncs everything when ImmediateSync is on.
func (c *Cluster) publish(ch Changes) error {
	if ch.Empty() {
		// A pod that no Service selects still changes the DNS's pod
		// records (PodsVerified).
		if c.cfg.ImmediateSync {
			return c.SyncDNS()
		}
		return nil
	}
	b := c.table.Builder()
	var err error
	for _, sc := range ch.Services {
		if sc.New != nil {
			// The Registry validated the Service and checkAlgorithm its
			// algorithm annotation before storing it, so this does not
			// fail for Services that came through the Cluster.
			if e := b.UpsertService(sc.New); e != nil {
				err = errors.Join(err, e)
			}
		} else {
			b.DeleteService(sc.Old.Key())
		}
	}
	b.ApplySlices(ch.Slices)
	c.table = b.Build()
	c.record(c.table)
	for _, sc := range ch.Slices {
		switch {
		case sc.Slice == nil:
			delete(c.sliceBorn, service.NamespacedName{Namespace: sc.Old.Namespace, Name: sc.Old.Name})
		case sc.Kind == endpoints.Created:
			c.sliceBorn[service.NamespacedName{Namespace: sc.Slice.Namespace, Name: sc.Slice.Name}] = c.now()
		}
	}
	c.pending.Services(ch.Services...)
	c.pending.Slices(ch.Slices...)
	if c.cfg.ImmediateSync {
		c.SyncAllNodes()
		if e := c.SyncDNS(); e != nil {
			err = errors.Join(err, e)
		}
	}
	return err
}

// AddNode adds or updates a node: its zone reaches the endpoints on it,
// and a proxy is set up for it (programmed at its first sync, or at once
// with ImmediateSync). Its addresses (Node.Addrs) are parsed once here and
// indexed, for Dial and LoadBalance.
func (c *Cluster) AddNode(node *service.Node) (Changes, error) {
	if err := node.Validate(); err != nil {
		return Changes{}, err
	}
	n := node.DeepCopy()
	var was time.Time
	if old := c.nodes[n.Name]; old != nil {
		was = old.node.CreationTimestamp
	}
	n.CreationTimestamp = c.creationTime(was, n.CreationTimestamp)
	sl, err := c.ctlUpsertNode(n)
	var skips Changes
	if err = skips.takeSkips(err); err != nil {
		return Changes{}, err
	}
	addrs := n.Addrs()
	ns := c.nodes[n.Name]
	// A proxy knows its node's zone and addresses from its config: a new
	// node, or one whose zone or addresses changed, gets a new proxy,
	// programmed with the table the old one had, so that the node is
	// exactly as stale as it was.
	if ns == nil || ns.node.Zone() != n.Zone() || !slices.Equal(ns.addrs, addrs) {
		prefixes := append(append([]netip.Prefix(nil), c.cfg.PodCIDRs...), c.cfg.NodeCIDRs...)
		p, err := proxy.NewProxy(proxy.ProxyConfig{
			NodeName: n.Name, NodeZone: n.Zone(), NodeAddresses: addrs,
			ClusterPrefixes: prefixes, Algorithm: c.cfg.Algorithm,
			Rand: rand.New(rand.NewPCG(c.rng.Uint64(), c.rng.Uint64())),
		})
		if err != nil {
			return Changes{}, err
		}
		next := &nodeState{proxy: p, gen: c.zero}
		if ns != nil {
			next.gen = ns.gen
			p.Sync(ns.gen.table)
			c.unindex(n.Name, ns.addrs)
		} else {
			c.zero.nodes++
			i, _ := slices.BinarySearch(c.names, n.Name)
			c.names = slices.Insert(c.names, i, n.Name)
		}
		ns = next
		c.nodes[n.Name] = ns
		for _, a := range addrs {
			c.nodeByAddr[a] = n.Name
		}
	}
	ns.node, ns.addrs = n, addrs
	ch := Changes{Slices: sl, SkippedPods: skips.SkippedPods}
	if c.cfg.ImmediateSync {
		c.syncTo(ns, c.hist[len(c.hist)-1])
	}
	return ch, c.publish(ch)
}

// creationTime is an object's creationTimestamp as the API server keeps
// it: the stored object's (an update cannot change it), else the one
// given, else now by the cluster's Clock (zero without one, which
// kubectl's AGE shows as <unknown>).
func (c *Cluster) creationTime(stored, given time.Time) time.Time {
	switch {
	case !stored.IsZero():
		return stored
	case !given.IsZero():
		return given
	}
	return c.now()
}

// unindex takes a node's addresses out of the address index. An address
// another node has too (nothing forbids it) passes to the first such node
// by name; finding it costs O(nodes), on this rare path only.
func (c *Cluster) unindex(name string, addrs []netip.Addr) {
	for _, a := range addrs {
		if c.nodeByAddr[a] != name {
			continue
		}
		delete(c.nodeByAddr, a)
		for _, other := range c.names {
			if other != name && slices.Contains(c.nodes[other].addrs, a) {
				c.nodeByAddr[a] = other
				break
			}
		}
	}
}

// takeSkips moves the endpoints controller's *NodeNotFoundErrors out of
// err into c.SkippedPods, and returns the rest of err.
func (c *Changes) takeSkips(err error) error {
	skipped, rest := endpoints.SplitSkips(err)
	c.SkippedPods = append(c.SkippedPods, skipped...)
	return rest
}

// RemoveNode removes a node and its proxy. Its pods stay until deleted,
// as in Kubernetes until the pod garbage collector runs, but lose their
// endpoints, as at the next sync of their Services in Kubernetes (unless
// a Service publishes not-ready addresses): Changes.SkippedPods lists
// them.
func (c *Cluster) RemoveNode(name string) (Changes, error) {
	ns, ok := c.nodes[name]
	if !ok {
		return Changes{}, fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	c.unpin(ns.gen)
	c.unindex(name, ns.addrs)
	if i, ok := slices.BinarySearch(c.names, name); ok {
		c.names = slices.Delete(c.names, i, i+1)
	}
	delete(c.nodes, name)
	sl, err := c.ctlDeleteNode(name)
	ch := Changes{Slices: sl}
	if err = ch.takeSkips(err); err != nil {
		return ch, err
	}
	return ch, c.publish(ch)
}

// ApplyPod adds or updates a pod (its labels, readiness, IPs, deletion
// timestamp). A pod whose IP Kubernetes' endpoint validation rejects is
// kept out of every slice and reported with an endpoints error; the
// returned changes are complete either way. A pod on a node not added
// (or removed) gets no endpoint until the node is added, as in
// Kubernetes: Changes.SkippedPods lists it, without an error.
func (c *Cluster) ApplyPod(pod *service.Pod) (Changes, error) {
	ch, err := c.stagePod(pod, false)
	if perr := c.publish(ch); perr != nil {
		err = errors.Join(err, perr)
	}
	return ch, err
}

// DeletePod removes a pod at once (a pod that is gone, not one
// terminating: mark that with a deletion timestamp through ApplyPod).
func (c *Cluster) DeletePod(key service.NamespacedName) (Changes, error) {
	ch, err := c.stageDelete(key)
	if err != nil {
		return ch, err
	}
	return ch, c.publish(ch)
}

// stagePod records a pod in the control plane (the pod store, its IPs,
// the endpoints controller, the DNS batch) without publishing a table:
// ApplyPod is stagePod then publish.
func (c *Cluster) stagePod(pod *service.Pod, owned bool) (Changes, error) {
	p := pod
	if !owned {
		p = pod.DeepCopy()
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	if err := p.Validate(); err != nil {
		return Changes{}, err
	}
	key := p.Key()
	old := c.pods[key]
	var was time.Time
	if old != nil {
		was = old.pod.CreationTimestamp
	}
	p.CreationTimestamp = c.creationTime(was, p.CreationTimestamp)
	if old != nil {
		c.unindexPod(key, old.ips)
	}
	ps := &podState{pod: p, ips: p.IPs()}
	c.pods[key] = ps
	for _, a := range ps.ips {
		c.podByIP[a] = key
	}
	sl, err := c.ctlUpsertPod(p)
	c.pending.UpsertPod(p)
	ch := Changes{Slices: sl}
	return ch, ch.takeSkips(err)
}

// stageDelete removes a pod from the control plane without publishing:
// DeletePod is stageDelete then publish.
func (c *Cluster) stageDelete(key service.NamespacedName) (Changes, error) {
	old, ok := c.pods[key]
	if !ok {
		return Changes{}, fmt.Errorf("%w: pod %s", ErrNotFound, key)
	}
	c.unindexPod(key, old.ips)
	delete(c.pods, key)
	c.pending.DeletePod(key)
	return Changes{Slices: c.ctlDeletePod(key)}, nil
}

// unindexPod takes a pod's addresses out of the pod-IP index.
func (c *Cluster) unindexPod(key service.NamespacedName, ips []netip.Addr) {
	for _, a := range ips {
		if c.podByIP[a] == key {
			delete(c.podByIP, a)
		}
	}
}

func (c *Cluster) followService(sc service.Change) (Changes, error) {
	ch := Changes{Services: []service.Change{sc}}
	var err error
	if sc.New != nil {
		ch.Slices, err = c.ctlUpsertService(sc.New)
		err = ch.takeSkips(err)
		if sc.Type == service.Added {
			ch.Slices = append(ch.Slices, c.appliedChanges(sc.New.Key())...)
		}
	} else {
		ch.Slices = c.ctlDeleteService(sc.Old.Key())
	}
	if perr := c.publish(ch); perr != nil {
		err = errors.Join(err, perr)
	}
	return ch, err
}

// checkAlgorithm refuses a Service whose proxy.AlgorithmAnnotation names no
// algorithm, before the Registry stores it: the proxy tables could not
// take it, and would keep the Service's previous version (or none) while
// the Registry, the slices and the DNS moved on.
func checkAlgorithm(svc *service.Service) error {
	if svc == nil {
		return nil // the Registry reports it
	}
	a, ok := svc.Annotations[proxy.AlgorithmAnnotation]
	if !ok {
		return nil
	}
	if lb.ValidateAlgorithm(a) != nil {
		ns := svc.Namespace
		if ns == "" {
			ns = "default"
		}
		return &service.ValidationError{Kind: "Service", Name: ns + "/" + svc.Name, Errors: service.ErrorList{
			service.Invalid("metadata.annotations["+proxy.AlgorithmAnnotation+"]", a,
				"unknown load-balancing algorithm; known: "+strings.Join(lb.Algorithms(), ", ")),
		}}
	}
	return nil
}

// CreateService creates a Service through the Registry (defaulting,
// validation, allocation), then its slices, its DNS records and its
// proxy frontends follow. An unknown proxy.AlgorithmAnnotation is a
// validation error (service.ErrInvalid), like any invalid field.
func (c *Cluster) CreateService(svc *service.Service) (Changes, error) {
	if err := checkAlgorithm(svc); err != nil {
		return Changes{}, err
	}
	sc, err := c.reg.Create(svc)
	if err != nil {
		return Changes{}, err
	}
	return c.followService(sc)
}

// UpdateService updates a Service through the Registry.
func (c *Cluster) UpdateService(svc *service.Service) (Changes, error) {
	if err := checkAlgorithm(svc); err != nil {
		return Changes{}, err
	}
	sc, err := c.reg.Update(svc)
	if err != nil {
		return Changes{}, err
	}
	return c.followService(sc)
}

// UpdateServiceStatus writes a Service's status (its load balancer
// ingress), as a load-balancer controller does.
func (c *Cluster) UpdateServiceStatus(svc *service.Service) (Changes, error) {
	sc, err := c.reg.UpdateStatus(svc)
	if err != nil {
		return Changes{}, err
	}
	return c.followService(sc)
}

// DeleteService deletes a Service; its slices, records and frontends go.
func (c *Cluster) DeleteService(key service.NamespacedName) (Changes, error) {
	sc, err := c.reg.Delete(key.Namespace, key.Name)
	if err != nil {
		return Changes{}, err
	}
	return c.followService(sc)
}

// Apply decodes a manifest stream (v1 Nodes, Pods and Services, as
// service.DecodeAll reads it) and applies each object in order: nodes are
// added, pods applied, Services created or, when they exist, updated. The
// metadata a `kubectl get -o yaml` dump holds and the API server sets
// itself (resourceVersion, uid, creationTimestamp, managedFields, ...)
// is cleared first, as service.ClearSystemFields says, so that a dump
// applies as its manifests would. An EndpointSlice (discovery.k8s.io/v1)
// is converted (SliceFromManifest) and applied with ApplyEndpointSlice,
// unless CarriedSlice skips it: without Config.ExternalSlices, the
// slices managed by the controller (endpoints.DefaultManagedBy) are
// skipped, since the Cluster computes those itself, and so are slices of
// no Service and FQDN slices. Namespaces decode and are skipped. It stops
// at the first error and returns the changes made until then.
func (c *Cluster) Apply(manifests []byte) (Changes, error) {
	objs, err := service.DecodeAll(manifests)
	if err != nil {
		return Changes{}, err
	}
	var all Changes
	for _, o := range objs {
		service.ClearSystemFields(o)
		var ch Changes
		switch o := o.(type) {
		case *service.Node:
			ch, err = c.AddNode(o)
		case *service.Pod:
			ch, err = c.ApplyPod(o)
		case *service.Service:
			if o.Namespace == "" {
				o.Namespace = "default"
			}
			if _, gerr := c.reg.Get(o.Namespace, o.Name); gerr == nil {
				ch, err = c.UpdateService(o)
			} else {
				ch, err = c.CreateService(o)
			}
		case *service.EndpointSlice:
			if !CarriedSlice(o, c.cfg.ExternalSlices) {
				continue
			}
			if o.Namespace == "" {
				o.Namespace = "default"
			}
			var sl *endpoints.Slice
			if sl, err = SliceFromManifest(o); err != nil {
				err = fmt.Errorf("%w: EndpointSlice %s/%s does not decode as discovery.k8s.io/v1: %v", service.ErrInvalid, o.Namespace, o.Name, err)
			} else {
				ch, err = c.ApplyEndpointSlice(sl)
			}
		}
		all.add(ch)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// SyncNode programs a node's proxy with the control plane's newest table,
// as kube-proxy's sync loop does.
func (c *Cluster) SyncNode(name string) error { return c.SyncNodeTo(name, c.gen) }

// SyncAllNodes programs every node's proxy with the newest table.
func (c *Cluster) SyncAllNodes() {
	newest := c.hist[len(c.hist)-1]
	for _, ns := range c.nodes {
		c.syncTo(ns, newest)
	}
}

// NodeStale returns how many table generations a node's proxy is behind
// the control plane: 0 when it is in sync.
func (c *Cluster) NodeStale(name string) (uint64, error) {
	g, err := c.NodeGeneration(name)
	if err != nil {
		return 0, err
	}
	return c.gen - g, nil
}

// SyncDNS applies the control-plane changes the DNS has not seen yet, as
// one new snapshot.
func (c *Cluster) SyncDNS() error {
	if c.pending.Len() == 0 {
		return nil
	}
	b := c.pending
	c.pending = &dnsname.Batch{}
	return c.dns.Apply(b)
}

// DNSPending returns how many changes the DNS has not applied yet.
func (c *Cluster) DNSPending() int { return c.pending.Len() }
