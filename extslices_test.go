package svcnet_test

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// externalCluster is the example manifests' cluster with
// Config.ExternalSlices: its controller computes nothing.
func externalCluster(t *testing.T) *svcnet.Cluster {
	t.Helper()
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:      []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:           rand.New(rand.NewPCG(1, 2)),
		ImmediateSync:  true,
		ExternalSlices: true,
	})
	require.NoError(t, err)
	ch, err := c.Apply([]byte(manifests))
	require.NoError(t, err)
	require.Empty(t, ch.Slices, "with ExternalSlices, Services and pods make no slices")
	return c
}

// extSlice is a slice of default/svc named name with one ready endpoint
// per address, port 8080 named http.
func extSlice(name, svc string, addrs ...string) *endpoints.Slice {
	s := &endpoints.Slice{
		ObjectMeta:  service.ObjectMeta{Name: name, Namespace: "default", Labels: service.Labels{endpoints.LabelServiceName: svc}},
		AddressType: endpoints.AddressTypeIPv4,
		Ports:       []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}},
	}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(a)},
			Conditions: endpoints.Conditions{Ready: true, Serving: true}})
	}
	return s
}

var myService = service.NamespacedName{Namespace: "default", Name: "my-service"}

// backend dials my-service from the client pod and returns the backend
// address, or the zero AddrPort when no backend served it.
func backend(t *testing.T, c *svcnet.Cluster) netip.AddrPort {
	t.Helper()
	tr, err := c.Dial(svcnet.FromPod("default", "client"), "my-service:80")
	require.NoError(t, err)
	if !tr.Served() {
		return netip.AddrPort{}
	}
	return tr.Route.Backend.Addr
}

func TestExternalSlicesRouteAndResolve(t *testing.T) {
	c := externalCluster(t)
	require.Empty(t, c.Slices(myService))
	require.False(t, backend(t, c).IsValid(), "no slice yet: no backend")

	// The source's slice names an address no pod of the selector has:
	// it is used as given (the source's controller decides).
	in := extSlice("my-service-ext1", "my-service", "10.244.1.77")
	ch, err := c.ApplySlice(in)
	require.NoError(t, err)
	require.Len(t, ch.Slices, 1)
	require.Equal(t, endpoints.Created, ch.Slices[0].Kind)
	require.Equal(t, myService, ch.Slices[0].Service)
	require.Equal(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, c))
	in.Endpoints[0].Addresses[0] = netip.MustParseAddr("10.244.9.9") // the Cluster kept a copy
	require.Equal(t, "10.244.1.77", c.Slices(myService)[0].Endpoints[0].Address().String())

	// An update replaces it.
	ch, err = c.ApplySlice(extSlice("my-service-ext1", "my-service", "10.244.0.5"))
	require.NoError(t, err)
	require.Equal(t, endpoints.Updated, ch.Slices[0].Kind)
	require.Equal(t, "10.244.1.77", ch.Slices[0].Old.Endpoints[0].Address().String())
	require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c))

	// The Service goes and comes back: its slices are used again.
	_, err = c.DeleteService(myService)
	require.NoError(t, err)
	require.Len(t, c.Slices(myService), 1, "external slices stay until DeleteSlice")
	_, err = c.Apply([]byte(manifests))
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c))

	ch, err = c.DeleteSlice(service.NamespacedName{Namespace: "default", Name: "my-service-ext1"})
	require.NoError(t, err)
	require.Equal(t, endpoints.Deleted, ch.Slices[0].Kind)
	require.Empty(t, c.Slices(myService))
	require.False(t, backend(t, c).IsValid())
	_, err = c.DeleteSlice(service.NamespacedName{Namespace: "default", Name: "my-service-ext1"})
	require.ErrorIs(t, err, svcnet.ErrNotFound)
}

