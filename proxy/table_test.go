package proxy

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// TestTableSharedAndStale: two nodes share one Table; a stale node keeps
// routing with the Table it last synced while a synced one follows the
// change, and building a new Table never changes an old one.
func TestTableSharedAndStale(t *testing.T) {
	b := NewTable().Builder()
	require.NoError(t, b.UpsertService(testService(service.ServiceTypeClusterIP)))
	b.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, ready("10.244.1.1", "node-b", "z1"))})
	t1 := b.Build()

	a, c := newTestProxy(t, "node-a", "z1"), newTestProxy(t, "node-c", "z1")
	a.Sync(t1)
	c.Sync(t1)
	require.Equal(t, "10.244.1.1:8080", route(a, podSrc, "10.96.0.10:80").Backend.Addr.String())

	b2 := t1.Builder()
	ch := testSlice("web-1", endpoints.AddressTypeIPv4, ready("10.244.1.2", "node-b", "z1"))
	ch.Kind = endpoints.Updated
	ch.Old = ch.Slice
	b2.ApplySlices([]endpoints.Change{ch})
	t2 := b2.Build()
	require.Greater(t, t2.Version(), t1.Version())

	a.Sync(t2)
	require.Equal(t, "10.244.1.2:8080", route(a, podSrc, "10.96.0.10:80").Backend.Addr.String(), "synced node follows")
	require.Equal(t, "10.244.1.1:8080", route(c, podSrc, "10.96.0.10:80").Backend.Addr.String(), "stale node keeps its view")
	require.Equal(t, []lb.Backend{{Addr: netip.MustParseAddrPort("10.244.1.1:8080"), Node: "node-b", Zone: "z1", Ready: true, Serving: true}},
		t1.Backends(service.NamespacedName{Namespace: "default", Name: "web"}, "http", service.ProtocolTCP, false), "the old table is unchanged")

	b3 := t2.Builder()
	b3.DeleteService(service.NamespacedName{Namespace: "default", Name: "web"})
	t3 := b3.Build()
	require.Zero(t, t3.Services())
	require.Zero(t, t3.Frontends())
	require.Equal(t, 1, t2.Services())
	c.Sync(t3)
	require.Equal(t, NotServiceAddress, route(c, podSrc, "10.96.0.10:80").Verdict)
	require.Equal(t, Routed, route(a, podSrc, "10.96.0.10:80").Verdict)
}

// TestTableServiceChangeMovesFrontends: changing a Service's ClusterIP or
// nodePort removes the old frontends and adds the new ones.
func TestTableServiceChangeMovesFrontends(t *testing.T) {
	p := newTestProxy(t, "node-a", "z1")
	require.NoError(t, p.UpsertService(testService(service.ServiceTypeNodePort)))
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, ready("10.244.1.1", "node-b", "z1"))}))
	require.Equal(t, Routed, route(p, outsideSrc, "192.168.0.1:30080").Verdict)
	require.NoError(t, p.UpsertService(testService(service.ServiceTypeNodePort, func(s *service.Service) {
		s.Spec.Ports[0].NodePort = 30081
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
	})))
	require.Equal(t, NotServiceAddress, route(p, outsideSrc, "192.168.0.1:30080").Verdict)
	require.Equal(t, NotServiceAddress, route(p, podSrc, "10.96.0.10:80").Verdict)
	require.Equal(t, Routed, route(p, outsideSrc, "192.168.0.1:30081").Verdict)
	require.Equal(t, Routed, route(p, podSrc, "10.96.0.11:80").Verdict)
	require.Equal(t, 2, p.Frontends(), "one ClusterIP and one NodePort")
}

// TestTableIPModeProxy: an ingress IP with ipMode Proxy is not captured
// by kube-proxy (KEP-1860); one with VIP (or no mode) is.
func TestTableIPModeProxy(t *testing.T) {
	p := newTestProxy(t, "node-a", "z1")
	proxyMode, vipMode := "Proxy", "VIP"
	require.NoError(t, p.UpsertService(testService(service.ServiceTypeLoadBalancer, func(s *service.Service) {
		s.Status.LoadBalancer.Ingress = []service.LoadBalancerIngress{
			{IP: "203.0.113.100", IPMode: &proxyMode},
			{IP: "203.0.113.101", IPMode: &vipMode},
		}
	})))
	require.NoError(t, p.ApplySlices([]endpoints.Change{testSlice("web-1", endpoints.AddressTypeIPv4, ready("10.244.1.1", "node-b", "z1"))}))
	require.Equal(t, NotServiceAddress, route(p, outsideSrc, "203.0.113.100:80").Verdict)
	require.Equal(t, Routed, route(p, outsideSrc, "203.0.113.101:80").Verdict)
}
