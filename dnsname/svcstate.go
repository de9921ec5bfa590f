package dnsname

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// svcState is the writer's view of one Service: its spec and slices (the
// input), the index of its ready endpoints, and the names it publishes.
// A change to a slice goes through the index to the names and addresses
// it touches, which are the only ones rebuilt; the other entries, and the
// pmap nodes holding them, are shared with the previous snapshot.
//
// A svcState lives while its Service or one of its slices exists.
type svcState struct {
	key  service.NamespacedName
	tkey string // "<svc>.<ns>": the key of the snapshot's svcTable
	th   uint64 // hashString(tkey)
	fqdn string // "<svc>.<ns>.svc.<zone>."

	spec *svcSpec // nil: the Service does not exist (its slices wait for it)
	// slices holds what the names need of each slice, sorted by name.
	slices []heldSlice
	// idx indexes the ready endpoints; nil for a missing or ExternalName
	// Service, which publish no endpoint names.
	idx *epIndex

	// The published names: the Service's own entry (nil: it has no name
	// and is not in the snapshot) and those below it by their labels in
	// front of it ("_http._tcp", "web-0"). node holds both.
	self *entry
	sub  pmap[string, *entry]
	node *svcNode

	// What the Apply in progress has touched.
	queued    bool
	rebuild   bool // every name
	dirtySelf bool
	dirty     []string     // labels below the Service's name, maybe repeated
	addrs     []netip.Addr // addresses whose PTR claims may have changed
}

func (w *writer) state(key service.NamespacedName, zone string) *svcState {
	st := w.svcs[key]
	if st == nil {
		// The key is the start of the name, so that a query comparing
		// it brings in the bytes its answer's owner name is written from.
		st = &svcState{key: key, fqdn: key.Name + "." + key.Namespace + ".svc." + zone + "."}
		st.tkey = st.fqdn[:len(key.Name)+1+len(key.Namespace)]
		st.th = hashString(st.tkey)
		w.svcs[key] = st
	}
	return st
}

// epIndex holds the items every name of a Service gets from its ready
// endpoints, by name, and the endpoint names claiming each address.
type epIndex struct {
	headless bool
	pnr      bool // publishNotReadyAddresses: every endpoint is ready
	n        int  // ready endpoint addresses
	// all is the Service name of a headless Service.
	all *wideAgg
	// The maps are made by the first endpoint that needs them.
	//
	// hosts holds the endpoint names, by label.
	hosts map[string]*agg
	// ports holds a headless Service's SRV names, by label.
	ports map[string]*wideAgg
	// ptr holds, per address, the names of the endpoints with it.
	ptr map[netip.Addr][]counted[string]
}

// ready is one endpoint address DNS publishes, with its label.
type ready struct {
	host string
	addr netip.Addr
}

func compareReady(x, y ready) int {
	return cmp.Or(strings.Compare(x.host, y.host), x.addr.Compare(y.addr))
}

// slicePort is a port of a slice as the names use it: the port, and the
// label of its SRV name ("" for an unnamed port).
type slicePort struct {
	port  int32
	label string
}

var noSlicePorts = []slicePort{{port: -1}}

func portsOf(ports []endpoints.Port) []slicePort {
	if len(ports) == 0 {
		return noSlicePorts
	}
	ps := make([]slicePort, len(ports))
	for i, p := range ports {
		ps[i].port = p.Port
		if p.Name != "" && p.Port >= 0 {
			proto, _ := protoLabel(p.Protocol) // checked by Batch.Slices
			ps[i].label = portLabel(strings.ToLower(p.Name), proto)
		}
	}
	return ps
}

func samePorts(x, y []endpoints.Port) bool {
	return slices.EqualFunc(x, y, func(a, b endpoints.Port) bool {
		return a.Name == b.Name && a.Protocol == b.Protocol && a.Port == b.Port
	})
}

// heldSlice is what the writer keeps of a slice: its name, its ports and
// one row per endpoint address, instead of the slice itself, which holds
// much that DNS never reads (object metadata, conditions, topology, a
// map of labels) and is the caller's to keep or drop.
type heldSlice struct {
	name  string
	ports []endpoints.Port
	rows  []heldAddr
}

// heldAddr is one address of an endpoint; an endpoint is a run of rows
// starting at one with first set (one row with no address for an
// endpoint without any).
type heldAddr struct {
	addr  netip.Addr
	host  string // the endpoint's hostname field
	ready bool
	first bool
}

