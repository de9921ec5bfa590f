package proxy

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testService(typ service.ServiceType, mutate ...func(*service.Service)) *service.Service {
	s := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: service.ServiceSpec{
			Type:       typ,
			Selector:   service.Labels{"app": "web"},
			ClusterIP:  "10.96.0.10",
			ClusterIPs: []string{"10.96.0.10", "fd00:96::10"},
			Ports:      []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}},
		},
	}
	if typ != service.ServiceTypeClusterIP {
		s.Spec.Ports[0].NodePort = 30080
	}
	for _, m := range mutate {
		m(s)
	}
	service.Default(s)
	return s
}

type ep struct {
	addr, node, zone            string
	ready, serving, terminating bool
	hints                       []string
}

func testSlice(name string, at endpoints.AddressType, eps ...ep) endpoints.Change {
	sl := &endpoints.Slice{AddressType: at, Ports: []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}}
	sl.Name, sl.Namespace = name, "default"
	for _, e := range eps {
		x := endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(e.addr)}, NodeName: e.node, Zone: e.zone,
			Conditions: endpoints.Conditions{Ready: e.ready, Serving: e.serving, Terminating: e.terminating}}
		if e.hints != nil {
			x.Hints = &endpoints.Hints{}
			for _, z := range e.hints {
				x.Hints.ForZones = append(x.Hints.ForZones, endpoints.ForZone{Name: z})
			}
		}
		sl.Endpoints = append(sl.Endpoints, &x)
	}
	return endpoints.Change{Kind: endpoints.Created, Service: service.NamespacedName{Namespace: "default", Name: "web"}, Slice: sl}
}

func ready(addr, node, zone string) ep {
	return ep{addr: addr, node: node, zone: zone, ready: true, serving: true}
}

func newTestProxy(t *testing.T, node, zone string) *Proxy {
	p, err := NewProxy(ProxyConfig{
		NodeName: node, NodeZone: zone,
		NodeAddresses:   []netip.Addr{netip.MustParseAddr("192.168.0.1"), netip.MustParseAddr("fd00:192::1")},
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:244::/64"), netip.MustParsePrefix("192.168.0.0/24")},
	})
	require.NoError(t, err)
	return p
}

var (
	podSrc     = netip.MustParseAddrPort("10.244.9.9:40000")
	outsideSrc = netip.MustParseAddrPort("203.0.113.7:40000")
)

func route(p *Proxy, src netip.AddrPort, dst string) Route {
	return p.Route(Packet{Src: src, Dst: netip.MustParseAddrPort(dst), Proto: lb.TCP}, t0)
}

func TestProxyReachability(t *testing.T) {
	p := newTestProxy(t, "node-a", "z1")
	svc := testService(service.ServiceTypeLoadBalancer, func(s *service.Service) {
		s.Spec.LoadBalancerSourceRanges = []string{"198.51.100.0/24"}
		s.Spec.ExternalIPs = []string{"203.0.113.50"}
		s.Status.LoadBalancer.Ingress = []service.LoadBalancerIngress{{IP: "203.0.113.100"}}
	})
	require.NoError(t, p.UpsertService(svc))
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, ready("10.244.1.5", "node-b", "z2"))}))

	tests := []struct {
		src  netip.AddrPort
		dst  string
		kind FrontendKind
		want Verdict
	}{
		{podSrc, "10.96.0.10:80", FrontendClusterIP, Routed},
		{outsideSrc, "10.96.0.10:80", FrontendClusterIP, Unreachable},
		{podSrc, "10.96.0.10:81", 0, NotServiceAddress},
		{outsideSrc, "192.168.0.1:30080", FrontendNodePort, Routed},
		{outsideSrc, "192.168.0.2:30080", 0, NotServiceAddress}, // another node's address
		{outsideSrc, "203.0.113.50:80", FrontendExternalIP, Routed},
		{outsideSrc, "203.0.113.100:80", FrontendLoadBalancer, BlockedBySourceRange},
		{netip.MustParseAddrPort("198.51.100.9:1234"), "203.0.113.100:80", FrontendLoadBalancer, Routed},
	}
	for _, tt := range tests {
		r := route(p, tt.src, tt.dst)
		require.Equal(t, tt.want, r.Verdict, "%v -> %s", tt.src, tt.dst)
		require.Equal(t, tt.kind, r.Kind, "%v -> %s", tt.src, tt.dst)
		if r.Verdict == Routed {
			require.Equal(t, "10.244.1.5:8080", r.Backend.Addr.String())
			require.Equal(t, "default/web", r.Service.String())
			require.Equal(t, "http", r.PortName)
		}
	}
	// No IPv6 endpoints: the IPv6 ClusterIP rejects.
	require.Equal(t, NoEndpoints, route(p, netip.MustParseAddrPort("[fd00:244::9]:4000"), "[fd00:96::10]:80").Verdict)
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-6", endpoints.AddressTypeIPv6, ready("fd00:244::5", "node-b", "z2"))}))
	r := route(p, netip.MustParseAddrPort("[fd00:244::9]:4000"), "[fd00:96::10]:80")
	require.Equal(t, Routed, r.Verdict)
	require.Equal(t, "[fd00:244::5]:8080", r.Backend.Addr.String())

	p.DeleteService(svc.Key())
	require.Equal(t, NotServiceAddress, route(p, podSrc, "10.96.0.10:80").Verdict)
	require.Zero(t, p.Frontends())
}

