package proxy

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// Table is the node-independent part of what kube-proxy programs: every
// Service's frontends (ClusterIPs, external IPs, LoadBalancer ingress IPs
// and NodePorts, per port and family) and each port's endpoints from the
// EndpointSlices. A Table is immutable: changes go through a TableBuilder
// and produce a new Table that shares everything unchanged with the old
// one (copy-on-write B-trees), so a cluster can keep one Table per
// programming state and let thousands of node Proxies point at the one
// they last applied, at the cost of what differs.
//
// The zero Table is not usable; start from NewTable. A Table is safe for
// concurrent reads.
type Table struct {
	services  *btree.BTreeG[*tableService]
	frontends *btree.BTreeG[tableFrontend]
	nodePorts *btree.BTreeG[tableFrontend]
	version   uint64
	// id names this Table in the steps of the Tables built from it;
	// steps are the last builds that led here, oldest first (at most
	// maxSteps), so that a node's Proxy moving from an older Table of the
	// lineage learns which Services changed without walking them all.
	id    *tableID
	steps []tableStep
	// defaultAlg is the algorithm of Services without AlgorithmAnnotation;
	// builders start from it.
	defaultAlg string
}

// tableID is a Table's identity in its successors' steps: a pointer to
// it, not to the Table, so that a step does not keep its Table alive.
type tableID struct{ version uint64 }

// tableStep is one build: the Table it started from and the keys of the
// Services whose entries it replaced, added or removed, sorted (a key
// may be listed whose entry ended as it began: absent).
type tableStep struct {
	from *tableID
	keys []service.NamespacedName
	// fronts are the frontend keys the build wrote or removed (a
	// NodePort's with an invalid addr): a Proxy's cached frontends
	// elsewhere are still what the new Table holds.
	fronts []frontendKey
}

// maxSteps bounds the builds a Table remembers: a Proxy more than that
// many generations behind walks every Service it has state for instead.
const maxSteps = 16

// stepsSince returns the builds that led from old to t, when old is one
// of the last maxSteps Tables t was built from, and the number of keys
// keys and frontends they list; false otherwise. It costs O(maxSteps) and does not
// allocate.
func (t *Table) stepsSince(old *Table) ([]tableStep, int, bool) {
	for j := len(t.steps) - 1; j >= 0; j-- {
		if t.steps[j].from != old.id {
			continue
		}
		n := 0
		for _, st := range t.steps[j:] {
			n += len(st.keys) + len(st.fronts)
		}
		return t.steps[j:], n, true
	}
	return nil, 0, false
}

// lookup returns a Service's entry, nil when t has none.
func (t *Table) lookup(probe *tableService, key service.NamespacedName) *tableService {
	probe.key = key
	ts, _ := t.services.Get(probe)
	return ts
}

// tableService is one Service in a Table; immutable once built.
type tableService struct {
	key    service.NamespacedName
	svc    *service.Service // nil while only slices are known
	alg    string
	slices map[string]*endpoints.Slice
	ports  []*tablePort
}

// tablePort is one Service port in one IP family; immutable once built.
// A node's Proxy keeps its pickers for a port keyed by portKey and
// refreshes them when the *tablePort it last saw is replaced.
type tablePort struct {
	key   portKey
	svc   *service.Service
	spIdx int // the index of this port in svc.Spec.Ports
	alg   string
	// eps are the port's endpoints in address order; a build that
	// patches the port shares the entries of those that did not change
	// (8 bytes each, where a copy of the values was 15 times that).
	eps    []*endpointInfo
	hasAny bool
	// ranges are the Service's loadBalancerSourceRanges, which its
	// LoadBalancer frontends apply (tableFrontend.sourceRanges).
	ranges []netip.Prefix
	// dups reports that two slices had an endpoint at the same
	// address and port (the first slice by name won): a change of such
	// a port's slices is merged by a full rebuild, not patched.
	dups bool
}

type portKey struct {
	svc   service.NamespacedName
	name  string
	proto lb.Protocol
	ipv6  bool
}

type tableFrontend struct {
	addr  netip.Addr // zero for node ports
	port  uint16
	proto lb.Protocol
	ipv6  bool
	kind  FrontendKind
	tp    *tablePort
}

