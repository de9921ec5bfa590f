package endpoints

import (
	"cmp"
	"errors"
	"maps"
	"slices"

	"github.com/google/btree"
	"github.com/svcnet/svcnet/service"
)

// LabelHeadless marks the slices of a Service without a cluster IP
// (v1.IsHeadlessService); Kubernetes' controller sets it, so does svcnet.
const LabelHeadless = "service.kubernetes.io/headless"

// Controller turns Services, Pods and Nodes into EndpointSlices, as
// kube-controller-manager's EndpointSlice controller does, incrementally:
// each input returns the slice writes it caused, and costs what it
// changes rather than what the namespace holds (see the package doc).
//
// A Controller is a single-writer state machine: it is not safe for
// concurrent use, and its methods must be called from one goroutine at
// a time. The *Slice values it returns are immutable and may be shared
// with any number of readers. It starts no goroutine, reads no clock
// and uses no randomness: the same inputs give the same outputs.
type Controller struct {
	cfg        Config
	max        int
	namespaces map[string]*namespace
	nodes      map[string]string // node name → zone; present when known
	// nodePods lists the pods on each node, in no order; a pod's
	// nodeIdx is its index there.
	nodePods  map[string][]*podState
	hints     map[hintKey]*Hints
	nextID    uint64 // svcState ids, in creation order
	epoch     uint64 // dedup marks for candidate services
	syncEpoch uint64 // group ordinals within one sync

	out   []Change // changes of the current input
	skips []error  // the *NodeNotFoundErrors of the current input

	// Scratch reused between inputs; never escapes.
	cands  []*svcState
	one    [1]*podState
	keyBuf []byte
	// labelSets holds the pods' label sets by content (see labelSet);
	// labelKeys is internLabels' scratch.
	labelSets map[string]*labelSet
	// portSets holds the pods' lists of named ports by content (see
	// internPorts).
	portSets  map[string]*portSet
	labelKeys []string
	pending   []pendingEndpoint
	touched   []*sliceState
	created   []*sliceState
	deleted   []*sliceState
	fill      []*sliceState
	pivot     sliceState

	smallGroup int // see smallGroup
	// freeNodes recycles the nodes of every group's fill tree.
	freeNodes *btree.FreeListG[*sliceState]
	// ownerTrue backs the controller and blockOwnerDeletion flags of the
	// slices' owner references (newEndpointSlice sets both), shared like
	// the rest of a published slice.
	ownerTrue bool
}

// namespace holds the pods and Services of one namespace and the
// inverted selector index over the Services.
type namespace struct {
	name     string
	pods     map[string]*podState
	services map[string]*svcState
	// index files every Service with a non-empty selector under exactly
	// one of its key=value requirements (see indexAdd).
	index map[labelPair][]*svcState
	// everything holds the Services whose selector is empty but not nil:
	// they select every pod of the namespace (labels.Set{}.AsSelector()
	// is Everything in Kubernetes).
	everything []*svcState
}

type labelPair struct{ key, value string }

type hintKey struct{ zone, node string }

// New returns a Controller with cfg's settings, or the *ConfigError that
// cfg.Validate returns (errors.Is(err, ErrInvalidConfig)) and no
// Controller.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Controller{
		cfg:        cfg,
		max:        cfg.MaxEndpointsPerSlice,
		namespaces: map[string]*namespace{},
		nodes:      map[string]string{},
		nodePods:   map[string][]*podState{},
		hints:      map[hintKey]*Hints{},
		smallGroup: smallGroup,
		freeNodes:  btree.NewFreeListG[*sliceState](btree.DefaultFreeListSize),
		ownerTrue:  true,
	}, nil
}