func holdSlice(s *endpoints.Slice) heldSlice {
	h := heldSlice{name: s.Name, ports: s.Ports}
	n := 0
	for i := range s.Endpoints {
		n += max(len(s.Endpoints[i].Addresses), 1)
	}
	h.rows = make([]heldAddr, 0, n)
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		row := heldAddr{host: ep.Hostname, ready: ep.Conditions.Ready, first: true}
		if len(ep.Addresses) == 0 {
			h.rows = append(h.rows, row)
			continue
		}
		for _, a := range ep.Addresses {
			row.addr = a
			h.rows = append(h.rows, row)
			row.first = false
		}
	}
	return h
}

// isReady reports whether DNS publishes the endpoint of row: it is
// ready, or the Service publishes not-ready addresses (spec §2.1,
// "ready"; the endpoints controller already marks them ready then, which
// this repeats for slices fed directly).
func (x *epIndex) isReady(row *heldAddr) bool { return row.ready || x.pnr }

// endpointEnd returns the end of the endpoint whose rows start at i.
func endpointEnd(rows []heldAddr, i int) int {
	for i++; i < len(rows) && !rows[i].first; i++ {
	}
	return i
}

// endpointStart returns the start of the endpoint whose rows end at j.
func endpointStart(rows []heldAddr, j int) int {
	for j--; j > 0 && !rows[j].first; j-- {
	}
	return j
}

// sameReady reports whether two endpoints, given as their rows, publish
// the same names.
func (x *epIndex) sameReady(a, b []heldAddr) bool {
	ra := x.isReady(&a[0])
	if ra != x.isReady(&b[0]) {
		return false
	}
	if !ra {
		return true
	}
	if len(a) != len(b) || a[0].host != b[0].host {
		return false
	}
	for i := range a {
		if a[i].addr != b[i].addr {
			return false
		}
	}
	return true
}

// readyOf appends the addresses the endpoints of rows publish to rs.
func (x *epIndex) readyOf(rs []ready, rows []heldAddr) []ready {
	for i := range rows {
		row := &rows[i]
		if !x.isReady(row) || !row.addr.IsValid() {
			continue
		}
		a := row.addr.Unmap()
		rs = append(rs, ready{endpointHostname(row.host, a), a})
	}
	return rs
}

// addSlice adds (d = 1) or removes (d = -1) every ready endpoint of s.
func (st *svcState) addSlice(s *heldSlice, d int32) {
	ps := portsOf(s.ports)
	for _, e := range st.idx.readyOf(nil, s.rows) {
		st.addReady(e, ps, d)
	}
}

// diffSlice moves the index from slice old to slice next (either may be
// nil), touching only the endpoints that differ. Endpoints keep their
// places in a slice the controller updates, so the common prefix and
// suffix are skipped; what is left is compared as two sets, so that a
// reordered endpoint costs nothing. A change of the slice's ports changes
// every name of it.
func (st *svcState) diffSlice(old, next *heldSlice) {
	x := st.idx
	if old == nil || next == nil || !samePorts(old.ports, next.ports) {
		if old != nil {
			st.addSlice(old, -1)
		}
		if next != nil {
			st.addSlice(next, 1)
		}
		return
	}
	oe, ne := old.rows, next.rows
	for len(oe) > 0 && len(ne) > 0 {
		i, j := endpointEnd(oe, 0), endpointEnd(ne, 0)
		if !x.sameReady(oe[:i], ne[:j]) {
			break
		}
		oe, ne = oe[i:], ne[j:]
	}
	for len(oe) > 0 && len(ne) > 0 {
		i, j := endpointStart(oe, len(oe)), endpointStart(ne, len(ne))
		if !x.sameReady(oe[i:], ne[j:]) {
			break
		}
		oe, ne = oe[:i], ne[:j]
	}
	if len(oe) == 0 && len(ne) == 0 {
		return
	}
	gone, came := x.readyOf(nil, oe), x.readyOf(nil, ne)
	slices.SortFunc(gone, compareReady)
	slices.SortFunc(came, compareReady)
	ps := portsOf(next.ports)
	for len(gone) > 0 || len(came) > 0 {
		var c int // <0: came[0] is new; >0: gone[0] is gone; 0: both
		switch {
		case len(gone) == 0:
			c = -1
		case len(came) == 0:
			c = 1
		default:
			c = compareReady(came[0], gone[0])
		}
		switch {
		case c == 0:
			gone, came = gone[1:], came[1:]
		case c < 0:
			st.addReady(came[0], ps, 1)
			came = came[1:]
		default:
			st.addReady(gone[0], ps, -1)
			gone = gone[1:]
		}
	}
}