// sourceRanges returns the loadBalancerSourceRanges of a LoadBalancer
// frontend, nil for the other kinds. They live in the port, not in the
// frontend: a frontend is an item of a copy-on-write B-tree whose nodes
// every build that writes one copies, and the slice header would make
// them 60 % larger.
func (f tableFrontend) sourceRanges() []netip.Prefix {
	if f.kind != FrontendLoadBalancer || f.tp == nil {
		return nil
	}
	return f.tp.ranges
}

func lessFrontend(a, b tableFrontend) bool {
	if c := a.addr.Compare(b.addr); c != 0 {
		return c < 0
	}
	if a.port != b.port {
		return a.port < b.port
	}
	if a.proto != b.proto {
		return a.proto < b.proto
	}
	return !a.ipv6 && b.ipv6
}

func compareKeys(a, b service.NamespacedName) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

const tableDegree = 16

// NewTable returns an empty Table whose default algorithm is
// AlgorithmRandom, kube-proxy's.
func NewTable() *Table {
	return &Table{
		services:   btree.NewG(tableDegree, func(a, b *tableService) bool { return compareKeys(a.key, b.key) < 0 }),
		frontends:  btree.NewG(tableDegree, lessFrontend),
		nodePorts:  btree.NewG(tableDegree, lessFrontend),
		id:         &tableID{},
		defaultAlg: lb.AlgorithmRandom,
	}
}

// NewTableWithAlgorithm returns an empty Table whose Services without
// AlgorithmAnnotation use the named algorithm, as do the Tables built from
// it. An unknown name is an ErrInvalidConfig.
func NewTableWithAlgorithm(name string) (*Table, error) {
	if err := lb.ValidateAlgorithm(name); err != nil {
		return nil, err
	}
	t := NewTable()
	t.defaultAlg = name
	return t, nil
}

// Version counts the builds that led to this Table: a Table built from
// another has a larger version. Two Tables with the same version from the
// same lineage are the same.
func (t *Table) Version() uint64 { return t.version }

// Services returns the number of Services in the table.
func (t *Table) Services() int { return t.services.Len() }

// Frontends returns the number of frontends: VIP:port entries plus
// NodePort entries (each of which answers on every node address).
func (t *Table) Frontends() int { return t.frontends.Len() + t.nodePorts.Len() }

// Builder returns a TableBuilder that starts from t. t itself never
// changes.
func (t *Table) Builder() *TableBuilder {
	return &TableBuilder{from: t, t: &Table{
		services:   t.services.Clone(),
		frontends:  t.frontends.Clone(),
		nodePorts:  t.nodePorts.Clone(),
		version:    t.version,
		defaultAlg: t.defaultAlg,
	}}
}

// TableBuilder applies Service and EndpointSlice changes to a copy of a
// Table. It is single-use and single-writer: call Build once, then drop it.
type TableBuilder struct {
	from  *Table
	t     *Table
	dirty map[service.NamespacedName]bool
	built bool
	// sorted counts the endpoints Build sorted, which tests read: a
	// change of one slice among many sorts that slice's endpoints only.
	sorted int
	probe  tableService
	// fronts are the frontend keys written or removed (tableStep).
	fronts []frontendKey
}

// SetDefaultAlgorithm sets the algorithm for Services upserted from now
// on without AlgorithmAnnotation, in this builder and the Tables built
// from its result (the starting Table's default unless set). An unknown
// name is an ErrInvalidConfig.
func (b *TableBuilder) SetDefaultAlgorithm(name string) error {
	if err := lb.ValidateAlgorithm(name); err != nil {
		return err
	}
	b.t.defaultAlg = name
	return nil
}

func (b *TableBuilder) get(key service.NamespacedName) *tableService {
	return b.t.lookup(&b.probe, key) // a probe of the builder's: a new one escapes
}

// edit returns a private copy of the Service's entry, to modify.
func (b *TableBuilder) edit(key service.NamespacedName) *tableService {
	if b.dirty == nil {
		b.dirty = map[service.NamespacedName]bool{}
	}
	old := b.get(key)
	ts := &tableService{key: key}
	if old != nil {
		if b.dirty[key] {
			return old // already private to this builder
		}
		ts.svc, ts.alg, ts.ports = old.svc, old.alg, old.ports
		ts.slices = maps.Clone(old.slices) // sized once, where a Copy grows it
	}
	if ts.slices == nil {
		ts.slices = map[string]*endpoints.Slice{}
	}
	b.t.services.ReplaceOrInsert(ts)
	b.dirty[key] = true
	return ts
}

