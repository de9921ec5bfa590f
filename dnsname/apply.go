package dnsname

import (
	"errors"
	"net/netip"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// writer is the resolver's input state, touched only under Resolver.mu.
// Its Services are the snapshot's own immutable nodes: the writer keeps
// no copy of them.
type writer struct {
	// epoch numbers the Applies; the pmap nodes and revIndex groups made
	// by the one in progress are the only ones it may change in place.
	epoch uint64
	// svcs, rev and podSet are the snapshot's tables of the same name.
	svcs   pmap[string, *svcNode]
	rev    revIndex
	podSet pmap[podKey, struct{}]
	// nsRefs counts the Services and pods of each namespace.
	nsRefs     map[string]int
	nsDeclared map[string]bool
	pods       map[service.NamespacedName][]netip.Addr
	podAddrs   map[podKey]int
	// rowBuf is holdSlice's scratch space, cleared after each Apply.
	rowBuf []epRow
}

func (w *writer) init() {
	w.nsRefs = make(map[string]int)
	w.nsDeclared = make(map[string]bool)
	w.pods = make(map[service.NamespacedName][]netip.Addr)
	w.podAddrs = make(map[podKey]int)
}

// svcBuild is a Service changed by the Apply in progress: its published
// node, the next one, and the addresses whose PTR claims may change.
type svcBuild struct {
	old   *svcNode // nil: none
	node  svcNode
	addrs []netip.Addr
	// ownSlices: node.slices is the build's own array, no longer the
	// published node's.
	ownSlices bool
}

// Apply applies every change of b and publishes the result as one new
// snapshot, so that N changes cost one publication. If any change in b is
// invalid, Apply applies none and returns every problem, joined, each
// wrapping ErrInvalidObject. An empty batch publishes nothing.
//
// The cost is in proportion to what changed, not to the size of the
// Services or of the cluster. A slice change costs a pass over the new
// slice, to keep what DNS reads of it, and over the old one, to find the
// addresses whose readiness changed; for each of those, a claim in the
// index of PTR names, whose write copies a few hundred bytes (see
// revIndex). The Service's other slices are shared with the previous
// snapshot, and so is every other Service. A Service change compares
// the spec; changing whether a Service exists, is an ExternalName or
// publishes not-ready addresses checks the claims of all its addresses.
// Publishing a changed Service copies the O(log n) nodes of the table of
// Services on the path to it (see pmap). No answer is made here: queries
// make them from the Services' nodes (see Resolve).
func (r *Resolver) Apply(b *Batch) error {
	if b == nil {
		return nil
	}
	if len(b.errs) > 0 {
		return errors.Join(b.errs...)
	}
	if len(b.ops) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &r.w
	w.epoch++
	e := w.epoch
	builds := make(map[string]*svcBuild)
	var order []*svcBuild
	var kbuf [96]byte
	kb := kbuf[:0]
	build := func(k service.NamespacedName) *svcBuild {
		// The key is built in kb and made a string only for a new
		// Service: a published one's node has it.
		kb = append(append(append(kb[:0], k.Name...), '.'), k.Namespace...)
		if sb := builds[string(kb)]; sb != nil {
			return sb
		}
		sb := &svcBuild{}
		var key string
		if old, ok := pmapGetBytes(&w.svcs, hashBytes(kb), kb); ok {
			sb.old, sb.node = old, *old
			key = old.key()
		} else {
			key = string(kb)
			sb.node = svcNode{fqdn: key + ".svc." + r.zone + ".", klen: len(key)}
		}
		builds[key] = sb
		order = append(order, sb)
		return sb
	}
	var dirtyNS map[string]struct{}
	var dirtyPods map[podKey]struct{}
	touchNS := func(ns string) {
		if dirtyNS == nil {
			dirtyNS = make(map[string]struct{})
		}
		dirtyNS[ns] = struct{}{}
	}
	nsRef := func(ns string, d int) {
		w.nsRefs[ns] += d
		if w.nsRefs[ns] == 0 {
			delete(w.nsRefs, ns)
		}
		touchNS(ns)
	}
	touchPod := func(k podKey) {
		if dirtyPods == nil {
			dirtyPods = make(map[podKey]struct{})
		}
		dirtyPods[k] = struct{}{}
	}
	for _, o := range b.ops {
		switch o.kind {
		case opUpsertService:
			sb := build(o.key)
			old := sb.node.spec
			if old == nil {
				nsRef(o.key.Namespace, 1)
			} else if sameSpec(old, o.svc) {
				continue
			}
			sb.setSpec(o.svc)
		case opDeleteService:
			if sb := build(o.key); sb.node.spec != nil {
				sb.setSpec(nil)
				nsRef(o.key.Namespace, -1)
			}
		case opSlice:
			sb := build(o.key)
			if o.slice.Kind == endpoints.Deleted {
				sb.setSlice(o.slice.Old.Name, nil)
			} else {
				var rec *sliceRec
				rec, w.rowBuf = holdSlice(o.slice.Slice, r.scanRows, sb.slice(o.slice.Slice.Name), w.rowBuf)
				sb.setSlice(o.slice.Slice.Name, rec)
			}
		case opUpsertPod, opDeletePod:
			old, had := w.pods[o.key]
			for _, a := range old {
				k := podKey{o.key.Namespace, a}
				if w.podAddrs[k]--; w.podAddrs[k] == 0 {
					delete(w.podAddrs, k)
				}
				touchPod(k)
			}
			if o.kind == opDeletePod {
				if had {
					delete(w.pods, o.key)
					nsRef(o.key.Namespace, -1)
				}
				continue
			}
			if !had {
				nsRef(o.key.Namespace, 1)
			}
			w.pods[o.key] = o.ips
			for _, a := range o.ips {
				k := podKey{o.key.Namespace, a}
				w.podAddrs[k]++
				touchPod(k)
			}
		case opUpsertNamespace:
			w.nsDeclared[o.key.Namespace] = true
			touchNS(o.key.Namespace)
		case opDeleteNamespace:
			delete(w.nsDeclared, o.key.Namespace)
			touchNS(o.key.Namespace)
		}
	}

	clear(w.rowBuf[:cap(w.rowBuf)])
	old := r.snap.Load()
	for _, sb := range order {
		w.publish(e, sb, r.wideRows)
	}
	w.rev.trim(e)
	names := newShardWriter(old.names)
	var nb [64]byte
	for ns := range dirtyNS {
		exists := w.nsRefs[ns] > 0 || w.nsDeclared[ns]
		for _, suffix := range [...]string{".svc", ".pod"} {
			// A namespace's names change only when it comes or goes, not
			// at each change of its pods: the key is made, and the shard
			// copied, only when the name is to be written.
			b := append(append(nb[:0], ns...), suffix...)
			h := hashBytes(b)
			v, had := names.cur()[h&shardMask][string(b)]
			if exists && (r.pods != PodsDisabled || suffix == ".svc") {
				if !had || v != emptyEntry {
					names.set(h, string(b), emptyEntry)
				}
			} else if had {
				names.del(h, string(b))
			}
		}
	}
	if r.pods == PodsVerified {
		for k := range dirtyPods {
			if w.podAddrs[k] > 0 {
				w.podSet.set(e, hashPod(k), k, struct{}{})
			} else {
				w.podSet.del(e, hashPod(k), k)
			}
		}
	}
	r.snap.Store(&snapshot{gen: old.gen + 1, svcs: w.svcs, names: names.cur(), rev: w.rev, pods: w.podSet})
	return nil
}

// setSpec replaces the Service's spec (nil: it was deleted) and notes
// the addresses whose claims may change: its ClusterIPs, old and new,
// and, when what makes its endpoints published changes (existence,
// ExternalName, publishNotReadyAddresses), every endpoint address.
func (sb *svcBuild) setSpec(sp *svcSpec) {
	old := sb.node.spec
	sb.node.spec = sp
	if old != nil {
		sb.addrs = append(sb.addrs, old.clusterIPs...)
	}
	if sp != nil {
		sb.addrs = append(sb.addrs, sp.clusterIPs...)
	}
	if old == nil || sp == nil || old.external || sp.external || old.publishNotReady != sp.publishNotReady {
		sb.addrs = sb.node.allAddrs(sb.addrs)
	}
}

// slice returns the Service's record of the slice name, nil if none.
func (sb *svcBuild) slice(name string) *sliceRec {
	ss := sb.node.slices
	if i, found := slices.BinarySearchFunc(ss, name, func(s *sliceRec, name string) int { return strings.Compare(s.name, name) }); found {
		return ss[i]
	}
	return nil
}

// setSlice stores the slice name of the Service (nil: it was deleted),
// in a new array of slices that shares every other slice with the
// published node.
func (sb *svcBuild) setSlice(name string, rec *sliceRec) {
	ss := sb.node.slices
	i, found := slices.BinarySearchFunc(ss, name, func(s *sliceRec, name string) int { return strings.Compare(s.name, name) })
	var old *sliceRec
	if found {
		old = ss[i]
	}
	if old == rec { // both nil, or the slice makes the record it had
		return
	}
	if !sb.ownSlices {
		ss = slices.Clone(ss) // the published node's array
		sb.ownSlices = true
	}
	switch {
	case rec == nil:
		ss = slices.Delete(ss, i, i+1)
	case found:
		ss[i] = rec
	default:
		ss = slices.Insert(ss, i, rec)
	}
	if len(ss) == 0 {
		ss = nil
	}
	sb.node.slices = ss
	sb.addrs = addrChanges(sb.addrs, old, rec)
}

// publish puts the Service's next node in the table of Services, in
// epoch e, and brings its claims up to date. A headless Service of
// minWide endpoint addresses or more gets a wideCache.
func (w *writer) publish(e uint64, sb *svcBuild, minWide int) {
	key := sb.node.key()
	var next *svcNode
	switch {
	case sb.node.spec == nil && len(sb.node.slices) == 0:
	case sb.old != nil && sb.old.spec == sb.node.spec && slices.Equal(sb.old.slices, sb.node.slices):
		next = sb.old // nothing it answers changed
	default:
		n := sb.node
		n.slices = slices.Clip(n.slices)
		n.wide = nil // the old node's answers
		if n.spec != nil && n.spec.headless && n.rows() >= minWide {
			n.wide = new(wideCache)
		}
		next = &n
	}
	if next != sb.old {
		if next == nil {
			w.svcs.del(e, hashString(key), key)
		} else {
			w.svcs.set(e, hashString(key), key, next)
		}
	}
	slices.SortFunc(sb.addrs, netip.Addr.Compare)
	for _, a := range slices.Compact(sb.addrs) {
		w.rev.set(e, a, key, next != nil && next.claims(a))
	}
}

// UpsertService applies one Batch.UpsertService.
func (r *Resolver) UpsertService(svc *service.Service) error {
	var b Batch
	b.UpsertService(svc)
	return r.Apply(&b)
}

// DeleteService applies one Batch.DeleteService.
func (r *Resolver) DeleteService(key service.NamespacedName) error {
	var b Batch
	b.DeleteService(key)
	return r.Apply(&b)
}

// ApplyServices applies the changes of a service.Registry as one
// snapshot (Batch.Services).
func (r *Resolver) ApplyServices(changes []service.Change) error {
	var b Batch
	b.Services(changes...)
	return r.Apply(&b)
}

// ApplySlices applies the slice changes of one endpoints controller step
// as one snapshot (Batch.Slices).
func (r *Resolver) ApplySlices(changes []endpoints.Change) error {
	var b Batch
	b.Slices(changes...)
	return r.Apply(&b)
}

// UpsertPod applies one Batch.UpsertPod.
func (r *Resolver) UpsertPod(pod *service.Pod) error {
	var b Batch
	b.UpsertPod(pod)
	return r.Apply(&b)
}

// DeletePod applies one Batch.DeletePod.
func (r *Resolver) DeletePod(key service.NamespacedName) error {
	var b Batch
	b.DeletePod(key)
	return r.Apply(&b)
}
