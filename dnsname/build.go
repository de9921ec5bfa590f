package dnsname

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync/atomic"
	"unsafe"
)

// Scratch holds the records and names of the answers that ResolveInto
// makes at query time, for reuse: a server keeps one per goroutine (or in
// a sync.Pool), so that a query allocates nothing once its buffers have
// grown to fit. The Response that ResolveInto returns, and the strings in
// its records, live in the Scratch: they are valid until the next call
// with the same Scratch, which overwrites them. The zero Scratch is ready
// to use; a Scratch is not safe for concurrent use.
type Scratch struct {
	recs  []Record
	names []byte
	items []item
	strs  []string
	v4    []uint32
	ports []int32
}

func (sc *Scratch) reset() {
	sc.recs, sc.names, sc.items, sc.strs = sc.recs[:0], sc.names[:0], sc.items[:0], sc.strs[:0]
	sc.v4, sc.ports = sc.v4[:0], sc.ports[:0]
}

// str returns sc.names[start:] as a string without copying it. The bytes
// are never written again before the next reset, and the Scratch's
// contract ends the string's use there. (An append that grows names
// leaves the string in the old array, which keeps its bytes.)
func (sc *Scratch) str(start int) string {
	if start == len(sc.names) {
		return ""
	}
	return unsafe.String(&sc.names[start], len(sc.names)-start)
}

// join returns label + "." + rest, made in sc.
func (sc *Scratch) join(label []byte, rest string) string {
	start := len(sc.names)
	sc.names = append(sc.names, label...)
	sc.names = append(sc.names, '.')
	sc.names = append(sc.names, rest...)
	return sc.str(start)
}

// target returns the name of an item's target: the Service's name fqdn
// for label "", else label.fqdn.
func (sc *Scratch) target(label, fqdn string) string {
	if label == "" {
		return fqdn
	}
	start := len(sc.names)
	sc.names = append(sc.names, label...)
	sc.names = append(sc.names, '.')
	sc.names = append(sc.names, fqdn...)
	return sc.str(start)
}

// item is one (address, port, target) a name answers with, the unit of
// CoreDNS's msg.Service: A and AAAA records come from the addresses, SRV
// records from the ports, pointing at the target. Port -1 stands for "no
// port" (a Service or slice without ports): it gives addresses but no
// SRV. The target is the endpoint label.<svc>..., or the Service itself
// for label "".
type item struct {
	label string
	addr  netip.Addr
	port  int32
}

