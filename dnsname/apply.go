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
	services map[service.NamespacedName]*svcSpec
	slices   map[service.NamespacedName]map[string]*endpoints.Slice
	// published is what each Service put in the current snapshot.
	published map[service.NamespacedName]*output
	// claimers lists, per address, the Services with a PTR claim on it.
	claimers map[netip.Addr]map[service.NamespacedName]struct{}
	// svcShards is the truth behind the snapshot's frozen svcTables.
	svcShards [shardCount]map[string]*svcNode
	// nsRefs counts the Services and pods of each namespace.
	nsRefs     map[string]int
	nsDeclared map[string]bool
	pods       map[service.NamespacedName][]netip.Addr
	podAddrs   map[podKey]int
}

func (w *writer) init() {
	w.services = make(map[service.NamespacedName]*svcSpec)
	w.slices = make(map[service.NamespacedName]map[string]*endpoints.Slice)
	w.published = make(map[service.NamespacedName]*output)
	w.claimers = make(map[netip.Addr]map[service.NamespacedName]struct{})
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
// The cost is that of recomputing the records of each Service the batch
// touches (linear in its endpoints and ports) plus cloning each snapshot
// shard written (a 256th of the names, on average).
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
	dirtySvc := make(map[service.NamespacedName]struct{})
	dirtyNS := make(map[string]struct{})
	dirtyPods := make(map[podKey]struct{})
	nsRef := func(ns string, d int) {
		w.nsRefs[ns] += d
		if w.nsRefs[ns] == 0 {
			delete(w.nsRefs, ns)
		}
		dirtyNS[ns] = struct{}{}
	}
	for _, o := range b.ops {
		switch o.kind {
		case opUpsertService:
			if w.services[o.key] == nil {
				nsRef(o.key.Namespace, 1)
			}
			w.services[o.key] = o.svc
			dirtySvc[o.key] = struct{}{}
		case opDeleteService:
			if w.services[o.key] != nil {
				delete(w.services, o.key)
				nsRef(o.key.Namespace, -1)
				dirtySvc[o.key] = struct{}{}
			}
		case opSlice:
			m := w.slices[o.key]
			if o.slice.Kind == endpoints.Deleted {
				delete(m, o.slice.Old.Name)
				if len(m) == 0 {
					delete(w.slices, o.key)
				}
			} else {
				if m == nil {
					m = make(map[string]*endpoints.Slice)
					w.slices[o.key] = m
				}
				m[o.slice.Slice.Name] = o.slice.Slice
			}
			dirtySvc[o.key] = struct{}{}
		case opUpsertPod, opDeletePod:
			old, had := w.pods[o.key]
			for _, a := range old {
				k := podKey{o.key.Namespace, a}
				if w.podAddrs[k]--; w.podAddrs[k] == 0 {
					delete(w.podAddrs, k)
				}
				dirtyPods[k] = struct{}{}
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
				dirtyPods[k] = struct{}{}
			}
		case opUpsertNamespace:
			w.nsDeclared[o.key.Namespace] = true
			dirtyNS[o.key.Namespace] = struct{}{}
		case opDeleteNamespace:
			delete(w.nsDeclared, o.key.Namespace)
			dirtyNS[o.key.Namespace] = struct{}{}
		}
	}

	old := r.snap.Load()
	svcs := *old.svcs
	var dirtyShards [shardCount]bool
	names := newShardWriter(old.names)
	rev := newShardWriter(old.rev)
	pods := newShardWriter(old.pods)
	dirtyAddrs := make(map[netip.Addr]struct{})
	for key := range dirtySvc {
		var out *output
		if spec := w.services[key]; spec != nil {
			out = r.build(spec, w.slices[key])
		}
		k := key.Name + "." + key.Namespace
		i := hashString(k) & shardMask
		if out != nil && out.node != nil {
			if w.svcShards[i] == nil {
				w.svcShards[i] = make(map[string]*svcNode)
			}
			w.svcShards[i][k] = out.node
			dirtyShards[i] = true
		} else if _, ok := w.svcShards[i][k]; ok {
			delete(w.svcShards[i], k)
			dirtyShards[i] = true
		}
		// Only addresses whose claims changed get new PTR records.
		var prev map[netip.Addr][]ptrClaim
		if p := w.published[key]; p != nil {
			prev = p.ptr
		}
		var next map[netip.Addr][]ptrClaim
		if out != nil {
			next = out.ptr
		}
		for a, cs := range prev {
			if ncs, ok := next[a]; !ok || !slices.Equal(cs, ncs) {
				dirtyAddrs[a] = struct{}{}
			}
			if _, ok := next[a]; !ok {
				delete(w.claimers[a], key)
				if len(w.claimers[a]) == 0 {
					delete(w.claimers, a)
				}
			}
		}
		for a, cs := range next {
			if pcs, ok := prev[a]; !ok || !slices.Equal(cs, pcs) {
				dirtyAddrs[a] = struct{}{}
			}
			m := w.claimers[a]
			if m == nil {
				m = make(map[service.NamespacedName]struct{})
				w.claimers[a] = m
			}
			m[key] = struct{}{}
		}
		if out == nil {
			delete(w.published, key)
		} else {
			out.node = nil // the snapshot holds it; keep the claims only
			w.published[key] = out
		}
	}
	for i, dirty := range dirtyShards {
		if dirty {
			svcs[i] = newSvcTable(w.svcShards[i])
		}
	}
	for a := range dirtyAddrs {
		if recs := r.ptrRecords(a); recs != nil {
			rev.set(hashAddr(a), a, recs)
		} else {
			rev.del(hashAddr(a), a)
		}
	}
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
				pods.set(hashPod(k), k, struct{}{})
			} else {
				pods.del(hashPod(k), k)
			}
		}
	}
	r.snap.Store(&snapshot{gen: old.gen + 1, svcs: &svcs, names: names.s, rev: rev.s, pods: pods.s})
	return nil
}

// ptrRecords returns the PTR records of a, from every Service claiming
// it, as CoreDNS's serviceRecordForIP answers: the Service names when a
// is a ClusterIP, otherwise the names of the endpoints with that address
// (one per Service the pod backs). It returns nil when nothing claims a.
func (r *Resolver) ptrRecords(a netip.Addr) []Record {
	var svcTargets, epTargets []string
	for key := range r.w.claimers[a] {
		for _, c := range r.w.published[key].ptr[a] {
			if c.clusterIP {
				svcTargets = append(svcTargets, c.target)
			} else {
				epTargets = append(epTargets, c.target)
			}
		}
	}
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