// UpsertService adds or replaces a Service (defaulted and validated, as a
// Registry hands them out; the table keeps its own copy). An unknown
// algorithm in its AlgorithmAnnotation is an ErrInvalidConfig and
// changes nothing.
func (b *TableBuilder) UpsertService(svc *service.Service) error {
	alg := b.t.defaultAlg
	if a, ok := svc.Annotations[AlgorithmAnnotation]; ok {
		if err := lb.ValidateAlgorithm(a); err != nil {
			return fmt.Errorf("service %s: annotation %s: %w", svc.Key(), AlgorithmAnnotation, err)
		}
		alg = a
	}
	ts := b.edit(svc.Key())
	ts.svc = svc.DeepCopy()
	ts.alg = alg
	return nil
}

// DeleteService removes a Service, its frontends and its slices.
func (b *TableBuilder) DeleteService(key service.NamespacedName) {
	if old := b.get(key); old != nil {
		b.unprogram(old)
		b.t.services.Delete(old)
		// Still dirty: Build skips it, and lists it as changed.
		if b.dirty == nil {
			b.dirty = map[service.NamespacedName]bool{}
		}
		b.dirty[key] = true
	}
}

// ApplySlices applies EndpointSlice changes as an endpoints.Controller
// returns them. Slices of a Service the table does not know yet are kept
// until it arrives.
func (b *TableBuilder) ApplySlices(changes []endpoints.Change) {
	for _, c := range changes {
		ts := b.edit(c.Service)
		switch c.Kind {
		case endpoints.Created, endpoints.Updated:
			ts.slices[c.Slice.Name] = c.Slice
		case endpoints.Deleted:
			delete(ts.slices, c.Old.Name)
		}
	}
}

// Build finishes the changes and returns the new Table. Only the
// Services touched since Builder are recomputed. Build panics if called
// twice, which is a programming error.
func (b *TableBuilder) Build() *Table {
	if b.built {
		panic("lb: TableBuilder.Build called twice")
	}
	b.built = true
	keys := slices.SortedFunc(maps.Keys(b.dirty), compareKeys)
	for _, k := range keys {
		ts := b.get(k)
		if ts == nil {
			continue
		}
		if ts.svc == nil && len(ts.slices) == 0 {
			b.t.services.Delete(ts)
			continue
		}
		b.rebuild(ts)
	}
	b.t.version++
	b.t.id = &tableID{version: b.t.version}
	steps := b.from.steps
	if len(steps) >= maxSteps {
		steps = steps[len(steps)-maxSteps+1:]
	}
	b.t.steps = append(slices.Clip(steps), tableStep{from: b.from.id, keys: keys, fronts: b.fronts})
	return b.t
}

// rebuild recomputes a Service's ports and frontends. A port whose
// Service is unchanged since the starting Table has its endpoints
// patched from the slices that changed (patchEndpoints), in
// O(endpoints + changed log changed), rather than gathered and sorted
// again from every slice.
func (b *TableBuilder) rebuild(ts *tableService) {
	var prev *tableService
	var changed []string
	var chPorts map[changedPort]int32
	if o := b.from.lookup(&b.probe, ts.key); o != nil && o.svc == ts.svc && o.alg == ts.alg {
		prev = o
		changed = changedSlices(o.slices, ts.slices)
		chPorts = changedPortIndex(changed, o.slices, ts.slices)
	}
	if prev == nil {
		b.unprogram(ts)
	}
	// Else the Service is the one the ports were programmed from, so
	// program below writes every frontend key unprogram would delete
	// (its addresses, ports and families are the Service's): each is
	// overwritten once, where a delete and an insert both walked the
	// tree and could rebalance it.
	ts.ports = nil
	svc := ts.svc
	if svc == nil || svc.Spec.Type == service.ServiceTypeExternalName {
		return
	}
	var names []string
	var ports map[slicePort]int32
	fams := families(svc)
	for i, sp := range svc.Spec.Ports {
		for _, v6 := range fams {
			tp := &tablePort{
				key:   portKey{svc: ts.key, name: sp.Name, proto: toProtocol(sp.Protocol), ipv6: v6},
				svc:   svc,
				spIdx: i,
				alg:   ts.alg,
			}
			patched := false
			if k := len(ts.ports); prev != nil && k < len(prev.ports) && prev.ports[k].key == tp.key && prev.ports[k].spIdx == i {
				tp.eps, patched = b.patchEndpoints(prev.ports[k], prev.slices, ts.slices, changed, chPorts, sp, v6)
			}
			if !patched {
				if names == nil {
					names = slices.Sorted(maps.Keys(ts.slices))
					ports = slicePortIndex(ts, names)
				}
				tp.eps, tp.dups = portEndpoints(ts, names, ports, sp, v6)
				b.sorted += len(tp.eps)
			}
			for _, e := range tp.eps {
				if e.b.Ready || e.b.Serving && e.b.Terminating {
					tp.hasAny = true
					break
				}
			}
			ts.ports = append(ts.ports, tp)
			b.program(svc, sp, tp)
		}
	}
}