// answerItems appends to sc the records of qtype that owner has from its
// items, a multiset (sorted here, in place), as CoreDNS's plugin.A, AAAA
// and SRV make them (plugin/backend_lookup.go): addresses deduplicated;
// SRV records deduplicated by target and port, with priority 0 and
// weight floor(100/n) for the n items (at least 1); additional address
// records for the SRV targets, deduplicated by target and address.
// Everything is sorted, so answers are deterministic where CoreDNS's
// follow its caches' order. fqdn is the Service's name, the targets'
// suffix.
func (r *Resolver) answerItems(sc *Scratch, owner, fqdn string, items []item, qtype Type) Response {
	start := len(sc.recs)
	switch qtype {
	case TypeA:
		// As integers, which sort fastest: a headless Service's name
		// has an address per endpoint.
		v4 := sc.v4[:0]
		for i := range items {
			if a := items[i].addr; !a.Is6() {
				b := a.As4()
				v4 = append(v4, binary.BigEndian.Uint32(b[:]))
			}
		}
		slices.Sort(v4)
		v4 = slices.Compact(v4)
		sc.v4 = v4
		for _, u := range v4 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], u)
			sc.recs = append(sc.recs, Record{Name: owner, Type: TypeA, TTL: r.ttl, Addr: netip.AddrFrom4(b)})
		}
		return Response{Answer: sc.section(start)}
	case TypeAAAA:
		byAddr := func(x, y item) int { return x.addr.Compare(y.addr) }
		if !slices.IsSortedFunc(items, byAddr) {
			slices.SortFunc(items, byAddr)
		}
		for i, it := range items {
			if !it.addr.Is6() || i > 0 && it.addr == items[i-1].addr {
				continue
			}
			sc.recs = append(sc.recs, Record{Name: owner, Type: TypeAAAA, TTL: r.ttl, Addr: it.addr})
		}
		return Response{Answer: sc.section(start)}
	case TypeSRV:
	default:
		return Response{}
	}
	// SRV: the items by target, then address and port. (A Service of
	// one slice and one port gives them in that order.)
	byTarget := func(x, y item) int {
		if c := compareLabels(x.label, y.label); c != 0 {
			return c
		}
		if c := x.addr.Compare(y.addr); c != 0 {
			return c
		}
		return cmp.Compare(x.port, y.port)
	}
	if !slices.IsSortedFunc(items, byTarget) {
		slices.SortFunc(items, byTarget)
	}
	valid := func(it *item) bool { return it.port >= 0 && it.port <= 0xffff }
	weight := uint16(max(100/max(len(items), 1), 1))
	// The SRV records: per target, its distinct ports in order.
	targets := sc.strs[:0]
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].label == items[i].label {
			j++
		}
		ports := sc.ports[:0]
		for k := i; k < j; k++ {
			if valid(&items[k]) {
				ports = append(ports, items[k].port)
			}
		}
		if len(ports) > 0 {
			slices.Sort(ports)
			t := sc.target(items[i].label, fqdn)
			targets = append(targets, t)
			for k, p := range ports {
				if k == 0 || p != ports[k-1] {
					sc.recs = append(sc.recs, Record{Name: owner, Type: TypeSRV, TTL: r.ttl, Weight: weight, Port: uint16(p), Target: t})
				}
			}
		}
		sc.ports = ports
		i = j
	}
	sc.strs = targets
	answer := sc.section(start)
	if len(answer) == 0 {
		return Response{}
	}
	// The additional records: per target (those that got SRV records,
	// in the same order), its distinct addresses of a valid port.
	start = len(sc.recs)
	for i, n := 0, 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].label == items[i].label {
			j++
		}
		var t string
		var last netip.Addr
		for k := i; k < j; k++ {
			it := &items[k]
			if !valid(it) {
				continue
			}
			if t == "" {
				t, n = targets[n], n+1
			} else if it.addr == last {
				continue
			}
			last = it.addr
			rt := TypeA
			if it.addr.Is6() {
				rt = TypeAAAA
			}
			sc.recs = append(sc.recs, Record{Name: t, Type: rt, TTL: r.ttl, Addr: it.addr})
		}
		i = j
	}
	// answer stays valid if the append grew recs: it is in the old
	// array, which no one writes again.
	return Response{Answer: answer, Additional: sc.section(start)}
}

// section returns the records appended to sc since start, nil for none,
// with no room to append after them.
func (sc *Scratch) section(start int) []Record {
	if start == len(sc.recs) {
		return nil
	}
	return sc.recs[start:len(sc.recs):len(sc.recs)]
}

// clusterIPItems appends the items of a ClusterIP Service's name (ports
// nil: every port) or of one of its named ports. Spec §2.3: A/AAAA for
// the ClusterIPs, SRV per named port with the Service as target. CoreDNS
// also answers SRV on the Service name itself, one per port (named or
// not), and A/AAAA on the port names.
func clusterIPItems(items []item, sp *svcSpec, ps []portSpec) []item {
	if len(ps) == 0 {
		ps = noPortSpec
	}
	for _, p := range ps {
		for _, a := range sp.clusterIPs {
			items = append(items, item{addr: a, port: p.port})
		}
	}
	return items
}

var noPortSpec = []portSpec{{port: -1}}

// clusterIPAddrs appends the A or AAAA records of owner for the
// addresses ips, sorted and deduplicated as answerItems does.
func (r *Resolver) clusterIPAddrs(sc *Scratch, owner string, ips []netip.Addr, qtype Type) Response {
	start := len(sc.recs)
	for _, a := range ips {
		if a.Is6() == (qtype == TypeAAAA) {
			sc.recs = append(sc.recs, Record{Name: owner, Type: qtype, TTL: r.ttl, Addr: a})
		}
	}
	recs := sc.recs[start:]
	if len(recs) > 1 {
		slices.SortFunc(recs, func(x, y Record) int { return x.Addr.Compare(y.Addr) })
		recs = slices.CompactFunc(recs, func(x, y Record) bool { return x.Addr == y.Addr })
		sc.recs = sc.recs[:start+len(recs)]
	}
	return Response{Answer: sc.section(start)}
}

