package endpoints

import (
	"cmp"
	"slices"

	"github.com/svcnet/svcnet/service"
)

// This file is Kubernetes' reconciler (k8s.io/endpointslice,
// reconciler.go: reconcileByAddressType, reconcileByPortMapping and
// finalize), run on the pods that changed instead of all the Service's
// pods. Every other pod's endpoint is already in a slice and already
// what the reconciler would want, so the reconciler's steps only act on
// the slices that hold or receive the changed pods' endpoints:
//
//  1. update in place the endpoints that changed, remove those no longer
//     wanted, and mark the slices touched; a slice left empty is deleted;
//  2. put new endpoints into the touched slices of their port set,
//     fullest first;
//  3. put what is left into the untouched slice closest to full that
//     takes it all, when fewer than MaxEndpointsPerSlice are left, else
//     into a new slice, and repeat;
//
// then delete the endpoint-less placeholder when there are endpoints, or
// add one when a family has no slice left, and turn each create paired
// with a delete into an update of the deleted slice (finalize).

var sliceTypeMeta = service.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}

// noEndpoints is the Endpoints of an empty slice: empty, not nil, as
// Kubernetes writes it.
var noEndpoints = []*Endpoint{}

// pendingEndpoint is an endpoint waiting for a slice.
type pendingEndpoint struct {
	g  *group
	ep *Endpoint
}

// sync brings s's slices up to date for the pods in dirty (each once,
// sorted by name), appending the writes to c.out. force republishes
// every slice (their labels changed).
func (c *Controller) sync(s *svcState, dirty []*podState, force bool) {
	for _, p := range dirty {
		c.prepare(s, p)
	}
	for _, f := range s.families {
		c.syncFamily(s, f, dirty, force)
	}
}

func (c *Controller) syncFamily(s *svcState, f *family, dirty []*podState, force bool) {
	c.syncEpoch++
	c.pending = c.pending[:0]

	// Step 1.
	for _, p := range dirty {
		ep, g, ok := c.desired(s, f, p)
		if pl, placed := f.where[p.name]; placed {
			if ok && pl.s.g == g && sameIdentity(pl.s.eps[pl.pos], &ep) {
				// Same port set and identity: the endpoint stays in its
				// slice, updated in place if it changed: a new Endpoint
				// in a new copy of the slice's list, which shares every
				// other endpoint with the published version.
				if !sameEndpoint(pl.s.eps[pl.pos], &ep) {
					c.own(pl.s, 0)
					pl.s.eps[pl.pos] = ptrTo(ep)
				}
				continue
			}
			// Otherwise it leaves its slice: the reconciler finds
			// existing endpoints in the desired set by their identity
			// hash (addresses, hostname, pod: hashEndpoint in
			// k8s.io/endpointslice/util), so an endpoint whose address
			// or hostname changed is removed from its slice, which is
			// deleted if that leaves it empty, and placed anew by steps
			// 2 and 3.
			c.removeAt(f, pl.s, pl.pos)
		}
		if ok {
			if g.mark != c.syncEpoch {
				g.mark, g.ord = c.syncEpoch, len(c.pending)
			}
			c.pending = append(c.pending, pendingEndpoint{g, ptrTo(ep)})
		}
	}
	if force {
		for _, sl := range f.slices {
			c.touch(sl)
		}
	}

	// Steps 2 and 3, one port set at a time, in order of appearance.
	if len(c.pending) > 1 {
		slices.SortStableFunc(c.pending, func(a, b pendingEndpoint) int { return cmp.Compare(a.g.ord, b.g.ord) })
	}
	for i := 0; i < len(c.pending); {
		j := i + 1
		for j < len(c.pending) && c.pending[j].g == c.pending[i].g {
			j++
		}
		c.place(s, f, c.pending[i:j])
		i = j
	}
	clear(c.pending)

	// Slices that step 1 emptied are deleted (reconcileByPortMapping
	// marks them for deletion rather than update).
	c.deleted = c.deleted[:0]
	for _, sl := range c.touched {
		if len(sl.eps) == 0 && sl.startLen > 0 {
			c.drop(f, sl)
		}
	}
	// The placeholder: an endpoint-less slice when a family has nothing
	// else (reconcileByAddressType). It has the empty port set, and is
	// deleted once the family has other slices, unless a pod of the
	// Service keeps that port set desired without giving it an endpoint
	// (no address of the family, or skipped for its node): the
	// reconciler then finds the placeholder unchanged and keeps it, next
	// to slices that hold endpoints.
	if ph := f.placeholder; ph != nil && len(ph.eps) > 0 {
		f.placeholder = nil
	}
	if ph := f.placeholder; ph != nil && len(f.slices) > 1 && len(s.emptyPorts) == 0 {
		c.touch(ph)
		c.drop(f, ph)
	}
	if len(f.slices) == 0 {
		g := f.groups[""]
		if g == nil {
			g = newGroup("", []Port{})
			f.addGroup(g)
		}
		f.placeholder = c.newSlice(f, g)
	}

	// finalize: a create and a delete become an update of the deleted
	// slice, keeping its name.
	merged := 0
	for ; merged < len(c.deleted) && len(c.created) > 0; merged++ {
		d := c.deleted[merged]
		cr := c.created[len(c.created)-1]
		c.created = c.created[:len(c.created)-1]
		cr.created = false
		cr.name, cr.seq, cr.gen, cr.pub = d.name, d.seq, d.gen, d.pub
	}
	c.publish(s, f, c.deleted[merged:])
}