// changedSlices returns the names of the slices that differ between two
// versions of a Service's slices, sorted; O(slices).
func changedSlices(old, cur map[string]*endpoints.Slice) []string {
	var out []string
	for n, sl := range cur {
		if old[n] != sl {
			out = append(out, n)
		}
	}
	for n := range old {
		if _, ok := cur[n]; !ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// patchEndpoints returns old's endpoints with the contributions of the
// changed slices' old versions taken out and those of their new
// versions merged in, in address order, as portEndpoints would gather
// them; it sorts only what the changed slices bring. It declines
// (false) where first-wins between slices matters: an address and port
// in two slices, before or after.
func (b *TableBuilder) patchEndpoints(old *tablePort, oldSlices, curSlices map[string]*endpoints.Slice, changed []string, idx map[changedPort]int32, sp service.ServicePort, v6 bool) ([]*endpointInfo, bool) {
	if old.dups {
		return nil, false
	}
	var rem, add []endpointInfo
	for _, n := range changed {
		o, c := oldSlices[n], curSlices[n]
		if o != nil && c != nil && o.AddressType == c.AddressType && slicePortOf(o, idx, sp) == slicePortOf(c, idx, sp) {
			rem, add = appendSliceDiff(rem, add, o, c, idx, sp, v6)
			continue
		}
		if o != nil {
			rem = appendSliceEndpoints(rem, o, idx, sp, v6)
		}
		if c != nil {
			add = appendSliceEndpoints(add, c, idx, sp, v6)
		}
	}
	if len(rem) == 0 && len(add) == 0 {
		return old.eps, true
	}
	byAddr := func(a, b endpointInfo) int { return a.b.Addr.Compare(b.b.Addr) }
	slices.SortFunc(rem, byAddr)
	slices.SortFunc(add, byAddr)
	b.sorted += len(rem) + len(add)
	for k := 1; k < len(add); k++ {
		if add[k].b.Addr == add[k-1].b.Addr {
			return nil, false
		}
	}
	// add is this build's own, never written again: the new entries
	// point into it.
	out := make([]*endpointInfo, 0, max(0, len(old.eps)+len(add)-len(rem)))
	i, j := 0, 0
	for _, e := range old.eps {
		for i < len(rem) && rem[i].b.Addr.Compare(e.b.Addr) < 0 {
			i++
		}
		if i < len(rem) && rem[i].b.Addr == e.b.Addr {
			i++
			continue
		}
		for j < len(add) && add[j].b.Addr.Compare(e.b.Addr) < 0 {
			out = append(out, &add[j])
			j++
		}
		if j < len(add) && add[j].b.Addr == e.b.Addr {
			return nil, false // also in a slice that did not change
		}
		out = append(out, e)
	}
	for ; j < len(add); j++ {
		out = append(out, &add[j])
	}
	if len(out) == 0 {
		return nil, true // as portEndpoints gathers none
	}
	return out, true
}

// changedPort names a port of one version of a changed slice.
type changedPort struct {
	sl          *endpoints.Slice
	name, proto string
}

// changedPortIndex maps the ports of the changed slices' old and new
// versions to their numbers, so that each Service port finds its port
// in a changed slice in O(1), as slicePortIndex does for a full
// gathering: the last of equal names wins.
func changedPortIndex(changed []string, old, cur map[string]*endpoints.Slice) map[changedPort]int32 {
	idx := map[changedPort]int32{}
	for _, n := range changed {
		for _, sl := range []*endpoints.Slice{old[n], cur[n]} {
			if sl == nil {
				continue
			}
			for _, spt := range sl.Ports {
				idx[changedPort{sl, spt.Name, string(spt.Protocol)}] = spt.Port
			}
		}
	}
	return idx
}

// appendSliceEndpoints appends the endpoints one slice gives a Service
// port in one family, as portEndpoints gathers them; idx holds the
// slice's ports (changedPortIndex).
func appendSliceEndpoints(out []endpointInfo, sl *endpoints.Slice, idx map[changedPort]int32, sp service.ServicePort, v6 bool) []endpointInfo {
	want := endpoints.AddressTypeIPv4
	if v6 {
		want = endpoints.AddressTypeIPv6
	}
	if sl.AddressType != want {
		return out
	}
	port, ok := idx[changedPort{sl, sp.Name, string(sp.Protocol)}]
	if !ok || port <= 0 {
		return out
	}
	for _, ep := range sl.Endpoints {
		if ei, ok := newEndpointInfo(ep, port); ok {
			out = append(out, ei)
		}
	}
	return out
}

// slicePortOf returns the number of a Service port in one version of a
// changed slice (changedPortIndex), 0 when it has none.
func slicePortOf(sl *endpoints.Slice, idx map[changedPort]int32, sp service.ServicePort) int32 {
	return idx[changedPort{sl, sp.Name, string(sp.Protocol)}]
}

// appendSliceDiff appends to rem and add what a new version c of a slice
// takes out of and brings to a Service port relative to its old version
// o, when both have the same address type and give the port the same
// number: then an endpoint the two share by pointer (endpoints are
// immutable, and the endpoints controller keeps an unchanged one's
// pointer and, mostly, its position: it replaces in place, removes by
// moving the last one into the hole and appends) converts to the same
// endpointInfo in both, and cancels out. It compares position by
// position, so a flip costs one endpoint each way, a removal two out and
// one in, an append one in; whatever is not at the same position in
// both is listed on both sides, which the merge treats as a removal and
// an insertion of the same address, as it does for a whole slice.
func appendSliceDiff(rem, add []endpointInfo, o, c *endpoints.Slice, idx map[changedPort]int32, sp service.ServicePort, v6 bool) ([]endpointInfo, []endpointInfo) {
	want := endpoints.AddressTypeIPv4
	if v6 {
		want = endpoints.AddressTypeIPv6
	}
	port := slicePortOf(c, idx, sp)
	if c.AddressType != want || port <= 0 {
		return rem, add
	}
	n := min(len(o.Endpoints), len(c.Endpoints))
	for i := range n {
		if oe, ce := o.Endpoints[i], c.Endpoints[i]; oe != ce {
			if ei, ok := newEndpointInfo(oe, port); ok {
				rem = append(rem, ei)
			}
			if ei, ok := newEndpointInfo(ce, port); ok {
				add = append(add, ei)
			}
		}
	}
	for _, ep := range o.Endpoints[n:] {
		if ei, ok := newEndpointInfo(ep, port); ok {
			rem = append(rem, ei)
		}
	}
	for _, ep := range c.Endpoints[n:] {
		if ei, ok := newEndpointInfo(ep, port); ok {
			add = append(add, ei)
		}
	}
	return rem, add
}

// newEndpointInfo is an endpoint at a port; false for an invalid
// address.
func newEndpointInfo(ep *endpoints.Endpoint, port int32) (endpointInfo, bool) {
	if ep == nil {
		return endpointInfo{}, false
	}
	ap := netip.AddrPortFrom(ep.Address().Unmap(), uint16(port))
	if !ap.Addr().IsValid() {
		return endpointInfo{}, false
	}
	ei := endpointInfo{b: lb.Backend{Addr: ap, Zone: ep.Zone, Node: ep.NodeName,
		Ready: ep.Conditions.Ready, Serving: ep.Conditions.Serving, Terminating: ep.Conditions.Terminating}}
	if ep.Hints != nil {
		ei.zoneHints, ei.nodeHints = ep.Hints.ForZones, ep.Hints.ForNodes
	}
	return ei, true
}

// unprogram removes the frontends of a Service's current ports, walking
// only its own addresses.
func (b *TableBuilder) unprogram(ts *tableService) {
	for _, tp := range ts.ports {
		sp := tp.svc.Spec.Ports[tp.spIdx]
		for _, a := range serviceVIPs(tp.svc) {
			f := tableFrontend{addr: a.addr, port: uint16(sp.Port), proto: tp.key.proto, ipv6: tp.key.ipv6}
			if got, ok := b.t.frontends.Get(f); ok && got.tp == tp {
				b.t.frontends.Delete(f)
				b.fronts = append(b.fronts, frontendKey{f.addr, f.port, f.proto})
			}
		}
		if sp.NodePort != 0 {
			f := tableFrontend{port: uint16(sp.NodePort), proto: tp.key.proto, ipv6: tp.key.ipv6}
			if got, ok := b.t.nodePorts.Get(f); ok && got.tp == tp {
				b.t.nodePorts.Delete(f)
				b.fronts = append(b.fronts, frontendKey{port: f.port, proto: f.proto})
			}
		}
	}
}

// families returns the IP families a Service is served in (false for
// IPv4, true for IPv6): its ipFamilies, or the families of its
// clusterIPs, or IPv4. kube-proxy runs one proxier per family, and each
// programs only the Services of its family, NodePorts included.
func families(svc *service.Service) []bool {
	var out []bool
	for _, f := range svc.Spec.IPFamilies {
		out = append(out, f == service.IPv6Protocol)
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				out = append(out, a.Unmap().Is6())
			}
		}
	}
	if len(out) == 0 {
		out = []bool{false}
	}
	return out
}