// NewController is like New but panics with the *ConfigError when cfg is
// invalid, as regexp.MustCompile does: it is meant for Configs written in
// code (the zero Config always works), where an invalid one is a
// programmer error, as an out-of-range --max-endpoints-per-slice stops
// kube-controller-manager at startup. Use New for a Config that comes
// from a user.
func NewController(cfg Config) *Controller {
	c, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// Config returns the controller's configuration, with defaults filled in.
func (c *Controller) Config() Config { return c.cfg }

func (c *Controller) namespace(name string) *namespace {
	ns := c.namespaces[name]
	if ns == nil {
		ns = &namespace{
			name:     name,
			pods:     map[string]*podState{},
			services: map[string]*svcState{},
			index:    map[labelPair][]*svcState{},
		}
		c.namespaces[name] = ns
	}
	return ns
}

func (c *Controller) gcNamespace(ns *namespace) {
	if len(ns.pods) == 0 && len(ns.services) == 0 {
		delete(c.namespaces, ns.name)
	}
}

// take returns the changes of the current input and starts a new list,
// so the caller owns the slice it gets.
func (c *Controller) take() []Change {
	out := c.out
	c.out = nil
	return out
}

// UpsertService adds or updates a Service and returns the slice writes
// this caused. Give it a defaulted Service (service.Default), as an API
// server would.
//
// A Service gets slices when it has a selector (even an empty one, which
// selects every pod of its namespace) and is not of type ExternalName,
// as in Kubernetes' syncService. One that loses its selector or becomes
// ExternalName keeps the slices it had, as they were: Kubernetes'
// syncService returns before reconciling such a Service, so its slices
// stay until it is deleted, and DNS and proxies keep serving the old
// endpoints, as in a real cluster. When it gets a selector back, its
// slices are reconciled from what they hold. A change of UID is a new
// Service: the old slices are deleted (the garbage collector's work in
// Kubernetes, through their owner references) and new ones created.
//
// Pods of the Service on a node the controller does not know get no
// endpoint (unless the Service publishes not-ready addresses): the
// returned error then joins a *NodeNotFoundError per such pod, and the
// changes, complete all the same, must be applied.
//
// Cost: O(its ports and labels) when nothing that slices depend on
// changed; O(its pods) when ports, families, labels, trafficDistribution
// or publishNotReadyAddresses changed; plus O(pods in the namespace) when
// the selector changed. It returns an
// *ObjectError (and no change) for a nil Service or one without a name.
func (c *Controller) UpsertService(svc *service.Service) ([]Change, error) {
	if svc == nil {
		return nil, &ObjectError{Kind: "Service", Rule: "must not be nil"}
	}
	if svc.Name == "" {
		return nil, &ObjectError{Kind: "Service", Name: svc.Namespace + "/", Rule: "name is required"}
	}
	ns := c.namespace(svc.Namespace)
	s := ns.services[svc.Name]
	if s != nil && s.uid != svc.UID {
		c.dropService(s)
		s = nil
	}
	if s == nil {
		c.nextID++
		s = &svcState{id: c.nextID, ns: ns, key: service.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}, uid: svc.UID}
		s.owners = []service.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID, Controller: &c.ownerTrue, BlockOwnerDeletion: &c.ownerTrue}}
		ns.services[svc.Name] = s
	}

	if svc.Spec.Type == service.ServiceTypeExternalName || svc.Spec.Selector == nil {
		// syncService: "services without a selector receive no endpoint
		// slices from this controller", and ExternalName ones none
		// (kubernetes/kubernetes pkg/controller/endpointslice,
		// endpointslice_controller.go); it returns before the
		// reconciler, which alone deletes slices.
		if s.managed {
			c.pause(s)
		}
		return c.take(), nil
	}

	cfg := c.serviceConfig(svc)
	labels := c.sliceLabels(svc, s.labels)
	force := (s.managed || s.paused) && !maps.Equal(labels, s.labels)
	s.labels = labels

	var dirty []*podState
	if !s.managed || !maps.Equal(s.selector, svc.Spec.Selector) {
		dirty = c.reselect(s, svc.Spec.Selector)
		if s.paused {
			dirty = c.withPlaced(s, dirty)
		}
	} else if !cfg.equal(&s.cfg) {
		dirty = sortedPods(s.members)
	}
	// Families the Service no longer has lose their slices; Kubernetes
	// deletes them the same way, never merging them with creates of
	// another address type.
	var fams []*family
	for _, t := range cfg.families {
		f := s.family(t)
		if f == nil {
			f = newFamily(t)
			if len(dirty) == 0 && len(s.members) > 0 {
				dirty = sortedPods(s.members)
			}
		}
		fams = append(fams, f)
	}
	for _, f := range s.families {
		if !slices.Contains(fams, f) {
			c.deleteFamily(s, f)
		}
	}
	s.families = fams
	s.cfg = cfg
	s.managed, s.paused = true, false
	c.sync(s, dirty, force)
	return c.take(), c.takeErr(nil)
}

