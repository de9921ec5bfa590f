package lb

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// AlgorithmAnnotation chooses a Service's load-balancing algorithm on
// every proxy, e.g. `lb.svcnet.dev/algorithm: maglev`. Without it a proxy
// uses its configured default (kube-proxy's random).
const AlgorithmAnnotation = "lb.svcnet.dev/algorithm"

// The algorithm names NewPicker and AlgorithmAnnotation accept.
const (
	AlgorithmRandom             = "random"
	AlgorithmRoundRobin         = "roundrobin"
	AlgorithmWeightedRoundRobin = "wrr"
	AlgorithmLeastConn          = "leastconn"
	AlgorithmLeastRequest       = "p2c"
	AlgorithmSourceHash         = "sourcehash"
	AlgorithmMaglev             = "maglev"
	AlgorithmRingHash           = "ringhash"
	AlgorithmBoundedLoad        = "boundedload"
	AlgorithmRendezvous         = "rendezvous"
)

// Algorithms lists the algorithm names, sorted.
func Algorithms() []string {
	return []string{AlgorithmBoundedLoad, AlgorithmLeastConn, AlgorithmMaglev, AlgorithmLeastRequest, AlgorithmRandom,
		AlgorithmRendezvous, AlgorithmRingHash, AlgorithmRoundRobin, AlgorithmSourceHash, AlgorithmWeightedRoundRobin}
}

// NewPicker returns a new picker of the named algorithm with default
// settings, drawing its randomness from rng (nil means a fixed seed). An
// unknown name is an ErrInvalidConfig.
func NewPicker(name string, rng *rand.Rand) (Picker, error) {
	switch name {
	case AlgorithmRandom:
		return NewRandom(RandomConfig{Rand: rng}), nil
	case AlgorithmRoundRobin:
		return NewRoundRobin(RoundRobinConfig{Rand: rng}), nil
	case AlgorithmWeightedRoundRobin:
		return NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: rng}), nil
	case AlgorithmLeastConn:
		return NewLeastConn(LeastConnConfig{}), nil
	case AlgorithmLeastRequest:
		return NewLeastRequest(LeastRequestConfig{Rand: rng})
	case AlgorithmSourceHash:
		return NewSourceHash(), nil
	case AlgorithmMaglev:
		return NewMaglev(MaglevConfig{})
	case AlgorithmRingHash:
		return NewRingHash(RingHashConfig{})
	case AlgorithmBoundedLoad:
		return NewBoundedLoad(BoundedLoadConfig{})
	case AlgorithmRendezvous:
		return NewRendezvous(), nil
	}
	return nil, fmt.Errorf("%w: unknown algorithm %q (known: %s)", ErrInvalidConfig, name, strings.Join(Algorithms(), ", "))
}

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
	Proto    Protocol
}

// Route is a proxy's decision for a packet: the frontend it hit, the
// verdict and, when Routed, the backend (PodIP:targetPort).
type Route struct {
	Verdict  Verdict
	Kind     FrontendKind
	Service  service.NamespacedName
	PortName string
	Backend  Backend
	picker   Picker // for Done
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

// Proxy is one node's kube-proxy: from Services and their EndpointSlices
// it programs frontends (ClusterIP:port, each external IP:port, each
// LoadBalancer ingress IP:port, and NodeIP:nodePort on every node
// address) and routes a connection's first packet to a backend.
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
// Applying a change rebuilds only the affected Service's frontends. Route
// does not allocate. A Proxy is single-writer and not safe for concurrent
// use.
type Proxy struct {
	cfg      ProxyConfig
	rng      *rand.Rand
	services map[service.NamespacedName]*proxyService
	vips     map[frontendKey]*frontend
	nodePort map[nodePortKey]*frontend
	local    map[netip.Addr]bool
}

type frontendKey struct {
	addr  netip.Addr
	port  uint16
	proto Protocol
}

type nodePortKey struct {
	port   uint16
	family bool // true for IPv6
	proto  Protocol
}

type frontend struct {
	kind   FrontendKind
	port   *proxyPort
	ranges []netip.Prefix // loadBalancerSourceRanges, LoadBalancer frontends only
}

// proxyService is one Service as this proxy knows it.
type proxyService struct {
	svc    *service.Service
	slices map[string]*endpoints.Slice
	ports  []*proxyPort
}

// proxyPort is one Service port in one IP family, with its pickers.
type proxyPort struct {
	svc        service.NamespacedName
	name       string
	proto      Protocol
	ipv6       bool
	hasAny     bool
	internal   Picker // ClusterIP frontends
	external   Picker // NodePort, external IP and LoadBalancer frontends
	cluster    Picker // external frontends reached from inside the cluster under ETP Local
	internalOK bool   // internal has backends
	externalOK bool
	clusterOK  bool
	// externalLocal: externalTrafficPolicy Local.
	externalLocal bool
}

// NewProxy returns a proxy with no Services. An unknown default algorithm
// is an ErrInvalidConfig.
func NewProxy(cfg ProxyConfig) (*Proxy, error) {
	if cfg.Algorithm == "" {
		cfg.Algorithm = AlgorithmRandom
	}
	if _, err := NewPicker(cfg.Algorithm, nil); err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg:      cfg,
		rng:      defaultRand(cfg.Rand),
		services: map[service.NamespacedName]*proxyService{},
		vips:     map[frontendKey]*frontend{},
		nodePort: map[nodePortKey]*frontend{},
		local:    map[netip.Addr]bool{},
	}
	for _, a := range cfg.NodeAddresses {
		p.local[a.Unmap()] = true
	}
	return p, nil
}

