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
type writer struct {
	// epoch numbers the Applies; the pmap nodes made by the one in
	// progress are the only ones it may change in place.
	epoch uint64
	svcs  map[service.NamespacedName]*svcState
	// claimers holds, per address, the Services with a PTR claim on it:
	// mostly one, kept in claimer, the others in moreClaimers (a pointer
	// per address rather than a slice: 50 000 endpoints are 50 000
	// addresses).
	claimer      map[netip.Addr]*svcState
	moreClaimers map[netip.Addr][]*svcState
	// svcShards is the truth behind the snapshot's frozen svcTables.
	svcShards [svcShards]map[string]*svcNode
	// rev and podSet are the snapshot's tables of the same name.
	rev    pmap[netip.Addr, []Record]
	podSet pmap[podKey, struct{}]
	// nsRefs counts the Services and pods of each namespace.
	nsRefs     map[string]int
	nsDeclared map[string]bool
	pods       map[service.NamespacedName][]netip.Addr
	podAddrs   map[podKey]int
}

func (w *writer) init() {
	w.svcs = make(map[service.NamespacedName]*svcState)
	w.claimer = make(map[netip.Addr]*svcState)
	w.moreClaimers = make(map[netip.Addr][]*svcState)
	w.nsRefs = make(map[string]int)
	w.nsDeclared = make(map[string]bool)
	w.pods = make(map[service.NamespacedName][]netip.Addr)
	w.podAddrs = make(map[podKey]int)
}

// Apply applies every change of b and publishes the result as one new
// snapshot, so that N changes cost one publication. If any change in b is
// invalid, Apply applies none and returns every problem, joined, each
// wrapping ErrInvalidObject. An empty batch publishes nothing.
//
// The cost is in proportion to what changed, not to the size of the
// Services or of the cluster. A slice change costs a pass over the old
// and new slice to find the endpoints that differ; then, for each of
// them, its endpoint name and PTR record are made again and O(log n)
// nodes of the tables holding them are copied; every other name is
// shared with the previous snapshot. A headless Service's own name and
// SRV names list every ready endpoint: each change updates their sorted
// lists in O(log n), and when they are large their records are made by
// the first query after the change instead (see Resolve). Changing
// whether a Service exists, is headless, is an ExternalName or publishes
// not-ready addresses rebuilds all of its names; other Service changes
// rebuild the names made from the spec. Publishing copies about 1 KiB of
// the index of Services (see svcIndex) per Service changed.
func (r *Resolver) Apply(b *Batch) error { return r.apply(b, eagerRecords) }

// apply is Apply with wide names making up to eager records at once
// (see wideAgg); tests vary it, production passes eagerRecords.
func (r *Resolver) apply(b *Batch, eager int) error {
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
	var queue []*svcState
	enqueue := func(st *svcState) {
		if !st.queued {
			st.queued = true
			queue = append(queue, st)
		}
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
			st := w.state(o.key, r.zone)
			if st.spec == nil {
				nsRef(o.key.Namespace, 1)
			}
			st.setSpec(o.svc)
			enqueue(st)
		case opDeleteService:
			if st := w.svcs[o.key]; st != nil && st.spec != nil {
				st.setSpec(nil)
				nsRef(o.key.Namespace, -1)
				enqueue(st)
			}
		case opSlice:
			st := w.state(o.key, r.zone)
			if o.slice.Kind == endpoints.Deleted {
				st.setSlice(o.slice.Old.Name, nil)
			} else {
				st.setSlice(o.slice.Slice.Name, o.slice.Slice)
			}
			enqueue(st)
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

	old := r.snap.Load()
	svcs := old.svcs
	var dirtyAddrs []netip.Addr
	for _, st := range queue {
		st.queued = false
		node := r.publish(st, e, eager)
		for _, a := range st.addrs {
			w.claim(st, a)
		}
		dirtyAddrs = append(dirtyAddrs, st.addrs...)
		st.addrs = nil
		if node != st.node {
			i := st.th & svcShardMask
			m := w.svcShards[i]
			if node != nil {
				if m == nil {
					m = make(map[string]*svcNode)
					w.svcShards[i] = m
				}
				m[st.tkey] = node
			} else {
				delete(m, st.tkey)
			}
			svcs.set(e, m, st.th, st.tkey, node)
			st.node = node
		}
		if st.spec == nil && len(st.slices) == 0 {
			delete(w.svcs, st.key)
		}
	}
	slices.SortFunc(dirtyAddrs, netip.Addr.Compare)
	for _, a := range slices.Compact(dirtyAddrs) {
		if recs := r.ptrRecords(a); recs != nil {
			w.rev.set(e, hashAddr(a), a, recs)
		} else {
			w.rev.del(e, hashAddr(a), a)
		}
	}
	names := newShardWriter(old.names)
	for ns := range dirtyNS {
		exists := w.nsRefs[ns] > 0 || w.nsDeclared[ns]
		for _, k := range []string{ns + ".svc", ns + ".pod"} {
			if exists && (r.pods != PodsDisabled || strings.HasSuffix(k, ".svc")) {
				names.set(hashString(k), k, emptyEntry)
			} else {
				names.del(hashString(k), k)
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
	r.snap.Store(&snapshot{gen: old.gen + 1, svcs: svcs, names: names.cur(), rev: w.rev, pods: w.podSet})
	return nil
}

// claim records in the claimers whether the Service st claims a.
func (w *writer) claim(st *svcState, a netip.Addr) {
	first, more := w.claimer[a], w.moreClaimers[a]
	i := slices.Index(more, st)
	had := first == st || i >= 0
	switch has := st.claims(a); {
	case has == had:
	case has && first == nil:
		w.claimer[a] = st
	case has:
		w.moreClaimers[a] = append(more, st)
	case first == st && len(more) == 0:
		delete(w.claimer, a)
	case first == st:
		// The last of the others takes the first's place.
		w.claimer[a] = more[len(more)-1]
		w.setMore(a, more[:len(more)-1])
	default:
		w.setMore(a, slices.Delete(more, i, i+1))
	}
}

func (w *writer) setMore(a netip.Addr, more []*svcState) {
	if len(more) == 0 {
		delete(w.moreClaimers, a)
	} else {
		w.moreClaimers[a] = more
	}
}

// claimersOf calls f for every Service claiming a.
func (w *writer) claimersOf(a netip.Addr, f func(*svcState)) {
	if st := w.claimer[a]; st != nil {
		f(st)
		for _, st := range w.moreClaimers[a] {
			f(st)
		}
	}
}

// ptrRecords returns the PTR records of a, from every Service claiming
// it, as CoreDNS's serviceRecordForIP answers: the Service names when a
// is a ClusterIP, otherwise the names of the endpoints with that address
// (one per Service the pod backs). It returns nil when nothing claims a.
func (r *Resolver) ptrRecords(a netip.Addr) []Record {
	var svcTargets, epTargets []string
	r.w.claimersOf(a, func(st *svcState) {
		if st.clusterIPClaim(a) {
			svcTargets = append(svcTargets, st.fqdn)
		}
		if st.idx != nil {
			for _, c := range st.idx.ptr[a] {
				epTargets = append(epTargets, c.v)
			}
		}
	})
	targets := epTargets
	if len(svcTargets) > 0 {
		targets = svcTargets
	}
	if len(targets) == 0 {
		return nil
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	name := PTRName(a)
	recs := make([]Record, len(targets))
	for i, t := range targets {
		recs[i] = Record{Name: name, Type: TypePTR, TTL: r.ttl, Target: t}
	}
	return recs
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