type vip struct {
	addr netip.Addr
	kind FrontendKind
}

// serviceVIPs lists the virtual addresses a Service answers on.
func serviceVIPs(svc *service.Service) []vip {
	var out []vip
	add := func(s string, kind FrontendKind) {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, vip{a.Unmap(), kind})
		}
	}
	if !svc.IsHeadless() {
		for _, ip := range svc.Spec.ClusterIPs {
			add(ip, FrontendClusterIP)
		}
	}
	for _, ip := range svc.Spec.ExternalIPs {
		add(ip, FrontendExternalIP)
	}
	if svc.Spec.Type == service.ServiceTypeLoadBalancer {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			// KEP-1860: with ipMode Proxy the load balancer proxies to the
			// nodes itself, and kube-proxy does not capture its IP.
			if in.IPMode != nil && *in.IPMode == "Proxy" {
				continue
			}
			add(in.IP, FrontendLoadBalancer)
		}
	}
	return out
}

func (b *TableBuilder) program(svc *service.Service, sp service.ServicePort, tp *tablePort) {
	var ranges []netip.Prefix
	if svc.Spec.Type == service.ServiceTypeLoadBalancer {
		for _, r := range svc.Spec.LoadBalancerSourceRanges {
			if pf, err := service.ParseSourceRange(r); err == nil {
				ranges = append(ranges, pf)
			}
		}
	}
	tp.ranges = ranges // tp is this builder's own until Build returns
	for _, v := range serviceVIPs(svc) {
		if v.addr.Is6() != tp.key.ipv6 {
			continue
		}
		f := tableFrontend{addr: v.addr, port: uint16(sp.Port), proto: tp.key.proto, ipv6: tp.key.ipv6, kind: v.kind, tp: tp}
		b.t.frontends.ReplaceOrInsert(f)
		b.fronts = append(b.fronts, frontendKey{f.addr, f.port, f.proto})
	}
	if sp.NodePort != 0 && (svc.Spec.Type == service.ServiceTypeNodePort || svc.Spec.Type == service.ServiceTypeLoadBalancer) {
		b.t.nodePorts.ReplaceOrInsert(tableFrontend{port: uint16(sp.NodePort), proto: tp.key.proto, ipv6: tp.key.ipv6, kind: FrontendNodePort, tp: tp})
		b.fronts = append(b.fronts, frontendKey{port: uint16(sp.NodePort), proto: tp.key.proto})
	}
}

