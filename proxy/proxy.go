package proxy

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// AlgorithmAnnotation chooses a Service's load-balancing algorithm on
// every proxy, e.g. `lb.svcnet.dev/algorithm: maglev`. Without it a proxy
// uses its configured default (kube-proxy's random).
const AlgorithmAnnotation = "lb.svcnet.dev/algorithm"

// FrontendKind says which kind of Service address a packet reached.
type FrontendKind uint8

// The frontend kinds kube-proxy programs.
const (
	FrontendClusterIP FrontendKind = iota + 1
	FrontendNodePort
	FrontendExternalIP
	FrontendLoadBalancer
)

// String returns "ClusterIP", "NodePort", "ExternalIP" or "LoadBalancer".
func (k FrontendKind) String() string {
	switch k {
	case FrontendClusterIP:
		return "ClusterIP"
	case FrontendNodePort:
		return "NodePort"
	case FrontendExternalIP:
		return "ExternalIP"
	case FrontendLoadBalancer:
		return "LoadBalancer"
	}
	return "none"
}

// Verdict is what a proxy did with a packet.
type Verdict uint8

// The verdicts.
const (
	// Routed: the packet goes to Route.Backend.
	Routed Verdict = iota + 1
	// NotServiceAddress: the destination is no Service frontend on this
	// node; kube-proxy lets the packet pass untouched.
	NotServiceAddress
	// Unreachable: a ClusterIP reached from outside the cluster; the
	// virtual IP exists only for pods and nodes.
	Unreachable
	// NoEndpoints: the Service has no usable endpoint anywhere; kube-proxy
	// rejects (ICMP unreachable, or a TCP reset).
	NoEndpoints
	// DroppedByPolicy: the Service has endpoints, but its Local traffic
	// policy allows none on this node; kube-proxy drops.
	DroppedByPolicy
	// BlockedBySourceRange: a LoadBalancer IP reached from outside its
	// loadBalancerSourceRanges; kube-proxy drops.
	BlockedBySourceRange
)

// String returns the verdict's name.
func (v Verdict) String() string {
	return [...]string{"none", "routed", "not a service address", "unreachable", "no endpoints", "dropped by policy", "blocked by source range"}[min(int(v), 6)]
}

// Packet is the first packet of a connection, as a proxy sees it.
type Packet struct {
	Src, Dst netip.AddrPort
	Proto    lb.Protocol
}

// Route is a proxy's decision for a packet: the frontend it hit, the
// verdict and, when Routed, the backend (PodIP:targetPort).
type Route struct {
	Verdict  Verdict
	Kind     FrontendKind
	Service  service.NamespacedName
	PortName string
	Backend  lb.Backend
	// ExternalLocal reports that the backend was looked for among this
	// node's endpoints only: an external frontend (NodePort or
	// LoadBalancer IP) of an externalTrafficPolicy Local Service, reached
	// from outside the cluster.
	ExternalLocal bool
	picker        lb.Picker // for Done
}

// ProxyConfig configures one node's proxy.
type ProxyConfig struct {
	// NodeName and NodeZone place the proxy: Local traffic policies use the
	// endpoints on NodeName, topology hints those for NodeZone.
	NodeName, NodeZone string
	// NodeAddresses are the node's own addresses, where NodePorts answer.
	NodeAddresses []netip.Addr
	// ClusterPrefixes are the pod and node address ranges: sources inside
	// them are inside the cluster and may reach ClusterIPs.
	ClusterPrefixes []netip.Prefix
	// Algorithm is the default algorithm name; "" means AlgorithmRandom,
	// kube-proxy's iptables and nftables behaviour. AlgorithmAnnotation on
	// a Service overrides it.
	Algorithm string
	// Rand seeds every picker's own stream. Nil means a fixed seed; give
	// each node its own so that a fleet does not choose in lockstep.
	Rand *rand.Rand
}

