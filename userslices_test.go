package svcnet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// externalDB is a Service without a selector, as one made for a
// database outside the cluster.
func externalDB(headless bool) *service.Service {
	svc := &service.Service{ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: service.ServiceSpec{Ports: []service.ServicePort{{Name: "pg", Port: 5432, TargetPort: service.FromInt(5432)}}}}
	if headless {
		svc.Spec.ClusterIP = service.ClusterIPNone
	}
	return svc
}

// dbSlice is the user's slice for db: one endpoint, 192.0.2.50:5432.
func dbSlice(name, addr string) *endpoints.Slice {
	return &endpoints.Slice{
		ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default",
			Labels: service.Labels{endpoints.LabelServiceName: "db", endpoints.LabelManagedBy: "staff"}},
		AddressType: endpoints.AddressTypeIPv4,
		Endpoints: []endpoints.Endpoint{{Addresses: []netip.Addr{netip.MustParseAddr(addr)},
			Conditions: endpoints.Conditions{Ready: true, Serving: true}}},
		Ports: []endpoints.Port{{Name: "pg", Protocol: service.ProtocolTCP, Port: 5432}},
	}
}

// A Service without a selector gets no slice from the controller
// (syncService); the user's slice reaches kube-proxy and CoreDNS, as in
// Kubernetes where both consume every slice labelled with the Service's
// name, whoever manages it.
func TestUserSliceRoutesAndResolves(t *testing.T) {
	c := testCluster(t, true)
	svc := create(t, c, externalDB(false))
	require.Empty(t, c.Slices(svc.Key()), "no selector: the controller writes no slice")
	vip := netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), 5432)
	pkt := proxy.Packet{Src: netip.MustParseAddrPort("10.244.0.9:40000"), Dst: vip, Proto: lb.TCP}
	r, err := c.Route("node-0", pkt, time.Time{})
	require.NoError(t, err)
	require.NotEqual(t, proxy.Routed, r.Verdict, "no endpoints yet")

	_, err = c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.50"))
	require.NoError(t, err)
	got := c.Slices(svc.Key())
	require.Len(t, got, 1)
	require.Equal(t, "EndpointSlice", got[0].Kind)
	r, err = c.Route("node-0", pkt, time.Time{})
	require.NoError(t, err)
	require.Equal(t, proxy.Routed, r.Verdict)
	require.Equal(t, netip.MustParseAddrPort("192.0.2.50:5432"), r.Backend.Addr)

	// Replacing the slice moves the backend; deleting it removes it.
	_, err = c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.51"))
	require.NoError(t, err)
	r, err = c.Route("node-1", pkt, time.Time{})
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddrPort("192.0.2.51:5432"), r.Backend.Addr)
	_, err = c.DeleteEndpointSlice(nn("default", "db-1"))
	require.NoError(t, err)
	require.Empty(t, c.Slices(svc.Key()))
	r, err = c.Route("node-1", pkt, time.Time{})
	require.NoError(t, err)
	require.NotEqual(t, proxy.Routed, r.Verdict)
	_, err = c.DeleteEndpointSlice(nn("default", "db-1"))
	require.ErrorIs(t, err, ErrNotFound)
}

// A headless Service's user slice gives its name A records (CoreDNS
// answers a headless name with the ready endpoints' addresses).
func TestUserSliceHeadlessDNS(t *testing.T) {
	c := testCluster(t, true)
	create(t, c, externalDB(true))
	_, err := c.ApplyEndpointSlice(dbSlice("db-x", "192.0.2.50"))
	require.NoError(t, err)
	resp := c.DNS().Resolve("db.default.svc.cluster.local.", dnsname.TypeA)
	require.Equal(t, dnsname.RcodeNoError, resp.Rcode)
	require.Len(t, resp.Answer, 1)
	require.Contains(t, resp.Answer[0].String(), "192.0.2.50")
}