// addReady adds (d = 1) or removes (d = -1) one ready endpoint address
// with the slice's ports ps, and marks what it touches.
//
// Spec §2.4.1 and §2.4.3: <hostname>.<svc> and its PTR for each ready
// endpoint; CoreDNS answers these for ClusterIP Services too. Spec
// §2.4.1 and §2.4.2 for a headless Service: its name answers A/AAAA for
// each ready endpoint, and SRV per named port and ready endpoint, with
// the endpoint's name as target.
func (st *svcState) addReady(e ready, ps []slicePort, d int32) {
	x := st.idx
	fqdn := e.host + "." + st.fqdn
	x.n += int(d)
	h := x.hosts[e.host]
	if h == nil {
		h = &agg{owner: fqdn}
		if x.hosts == nil {
			x.hosts = make(map[string]*agg)
		}
		x.hosts[e.host] = h
	}
	for _, p := range ps {
		h.add(item{e.addr, p.port, fqdn}, d)
	}
	if h.n == 0 {
		delete(x.hosts, e.host)
	}
	st.touch(e.host)
	if x.headless {
		st.dirtySelf = true
		for _, p := range ps {
			x.all.add(item{e.addr, p.port, fqdn}, d)
			if p.label == "" {
				continue
			}
			s := x.ports[p.label]
			if s == nil {
				s = newWideAgg(p.label + "." + st.fqdn)
				if x.ports == nil {
					x.ports = make(map[string]*wideAgg)
				}
				x.ports[p.label] = s
			}
			s.add(item{e.addr, p.port, fqdn}, d)
			if s.n == 0 {
				delete(x.ports, p.label)
			}
			st.touch(p.label)
		}
	}
	if cs := bump(x.ptr[e.addr], fqdn, d, strings.Compare); len(cs) > 0 {
		if x.ptr == nil {
			x.ptr = make(map[netip.Addr][]counted[string])
		}
		x.ptr[e.addr] = cs
	} else {
		delete(x.ptr, e.addr)
	}
	st.addrs = append(st.addrs, e.addr)
}

func (st *svcState) touch(label string) { st.dirty = append(st.dirty, label) }

// setSlice stores the slice name of the Service (nil: it was deleted) and
// updates the index.
func (st *svcState) setSlice(name string, s *endpoints.Slice) {
	i, found := slices.BinarySearchFunc(st.slices, name, func(h heldSlice, name string) int { return strings.Compare(h.name, name) })
	var old *heldSlice
	if found {
		c := st.slices[i]
		old = &c
	}
	var next *heldSlice
	switch {
	case s == nil && found:
		st.slices = slices.Delete(st.slices, i, i+1)
	case s != nil:
		h := holdSlice(s)
		next = &h
		if found {
			st.slices[i] = h
		} else {
			st.slices = slices.Insert(st.slices, i, h)
		}
	}
	if st.idx != nil && (old != nil || next != nil) {
		st.diffSlice(old, next)
	}
}

// setSpec replaces the Service's spec (nil: it was deleted). A change of
// what the endpoint names depend on (headless, publishNotReadyAddresses,
// ExternalName, existence) reindexes the Service and rebuilds all its
// names; a ClusterIP Service's new ports or clusterIPs rebuild only the
// names made from them.
func (st *svcState) setSpec(sp *svcSpec) {
	old := st.spec
	st.spec = sp
	if old != nil && sp != nil && !old.external && !sp.external &&
		old.headless == sp.headless && old.publishNotReady == sp.publishNotReady {
		if sp.headless || sameSpec(old, sp) {
			return // a headless Service's names come from its slices only
		}
		st.dirtySelf = true
		for _, ps := range [][]portSpec{old.ports, sp.ports} {
			for _, p := range ps {
				if p.name != "" {
					st.touch(portLabel(p.name, p.proto))
				}
			}
		}
		st.addrs = append(append(st.addrs, old.clusterIPs...), sp.clusterIPs...)
		return
	}
	st.rebuild = true
	if old != nil {
		st.addrs = append(st.addrs, old.clusterIPs...)
	}
	if sp != nil {
		st.addrs = append(st.addrs, sp.clusterIPs...)
	}
	if st.idx != nil {
		for a := range st.idx.ptr {
			st.addrs = append(st.addrs, a)
		}
		st.idx = nil
	}
	if sp != nil && !sp.external {
		st.idx = &epIndex{
			headless: sp.headless,
			pnr:      sp.publishNotReady,
		}
		if sp.headless {
			st.idx.all = newWideAgg(st.fqdn)
		}
		for i := range st.slices {
			st.addSlice(&st.slices[i], 1)
		}
	}
}