func TestProxyEndpointCategories(t *testing.T) {
	local := func(s *service.Service) { s.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal }
	internalLocal := func(s *service.Service) { l := service.TrafficPolicyLocal; s.Spec.InternalTrafficPolicy = &l }
	preferClose := func(s *service.Service) { d := service.TrafficDistributionPreferClose; s.Spec.TrafficDistribution = &d }
	tests := []struct {
		name   string
		svc    *service.Service
		eps    []ep
		src    netip.AddrPort
		dst    string
		want   Verdict
		onlyTo []string // every routed backend is one of these
	}{
		{"no endpoints rejects", testService(service.ServiceTypeClusterIP), nil, podSrc, "10.96.0.10:80", NoEndpoints, nil},
		{"not ready only rejects", testService(service.ServiceTypeClusterIP), []ep{{addr: "10.244.1.1", node: "node-a"}}, podSrc, "10.96.0.10:80", NoEndpoints, nil},
		{"ready preferred over terminating", testService(service.ServiceTypeClusterIP),
			[]ep{ready("10.244.1.1", "node-b", "z1"), {addr: "10.244.1.2", node: "node-b", serving: true, terminating: true}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.1:8080"}},
		{"serving terminating used when none ready", testService(service.ServiceTypeClusterIP),
			[]ep{{addr: "10.244.1.1", node: "node-b"}, {addr: "10.244.1.2", node: "node-b", serving: true, terminating: true}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.2:8080"}},
		{"ETP Local drops without local endpoints", testService(service.ServiceTypeNodePort, local),
			[]ep{ready("10.244.1.1", "node-b", "z1")}, outsideSrc, "192.168.0.1:30080", DroppedByPolicy, nil},
		{"ETP Local uses local endpoints", testService(service.ServiceTypeNodePort, local),
			[]ep{ready("10.244.1.1", "node-b", "z1"), ready("10.244.1.2", "node-a", "z1")}, outsideSrc, "192.168.0.1:30080", Routed, []string{"10.244.1.2:8080"}},
		{"ETP Local short-circuits pod traffic", testService(service.ServiceTypeNodePort, local),
			[]ep{ready("10.244.1.1", "node-b", "z1")}, podSrc, "192.168.0.1:30080", Routed, []string{"10.244.1.1:8080"}},
		{"ETP Local does not touch ClusterIP", testService(service.ServiceTypeNodePort, local),
			[]ep{ready("10.244.1.1", "node-b", "z1")}, podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.1:8080"}},
		{"ITP Local drops without local endpoints", testService(service.ServiceTypeClusterIP, internalLocal),
			[]ep{ready("10.244.1.1", "node-b", "z1")}, podSrc, "10.96.0.10:80", DroppedByPolicy, nil},
		{"ITP Local uses local terminating when no local ready", testService(service.ServiceTypeClusterIP, internalLocal),
			[]ep{ready("10.244.1.1", "node-b", "z1"), {addr: "10.244.1.2", node: "node-a", serving: true, terminating: true}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.2:8080"}},
		{"hints narrow to the zone", testService(service.ServiceTypeClusterIP, preferClose),
			[]ep{{addr: "10.244.1.1", node: "node-b", zone: "z1", ready: true, serving: true, hints: []string{"z1"}},
				{addr: "10.244.1.2", node: "node-c", zone: "z2", ready: true, serving: true, hints: []string{"z2"}}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.1:8080"}},
		{"hints ignored when one ready endpoint lacks them", testService(service.ServiceTypeClusterIP, preferClose),
			[]ep{{addr: "10.244.1.1", node: "node-b", zone: "z1", ready: true, serving: true, hints: []string{"z1"}},
				{addr: "10.244.1.2", node: "node-c", zone: "z2", ready: true, serving: true}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.1:8080", "10.244.1.2:8080"}},
		{"hints ignored when none is for this zone", testService(service.ServiceTypeClusterIP, preferClose),
			[]ep{{addr: "10.244.1.2", node: "node-c", zone: "z2", ready: true, serving: true, hints: []string{"z2"}}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.2:8080"}},
		{"hints ignored without trafficDistribution", testService(service.ServiceTypeClusterIP),
			[]ep{{addr: "10.244.1.1", node: "node-b", zone: "z1", ready: true, serving: true, hints: []string{"z1"}},
				{addr: "10.244.1.2", node: "node-c", zone: "z2", ready: true, serving: true, hints: []string{"z2"}}},
			podSrc, "10.96.0.10:80", Routed, []string{"10.244.1.1:8080", "10.244.1.2:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProxy(t, "node-a", "z1")
			require.NoError(t, p.UpsertService(tt.svc))
			require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, tt.eps...)}))
			seen := map[string]bool{}
			for i := range 400 {
				src := netip.AddrPortFrom(tt.src.Addr(), uint16(1000+i))
				r := p.Route(Packet{Src: src, Dst: netip.MustParseAddrPort(tt.dst), Proto: lb.TCP}, t0)
				require.Equal(t, tt.want, r.Verdict)
				if r.Verdict == Routed {
					seen[r.Backend.Addr.String()] = true
				}
			}
			for b := range seen {
				require.Contains(t, tt.onlyTo, b)
			}
			require.Len(t, seen, len(tt.onlyTo), "every allowed backend is used")
		})
	}
}

func TestProxyAffinityAndAlgorithm(t *testing.T) {
	p := newTestProxy(t, "node-a", "z1")
	svc := testService(service.ServiceTypeClusterIP, func(s *service.Service) {
		s.Spec.SessionAffinity = service.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &service.SessionAffinityConfig{ClientIP: &service.ClientIPConfig{TimeoutSeconds: ptrTo[int32](60)}}
	})
	require.NoError(t, p.UpsertService(svc))
	var eps []ep
	for i := range 10 {
		eps = append(eps, ready(fmt.Sprintf("10.244.1.%d", i+1), "node-b", "z1"))
	}
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, eps...)}))
	first := p.Route(Packet{Src: podSrc, Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, t0)
	require.Equal(t, Routed, first.Verdict)
	for i := range 50 {
		src := netip.AddrPortFrom(podSrc.Addr(), uint16(2000+i))
		r := p.Route(Packet{Src: src, Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, t0.Add(time.Duration(i)*time.Second))
		require.Equal(t, first.Backend.Addr, r.Backend.Addr, "ClientIP affinity sticks")
	}

	bad := testService(service.ServiceTypeClusterIP, func(s *service.Service) {
		s.Name = "other"
		s.Annotations = map[string]string{AlgorithmAnnotation: "fastest"}
	})
	err := p.UpsertService(bad)
	require.True(t, errors.Is(err, lb.ErrInvalidConfig), "%v", err)

	mg := testService(service.ServiceTypeClusterIP, func(s *service.Service) {
		s.Annotations = map[string]string{AlgorithmAnnotation: lb.AlgorithmMaglev}
	})
	require.NoError(t, p.UpsertService(mg))
	a := route(p, podSrc, "10.96.0.10:80")
	for range 20 {
		require.Equal(t, a.Backend.Addr, route(p, podSrc, "10.96.0.10:80").Backend.Addr, "maglev hashes the same client alike")
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestProxyRouteNoAllocs(t *testing.T) {
	p := newTestProxy(t, "node-a", "z1")
	require.NoError(t, p.UpsertService(testService(service.ServiceTypeNodePort)))
	var eps []ep
	for i := range 50 {
		eps = append(eps, ready(fmt.Sprintf("10.244.1.%d", i+1), "node-b", "z1"))
	}
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, eps...)}))
	pkts := []Packet{
		{Src: podSrc, Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP},
		{Src: outsideSrc, Dst: netip.MustParseAddrPort("192.168.0.1:30080"), Proto: lb.TCP},
		{Src: outsideSrc, Dst: netip.MustParseAddrPort("192.168.0.1:22"), Proto: lb.TCP},
	}
	for _, pkt := range pkts {
		if n := testing.AllocsPerRun(200, func() { p.Route(pkt, t0) }); n != 0 {
			t.Fatalf("Route(%v) allocates %v times", pkt, n)
		}
	}
}

func BenchmarkProxyRoute(b *testing.B) {
	p, _ := NewProxy(ProxyConfig{NodeName: "node-a", ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
	for i := range 1000 {
		svc := testService(service.ServiceTypeClusterIP, func(s *service.Service) {
			s.Name = fmt.Sprintf("svc-%d", i)
			ip := fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)
			s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
		})
		_ = p.UpsertService(svc)
		c := testSlice(svc.Name+"-1", endpoints.AddressTypeIPv4, ready(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), "node-b", ""))
		c.Service.Name = svc.Name
		_ = p.ApplySlices([]endpoints.Change{c})
	}
	pkt := Packet{Src: podSrc, Dst: netip.MustParseAddrPort("10.96.1.1:80"), Proto: lb.TCP}
	b.ReportAllocs()
	for b.Loop() {
		if p.Route(pkt, t0).Verdict != Routed {
			b.Fatal("not routed")
		}
	}
}
