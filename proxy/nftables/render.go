package nftables

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
)

// ErrInvalidConfig is returned by Render for a Config it cannot use.
var ErrInvalidConfig = errors.New("nftables: invalid config")

// DefaultMaglevTableSize is M for Services with the maglev algorithm when
// Config.MaglevTableSize is zero: a prime above 100·N for N ≤ 10 backends,
// the Maglev paper's bound for at most 1 % imbalance.
const DefaultMaglevTableSize = 1021

// Config holds what kube-proxy knows about its node beyond the Proxy
// view. The zero Config renders kube-proxy's defaults without a local
// traffic detector.
type Config struct {
	// ServiceCIDRs are the ClusterIP ranges: packets to an address in them
	// that no Service holds are dropped (kube-proxy's cluster-ips-check,
	// fed by the ServiceCIDR objects).
	ServiceCIDRs []netip.Prefix
	// PodCIDRs are kube-proxy's --cluster-cidr (its local traffic
	// detector): traffic to a ClusterIP from outside them is marked for
	// masquerade, as off-node traffic may cross nodes.
	PodCIDRs []netip.Prefix
	// MasqueradeAll masquerades all traffic to ClusterIPs
	// (--masquerade-all).
	MasqueradeAll bool
	// MaglevTableSize is M, a prime, for Services whose algorithm is
	// maglev; zero means DefaultMaglevTableSize. Their endpoint is chosen
	// in the kernel by "jhash ip saddr . th sport mod M" into a verdict
	// map filled from svcnet's Maglev table.
	MaglevTableSize int
}

// Render writes a node's Proxy view as kube-proxy's nftables rules: a
// table "ip kube-proxy" and, when the view has IPv6 Services or node
// addresses, "ip6 kube-proxy". It reads the view's ServicePorts and
// configuration and does not change the view. An invalid Config is an
// ErrInvalidConfig naming the field; Render has no other error.
func Render(view *proxy.Proxy, cfg Config) (*Ruleset, error) {
	m := cfg.MaglevTableSize
	if m == 0 {
		m = DefaultMaglevTableSize
	}
	if _, err := lb.NewMaglev(lb.MaglevConfig{TableSize: m}); err != nil {
		return nil, fmt.Errorf("%w: MaglevTableSize %d: %v", ErrInvalidConfig, cfg.MaglevTableSize, err)
	}
	for _, f := range []struct {
		name string
		ps   []netip.Prefix
	}{{"ServiceCIDRs", cfg.ServiceCIDRs}, {"PodCIDRs", cfg.PodCIDRs}} {
		for _, p := range f.ps {
			if !p.IsValid() || p.Addr().Zone() != "" {
				return nil, fmt.Errorf("%w: %s: %v is not a valid prefix", ErrInvalidConfig, f.name, p)
			}
		}
	}
	pc := view.Config()
	ports := view.ServicePorts()
	r := &Ruleset{}
	for _, v6 := range []bool{false, true} {
		var fam []proxy.ServicePort
		for _, sp := range ports {
			if sp.IPv6 == v6 {
				fam = append(fam, sp)
			}
		}
		nodeIPs := familyAddrs(pc.NodeAddresses, v6)
		if v6 && len(fam) == 0 && len(nodeIPs) == 0 {
			continue
		}
		w := &writer{t: newTable("ip"), cfg: cfg, maglevM: m, v6: v6, ip: "ip", addrType: "ipv4_addr", node: pc.NodeName}
		if v6 {
			w.t, w.ip, w.addrType = newTable("ip6"), "ip6", "ipv6_addr"
		}
		w.t.local = nodeIPs
		w.setup(nodeIPs, familyPrefixes(pc.ClusterPrefixes, v6))
		for i := range fam {
			w.servicePort(&fam[i])
		}
		r.tables = append(r.tables, w.t)
	}
	return r, nil
}

func familyAddrs(as []netip.Addr, v6 bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if a = a.Unmap(); a.IsValid() && a.Is6() == v6 && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func familyPrefixes(ps []netip.Prefix, v6 bool) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.IsValid() && p.Addr().Is6() == v6 {
			out = append(out, p.Masked())
		}
	}
	return out
}

// disjoint returns the prefixes without those inside another, sorted:
// nft rejects overlapping intervals in one set.
func disjoint(ps []netip.Prefix) []netip.Prefix {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if a.Bits() != b.Bits() {
			return a.Bits() - b.Bits()
		}
		return a.Addr().Compare(b.Addr())
	})
	var out []netip.Prefix
	for _, p := range ps {
		if !slices.ContainsFunc(out, func(q netip.Prefix) bool { return q.Contains(p.Addr()) }) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			s[i] = p.Addr().String()
		} else {
			s[i] = p.String()
		}
	}
	return strings.Join(s, ", ")
}