// rowSelect says which rows and ports of a Service make a name's items.
type rowSelect uint8

const (
	selectAll  rowSelect = iota // a headless Service's own name: every published row and port
	selectHost                  // an endpoint name: the rows of one label, every port
	selectPort                  // a headless Service's SRV name: every row, the ports of one label
)

// rowItems appends the items of the rows and ports of n that sel picks
// (label being the endpoint's or the port's label). Spec §2.4.1 and
// §2.4.3: <hostname>.<svc> for each ready endpoint; CoreDNS answers these
// for ClusterIP Services too. Spec §2.4.1 and §2.4.2 for a headless
// Service: its name answers A/AAAA for each ready endpoint, and SRV per
// named port and ready endpoint, with the endpoint's name as target.
func (n *svcNode) rowItems(items []item, sel rowSelect, label []byte) []item {
	sp := n.spec
	for _, s := range n.slices {
		rows := s.rows
		switch sel {
		case selectHost:
			rows = s.hostRows(label)
		case selectPort:
			if !s.hasPortLabel(label) {
				continue
			}
		}
		for i := range rows {
			row := &rows[i]
			if !sp.published(row) {
				continue
			}
			for _, p := range s.ports {
				if sel == selectPort && p.label != string(label) {
					continue
				}
				items = append(items, item{label: row.label, addr: row.addr, port: p.port})
			}
		}
	}
	return items
}

// svcAnswer answers prefix.<svc>.<ns>.svc.<zone> from the Service's node
// (prefix empty: the Service's own name); ok is false when the name does
// not exist.
func (r *Resolver) svcAnswer(sc *Scratch, s *snapshot, n *svcNode, prefix []byte, qtype Type, depth int) (resp Response, ok bool) {
	sp := n.spec
	if sp == nil {
		return Response{}, false
	}
	if sp.external {
		// Spec §2.5: a CNAME to the external name. CoreDNS answers no
		// endpoint or SRV names under an ExternalName Service.
		if len(prefix) > 0 || sp.externalName == "" {
			return Response{}, false
		}
		cname := Record{Name: n.fqdn, Type: TypeCNAME, TTL: r.ttl, Target: sp.externalName}
		switch qtype {
		case TypeCNAME:
			start := len(sc.recs)
			sc.recs = append(sc.recs, cname)
			return Response{Answer: sc.section(start)}, true
		case TypeA, TypeAAAA:
			return r.chase(sc, s, cname, qtype, depth), true
		}
		// TXT and the other types: NODATA without chasing, as CoreDNS
		// (its TXT path sees the Service and answers NOERROR empty).
		return Response{}, true
	}
	wide := n.wide != nil && (len(prefix) == 0 || prefix[0] == '_') && (qtype == TypeA || qtype == TypeAAAA || qtype == TypeSRV)
	if wide {
		if resp, ok := n.wide.get(prefix, qtype); ok {
			return resp, true
		}
		// Made once per snapshot, in a Scratch of its own, whose
		// strings are then never written again.
		sc = new(Scratch)
	}
	resp, ok = r.makeSvcAnswer(sc, n, prefix, qtype)
	if wide && ok {
		n.wide.put(prefix, qtype, resp)
	}
	return resp, ok
}