// NodeName returns the node the proxy runs on.
func (p *Proxy) NodeName() string { return p.cfg.NodeName }

// UpsertService adds or replaces a Service (a defaulted, validated one, as
// a Registry hands out). Its frontends are rebuilt; its slices are kept.
// An unknown algorithm in its annotation is an ErrInvalidConfig and
// changes nothing.
func (p *Proxy) UpsertService(svc *service.Service) error {
	if _, err := p.algorithm(svc); err != nil {
		return err
	}
	key := svc.Key()
	ps := p.services[key]
	if ps == nil {
		ps = &proxyService{slices: map[string]*endpoints.Slice{}}
		p.services[key] = ps
	}
	ps.svc = svc.DeepCopy()
	return p.rebuild(key, ps, true)
}

// DeleteService removes a Service and its frontends.
func (p *Proxy) DeleteService(key service.NamespacedName) {
	if ps := p.services[key]; ps != nil {
		p.unprogram(ps)
		delete(p.services, key)
	}
}

// ApplySlices applies EndpointSlice changes, as an endpoints.Controller
// returns them, and rebuilds the frontends of each Service they touch,
// once. Slices of a Service the proxy does not know are kept until it
// arrives.
func (p *Proxy) ApplySlices(changes []endpoints.Change) error {
	touched := map[service.NamespacedName]bool{}
	for _, c := range changes {
		ps := p.services[c.Service]
		if ps == nil {
			ps = &proxyService{slices: map[string]*endpoints.Slice{}}
			p.services[c.Service] = ps
		}
		switch c.Kind {
		case endpoints.Created, endpoints.Updated:
			ps.slices[c.Slice.Name] = c.Slice
		case endpoints.Deleted:
			delete(ps.slices, c.Old.Name)
		}
		touched[c.Service] = true
	}
	keys := slices.SortedFunc(maps.Keys(touched), func(a, b service.NamespacedName) int {
		return strings.Compare(a.String(), b.String())
	})
	for _, k := range keys {
		ps := p.services[k]
		if ps.svc == nil {
			if len(ps.slices) == 0 {
				delete(p.services, k)
			}
			continue
		}
		if err := p.rebuild(k, ps, false); err != nil {
			return err
		}
	}
	return nil
}

func (p *Proxy) algorithm(svc *service.Service) (string, error) {
	name := p.cfg.Algorithm
	if a, ok := svc.Annotations[AlgorithmAnnotation]; ok {
		name = a
	}
	if _, err := NewPicker(name, nil); err != nil {
		return "", fmt.Errorf("service %s: annotation %s: %w", svc.Key(), AlgorithmAnnotation, err)
	}
	return name, nil
}

func (p *Proxy) unprogram(ps *proxyService) {
	for k, f := range p.vips {
		if slices.Contains(ps.ports, f.port) {
			delete(p.vips, k)
		}
	}
	for k, f := range p.nodePort {
		if slices.Contains(ps.ports, f.port) {
			delete(p.nodePort, k)
		}
	}
}

// endpointInfo is one endpoint with the facts CategorizeEndpoints needs.
type endpointInfo struct {
	b         Backend
	zoneHints []endpoints.ForZone
	nodeHints []endpoints.ForNode
}

func (p *Proxy) newPicker(svc *service.Service) (Picker, error) {
	name, err := p.algorithm(svc)
	if err != nil {
		return nil, err
	}
	pk, err := NewPicker(name, rand.New(rand.NewPCG(p.rng.Uint64(), p.rng.Uint64())))
	if err != nil {
		return nil, err
	}
	if svc.Spec.SessionAffinity == service.ServiceAffinityClientIP {
		timeout := int32(0)
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			timeout = *c.ClientIP.TimeoutSeconds
		}
		return NewAffinity(pk, AffinityConfig{TimeoutSeconds: timeout})
	}
	return pk, nil
}

