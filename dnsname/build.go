package dnsname

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
)

// output is what one Service contributes to a snapshot: its names (nil
// when it has none) and its PTR claims.
type output struct {
	node *svcNode
	ptr  map[netip.Addr][]ptrClaim
}

type ptrClaim struct {
	target    string
	clusterIP bool
}

// item is one (address, port, target) a name answers with, the unit of
// CoreDNS's msg.Service: A and AAAA records come from the addresses, SRV
// records from the ports, pointing at the target. Port -1 stands for "no
// port" (a Service or slice without ports): it gives addresses but no SRV.
type item struct {
	addr   netip.Addr
	port   int32
	target string
}

// readyEndpoint is one address of an endpoint that DNS publishes.
type readyEndpoint struct {
	host  string // its label: hostname, or generated from the address
	fqdn  string // its name: <host>.<svc>.<ns>.svc.<zone>.
	addr  netip.Addr
	ports []endpoints.Port
}

var noPorts = []endpoints.Port{{Port: -1}}

// build computes every record of one Service from its spec and slices.
func (r *Resolver) build(sp *svcSpec, sl map[string]*endpoints.Slice) *output {
	out := &output{ptr: make(map[netip.Addr][]ptrClaim)}
	var node svcNode
	r.fill(out, &node, sp, sl)
	if node.self != nil {
		out.node = &node
	}
	for a, cs := range out.ptr {
		slices.SortFunc(cs, func(x, y ptrClaim) int { return strings.Compare(x.target, y.target) })
		out.ptr[a] = slices.Compact(cs)
	}
	return out
}

func (r *Resolver) fill(out *output, node *svcNode, sp *svcSpec, sl map[string]*endpoints.Slice) {
	suffix := "." + r.zone + "."
	svcRel := sp.name + "." + sp.ns + ".svc"
	svcFQDN := svcRel + suffix
	// add files the entry of rel, a name at or below the Service's.
	add := func(rel string, e *entry) {
		if rel == svcRel {
			node.self = e
			return
		}
		if node.sub == nil {
			node.sub = make(map[string]*entry)
		}
		node.sub[strings.TrimSuffix(rel, "."+svcRel)] = e
	}

	if sp.external {
		// Spec §2.5: a CNAME to the external name. CoreDNS answers no
		// endpoint or SRV names under an ExternalName Service.
		if sp.externalName != "" {
			add(svcRel, &entry{cname: []Record{{Name: svcFQDN, Type: TypeCNAME, TTL: r.ttl, Target: sp.externalName}}})
		}
		return
	}

	eps := readyEndpoints(sp, sl)
	for i := range eps {
		eps[i].fqdn = eps[i].host + "." + svcRel + suffix
	}

	if !sp.headless {
		// Spec §2.3: A/AAAA for the ClusterIPs, SRV per named port with
		// the Service as target, PTR for each ClusterIP. CoreDNS also
		// answers SRV on the Service name itself, one per port (named or
		// not), and A/AAAA on the port names.
		ports := sp.ports
		if len(ports) == 0 {
			ports = []portSpec{{port: -1}}
		}
		var items []item
		for _, p := range ports {
			for _, a := range sp.clusterIPs {
				items = append(items, item{a, p.port, svcFQDN})
			}
		}
		add(svcRel, r.makeEntry(svcFQDN, items))
		for _, p := range sp.ports {
			if p.name == "" {
				continue // spec: unnamed ports have no SRV record
			}
			rel := "_" + p.name + "._" + p.proto + "." + svcRel
			items = items[:0:0]
			for _, a := range sp.clusterIPs {
				items = append(items, item{a, p.port, svcFQDN})
			}
			add(rel, r.makeEntry(rel+suffix, items))
		}
		for _, a := range sp.clusterIPs {
			out.ptr[a] = append(out.ptr[a], ptrClaim{svcFQDN, true})
		}
	} else if len(eps) > 0 {
		// Spec §2.4: A/AAAA per ready endpoint (none ready: NXDOMAIN),
		// SRV per named port and ready endpoint with the endpoint's name
		// as target.
		var items []item
		byPort := make(map[string][]item)
		for _, e := range eps {
			for _, p := range e.ports {
				items = append(items, item{e.addr, p.Port, e.fqdn})
				if p.Name != "" && p.Port >= 0 {
					proto, _ := protoLabel(p.Protocol)
					rel := "_" + strings.ToLower(p.Name) + "._" + proto + "." + svcRel
					byPort[rel] = append(byPort[rel], item{e.addr, p.Port, e.fqdn})
				}
			}
		}
		add(svcRel, r.makeEntry(svcFQDN, items))
		for _, rel := range slices.Sorted(maps.Keys(byPort)) {
			add(rel, r.makeEntry(rel+suffix, byPort[rel]))
		}
	}

	// Spec §2.4.1 and §2.4.3: <hostname>.<svc> and its PTR for each ready
	// endpoint. CoreDNS answers these for ClusterIP Services too.
	byHost := make(map[string][]item, len(eps))
	for _, e := range eps {
		for _, p := range e.ports {
			byHost[e.host] = append(byHost[e.host], item{e.addr, p.Port, e.fqdn})
		}
		out.ptr[e.addr] = append(out.ptr[e.addr], ptrClaim{e.fqdn, false})
	}
	for _, h := range slices.Sorted(maps.Keys(byHost)) {
		rel := h + "." + svcRel
		add(rel, r.makeEntry(rel+suffix, byHost[h]))
	}
}