type writer struct {
	t        *table
	cfg      Config
	maglevM  int
	v6       bool
	ip       string // "ip" or "ip6"
	addrType string // "ipv4_addr" or "ipv6_addr"
	node     string // the node's name, which local endpoints carry
}

// masqRule marks a packet for masquerading in postrouting (kube-proxy
// v1.37 writes it inline; older versions jumped to a mark-for-masquerade
// chain).
const masqRule = "mark set mark or " + masqueradeMark

func (w *writer) chain(name, decl string) *chain {
	c := w.t.chains[name]
	if c == nil {
		c = &chain{decl: decl}
		w.t.chains[name] = c
	}
	return c
}

func (w *writer) rule(chainName string, parts ...string) {
	c := w.chain(chainName, "")
	c.rules = append(c.rules, strings.Join(parts, " "))
}

func (w *writer) set(kind, name, decl string) *set {
	s := &set{kind: kind, decl: decl, elems: map[string]element{}}
	w.t.sets[name] = s
	return s
}

func (w *writer) elem(setName, key, value, comment string) {
	w.t.sets[setName].elems[key] = element{value: value, comment: comment}
}

// setup writes the node-independent skeleton: base chains and the jumps
// to the top-level chains (proxier.go nftablesBaseChains and
// nftablesJumpChains), masquerading, the dispatch sets and maps, and the
// checks for unallocated ClusterIPs, wrong ports, missing endpoints and
// source ranges.
func (w *writer) setup(nodeIPs []netip.Addr, clusterPrefixes []netip.Prefix) {
	// Filter chains run before DNAT (dstnat - 10) so that they see the
	// Service address; the output post-DNAT chain sees what DNAT left.
	w.chain(chainFilterPrerouting, "{ type filter hook prerouting priority -110 ; }")
	w.chain(chainFilterInput, "{ type filter hook input priority -110 ; }")
	w.chain(chainFilterForward, "{ type filter hook forward priority -110 ; }")
	w.chain(chainFilterOutput, "{ type filter hook output priority -110 ; }")
	w.chain(chainFilterOutputPost, "{ type filter hook output priority -90 ; }")
	w.chain(chainNatPrerouting, "{ type nat hook prerouting priority -100 ; }")
	w.chain(chainNatOutput, "{ type nat hook output priority -100 ; }")
	w.chain(chainNatPostrouting, "{ type nat hook postrouting priority 100 ; }")
	for _, j := range [][3]string{
		// reject is valid only in input, forward and output hooks on
		// kernels before 5.9, so the endpoint checks hang there.
		{chainFilterInput, "ct state new", chainNodePortEndpoints},
		{chainFilterInput, "ct state new", chainServiceEndpoints},
		{chainFilterForward, "ct state new", chainServiceEndpoints},
		{chainFilterPrerouting, "ct state new", chainFirewallCheck},
		// kube-proxy jumps to service-endpoints-check first here; svcnet
		// checks source ranges first on every path, as Route does, so a
		// blocked source is dropped even when there are no endpoints.
		{chainFilterOutput, "ct state new", chainFirewallCheck},
		// kube-proxy hangs service-endpoints-check on filter-output, which
		// runs before nat-output: the node's own connection to an
		// externalTrafficPolicy Local IP without a local endpoint is then
		// dropped before the short circuit could DNAT it. svcnet checks
		// after DNAT, so the node reaches the cluster endpoints, as Route
		// says and as pods do.
		{chainFilterOutputPost, "ct state new", chainServiceEndpoints},
		{chainNatOutput, "", chainServices},
		{chainNatPrerouting, "", chainServices},
		{chainNatPostrouting, "", chainMasquerading},
		{chainFilterForward, "ct state new", chainClusterIPsCheck},
		{chainFilterOutputPost, "ct state new", chainClusterIPsCheck},
	} {
		if j[1] == "" {
			w.rule(j[0], "jump", j[2])
		} else {
			w.rule(j[0], j[1], "jump", j[2])
		}
	}
	w.rule(chainMasquerading, "mark and", masqueradeMark, "!= 0 mark set mark xor", masqueradeMark, "masquerade fully-random")
	// A pod reaching itself through a Service: its reply would bypass the
	// node's conntrack, so the connection is masqueraded (kube-proxy v1.37's
	// hairpin-connections set of local endpoints).
	w.set("set", setHairpin, "{ type "+w.addrType+" . "+w.addrType+` . inet_proto . inet_service ; comment "service hairpin connections" ; }`)
	w.rule(chainMasquerading, "ct status dnat", w.ip, "saddr .", w.ip, "daddr . meta l4proto . th dport", "@"+setHairpin, "masquerade fully-random")

	w.set("set", setClusterIPs, "{ type "+w.addrType+` ; comment "Active ClusterIPs" ; }`)
	w.rule(chainClusterIPsCheck, w.ip, "daddr", "@"+setClusterIPs, "reject", `comment "Reject traffic to invalid ports of ClusterIPs"`)
	if cidrs := disjoint(familyPrefixes(w.cfg.ServiceCIDRs, w.v6)); len(cidrs) > 0 {
		w.rule(chainClusterIPsCheck, w.ip, "daddr", "{", joinPrefixes(cidrs), "}", "drop", `comment "Drop traffic to unallocated ClusterIPs"`)
	}

	w.set("set", setNodePortIPs, "{ type "+w.addrType+` ; comment "IPs that accept NodePort traffic" ; }`)
	for _, a := range nodeIPs {
		w.elem(setNodePortIPs, a.String(), "", "")
	}
	// svcnet's model lets only the cluster (its pod and node prefixes, and
	// this node) reach a ClusterIP; see the package doc.
	w.set("set", setClusterSources, "{ type "+w.addrType+` ; flags interval ; comment "Sources inside the cluster" ; }`)
	srcs := slices.Clone(clusterPrefixes)
	for _, a := range nodeIPs {
		srcs = append(srcs, netip.PrefixFrom(a, a.BitLen()))
	}
	for _, p := range disjoint(srcs) {
		w.elem(setClusterSources, joinPrefixes([]netip.Prefix{p}), "", "")
	}

	w.set("map", mapNoEndpointServices, "{ type "+w.addrType+` . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`)
	w.set("map", mapNoEndpointNodePorts, `{ type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`)
	w.chain(chainReject, "")
	w.rule(chainReject, "reject")
	w.rule(chainServiceEndpoints, w.ip, "daddr . meta l4proto . th dport vmap", "@"+mapNoEndpointServices)
	w.rule(chainNodePortEndpoints, w.ip, "daddr", "@"+setNodePortIPs, "meta l4proto . th dport vmap", "@"+mapNoEndpointNodePorts)

	w.set("map", mapFirewallIPs, "{ type "+w.addrType+` . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`)
	w.rule(chainFirewallCheck, w.ip, "daddr", "@"+setClusterIPs, w.ip, "saddr != @"+setClusterSources, "drop", `comment "ClusterIPs are reachable from inside the cluster only"`)
	w.rule(chainFirewallCheck, w.ip, "daddr . meta l4proto . th dport vmap", "@"+mapFirewallIPs)

	w.set("map", mapServiceIPs, "{ type "+w.addrType+` . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`)
	w.set("map", mapServiceNodePorts, `{ type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`)
	switch pods := disjoint(familyPrefixes(w.cfg.PodCIDRs, w.v6)); {
	case w.cfg.MasqueradeAll:
		w.rule(chainServices, w.ip, "daddr", "@"+setClusterIPs, masqRule, `comment "masquerade all clusterIP traffic"`)
	case len(pods) > 0:
		// Off-cluster traffic to a ClusterIP may bounce to another node.
		w.rule(chainServices, w.ip, "daddr", "@"+setClusterIPs, w.ip, "saddr != {", joinPrefixes(pods), "}", masqRule,
			`comment "masquerade clusterIP traffic from outside cluster"`)
	}
	w.rule(chainServices, w.ip, "daddr . meta l4proto . th dport vmap", "@"+mapServiceIPs)
	w.rule(chainServices, w.ip, "daddr", "@"+setNodePortIPs, "meta l4proto . th dport vmap", "@"+mapServiceNodePorts)
}