// Proxy is one node's kube-proxy: a view of a Table from this node. It
// routes a connection's first packet from a frontend (ClusterIP:port,
// external IP:port, LoadBalancer ingress IP:port, or any of this node's
// addresses at a NodePort) to a backend, PodIP:targetPort.
//
// Endpoint choice follows kube-proxy's CategorizeEndpoints
// (pkg/proxy/topology.go): the Cluster policy uses ready endpoints,
// narrowed to those hinted for this node's zone when every ready endpoint
// has a hint and one is for this zone (KEP-2433, KEP-4444), and falls back
// to serving terminating endpoints when none is ready (KEP-1669); a Local
// policy uses this node's ready endpoints, else its serving terminating
// ones, else drops. Traffic from inside the cluster to an external
// frontend of a Service with externalTrafficPolicy Local uses the Cluster
// endpoints, as kube-proxy short-circuits it.
//
// A Proxy applies a Table with Sync, at the cost of what changed since
// the Table it had (see Sync): thousands of proxies can
// share one Table, and a stale proxy keeps the Table it last synced. Its
// own state is only its pickers, made lazily for the Service ports it
// routes to and refreshed, with their state kept (round-robin positions,
// connection counts, affinities), when a synced Table changed that port.
// UpsertService, DeleteService and ApplySlices are shortcuts that build a
// new Table from the current one and sync it.
//
// Route does not allocate once a port's pickers exist. A Proxy is
// single-writer and not safe for concurrent use.
type Proxy struct {
	cfg     ProxyConfig
	rng     *rand.Rand
	table   *Table
	local   map[netip.Addr]bool
	pickers map[portKey]*nodePort
	// seen caches the frontends of table that Route found, so that a busy
	// frontend costs a hash lookup rather than a B-tree walk. Sync
	// clears it.
	seen map[frontendKey]*seenFrontend
	// probe is the search key of Table lookups, kept here so that a
	// lookup does not allocate one.
	probe tableService
}

// nodePort is a node's pickers for one Service port, made from tp.
type nodePort struct {
	tp                                *tablePort
	alg                               string
	affinity                          service.ServiceAffinity
	internal, external, cluster       lb.Picker
	internalOK, externalOK, clusterOK bool
	externalLocal                     bool
}

// NewProxy returns a proxy with an empty Table. An unknown default
// algorithm is an ErrInvalidConfig.
func NewProxy(cfg ProxyConfig) (*Proxy, error) {
	if cfg.Algorithm == "" {
		cfg.Algorithm = lb.AlgorithmRandom
	}
	t, err := NewTableWithAlgorithm(cfg.Algorithm)
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg:     cfg,
		rng:     orDefaultRand(cfg.Rand),
		table:   t,
		local:   map[netip.Addr]bool{},
		pickers: map[portKey]*nodePort{},
		seen:    map[frontendKey]*seenFrontend{},
	}
	for _, a := range cfg.NodeAddresses {
		p.local[a.Unmap()] = true
	}
	return p, nil
}

// NodeName returns the node the proxy runs on.
func (p *Proxy) NodeName() string { return p.cfg.NodeName }

// Table returns the Table the proxy last synced.
func (p *Proxy) Table() *Table { return p.table }

// Sync makes t the proxy's table, as kube-proxy's sync loop programs the
// node. Pickers of ports that t no longer has are dropped; the others are
// refreshed when next used. When t was built from the proxy's table
// within the last few builds (a Cluster's next generations), Sync costs
// what those builds changed, O(changed Services × log Services), and
// does not allocate; otherwise it walks the proxy's pickers and cached
// frontends, O(the Service ports it has routed to).
func (p *Proxy) Sync(t *Table) {
	if t == p.table {
		return
	}
	old := p.table
	p.table = t
	if len(p.pickers) == 0 && len(p.seen) == 0 {
		// Nothing cached to drop: a node no traffic went through
		// syncs in O(1), however many Services changed.
		return
	}
	steps, n, ok := t.stepsSince(old)
	if !ok || n > len(p.pickers)+len(p.seen) {
		clear(p.seen)
		for k := range p.pickers {
			ts := t.lookup(&p.probe, k.svc)
			if ts == nil || !slices.ContainsFunc(ts.ports, func(tp *tablePort) bool { return tp.key == k }) {
				delete(p.pickers, k)
			}
		}
		return
	}
	for _, st := range steps {
		if len(p.seen) > 0 {
			for _, f := range st.fronts {
				if f.addr.IsValid() {
					delete(p.seen, f)
					continue
				}
				// A NodePort: Route cached it under each node address.
				for _, a := range p.cfg.NodeAddresses {
					f.addr = a.Unmap()
					delete(p.seen, f)
				}
			}
		}
		for _, k := range st.keys {
			ots, nts := old.lookup(&p.probe, k), t.lookup(&p.probe, k)
			if ots == nil || ots == nts {
				continue
			}
			// The pickers are of ports of the old table (pickersFor
			// makes them only for its ports), so the old entry's ports
			// are all there can be for this Service.
			for _, tp := range ots.ports {
				if _, has := p.pickers[tp.key]; has && (nts == nil || !slices.ContainsFunc(nts.ports, func(n *tablePort) bool { return n.key == tp.key })) {
					delete(p.pickers, tp.key)
				}
			}
		}
	}
}

// Frontends returns the number of frontends in the proxy's table.
func (p *Proxy) Frontends() int { return p.table.Frontends() }

// endpointInfo is one endpoint with the facts CategorizeEndpoints needs;
// immutable once built, and shared by the Tables whose port it stays in.
type endpointInfo struct {
	b         lb.Backend
	zoneHints []endpoints.ForZone
	nodeHints []endpoints.ForNode
}