func toProtocol(p service.Protocol) Protocol {
	switch p {
	case service.ProtocolUDP:
		return UDP
	case service.ProtocolSCTP:
		return SCTP
	}
	return TCP
}

// rebuild recomputes a Service's ports, pickers and frontends. When the
// Service object changed (full), pickers are made anew; on slice changes
// the existing pickers are updated in place, so consistent hashes and
// round-robin positions carry over.
func (p *Proxy) rebuild(key service.NamespacedName, ps *proxyService, full bool) error {
	svc := ps.svc
	p.unprogram(ps)
	if svc.Spec.Type == service.ServiceTypeExternalName {
		ps.ports = nil
		return nil
	}
	old := map[string]*proxyPort{}
	if !full {
		for _, pp := range ps.ports {
			old[fmt.Sprintf("%s/%s/%v", pp.name, pp.proto, pp.ipv6)] = pp
		}
	}
	var ports []*proxyPort
	for _, sp := range svc.Spec.Ports {
		for _, v6 := range []bool{false, true} {
			eps := p.portEndpoints(ps, sp, v6)
			pp := old[fmt.Sprintf("%s/%s/%v", sp.Name, toProtocol(sp.Protocol), v6)]
			if pp == nil {
				pp = &proxyPort{svc: key, name: sp.Name, proto: toProtocol(sp.Protocol), ipv6: v6}
				var err error
				if pp.internal, err = p.newPicker(svc); err != nil {
					return err
				}
				if pp.external, err = p.newPicker(svc); err != nil {
					return err
				}
				if pp.cluster, err = p.newPicker(svc); err != nil {
					return err
				}
			}
			clusterEps, localEps, hasAny := p.categorize(svc, eps)
			pp.hasAny = hasAny
			internal, external := clusterEps, clusterEps
			if svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == service.TrafficPolicyLocal {
				internal = localEps
			}
			pp.externalLocal = svc.Spec.ExternalTrafficPolicy == service.TrafficPolicyLocal
			if pp.externalLocal {
				external = localEps
			}
			if err := pp.internal.Update(internal); err != nil {
				return err
			}
			if err := pp.external.Update(external); err != nil {
				return err
			}
			if err := pp.cluster.Update(clusterEps); err != nil {
				return err
			}
			pp.internalOK, pp.externalOK, pp.clusterOK = len(internal) > 0, len(external) > 0, len(clusterEps) > 0
			ports = append(ports, pp)
			p.program(svc, sp, pp)
		}
	}
	ps.ports = ports
	return nil
}

// portEndpoints gathers the endpoints of one Service port in one family
// from the Service's slices: PodIP:port of the slice port with the
// Service port's name and protocol.
func (p *Proxy) portEndpoints(ps *proxyService, sp service.ServicePort, v6 bool) []endpointInfo {
	want := endpoints.AddressTypeIPv4
	if v6 {
		want = endpoints.AddressTypeIPv6
	}
	names := slices.Sorted(maps.Keys(ps.slices))
	var out []endpointInfo
	seen := map[netip.AddrPort]bool{}
	for _, n := range names {
		sl := ps.slices[n]
		if sl.AddressType != want {
			continue
		}
		port := int32(-1)
		for _, spt := range sl.Ports {
			if spt.Name == sp.Name && spt.Protocol == sp.Protocol {
				port = spt.Port
			}
		}
		if port <= 0 {
			continue
		}
		for _, ep := range sl.Endpoints {
			ap := netip.AddrPortFrom(ep.Address(), uint16(port))
			if !ap.Addr().IsValid() || seen[ap] {
				continue
			}
			seen[ap] = true
			ei := endpointInfo{b: Backend{Addr: ap, Zone: ep.Zone, Node: ep.NodeName,
				Ready: ep.Conditions.Ready, Serving: ep.Conditions.Serving, Terminating: ep.Conditions.Terminating}}
			if ep.Hints != nil {
				ei.zoneHints, ei.nodeHints = ep.Hints.ForZones, ep.Hints.ForNodes
			}
			out = append(out, ei)
		}
	}
	return out
}