// A headless Service's DNS answers are its slices' addresses: a slice
// applied before its Service is used once the Service exists.
func TestExternalSlicesHeadlessDNS(t *testing.T) {
	c := externalCluster(t)
	s := extSlice("db-abc", "db", "10.244.0.5", "10.244.1.5")
	s.Endpoints[0].Hostname = "db-0"
	_, err := c.ApplySlice(s)
	require.NoError(t, err)
	_, err = c.CreateService(&service.Service{ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: service.ServiceSpec{ClusterIP: service.ClusterIPNone, Ports: []service.ServicePort{{Name: "http", Port: 8080}}}})
	require.NoError(t, err)
	resp := c.DNS().Resolve("db.default.svc.cluster.local", dnsname.TypeA)
	var got []string
	for _, r := range resp.Answer {
		got = append(got, r.Addr.String())
	}
	require.ElementsMatch(t, []string{"10.244.0.5", "10.244.1.5"}, got)
	resp = c.DNS().Resolve("db-0.db.default.svc.cluster.local", dnsname.TypeA)
	require.Len(t, resp.Answer, 1)
	require.Equal(t, "10.244.0.5", resp.Answer[0].Addr.String())
}

// A slice whose Service label changes moves to the other Service.
func TestExternalSliceMoves(t *testing.T) {
	c := externalCluster(t)
	_, err := c.ApplySlice(extSlice("s1", "my-service", "10.244.0.5"))
	require.NoError(t, err)
	ch, err := c.ApplySlice(extSlice("s1", "other", "10.244.0.5"))
	require.NoError(t, err)
	require.Len(t, ch.Slices, 2)
	require.Equal(t, endpoints.Deleted, ch.Slices[0].Kind)
	require.Equal(t, myService, ch.Slices[0].Service)
	require.Equal(t, endpoints.Created, ch.Slices[1].Kind)
	require.Empty(t, c.Slices(myService))
	require.Len(t, c.Slices(service.NamespacedName{Namespace: "default", Name: "other"}), 1)
	require.False(t, backend(t, c).IsValid())
}

func TestExternalSliceInvalid(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(*endpoints.Slice)
		field string
	}{
		{"no name", func(s *endpoints.Slice) { s.Name = "" }, "metadata.name"},
		{"no service", func(s *endpoints.Slice) { delete(s.Labels, endpoints.LabelServiceName) }, "metadata.labels[kubernetes.io/service-name]"},
		{"fqdn", func(s *endpoints.Slice) { s.AddressType = "FQDN" }, "addressType"},
		{"family", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.MustParseAddr("fd00::1") }, "endpoints[0].addresses[0]"},
		{"invalid addr", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.Addr{} }, "endpoints[0].addresses[0]"},
		{"hostname", func(s *endpoints.Slice) { s.Endpoints[0].Hostname = "a.b" }, "endpoints[0].hostname"},
		{"protocol", func(s *endpoints.Slice) { s.Ports[0].Protocol = "ICMP" }, "ports[0].protocol"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := externalCluster(t)
			_, err := c.ApplySlice(extSlice("good", "my-service", "10.244.0.5"))
			require.NoError(t, err)
			gen := c.Generation()
			s := extSlice("good", "my-service", "10.244.1.5")
			tc.mod(s)
			_, err = c.ApplySlice(s)
			var ve *service.ValidationError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, service.ErrInvalid)
			require.Equal(t, "EndpointSlice", ve.Kind)
			require.Contains(t, err.Error(), tc.field)
			require.Equal(t, gen, c.Generation(), "a refused slice publishes nothing")
			require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c), "and changes nothing")
		})
	}
	c := externalCluster(t)
	_, err := c.ApplySlice(nil)
	require.ErrorIs(t, err, service.ErrInvalid)
}

func TestApplySliceNeedsExternalSlices(t *testing.T) {
	c := newCluster(true)
	_, err := c.ApplySlice(extSlice("s", "my-service", "10.244.0.5"))
	require.ErrorIs(t, err, svcnet.ErrInvalidConfig)
	_, err = c.DeleteSlice(service.NamespacedName{Namespace: "default", Name: "s"})
	require.True(t, errors.Is(err, svcnet.ErrInvalidConfig))
	require.Len(t, c.Slices(myService), 1, "the controller's slice is untouched")
}