// prepare notes, before s syncs p, what does not depend on the address
// family: whether p keeps s's placeholder alive, and whether p is left
// out for its unknown node (reported once per sync, not per family).
func (c *Controller) prepare(s *svcState, p *podState) {
	in := p.eligible() && s.members[p.name] == p
	// reconcileByAddressType files a desired port set for every pod
	// that ShouldPodBeInEndpoints, before it looks at the pod's node or
	// addresses: a pod with an empty port set keeps the placeholder's
	// port set desired even when it adds no endpoint.
	if in && c.emptyPortSet(s, p) {
		if s.emptyPorts == nil {
			s.emptyPorts = map[string]struct{}{}
		}
		s.emptyPorts[p.name] = struct{}{}
	} else if len(s.emptyPorts) > 0 {
		delete(s.emptyPorts, p.name)
	}
	if in && !s.cfg.publishNotReady {
		if _, known := c.nodes[p.nodeName]; !known {
			c.skips = append(c.skips, &NodeNotFoundError{Pod: service.NamespacedName{Namespace: s.key.Namespace, Name: p.name}, Node: p.nodeName, Service: s.key})
		}
	}
}

// emptyPortSet reports whether none of s's ports resolves on p
// (getEndpointPorts returns no port).
func (c *Controller) emptyPortSet(s *svcState, p *podState) bool {
	if s.cfg.allNumeric {
		return len(s.cfg.ports) == 0
	}
	for i := range s.cfg.ports {
		if _, ok := resolve(&s.cfg.ports[i], p); ok {
			return false
		}
	}
	return true
}

// desired returns the endpoint p should have in family f of s, and its
// port set; ok is false when p should have none there.
func (c *Controller) desired(s *svcState, f *family, p *podState) (ep Endpoint, g *group, ok bool) {
	if !p.eligible() || len(p.addrs[f.fi]) == 0 || s.members[p.name] != p {
		return Endpoint{}, nil, false
	}
	// reconcileByAddressType: a pod whose node is not in the informer
	// cache is skipped (and reported, see prepare), unless the Service
	// publishes not-ready addresses; then it has no zone.
	zone, known := c.nodes[p.nodeName]
	if !known && !s.cfg.publishNotReady {
		return Endpoint{}, nil, false
	}
	g = c.group(s, f, p)
	// podToEndpoint (k8s.io/endpointslice utils.go) and KEP-1672: serving
	// is the Ready condition, terminating the deletion timestamp, ready
	// is serving and not terminating unless the Service publishes
	// not-ready addresses.
	ready := s.cfg.publishNotReady || p.serving && !p.terminating
	ep = Endpoint{
		Addresses:  p.addrs[f.fi],
		Conditions: Conditions{Ready: ready, Serving: p.serving, Terminating: p.terminating},
		TargetRef:  p.ref,
		NodeName:   p.nodeName,
	}
	// ShouldSetHostname: hostname set and subdomain naming the Service
	// (same namespace by construction).
	if p.hostname != "" && p.subdomain == s.key.Name {
		ep.Hostname = p.hostname
	}
	ep.Zone = zone
	ep.Hints = c.hint(s.cfg.hints, ready, ep.Zone, p.nodeName)
	return ep, g, true
}

// hint returns the hints of an endpoint (trafficdist's
// preferCloseHeuristic.update): for a ready endpoint, its zone, and its
// node under PreferSameNode; nil for the others. Hints are shared
// between endpoints, so they cost no allocation after the first.
func (c *Controller) hint(mode hintMode, ready bool, zone, node string) *Hints {
	if mode == hintsNone || !ready {
		return nil
	}
	if mode == hintsZone {
		node = ""
	}
	if zone == "" && node == "" {
		return nil
	}
	k := hintKey{zone, node}
	h := c.hints[k]
	if h == nil {
		h = &Hints{}
		if zone != "" {
			h.ForZones = []ForZone{{Name: zone}}
		}
		if node != "" {
			h.ForNodes = []ForNode{{Name: node}}
		}
		c.hints[k] = h
	}
	return h
}