// DeleteService removes a Service and returns the deletion of its slices
// (which Kubernetes leaves to the garbage collector, through the slices'
// owner references). Deleting an unknown Service does nothing.
func (c *Controller) DeleteService(key service.NamespacedName) []Change {
	ns := c.namespaces[key.Namespace]
	if ns == nil {
		return nil
	}
	if s := ns.services[key.Name]; s != nil {
		c.dropService(s)
		c.gcNamespace(ns)
	}
	return c.take()
}

// dropService forgets s, deleting its slices.
func (c *Controller) dropService(s *svcState) {
	c.unmanage(s)
	delete(s.ns.services, s.key.Name)
}

// pause stops syncing s, keeping its slices as they are: s forgets its
// pods and selector, and leaves the index.
func (c *Controller) pause(s *svcState) {
	for _, p := range s.members {
		p.leave(s)
	}
	s.members = nil
	s.emptyPorts = nil
	s.ns.indexRemove(s)
	s.selector = nil
	s.managed, s.paused = false, true
}

// unmanage deletes every slice of s and forgets its pods and selector.
func (c *Controller) unmanage(s *svcState) {
	if s.managed {
		c.pause(s)
	}
	for _, f := range s.families {
		c.deleteFamily(s, f)
	}
	s.families = nil
	s.paused = false
	s.cfg = svcConfig{}
}

// withPlaced adds to dirty (sorted by name) the pods that a paused
// Service's slices still hold, so that its first sync after the pause
// reconciles every endpoint in them, as Kubernetes' reconciler compares
// all existing slices with the desired state. A pod deleted meanwhile
// gets a stand-in that is gone.
func (c *Controller) withPlaced(s *svcState, dirty []*podState) []*podState {
	seen := make(map[string]bool, len(dirty))
	for _, p := range dirty {
		seen[p.name] = true
	}
	for _, f := range s.families {
		for name := range f.where {
			if seen[name] {
				continue
			}
			seen[name] = true
			p := s.ns.pods[name]
			if p == nil {
				p = &podState{ns: s.ns, name: name, gone: true}
			}
			dirty = append(dirty, p)
		}
	}
	slices.SortFunc(dirty, func(a, b *podState) int { return cmp.Compare(a.name, b.name) })
	return dirty
}