// readyEndpoints returns the endpoint addresses DNS publishes: those of
// ready endpoints, or of every endpoint when the Service publishes
// not-ready addresses (spec §2.1, "ready"; the endpoints controller
// already marks them ready then, which this repeats for slices fed
// directly). Slices are read in name order.
func readyEndpoints(sp *svcSpec, sl map[string]*endpoints.Slice) []readyEndpoint {
	var eps []readyEndpoint
	for _, name := range slices.Sorted(maps.Keys(sl)) {
		s := sl[name]
		ports := s.Ports
		if len(ports) == 0 {
			ports = noPorts
		}
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			if !ep.Conditions.Ready && !sp.publishNotReady {
				continue
			}
			for _, a := range ep.Addresses {
				if !a.IsValid() {
					continue
				}
				a = a.Unmap()
				eps = append(eps, readyEndpoint{host: endpointHostname(ep.Hostname, a), addr: a, ports: ports})
			}
		}
	}
	return eps
}

// endpointHostname is the spec's hostname of an endpoint: its hostname
// field, else a name made from its address as CoreDNS's endpointHostname
// does ("10-0-0-1", "fd00--1").
func endpointHostname(hostname string, a netip.Addr) string {
	if hostname != "" {
		return strings.ToLower(hostname)
	}
	return podLabel(a)
}

// makeEntry turns the items of one name into its records, as CoreDNS's
// plugin.A, AAAA and SRV do (plugin/backend_lookup.go): addresses
// deduplicated; SRV records deduplicated by target and port, with
// priority 0 and weight floor(100/n) for the n items (at least 1);
// additional address records for the SRV targets, deduplicated by target
// and address. Everything is sorted, so answers are deterministic where
// CoreDNS's follow its caches' order. The records of one entry share one
// backing array.
func (r *Resolver) makeEntry(owner string, items []item) *entry {
	slices.SortFunc(items, func(x, y item) int {
		return cmp.Or(strings.Compare(x.target, y.target), cmp.Compare(x.port, y.port), x.addr.Compare(y.addr))
	})
	recs := make([]Record, 0, 3*len(items))
	// Addresses, A then AAAA, each sorted and unique.
	addrs := make([]netip.Addr, 0, len(items))
	for _, it := range items {
		addrs = append(addrs, it.addr)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	v6 := len(addrs)
	for i, a := range addrs {
		if a.Is6() && v6 == len(addrs) {
			v6 = i
		}
		t := TypeA
		if a.Is6() {
			t = TypeAAAA
		}
		recs = append(recs, Record{Name: owner, Type: t, TTL: r.ttl, Addr: a})
	}
	e := &entry{}
	if v6 > 0 {
		e.a = recs[0:v6:v6]
	}
	if len(addrs) > v6 {
		e.aaaa = recs[v6:len(addrs):len(addrs)]
	}
	// SRV records by (target, port), then the targets' addresses by
	// (target, address); items are sorted by (target, port, address).
	weight := uint16(max(100/max(len(items), 1), 1))
	srvStart := len(recs)
	for i, it := range items {
		if it.port < 0 || it.port > 0xffff {
			continue
		}
		if i > 0 && items[i-1].target == it.target && items[i-1].port == it.port {
			continue
		}
		recs = append(recs, Record{Name: owner, Type: TypeSRV, TTL: r.ttl, Weight: weight, Port: uint16(it.port), Target: it.target})
	}
	if len(recs) == srvStart {
		return e
	}
	e.srv = recs[srvStart:len(recs):len(recs)]
	extraStart := len(recs)
	for _, it := range items {
		if it.port < 0 || it.port > 0xffff {
			continue
		}
		t := TypeA
		if it.addr.Is6() {
			t = TypeAAAA
		}
		recs = append(recs, Record{Name: it.target, Type: t, TTL: r.ttl, Addr: it.addr})
	}
	extra := recs[extraStart:]
	slices.SortFunc(extra, func(x, y Record) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), x.Addr.Compare(y.Addr))
	})
	extra = slices.CompactFunc(extra, func(x, y Record) bool { return x.Name == y.Name && x.Addr == y.Addr })
	e.srvExtra = extra[:len(extra):len(extra)]
	return e
}