func (w *writer) addrPortKey(a netip.Addr, proto string, port uint16) string {
	return a.String() + " . " + proto + " . " + strconv.Itoa(int(port))
}

// servicePort writes one Service port's elements and chains, following
// syncProxyRules in proxier.go: the policy chains (service-, local-),
// the external chain with its Local short circuits, the firewall chain,
// affinity sets and endpoint chains, and the drop or reject elements
// when endpoints are missing.
func (w *writer) servicePort(sp *proxy.ServicePort) {
	proto := proxy.ProtocolName(sp.Proto)
	base := portBase(sp)
	clusterChain, localChain := prefixClusterPolicy+base, prefixLocalPolicy+base
	extChain, fwChain := prefixExternal+base, prefixFirewall+base
	comment := sp.Name()

	pol := sp.Policy()
	usesCluster, usesLocal := pol.UsesCluster, pol.UsesLocal
	hasInternal, hasExternal, usesExt := pol.HasInternal, pol.HasExternal, pol.UsesExternal
	internalChain, externalPolicy := sp.PolicyChains(clusterChain, localChain)
	internalVerdict, externalVerdict := "drop", "drop"
	if !sp.HasEndpoints {
		internalVerdict, externalVerdict = "goto "+chainReject, "goto "+chainReject
	}

	for _, f := range sp.Frontends {
		switch f.Kind {
		case proxy.FrontendClusterIP:
			key := w.addrPortKey(f.Addr, proto, f.Port)
			w.elem(setClusterIPs, f.Addr.String(), "", "")
			if hasInternal {
				w.elem(mapServiceIPs, key, "goto "+internalChain, "")
			} else {
				w.elem(mapNoEndpointServices, key, internalVerdict, comment)
			}
		case proxy.FrontendExternalIP, proxy.FrontendLoadBalancer:
			key := w.addrPortKey(f.Addr, proto, f.Port)
			if sp.HasEndpoints {
				w.elem(mapServiceIPs, key, "goto "+extChain, "")
			}
			if !hasExternal {
				w.elem(mapNoEndpointServices, key, externalVerdict, comment)
			}
			if f.Kind == proxy.FrontendLoadBalancer && len(f.SourceRanges) > 0 {
				w.elem(mapFirewallIPs, key, "goto "+fwChain, "")
				if _, ok := w.t.chains[fwChain]; !ok {
					w.rule(fwChain, w.ip, "saddr != {", joinPrefixes(disjoint(f.SourceRanges)), "}", "drop")
				}
			}
		case proxy.FrontendNodePort:
			key := proto + " . " + strconv.Itoa(int(f.Port))
			if sp.HasEndpoints {
				w.elem(mapServiceNodePorts, key, "goto "+extChain, "")
			}
			if !hasExternal {
				w.elem(mapNoEndpointNodePorts, key, externalVerdict, comment)
			}
		}
	}

	if usesExt {
		if !sp.ExternalLocal {
			// Endpoints may be on other nodes: masquerade so that replies
			// come back through this node.
			w.rule(extChain, masqRule, `comment "masquerade"`)
		} else {
			// The node's own traffic takes the LoadBalancer IP as source
			// if that IP is local, so it is masqueraded; traffic from the
			// node and, as svcnet's model says, from anywhere inside the
			// cluster uses the Cluster endpoints, as if it had gone out
			// to the load balancer and come back.
			w.rule(extChain, "fib saddr type local", masqRule, `comment "masquerade local traffic"`)
			w.rule(extChain, "fib saddr type local goto", clusterChain, `comment "short-circuit local traffic"`)
			w.rule(extChain, w.ip, "saddr", "@"+setClusterSources, "goto", clusterChain, `comment "short-circuit cluster traffic"`)
		}
		if hasExternal {
			w.rule(extChain, "goto", externalPolicy)
		}
	}

	names := make(map[netip.AddrPort]string, len(sp.Cluster)+len(sp.Local))
	epName := func(a netip.AddrPort) string {
		n, ok := names[a]
		if !ok {
			n = endpointBase(sp, a)
			names[a] = n
		}
		return n
	}
	reachable := reachableEndpoints(sp)
	for _, b := range reachable {
		epb := epName(b.Addr)
		if sp.AffinitySeconds > 0 {
			w.set("set", prefixAffinity+epb, "{ type "+w.addrType+" ; flags dynamic,timeout ; timeout "+strconv.Itoa(int(sp.AffinitySeconds))+"s ; }")
		}
	}
	if usesCluster {
		w.endpointDispatch(sp, clusterChain, prefixMaglev+base, sp.Cluster, epName)
	}
	if usesLocal {
		w.endpointDispatch(sp, localChain, prefixMaglev+"local-"+base, sp.Local, epName)
	}
	for _, k := range hairpinKeys(sp, w.node) {
		w.elem(setHairpin, k, "", "")
	}
	for _, b := range reachable {
		// Endpoint chains exist only to record affinity (kube-proxy v1.37);
		// otherwise the policy chain DNATs through a map.
		if sp.AffinitySeconds > 0 {
			epb := epName(b.Addr)
			ec := prefixEndpoint + epb
			w.rule(ec, "update", "@"+prefixAffinity+epb, "{", w.ip, "saddr }")
			w.rule(ec, "meta l4proto", proto, "dnat to", b.Addr.String())
		}
	}
}