// takeErr returns first joined with the NodeNotFoundErrors of the
// current input (nil when there are none; the error itself when there
// is one), and starts a new list.
func (c *Controller) takeErr(first error) error {
	if len(c.skips) == 0 {
		return first
	}
	errs := c.skips
	c.skips = nil
	if first != nil {
		errs = append([]error{first}, errs...)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// reselect points s at a new selector: it refiles s in the index and
// recomputes its members from the namespace's pods (as Kubernetes' lister
// does on every sync). It returns the pods that joined or left, and those
// that stayed, sorted by name: all of them need a fresh endpoint.
func (c *Controller) reselect(s *svcState, sel service.Labels) []*podState {
	if s.managed {
		s.ns.indexRemove(s)
	}
	s.selector = maps.Clone(sel)
	if s.selector == nil {
		s.selector = service.Labels{}
	}
	s.sel = service.SelectorFromSet(s.selector)
	s.ns.indexAdd(s)
	old := s.members
	s.members = nil
	for _, p := range s.ns.pods {
		if s.sel.Matches(p.labelMap()) {
			s.join(p)
			if old[p.name] == nil {
				p.services = append(p.services, s)
			}
		}
	}
	dirty := make([]*podState, 0, len(s.members)+len(old))
	for name, p := range old {
		if s.members[name] == nil {
			p.leave(s)
			dirty = append(dirty, p)
		}
	}
	for _, p := range s.members {
		dirty = append(dirty, p)
	}
	slices.SortFunc(dirty, func(a, b *podState) int { return cmp.Compare(a.name, b.name) })
	return dirty
}

func sortedPods(m map[string]*podState) []*podState {
	out := make([]*podState, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *podState) int { return cmp.Compare(a.name, b.name) })
	return out
}

// indexAdd files s under one key=value pair of its selector: the pair
// whose bucket is smallest (ties to the smaller key). Every pod s selects
// carries that pair, so the union of the buckets of a pod's labels holds
// every Service selecting the pod, each once. Filing under one pair
// rather than all keeps a bucket shared by many Services (tier=backend)
// from making each of them a candidate of every pod carrying it.
// Kubernetes instead lists every Service of the namespace and matches
// each selector (getServicesForPod in k8s.io/endpointslice/util).
func (ns *namespace) indexAdd(s *svcState) {
	if len(s.selector) == 0 {
		s.idxPos = len(ns.everything)
		ns.everything = append(ns.everything, s)
		return
	}
	var best labelPair
	bestN := -1
	for k, v := range s.selector {
		n := len(ns.index[labelPair{k, v}])
		if bestN < 0 || n < bestN || n == bestN && k < best.key {
			best, bestN = labelPair{k, v}, n
		}
	}
	s.pair = best
	b := ns.index[best]
	s.idxPos = len(b)
	ns.index[best] = append(b, s)
}

func (ns *namespace) indexRemove(s *svcState) {
	if len(s.selector) == 0 {
		ns.everything = removeSvc(ns.everything, s)
		return
	}
	b := removeSvc(ns.index[s.pair], s)
	if len(b) == 0 {
		delete(ns.index, s.pair)
	} else {
		ns.index[s.pair] = b
	}
}

func removeSvc(b []*svcState, s *svcState) []*svcState {
	last := len(b) - 1
	if i := s.idxPos; i != last {
		b[i] = b[last]
		b[i].idxPos = i
	}
	b[last] = nil
	return b[:last]
}

// UpsertPod adds or updates a pod and returns the slice writes this
// caused in the Services that select it or selected it before.
//
// A pod gets an endpoint in each address family of each Service of its
// namespace whose selector matches its labels, unless it is Succeeded or
// Failed or has no IP (ShouldPodBeInEndpoints). When one of its IPs may
// not be an endpoint (unspecified, loopback, link-local), the pod is left
// out of every slice and UpsertPod returns a *SkippedPodError together
// with the changes, which are complete and must be applied all the same.
// When its node is not known (spec.nodeName never upserted, or deleted),
// it gets no endpoint in the Services that do not publish not-ready
// addresses, and the error is (or joins) a *NodeNotFoundError for each
// of them, as Kubernetes' reconciler skips the pod and reports it.
//
// Cost: O(labels + Services selecting the pod before or after), plus,
// per such Service, a new version of the slice that holds the pod: a
// copy of its list of endpoint pointers (at most MaxEndpointsPerSlice),
// sharing every endpoint but the pod's, and O(log slices) to find a slice for a
// new endpoint. The number of Services in the namespace does not matter.
// A nil pod or one without a name gives an *ObjectError and no change.
func (c *Controller) UpsertPod(pod *service.Pod) ([]Change, error) {
	if pod == nil {
		return nil, &ObjectError{Kind: "Pod", Rule: "must not be nil"}
	}
	if pod.Name == "" {
		return nil, &ObjectError{Kind: "Pod", Name: pod.Namespace + "/", Rule: "name is required"}
	}
	ns := c.namespace(pod.Namespace)
	p := ns.pods[pod.Name]
	isNew := p == nil
	if isNew {
		p = &podState{ns: ns, name: pod.Name}
		ns.pods[pod.Name] = p
	}
	oldNode := p.nodeName
	relabelled, err := p.update(c, pod)
	if p.nodeName != oldNode {
		c.moveNode(p, oldNode)
	}

	recheck := isNew || relabelled
	cands := c.candidates(ns, p, recheck)
	for _, s := range cands {
		if recheck {
			match := s.sel.Matches(p.labelMap())
			member := s.members[p.name] != nil
			switch {
			case match && !member:
				s.join(p)
				p.services = append(p.services, s)
			case !match && member:
				delete(s.members, p.name)
				p.leave(s)
			case !match:
				continue
			}
		}
		c.one[0] = p
		c.sync(s, c.one[:], false)
	}
	clear(cands)
	c.cands = cands[:0]
	c.one[0] = nil
	return c.take(), c.takeErr(err)
}

// candidates returns the Services a change of pod p must look at, in
// creation order, in c.cands' storage. With the same labels (recheck
// false), the pod's Services are still exactly those that select it
// (Service changes keep memberships up to date), so only their endpoints
// can change. Otherwise: the Services filed under one of the pod's
// labels, the select-everything ones, and those the pod belonged to.
func (c *Controller) candidates(ns *namespace, p *podState, recheck bool) []*svcState {
	cands := c.cands[:0]
	if !recheck {
		cands = append(cands, p.services...)
	} else {
		c.epoch++
		add := func(b []*svcState) {
			for _, s := range b {
				if s.mark != c.epoch {
					s.mark = c.epoch
					cands = append(cands, s)
				}
			}
		}
		if len(ns.index) > 0 {
			for k, v := range p.labelMap() {
				add(ns.index[labelPair{k, v}])
			}
		}
		add(ns.everything)
		add(p.services)
	}
	if len(cands) > 1 {
		slices.SortFunc(cands, func(a, b *svcState) int { return cmp.Compare(a.id, b.id) })
	}
	return cands
}

// DeletePod removes a pod and returns the slice writes this caused.
// Deleting an unknown pod does nothing. A pod that is shutting down
// should first be upserted with its deletionTimestamp (its endpoint then
// turns terminating, KEP-1672) and deleted when it is gone.
func (c *Controller) DeletePod(key service.NamespacedName) []Change {
	ns := c.namespaces[key.Namespace]
	if ns == nil {
		return nil
	}
	p := ns.pods[key.Name]
	if p == nil {
		return nil
	}
	p.gone = true
	svcs := slices.Clone(p.services)
	slices.SortFunc(svcs, func(a, b *svcState) int { return cmp.Compare(a.id, b.id) })
	for _, s := range svcs {
		delete(s.members, p.name)
		p.leave(s)
		c.one[0] = p
		c.sync(s, c.one[:], false)
	}
	c.one[0] = nil
	old := p.nodeName
	p.nodeName = ""
	c.moveNode(p, old)
	delete(ns.pods, key.Name)
	// p.labels and p.ports stay: they are never changed.
	c.releaseLabels(p.labels)
	c.releasePorts(p.ports)
	c.gcNamespace(ns)
	return c.take()
}

// moveNode files p under its node, out of its old one.
func (c *Controller) moveNode(p *podState, old string) {
	if old != "" {
		if ps := c.nodePods[old]; int(p.nodeIdx) < len(ps) && ps[p.nodeIdx] == p {
			last := len(ps) - 1
			ps[p.nodeIdx] = ps[last]
			ps[p.nodeIdx].nodeIdx = p.nodeIdx
			ps[last] = nil
			if ps = ps[:last]; len(ps) == 0 {
				delete(c.nodePods, old)
			} else {
				c.nodePods[old] = ps
			}
		}
	}
	if p.nodeName != "" && !p.gone {
		ps := c.nodePods[p.nodeName]
		p.nodeIdx = int32(len(ps))
		c.nodePods[p.nodeName] = append(ps, p)
	}
}

// UpsertNode adds or updates a node and returns the slice writes this
// caused. A node the controller did not know brings the endpoints of the
// pods on it, which were left out until then (NodeNotFoundError); one
// whose topology.kubernetes.io/zone label changed updates the zone (and
// hints) of every endpoint of a pod on it. A nil node or one without a
// name gives an *ObjectError and no change.
//
// Kubernetes' controller does not sync Services on node events (it
// checks the node informer only for topology-aware hints): a pod skipped
// for its missing node gets its endpoint when syncService retries the
// Service, which the skip's error requeued, and a new zone reaches the
// endpoints at each Service's next sync. svcnet makes that sync at once,
// for the Services of the pods on the node.
func (c *Controller) UpsertNode(node *service.Node) ([]Change, error) {
	if node == nil {
		return nil, &ObjectError{Kind: "Node", Rule: "must not be nil"}
	}
	if node.Name == "" {
		return nil, &ObjectError{Kind: "Node", Rule: "name is required"}
	}
	zone := node.Zone()
	if old, ok := c.nodes[node.Name]; ok && old == zone {
		return nil, nil
	}
	c.nodes[node.Name] = zone
	c.resyncNode(node.Name)
	return c.take(), c.takeErr(nil)
}

// DeleteNode removes a node and returns the slice writes this caused:
// the pods on it lose their endpoints, as at the next sync of each of
// their Services in Kubernetes, except in the Services that publish
// not-ready addresses, where they only lose their zone. The error joins
// a *NodeNotFoundError for each pod and Service left out. Deleting an
// unknown node does nothing.
func (c *Controller) DeleteNode(name string) ([]Change, error) {
	if _, ok := c.nodes[name]; !ok {
		return nil, nil
	}
	delete(c.nodes, name)
	for k := range c.hints {
		if k.node == name {
			delete(c.hints, k)
		}
	}
	c.resyncNode(name)
	return c.take(), c.takeErr(nil)
}

// resyncNode refreshes the endpoints of every pod on node, one sync per
// Service, Services in creation order and pods by name.
func (c *Controller) resyncNode(node string) {
	bySvc := map[*svcState][]*podState{}
	for _, p := range c.nodePods[node] {
		for _, s := range p.services {
			bySvc[s] = append(bySvc[s], p)
		}
	}
	svcs := slices.Collect(maps.Keys(bySvc))
	slices.SortFunc(svcs, func(a, b *svcState) int { return cmp.Compare(a.id, b.id) })
	for _, s := range svcs {
		pods := bySvc[s]
		slices.SortFunc(pods, func(a, b *podState) int { return cmp.Compare(a.name, b.name) })
		c.sync(s, pods, false)
	}
}

// Slices returns the current slices of a Service: address families in
// the order of its spec.ipFamilies, each family's slices in creation
// order. It returns nil for an unknown Service or one without slices.
// A Service that lost its selector or became ExternalName still has the
// slices it had then.
// The slices are immutable; the returned list is the caller's.
func (c *Controller) Slices(key service.NamespacedName) []*Slice {
	ns := c.namespaces[key.Namespace]
	if ns == nil {
		return nil
	}
	s := ns.services[key.Name]
	if s == nil || !s.managed && !s.paused {
		return nil
	}
	var out []*Slice
	for _, f := range s.families {
		ss := slices.Clone(f.slices)
		slices.SortFunc(ss, func(a, b *sliceState) int { return cmp.Compare(a.seq, b.seq) })
		for _, sl := range ss {
			out = append(out, sl.pub)
		}
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