func (p *Proxy) newPicker(alg string, svc *service.Service) (lb.Picker, error) {
	pk, err := lb.NewPicker(alg, rand.New(rand.NewPCG(p.rng.Uint64(), p.rng.Uint64())))
	if err != nil {
		return nil, err
	}
	if svc.Spec.SessionAffinity == service.ServiceAffinityClientIP {
		timeout := int32(0)
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			timeout = *c.ClientIP.TimeoutSeconds
		}
		return lb.NewAffinity(pk, lb.AffinityConfig{TimeoutSeconds: timeout})
	}
	return pk, nil
}

func toProtocol(p service.Protocol) lb.Protocol {
	switch p {
	case service.ProtocolUDP:
		return lb.UDP
	case service.ProtocolSCTP:
		return lb.SCTP
	}
	return lb.TCP
}

// pickersFor returns this node's pickers for tp, making or refreshing
// them. Pickers are remade only when the algorithm or the affinity
// changed; otherwise they are updated in place.
func (p *Proxy) pickersFor(tp *tablePort) *nodePort {
	np := p.pickers[tp.key]
	if np != nil && np.tp == tp {
		return np
	}
	svc := tp.svc
	if np == nil || np.alg != tp.alg || np.affinity != svc.Spec.SessionAffinity {
		np = &nodePort{alg: tp.alg, affinity: svc.Spec.SessionAffinity}
		var err error
		for _, pk := range []*lb.Picker{&np.internal, &np.external, &np.cluster} {
			if *pk, err = p.newPicker(tp.alg, svc); err != nil {
				// The Table checked the algorithm; only an invalid
				// affinity timeout can get here, which validation rejects.
				*pk = lb.NewRandom(lb.RandomConfig{Rand: p.rng})
			}
		}
		p.pickers[tp.key] = np
	}
	np.tp = tp
	clusterEps, localEps := p.categorize(svc, tp.eps)
	internal, external := clusterEps, clusterEps
	if svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == service.TrafficPolicyLocal {
		internal = localEps
	}
	np.externalLocal = svc.Spec.ExternalTrafficPolicy == service.TrafficPolicyLocal
	if np.externalLocal {
		external = localEps
	}
	// Backends come from validated slices, so Update cannot fail; a
	// picker that did would keep its previous backends.
	np.internalOK = np.internal.Update(internal) == nil && len(internal) > 0
	np.externalOK = np.external.Update(external) == nil && len(external) > 0
	np.clusterOK = np.cluster.Update(clusterEps) == nil && len(clusterEps) > 0
	return np
}

// categorize splits endpoints as kube-proxy's CategorizeEndpoints does.
func (p *Proxy) categorize(svc *service.Service, eps []*endpointInfo) (cluster, local []lb.Backend) {
	mode := p.topologyMode(svc, eps)
	usable := func(e *endpointInfo) bool {
		switch mode {
		case "zone":
			return slices.ContainsFunc(e.zoneHints, func(z endpoints.ForZone) bool { return z.Name == p.cfg.NodeZone })
		case "node":
			return slices.ContainsFunc(e.nodeHints, func(n endpoints.ForNode) bool { return n.Name == p.cfg.NodeName })
		}
		return true
	}
	for _, e := range eps {
		if e.b.Ready && usable(e) {
			cluster = append(cluster, e.b)
		}
	}
	if len(cluster) == 0 {
		for _, e := range eps {
			if e.b.Serving && e.b.Terminating && usable(e) {
				cluster = append(cluster, e.b)
			}
		}
	}
	var localTerm []lb.Backend
	for _, e := range eps {
		if e.b.Node == "" || e.b.Node != p.cfg.NodeName {
			continue
		}
		switch {
		case e.b.Ready:
			local = append(local, e.b)
		case e.b.Serving && e.b.Terminating:
			localTerm = append(localTerm, e.b)
		}
	}
	if len(local) == 0 {
		local = localTerm
	}
	return cluster, local
}

// topologyMode returns "node", "zone" or "" as kube-proxy's
// topologyModeFromHints: hints are used only when the Service asks for
// them (trafficDistribution, or the topology-mode annotation) and every
// ready endpoint carries one, and only when one is for this node or zone.
func (p *Proxy) topologyMode(svc *service.Service, eps []*endpointInfo) string {
	td := ""
	if svc.Spec.TrafficDistribution != nil {
		td = *svc.Spec.TrafficDistribution
	}
	if td == "" && svc.Annotations["service.kubernetes.io/topology-mode"] != "Auto" &&
		svc.Annotations["service.kubernetes.io/topology-aware-hints"] != "Auto" {
		return ""
	}
	if td == service.TrafficDistributionPreferSameNode {
		forNode, all := false, true
		for _, e := range eps {
			if !e.b.Ready {
				continue
			}
			if len(e.nodeHints) == 0 {
				all = false
			}
			if slices.ContainsFunc(e.nodeHints, func(n endpoints.ForNode) bool { return n.Name == p.cfg.NodeName }) {
				forNode = true
			}
		}
		if all && forNode {
			return "node"
		}
	}
	if p.cfg.NodeZone == "" {
		return ""
	}
	forZone := false
	for _, e := range eps {
		if !e.b.Ready {
			continue
		}
		if len(e.zoneHints) == 0 {
			return ""
		}
		if slices.ContainsFunc(e.zoneHints, func(z endpoints.ForZone) bool { return z.Name == p.cfg.NodeZone }) {
			forZone = true
		}
	}
	if !forZone {
		return ""
	}
	return "zone"
}