// A slice applied before its Service, and one surviving its Service's
// deletion and re-creation, are served once the Service exists.
func TestUserSliceBeforeAndAcrossService(t *testing.T) {
	c := testCluster(t, true)
	_, err := c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.50"))
	require.NoError(t, err)
	svc := create(t, c, externalDB(false))
	route := func(ip string) proxy.Route {
		r, err := c.Route("node-0", proxy.Packet{Src: netip.MustParseAddrPort("10.244.0.9:40000"),
			Dst: netip.AddrPortFrom(netip.MustParseAddr(ip), 5432), Proto: lb.TCP}, time.Time{})
		require.NoError(t, err)
		return r
	}
	require.Equal(t, proxy.Routed, route(svc.Spec.ClusterIP).Verdict)
	_, err = c.DeleteService(svc.Key())
	require.NoError(t, err)
	again := create(t, c, externalDB(false))
	require.Equal(t, proxy.Routed, route(again.Spec.ClusterIP).Verdict)
	require.Len(t, c.Slices(again.Key()), 1)
}

func TestUserSliceRejected(t *testing.T) {
	c := testCluster(t, true)
	for _, tc := range []struct {
		name  string
		edit  func(*endpoints.Slice)
		field string
		value string
	}{
		{"controller's", func(s *endpoints.Slice) { s.Labels[endpoints.LabelManagedBy] = endpoints.DefaultManagedBy },
			"metadata.labels[endpointslice.kubernetes.io/managed-by]", endpoints.DefaultManagedBy},
		{"no service", func(s *endpoints.Slice) { delete(s.Labels, endpoints.LabelServiceName) },
			"metadata.labels[kubernetes.io/service-name]", ""},
		{"FQDN", func(s *endpoints.Slice) { s.AddressType = "FQDN" }, "addressType", "FQDN"},
		{"family", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.MustParseAddr("2001:db8::1") },
			"endpoints[0].addresses[0]", "2001:db8::1"},
		{"loopback", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.MustParseAddr("127.0.0.1") },
			"endpoints[0].addresses[0]", "127.0.0.1"},
		{"name", func(s *endpoints.Slice) { s.Name = "Bad_Name" }, "metadata.name", "Bad_Name"},
		{"protocol", func(s *endpoints.Slice) { s.Ports[0].Protocol = "ICMP" }, "ports[0].protocol", "ICMP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sl := dbSlice("db-1", "192.0.2.50")
			tc.edit(sl)
			before := c.Generation()
			_, err := c.ApplyEndpointSlice(sl)
			var ve *service.ValidationError
			require.ErrorAs(t, err, &ve)
			require.True(t, errors.Is(err, service.ErrInvalid))
			require.Equal(t, tc.field, ve.Errors[0].Path)
			if tc.value != "" {
				require.True(t, strings.Contains(err.Error(), tc.value), err.Error())
			}
			require.Equal(t, before, c.Generation(), "nothing published")
			require.Empty(t, c.UserSlices(nn("default", "db")))
		})
	}
	_, err := c.ApplyEndpointSlice(nil)
	require.ErrorIs(t, err, service.ErrInvalid)
}

// A snapshot carries the user slices; Restore serves them again.
func TestUserSliceSnapshot(t *testing.T) {
	c := testCluster(t, true)
	svc := create(t, c, externalDB(false))
	_, err := c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.50"))
	require.NoError(t, err)
	snap, err := c.Snapshot()
	require.NoError(t, err)
	_, err = c.DeleteEndpointSlice(nn("default", "db-1"))
	require.NoError(t, err)
	require.NoError(t, c.Restore(snap))
	got := c.Slices(svc.Key())
	require.Len(t, got, 1)
	require.Equal(t, "192.0.2.50", got[0].Endpoints[0].Address().String())
	r, err := c.Route("node-2", proxy.Packet{Src: netip.MustParseAddrPort("10.244.2.9:40000"),
		Dst: netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), 5432), Proto: lb.TCP}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, proxy.Routed, r.Verdict)
}