// group returns the group of p's port set in family f of s
// (getEndpointPorts: service ports whose targetPort does not resolve on
// the pod are left out), creating it if needed.
func (c *Controller) group(s *svcState, f *family, p *podState) *group {
	var g *group
	if s.cfg.allNumeric {
		g = f.groups[s.cfg.numericKey]
	} else {
		b := c.keyBuf[:0]
		for i := range s.cfg.ports {
			if port, ok := resolve(&s.cfg.ports[i], p); ok {
				b = appendPortKey(b, &s.cfg.ports[i], port)
			}
		}
		c.keyBuf = b
		g = f.groups[string(b)]
	}
	if g != nil {
		return g
	}
	var b []byte
	ports := []Port{}
	for i := range s.cfg.ports {
		sp := &s.cfg.ports[i]
		if port, ok := resolve(sp, p); ok {
			b = appendPortKey(b, sp, port)
			ports = append(ports, Port{Name: sp.name, Protocol: sp.protocol, Port: port, AppProtocol: sp.appProtocol})
		}
	}
	g = newGroup(string(b), ports)
	f.addGroup(g)
	return g
}

// sameIdentity reports whether a and b have the same identity hash in
// Kubernetes' EndpointSet (hashEndpoint: sorted addresses, hostname and
// the pod's namespace and name, the last equal here by construction).
// A pod has at most one address per family, so order does not matter.
func sameIdentity(a, b *Endpoint) bool {
	return a.Hostname == b.Hostname &&
		(len(a.Addresses) > 0 && len(b.Addresses) > 0 && &a.Addresses[0] == &b.Addresses[0] && len(a.Addresses) == len(b.Addresses) ||
			slices.Equal(a.Addresses, b.Addresses))
}

// sameEndpoint reports whether a and b are equal; shared parts compare
// by pointer first.
func sameEndpoint(a, b *Endpoint) bool {
	return a.Conditions == b.Conditions && a.Hostname == b.Hostname && a.NodeName == b.NodeName && a.Zone == b.Zone &&
		(len(a.Addresses) > 0 && len(b.Addresses) > 0 && &a.Addresses[0] == &b.Addresses[0] && len(a.Addresses) == len(b.Addresses) ||
			slices.Equal(a.Addresses, b.Addresses)) &&
		(a.TargetRef == b.TargetRef || a.TargetRef != nil && b.TargetRef != nil && *a.TargetRef == *b.TargetRef) &&
		(a.Hints == b.Hints || a.Hints != nil && b.Hints != nil &&
			slices.Equal(a.Hints.ForZones, b.Hints.ForZones) && slices.Equal(a.Hints.ForNodes, b.Hints.ForNodes))
}

// place puts the endpoints of one port set into slices: steps 2 and 3.
func (c *Controller) place(s *svcState, f *family, eps []pendingEndpoint) {
	g := eps[0].g
	// Step 2: the touched slices of this port set, fullest first (those
	// step 1 emptied are deleted, not filled).
	fill := c.fill[:0]
	for _, sl := range c.touched {
		if sl.g == g && !sl.created && (len(sl.eps) > 0 || sl.startLen == 0) {
			fill = append(fill, sl)
		}
	}
	slices.SortFunc(fill, func(a, b *sliceState) int {
		return cmp.Or(cmp.Compare(len(b.eps), len(a.eps)), cmp.Compare(a.seq, b.seq))
	})
	for _, sl := range fill {
		for len(eps) > 0 && len(sl.eps) < c.max {
			c.appendEp(f, sl, eps[0].ep)
			eps = eps[1:]
		}
	}
	clear(fill)
	c.fill = fill[:0]

	// Step 3.
	for len(eps) > 0 {
		var sl *sliceState
		if len(eps) < c.max {
			sl = c.closestUntouched(g, len(eps))
		}
		if sl == nil {
			sl = c.newSlice(f, g)
		}
		for len(eps) > 0 && len(sl.eps) < c.max {
			c.appendEp(f, sl, eps[0].ep)
			eps = eps[1:]
		}
	}
}

// touch marks sl as written by this sync.
func (c *Controller) touch(sl *sliceState) {
	if !sl.touched {
		sl.touched = true
		sl.startLen = len(sl.eps)
		c.touched = append(c.touched, sl)
	}
}

// own makes sl's list of endpoints a private copy that the sync may
// edit, with room for extra more: the published slice is never written
// (copy on write). The copy is of pointers, 8 bytes per endpoint, to
// the Endpoints the published version holds, which the new version
// shares; it is the one cost of a pod event that grows with the slice,
// bounded by MaxEndpointsPerSlice.
func (c *Controller) own(sl *sliceState, extra int) {
	c.touch(sl)
	if !sl.owned {
		old := sl.eps
		// make then copy, with no capacity argument, compiles to one
		// runtime.makeslicecopy: the cheapest copy of pointerful memory
		// (it shades only the source during a GC cycle).
		eps := make([]*Endpoint, len(old)+extra)
		copy(eps, old)
		sl.eps = eps[:len(old)]
		sl.owned = true
	}
}