func (p *Proxy) inCluster(a netip.Addr) bool {
	if p.local[a] {
		return true
	}
	for _, pf := range p.cfg.ClusterPrefixes {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// seenFrontend is a frontend Route found in the table, with the node's
// pickers for its port once made.
type seenFrontend struct {
	f  tableFrontend
	np *nodePort
}

type frontendKey struct {
	addr  netip.Addr
	port  uint16
	proto lb.Protocol
}

// Route decides where the first packet of a connection goes, at time now
// (which only session affinity reads). It does not allocate once the
// port's pickers exist (the first packet to a port after a change pays
// for refreshing them).
func (p *Proxy) Route(pkt Packet, now time.Time) Route {
	dst := pkt.Dst.Addr().Unmap()
	src := pkt.Src.Addr().Unmap()
	key := tableFrontend{addr: dst, port: pkt.Dst.Port(), proto: pkt.Proto, ipv6: dst.Is6()}
	ck := frontendKey{dst, key.port, key.proto}
	sf := p.seen[ck]
	if sf == nil {
		f, found := p.table.frontends.Get(key)
		if !found && p.local[dst] {
			nk := key
			nk.addr = netip.Addr{}
			f, found = p.table.nodePorts.Get(nk)
		}
		if !found {
			return Route{Verdict: NotServiceAddress}
		}
		sf = &seenFrontend{f: f}
		p.seen[ck] = sf
	}
	f := &sf.f
	tp := f.tp
	r := Route{Kind: f.kind, Service: tp.key.svc, PortName: tp.key.name}
	inside := p.inCluster(src)
	if f.kind == FrontendClusterIP && !inside {
		r.Verdict = Unreachable
		return r
	}
	if rs := f.sourceRanges(); len(rs) > 0 && !containsAddr(rs, src) {
		r.Verdict = BlockedBySourceRange
		return r
	}
	if !tp.hasAny {
		r.Verdict = NoEndpoints
		return r
	}
	np := sf.np
	if np == nil || np.tp != tp {
		np = p.pickersFor(tp)
		sf.np = np
	}
	var pk lb.Picker
	var ok bool
	switch {
	case f.kind == FrontendClusterIP:
		pk, ok = np.internal, np.internalOK
	case inside && np.externalLocal:
		// kube-proxy short-circuits traffic from pods and from the node
		// itself to an external address of an externalTrafficPolicy Local
		// Service: it jumps to the cluster-policy chain (proxier.go, "pod
		// traffic for ... external destinations").
		pk, ok = np.cluster, np.clusterOK
	default:
		pk, ok = np.external, np.externalOK
		r.ExternalLocal = np.externalLocal
	}
	if !ok {
		r.Verdict = DroppedByPolicy
		return r
	}
	b, ok := pk.Pick(lb.Key{Src: pkt.Src, Proto: pkt.Proto, Now: now})
	if !ok {
		r.Verdict = NoEndpoints
		return r
	}
	r.Verdict, r.Backend, r.picker = Routed, b, pk
	return r
}

func containsAddr(ranges []netip.Prefix, a netip.Addr) bool {
	for _, pf := range ranges {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// Done reports that the connection r routed has ended, so that
// connection-aware algorithms (least connections, power of two choices,
// bounded load) count it closed. Done of a route that was not Routed is a
// no-op. It is r.Done.
func (p *Proxy) Done(r Route) { r.Done() }

// Done reports that the connection r routed has ended to the picker that
// chose its backend (the route remembers it), as Proxy.Done.
func (r Route) Done() {
	if r.Verdict != Routed {
		return
	}
	if c, ok := r.picker.(lb.ConnPicker); ok {
		c.Done(r.Backend)
	}
}

// orDefaultRand returns r, or a PCG seeded with (0, 0) when r is nil, so a
// proxy without a configured generator is still reproducible.
func orDefaultRand(r *rand.Rand) *rand.Rand {
	if r != nil {
		return r
	}
	return rand.New(rand.NewPCG(0, 0))
}