// slicePort names a port of a slice by its name and protocol, as a
// Service port finds its slice port.
type slicePort struct {
	slice int // index in the sorted slice names
	name  string
	proto string
}

// slicePortIndex maps every port of a Service's slices to its number, so
// that each Service port finds its slice ports in O(1) per slice rather
// than by scanning every slice's ports: a Service of P ports costs O(P)
// per slice, not O(P²). The last of equal names wins, as the scan did.
func slicePortIndex(ts *tableService, names []string) map[slicePort]int32 {
	n := 0
	for _, name := range names {
		n += len(ts.slices[name].Ports)
	}
	idx := make(map[slicePort]int32, n)
	for i, name := range names {
		for _, spt := range ts.slices[name].Ports {
			idx[slicePort{slice: i, name: spt.Name, proto: string(spt.Protocol)}] = spt.Port
		}
	}
	return idx
}

// portEndpoints gathers the endpoints of one Service port in one family
// from the Service's slices: PodIP:port of the slice port with the
// Service port's name and protocol, in slice-name order, first wins. It
// reports whether an address and port was in two slices.
func portEndpoints(ts *tableService, names []string, ports map[slicePort]int32, sp service.ServicePort, v6 bool) ([]*endpointInfo, bool) {
	want := endpoints.AddressTypeIPv4
	if v6 {
		want = endpoints.AddressTypeIPv6
	}
	var out []endpointInfo
	seen := map[netip.AddrPort]bool{}
	dups := false
	for i, n := range names {
		sl := ts.slices[n]
		if sl.AddressType != want {
			continue
		}
		port, ok := ports[slicePort{slice: i, name: sp.Name, proto: string(sp.Protocol)}]
		if !ok || port <= 0 {
			continue
		}
		for _, ep := range sl.Endpoints {
			ei, ok := newEndpointInfo(ep, port)
			if !ok {
				continue
			}
			if seen[ei.b.Addr] {
				dups = true
				continue
			}
			seen[ei.b.Addr] = true
			out = append(out, ei)
		}
	}
	slices.SortFunc(out, func(a, b endpointInfo) int { return a.b.Addr.Compare(b.b.Addr) })
	if out == nil {
		return nil, dups
	}
	ptrs := make([]*endpointInfo, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return ptrs, dups
}

// Backends returns the endpoints a Service port has in the table, in one
// family, with their conditions: what every node's proxy starts from
// before applying its own traffic policy and topology. It returns nil for
// an unknown Service or port.
func (t *Table) Backends(svc service.NamespacedName, portName string, proto service.Protocol, ipv6 bool) []lb.Backend {
	ts, ok := t.services.Get(&tableService{key: svc})
	if !ok {
		return nil
	}
	for _, tp := range ts.ports {
		if tp.key.name == portName && tp.key.proto == toProtocol(proto) && tp.key.ipv6 == ipv6 {
			out := make([]lb.Backend, len(tp.eps))
			for i, e := range tp.eps {
				out[i] = e.b
			}
			return out
		}
	}
	return nil
}

// probes are the lookup keys of HasBackend, which readers of a Table
// share (a probe escapes to the B-tree's comparison).
var probes = sync.Pool{New: func() any { return new(tableService) }}

// HasBackend reports whether a Service port has an endpoint at addr in
// the table, in one family, whatever its conditions: whether Backends
// would list it, in O(log endpoints) and without allocating (the port's
// endpoints are kept in address order).
func (t *Table) HasBackend(svc service.NamespacedName, portName string, proto service.Protocol, ipv6 bool, addr netip.AddrPort) bool {
	probe := probes.Get().(*tableService)
	ts := t.lookup(probe, svc)
	probe.key = service.NamespacedName{}
	probes.Put(probe)
	if ts == nil {
		return false
	}
	for _, tp := range ts.ports {
		if tp.key.name == portName && tp.key.proto == toProtocol(proto) && tp.key.ipv6 == ipv6 {
			_, found := slices.BinarySearchFunc(tp.eps, addr, func(e *endpointInfo, a netip.AddrPort) int { return e.b.Addr.Compare(a) })
			return found
		}
	}
	return false
}