func (c *Controller) removeAt(f *family, sl *sliceState, pos int) {
	c.own(sl, 0)
	sl.unfile()
	delete(f.where, sl.eps[pos].TargetRef.Name)
	last := len(sl.eps) - 1
	if pos != last {
		sl.eps[pos] = sl.eps[last]
		f.where[sl.eps[pos].TargetRef.Name] = placement{sl, pos}
	}
	sl.eps[last] = nil
	sl.eps = sl.eps[:last]
}

func (c *Controller) appendEp(f *family, sl *sliceState, ep *Endpoint) {
	c.own(sl, 1)
	sl.unfile()
	sl.eps = append(sl.eps, ep)
	if f.where == nil {
		f.where = map[string]placement{}
	}
	f.where[ep.TargetRef.Name] = placement{sl, len(sl.eps) - 1}
}

// newSlice starts a slice of g; it gets its name when published, unless
// finalize gives it a deleted slice's.
func (c *Controller) newSlice(f *family, g *group) *sliceState {
	sl := &sliceState{g: g, owned: true, created: true, fpos: len(f.slices)}
	f.slices = append(f.slices, sl)
	g.n++
	c.touch(sl)
	c.created = append(c.created, sl)
	return sl
}

// drop deletes sl from f; it must be touched and hold no endpoint.
func (c *Controller) drop(f *family, sl *sliceState) {
	sl.unfile()
	sl.dead = true
	last := len(f.slices) - 1
	if i := sl.fpos; i != last {
		f.slices[i] = f.slices[last]
		f.slices[i].fpos = i
	}
	f.slices[last] = nil
	f.slices = f.slices[:last]
	if sl.g.n--; sl.g.n == 0 && f.groups[sl.g.key] == sl.g {
		delete(f.groups, sl.g.key)
	}
	if f.placeholder == sl {
		f.placeholder = nil
	}
	c.deleted = append(c.deleted, sl)
}

// publish writes out what the sync of f did: creates, then updates, then
// deletes, as finalize does, and resets the sync state.
func (c *Controller) publish(s *svcState, f *family, deleted []*sliceState) {
	for _, sl := range c.touched {
		if sl.created && !sl.dead {
			s.nextSeq++
			sl.seq = s.nextSeq
			sl.name = sliceName(s, sl.seq)
			c.out = append(c.out, Change{Kind: Created, Service: s.key, Slice: c.publishSlice(s, f, sl)})
		}
	}
	for _, sl := range c.touched {
		if !sl.created && !sl.dead {
			old := sl.pub
			c.out = append(c.out, Change{Kind: Updated, Service: s.key, Old: old, Slice: c.publishSlice(s, f, sl)})
		}
	}
	for _, sl := range deleted {
		c.out = append(c.out, Change{Kind: Deleted, Service: s.key, Old: sl.pub})
	}
	for _, sl := range c.touched {
		sl.touched, sl.owned, sl.created = false, false, false
	}
	clear(c.touched)
	c.touched = c.touched[:0]
	clear(c.deleted)
	c.deleted = c.deleted[:0]
	clear(c.created)
	c.created = c.created[:0]
}

func (c *Controller) publishSlice(s *svcState, f *family, sl *sliceState) *Slice {
	sl.gen++
	eps := sl.eps[:len(sl.eps):len(sl.eps)]
	if len(eps) == 0 {
		eps = noEndpoints
	}
	sl.eps = eps
	sl.pub = &Slice{
		TypeMeta: sliceTypeMeta,
		ObjectMeta: service.ObjectMeta{
			Name:            sl.name,
			Namespace:       s.key.Namespace,
			Generation:      sl.gen,
			Labels:          s.labels,
			OwnerReferences: s.owners,
		},
		AddressType: f.typ,
		Endpoints:   eps,
		Ports:       sl.g.ports,
	}
	if !sl.filed {
		c.file(sl)
	}
	return sl.pub
}

// deleteFamily deletes every slice of f, oldest first.
func (c *Controller) deleteFamily(s *svcState, f *family) {
	ss := slices.Clone(f.slices)
	slices.SortFunc(ss, func(a, b *sliceState) int { return cmp.Compare(a.seq, b.seq) })
	for _, sl := range ss {
		c.out = append(c.out, Change{Kind: Deleted, Service: s.key, Old: sl.pub})
	}
	f.slices, f.groups, f.where, f.placeholder = nil, nil, nil, nil
}