// makeSvcAnswer is svcAnswer for a Service that is not an ExternalName.
func (r *Resolver) makeSvcAnswer(sc *Scratch, n *svcNode, prefix []byte, qtype Type) (Response, bool) {
	sp := n.spec
	if !sp.headless && (qtype == TypeA || qtype == TypeAAAA) && (len(prefix) == 0 || prefix[0] == '_' && sp.hasPortLabel(prefix)) {
		// The hot path: a ClusterIP Service's name (or port name)
		// answers A and AAAA with its ClusterIPs whatever its ports,
		// as its items would give them.
		owner := n.fqdn
		if len(prefix) > 0 {
			owner = sc.join(prefix, n.fqdn)
		}
		return r.clusterIPAddrs(sc, owner, sp.clusterIPs, qtype), true
	}
	items := sc.items[:0]
	owner := n.fqdn
	switch {
	case len(prefix) == 0 && !sp.headless:
		items = clusterIPItems(items, sp, sp.ports)
	case len(prefix) == 0:
		// Spec §2.4.1: no ready endpoint, NXDOMAIN.
		if items = n.rowItems(items, selectAll, nil); len(items) == 0 {
			return Response{}, false
		}
	case prefix[0] != '_':
		if items = n.rowItems(items, selectHost, prefix); len(items) == 0 {
			return Response{}, false
		}
	case sp.headless:
		if items = n.rowItems(items, selectPort, prefix); len(items) == 0 {
			return Response{}, false
		}
	default:
		// The spec's named ports; of two with the same label, the last
		// counts.
		i, found := sp.portByLabel(prefix)
		if !found {
			return Response{}, false
		}
		items = clusterIPItems(items, sp, sp.ports[i:i+1])
	}
	sc.items = items
	switch qtype {
	case TypeA, TypeAAAA, TypeSRV:
	default:
		return Response{}, true
	}
	if len(prefix) > 0 {
		owner = sc.join(prefix, n.fqdn)
	}
	return r.answerItems(sc, owner, n.fqdn, items, qtype), true
}

// ptrAnswer answers the PTR query of a, as CoreDNS's serviceRecordForIP
// does: the names of the Services claiming a as a ClusterIP, else the
// names of the endpoints with that address (one per Service the pod
// backs). ok is false when nothing claims a.
func (r *Resolver) ptrAnswer(sc *Scratch, s *snapshot, a netip.Addr) (Response, bool) {
	claims := s.rev.get(a)
	if len(claims) == 0 {
		return Response{}, false
	}
	targets := sc.strs[:0]
	clusterIP := false
	for _, c := range claims {
		n, ok := s.svcs.get(hashString(c.key), c.key)
		if !ok || n.spec == nil {
			continue // cannot happen: a claim is a node's
		}
		sp := n.spec
		if !sp.headless && !sp.external && slices.Contains(sp.clusterIPs, a) {
			if !clusterIP {
				targets, clusterIP = targets[:0], true
			}
			targets = append(targets, n.fqdn)
			continue
		}
		if clusterIP {
			continue
		}
		for _, sl := range n.slices {
			sl.addrRows(a, func(row *epRow) bool {
				if sp.published(row) {
					targets = append(targets, sc.target(row.label, n.fqdn))
				}
				return true
			})
		}
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	sc.strs = targets
	start := len(sc.names)
	sc.names = appendPTRName(sc.names, a)
	name := sc.str(start)
	start = len(sc.recs)
	for _, t := range targets {
		sc.recs = append(sc.recs, Record{Name: name, Type: TypePTR, TTL: r.ttl, Target: t})
	}
	return Response{Answer: sc.section(start)}, true
}

// wideRows is the number of endpoint addresses from which a headless
// Service's node memoizes the answers of its own name and its SRV names
// (wideCache), which list every endpoint: making them is then sorting
// that many items, at each query.
const wideRows = 64

// wideCache holds the answers made so far of the names of one node that
// list every endpoint of a large headless Service (its name and its SRV
// names, for A, AAAA and SRV): the first query of each in a snapshot
// makes it, the queries after it share it, and a change to the Service
// makes a new node, with a new cache. It holds at most three answers per
// name, and only names that exist. Readers race to add answers without
// a lock; one of two that made the same answer is kept.
type wideCache struct {
	answers atomic.Pointer[[]wideAnswer]
}

type wideAnswer struct {
	prefix string
	qtype  Type
	resp   Response
}

func (c *wideCache) get(prefix []byte, qtype Type) (Response, bool) {
	if as := c.answers.Load(); as != nil {
		for i := range *as {
			if a := &(*as)[i]; a.qtype == qtype && a.prefix == string(prefix) {
				return a.resp, true
			}
		}
	}
	return Response{}, false
}

func (c *wideCache) put(prefix []byte, qtype Type, resp Response) {
	for {
		old := c.answers.Load()
		var as []wideAnswer
		if old != nil {
			as = *old
		}
		for _, a := range as {
			if a.qtype == qtype && a.prefix == string(prefix) {
				return
			}
		}
		next := append(slices.Clip(as), wideAnswer{string(prefix), qtype, resp})
		if c.answers.CompareAndSwap(old, &next) {
			return
		}
	}
}