// categorize splits endpoints as kube-proxy's CategorizeEndpoints does.
func (p *Proxy) categorize(svc *service.Service, eps []endpointInfo) (cluster, local []Backend, hasAny bool) {
	mode := p.topologyMode(svc, eps)
	usable := func(e endpointInfo) bool {
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
	var localReady, localTerm []Backend
	for _, e := range eps {
		isLocal := e.b.Node != "" && e.b.Node == p.cfg.NodeName
		switch {
		case e.b.Ready:
			hasAny = true
			if isLocal {
				localReady = append(localReady, e.b)
			}
		case e.b.Serving && e.b.Terminating:
			hasAny = true
			if isLocal {
				localTerm = append(localTerm, e.b)
			}
		}
	}
	local = localReady
	if len(local) == 0 {
		local = localTerm
	}
	return cluster, local, hasAny
}

// topologyMode returns "node", "zone" or "" as kube-proxy's
// topologyModeFromHints: hints are used only when the Service asks for
// them (trafficDistribution, or the topology-mode annotation) and every
// ready endpoint carries one, and only when one is for this node or zone.
func (p *Proxy) topologyMode(svc *service.Service, eps []endpointInfo) string {
	td := ""
	if svc.Spec.TrafficDistribution != nil {
		td = *svc.Spec.TrafficDistribution
	}
	mode := svc.Annotations["service.kubernetes.io/topology-mode"]
	if td == "" && mode != "Auto" && svc.Annotations["service.kubernetes.io/topology-aware-hints"] != "Auto" {
		return ""
	}
	if td == service.TrafficDistributionPreferSameNode {
		forNode := false
		all := true
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

func (p *Proxy) program(svc *service.Service, sp service.ServicePort, pp *proxyPort) {
	port := uint16(sp.Port)
	add := func(a netip.Addr, kind FrontendKind, ranges []netip.Prefix) {
		a = a.Unmap()
		if a.Is6() != pp.ipv6 {
			return
		}
		p.vips[frontendKey{a, port, pp.proto}] = &frontend{kind: kind, port: pp, ranges: ranges}
	}
	if !svc.IsHeadless() {
		for _, ip := range svc.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				add(a, FrontendClusterIP, nil)
			}
		}
	}
	for _, ip := range svc.Spec.ExternalIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			add(a, FrontendExternalIP, nil)
		}
	}
	if svc.Spec.Type == service.ServiceTypeLoadBalancer {
		var ranges []netip.Prefix
		for _, r := range svc.Spec.LoadBalancerSourceRanges {
			if pf, err := service.ParseSourceRange(r); err == nil {
				ranges = append(ranges, pf)
			}
		}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(in.IP); err == nil {
				add(a, FrontendLoadBalancer, ranges)
			}
		}
	}
	if sp.NodePort != 0 && (svc.Spec.Type == service.ServiceTypeNodePort || svc.Spec.Type == service.ServiceTypeLoadBalancer) {
		p.nodePort[nodePortKey{uint16(sp.NodePort), pp.ipv6, pp.proto}] = &frontend{kind: FrontendNodePort, port: pp}
	}
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

// Route decides where the first packet of a connection goes, at time now
// (which only session affinity reads). It never allocates.
func (p *Proxy) Route(pkt Packet, now time.Time) Route {
	dst := pkt.Dst.Addr().Unmap()
	src := pkt.Src.Addr().Unmap()
	f := p.vips[frontendKey{dst, pkt.Dst.Port(), pkt.Proto}]
	if f == nil && p.local[dst] {
		f = p.nodePort[nodePortKey{pkt.Dst.Port(), dst.Is6(), pkt.Proto}]
	}
	if f == nil {
		return Route{Verdict: NotServiceAddress}
	}
	pp := f.port
	r := Route{Kind: f.kind, Service: pp.svc, PortName: pp.name}
	inside := p.inCluster(src)
	var pk Picker
	ok := false
	switch f.kind {
	case FrontendClusterIP:
		if !inside {
			r.Verdict = Unreachable
			return r
		}
		pk, ok = pp.internal, pp.internalOK
	default:
		if f.kind == FrontendLoadBalancer && len(f.ranges) > 0 && !containsAddr(f.ranges, src) {
			r.Verdict = BlockedBySourceRange
			return r
		}
		pk, ok = pp.external, pp.externalOK
		if inside && pp.externalLocal {
			// kube-proxy short-circuits traffic from pods and from the
			// node itself to an external address of an
			// externalTrafficPolicy Local Service: it jumps to the
			// cluster-policy chain (proxier.go, "pod traffic for ...
			// external destinations").
			pk, ok = pp.cluster, pp.clusterOK
		}
	}
	if !pp.hasAny {
		r.Verdict = NoEndpoints
		return r
	}
	if !ok {
		r.Verdict = DroppedByPolicy
		return r
	}
	key := Key{Src: pkt.Src, Proto: pkt.Proto}
	var b Backend
	if a, isAff := pk.(*Affinity); isAff {
		b, ok = a.PickAt(key, now)
	} else {
		b, ok = pk.Pick(key)
	}
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
// no-op.
func (p *Proxy) Done(r Route) {
	if r.Verdict != Routed {
		return
	}
	if c, ok := r.picker.(ConnPicker); ok {
		c.Done(r.Backend)
	}
}

// Frontends returns the number of programmed frontends: VIP:port entries
// plus NodePort entries (each NodePort answers on every node address).
func (p *Proxy) Frontends() int { return len(p.vips) + len(p.nodePort) }