// reachableEndpoints returns the endpoints a port's policy chains use
// (kube-proxy's allLocallyReachableEndpoints): the Cluster ones when the
// Cluster chain is used, and the Local ones when the Local chain is.
func reachableEndpoints(sp *proxy.ServicePort) []lb.Backend {
	pol := sp.Policy()
	var out []lb.Backend
	if pol.UsesCluster {
		out = append(out, sp.Cluster...)
	}
	if pol.UsesLocal {
		for _, b := range sp.Local {
			if !slices.ContainsFunc(out, func(x lb.Backend) bool { return x.Addr == b.Addr }) {
				out = append(out, b)
			}
		}
	}
	return out
}

// hairpinKeys returns the hairpin-connections elements of a port: its
// reachable endpoints on this node, "IP . IP . proto . port".
func hairpinKeys(sp *proxy.ServicePort, node string) []string {
	var out []string
	for _, b := range reachableEndpoints(sp) {
		if b.Node != "" && b.Node == node {
			a := b.Addr.Addr().String()
			out = append(out, a+" . "+a+" . "+proxy.ProtocolName(sp.Proto)+" . "+strconv.Itoa(int(b.Addr.Port())))
		}
	}
	return out
}

// endpointDispatch writes a policy chain's choice of endpoint, as
// kube-proxy v1.37 does: with ClientIP affinity, lookups of the affinity
// sets, then "numgen random mod N vmap" over endpoint chains; without,
// "dnat to" the only endpoint or "dnat ip addr . port to numgen random
// mod N map". A maglev Service chooses by "jhash ip saddr . th sport mod
// M" instead, into a map holding svcnet's Maglev table, the same on every
// node.
func (w *writer) endpointDispatch(sp *proxy.ServicePort, chainName, maglevMap string, eps []lb.Backend, epName func(netip.AddrPort) string) {
	proto := proxy.ProtocolName(sp.Proto)
	affinity := sp.AffinitySeconds > 0
	if affinity {
		for _, b := range eps {
			epb := epName(b.Addr)
			w.rule(chainName, w.ip, "saddr", "@"+prefixAffinity+epb, "goto", prefixEndpoint+epb)
		}
	}
	if sp.Algorithm == lb.AlgorithmMaglev {
		mg, _ := lb.NewMaglev(lb.MaglevConfig{TableSize: w.maglevM}) // size checked by Render
		if err := mg.Update(eps); err == nil {
			m := strconv.Itoa(w.maglevM)
			hash := "jhash " + w.ip + " saddr . th sport mod " + m + " seed 0x0"
			if affinity {
				// A verdict map has another type: another name, so that
				// turning affinity on or off replaces the map.
				maglevMap = strings.Replace(maglevMap, prefixMaglev, prefixMaglevVerdict, 1)
				w.set("map", maglevMap, "{ typeof numgen inc mod "+m+" : verdict ; }")
			} else {
				w.set("map", maglevMap, "{ typeof numgen inc mod "+m+" : "+w.ip+" daddr . "+proto+" dport ; }")
			}
			for i, a := range mg.AppendTable(nil) {
				if affinity {
					w.elem(maglevMap, strconv.Itoa(i), "goto "+prefixEndpoint+epName(a), "")
				} else {
					w.elem(maglevMap, strconv.Itoa(i), a.Addr().String()+" . "+strconv.Itoa(int(a.Port())), "")
				}
			}
			if affinity {
				w.rule(chainName, hash, "vmap", "@"+maglevMap)
			} else {
				w.rule(chainName, "meta l4proto", proto, "dnat", w.ip, "addr . port to", hash, "map", "@"+maglevMap)
			}
			return
		}
	}
	if affinity {
		vm := make([]string, len(eps))
		for i, b := range eps {
			vm[i] = strconv.Itoa(i) + " : goto " + prefixEndpoint + epName(b.Addr)
		}
		w.rule(chainName, "numgen random mod", strconv.Itoa(len(eps)), "vmap {", strings.Join(vm, ", "), "}")
		return
	}
	if len(eps) == 1 {
		w.rule(chainName, "meta l4proto", proto, "dnat to", eps[0].Addr.String())
		return
	}
	m := make([]string, len(eps))
	for i, b := range eps {
		m[i] = strconv.Itoa(i) + " : " + b.Addr.Addr().String() + " . " + strconv.Itoa(int(b.Addr.Port()))
	}
	w.rule(chainName, "meta l4proto", proto, "dnat", w.ip, "addr . port to numgen random mod", strconv.Itoa(len(eps)), "map {", strings.Join(m, ", "), "}")
}
