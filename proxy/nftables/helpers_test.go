package nftables

import (
	"net/netip"
	"strconv"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// svcSpec is a compact Service with its endpoints, for tests.
type svcSpec struct {
	name        string
	typ         service.ServiceType
	clusterIPs  []string
	port        int32
	targetPort  int32
	nodePort    int32
	proto       service.Protocol
	externalIPs []string
	lbIPs       []string
	ranges      []string
	etpLocal    bool
	itpLocal    bool
	affinity    int32 // ClientIP timeout seconds; 0 = none
	alg         string
	eps         []tep
}

// tep is one endpoint: address, node, ready (else serving and terminating
// when term).
type tep struct {
	addr  string
	node  string
	ready bool
	term  bool
}

func (s svcSpec) service() *service.Service {
	typ := s.typ
	if typ == "" {
		typ = service.ServiceTypeClusterIP
	}
	proto := s.proto
	if proto == "" {
		proto = service.ProtocolTCP
	}
	tp := s.targetPort
	if tp == 0 {
		tp = s.port
	}
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: s.name, Namespace: "default"},
		Spec: service.ServiceSpec{
			Type:        typ,
			Selector:    service.Labels{"app": s.name},
			ClusterIP:   s.clusterIPs[0],
			ClusterIPs:  s.clusterIPs,
			ExternalIPs: s.externalIPs,
			Ports:       []service.ServicePort{{Name: "p", Protocol: proto, Port: s.port, TargetPort: service.FromInt(tp), NodePort: s.nodePort}},
		},
	}
	svc.Spec.LoadBalancerSourceRanges = s.ranges
	for _, ip := range s.lbIPs {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, service.LoadBalancerIngress{IP: ip})
	}
	if s.etpLocal {
		svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	}
	if s.itpLocal {
		l := service.TrafficPolicyLocal
		svc.Spec.InternalTrafficPolicy = &l
	}
	if s.affinity > 0 {
		svc.Spec.SessionAffinity = service.ServiceAffinityClientIP
		t := s.affinity
		svc.Spec.SessionAffinityConfig = &service.SessionAffinityConfig{ClientIP: &service.ClientIPConfig{TimeoutSeconds: &t}}
	}
	if s.alg != "" {
		svc.Annotations = map[string]string{proxy.AlgorithmAnnotation: s.alg}
	}
	service.Default(svc)
	return svc
}

func (s svcSpec) slices() []endpoints.Change {
	proto := s.proto
	if proto == "" {
		proto = service.ProtocolTCP
	}
	tp := s.targetPort
	if tp == 0 {
		tp = s.port
	}
	var out []endpoints.Change
	for _, at := range []endpoints.AddressType{endpoints.AddressTypeIPv4, endpoints.AddressTypeIPv6} {
		sl := &endpoints.Slice{AddressType: at, Ports: []endpoints.Port{{Name: "p", Protocol: proto, Port: tp}}}
		sl.Name, sl.Namespace = s.name+"-"+strconv.Itoa(len(out)), "default"
		for _, e := range s.eps {
			a := netip.MustParseAddr(e.addr)
			if a.Is6() != (at == endpoints.AddressTypeIPv6) {
				continue
			}
			sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{a}, NodeName: e.node,
				Conditions: endpoints.Conditions{Ready: e.ready, Serving: e.ready || e.term, Terminating: e.term}})
		}
		if len(sl.Endpoints) > 0 {
			out = append(out, endpoints.Change{Kind: endpoints.Created, Service: service.NamespacedName{Namespace: "default", Name: s.name}, Slice: sl})
		}
	}
	return out
}

// nodeView is a node's Proxy over the given Services.
type nodeView struct {
	name    string
	addrs   []string
	cluster []string
}

func (n nodeView) proxy(t tb, specs ...svcSpec) *proxy.Proxy {
	t.Helper()
	cfg := proxy.ProxyConfig{NodeName: n.name}
	for _, a := range n.addrs {
		cfg.NodeAddresses = append(cfg.NodeAddresses, netip.MustParseAddr(a))
	}
	for _, c := range n.cluster {
		cfg.ClusterPrefixes = append(cfg.ClusterPrefixes, netip.MustParsePrefix(c))
	}
	p, err := proxy.NewProxy(cfg)
	require.NoError(t, err)
	b := p.Table().Builder()
	for _, s := range specs {
		require.NoError(t, b.UpsertService(s.service()))
		b.ApplySlices(s.slices())
	}
	p.Sync(b.Build())
	return p
}

func render(t tb, p *proxy.Proxy, cfg Config) *Ruleset {
	t.Helper()
	r, err := Render(p, cfg)
	require.NoError(t, err)
	return r
}

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	require.TestingT
	Helper()
}