func sameSpec(x, y *svcSpec) bool {
	return x.name == y.name && x.ns == y.ns && x.external == y.external && x.externalName == y.externalName &&
		x.headless == y.headless && x.publishNotReady == y.publishNotReady &&
		slices.Equal(x.clusterIPs, y.clusterIPs) && slices.Equal(x.ports, y.ports)
}

// clusterIPClaim reports whether the Service claims a as a ClusterIP
// (spec §2.3.3).
func (st *svcState) clusterIPClaim(a netip.Addr) bool {
	sp := st.spec
	return sp != nil && !sp.external && !sp.headless && slices.Contains(sp.clusterIPs, a)
}

// claims reports whether the Service has a PTR claim on a.
func (st *svcState) claims(a netip.Addr) bool {
	if st.clusterIPClaim(a) {
		return true
	}
	return st.idx != nil && len(st.idx.ptr[a]) > 0
}

// publish brings the Service's names up to date with what the Apply in
// progress touched, in epoch e, and returns its node (nil: no name).
// Wide names make up to eager records at once (see wideAgg).
func (r *Resolver) publish(st *svcState, e uint64, eager int) *svcNode {
	sp := st.spec
	switch {
	case sp == nil:
		st.self, st.sub = nil, pmap[string, *entry]{}
	case sp.external:
		if st.rebuild {
			// Spec §2.5: a CNAME to the external name. CoreDNS answers no
			// endpoint or SRV names under an ExternalName Service.
			st.self, st.sub = nil, pmap[string, *entry]{}
			if sp.externalName != "" {
				st.self = recordEntry(entryCNAME, Record{Name: st.fqdn, Type: TypeCNAME, TTL: r.ttl, Target: sp.externalName})
			}
		}
	default:
		if st.rebuild {
			st.sub = pmap[string, *entry]{}
			st.dirtySelf = true
			for label := range st.idx.hosts {
				st.touch(label)
			}
			for label := range st.idx.ports {
				st.touch(label)
			}
			if !sp.headless {
				for _, p := range sp.ports {
					if p.name != "" {
						st.touch(portLabel(p.name, p.proto))
					}
				}
			}
		}
		slices.Sort(st.dirty)
		for _, label := range slices.Compact(st.dirty) {
			h := hashString(label)
			if ent := r.subEntry(st, label, eager); ent != nil {
				st.sub.set(e, h, label, ent)
			} else {
				st.sub.del(e, h, label)
			}
		}
		if st.dirtySelf {
			switch {
			case !sp.headless:
				st.self = r.clusterIPEntry(st, st.fqdn, nil)
			case st.idx.n > 0:
				st.self = st.idx.all.entry(r.ttl, eager)
			default:
				st.self = nil // spec §2.4.1: no ready endpoint, NXDOMAIN
			}
		}
	}
	st.rebuild, st.dirtySelf, st.dirty = false, false, nil
	switch {
	case st.self == nil:
		return nil
	case st.node != nil && st.node.self == st.self && st.node.sub == st.sub:
		// Nothing it answers changed. (A write to sub in this epoch
		// copies its root, which the published node holds from an
		// earlier one: publish runs once per Service and Apply.)
		return st.node
	}
	return &svcNode{self: st.self, sub: st.sub}
}

// subEntry makes the entry of the name label.<svc>, nil when it does not
// exist; wide names make up to eager records at once.
func (r *Resolver) subEntry(st *svcState, label string, eager int) *entry {
	x := st.idx
	if label[0] != '_' {
		if h := x.hosts[label]; h != nil {
			return h.entry(r.ttl)
		}
		return nil
	}
	if x.headless {
		if p := x.ports[label]; p != nil {
			return p.entry(r.ttl, eager)
		}
		return nil
	}
	// The spec's named ports; of two with the same label, the last
	// counts.
	i, ok := st.spec.portByLabel(label)
	if !ok {
		return nil
	}
	return r.clusterIPEntry(st, label+"."+st.fqdn, &st.spec.ports[i])
}
