package svcnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/sealed"
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

// sliceCluster is testCluster, with Config.ExternalSlices when external.
func sliceCluster(t *testing.T, external bool) *Cluster {
	t.Helper()
	c := testCluster(t, true)
	if !external {
		return c
	}
	cfg := c.Config()
	cfg.ExternalSlices = true
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	x, err := NewCluster(cfg)
	require.NoError(t, err)
	for _, n := range c.Nodes() {
		_, err := x.AddNode(n)
		require.NoError(t, err)
	}
	return x
}

// bothModes runs f without and with Config.ExternalSlices: an applied
// slice behaves the same in both.
func bothModes(t *testing.T, f func(t *testing.T, external bool)) {
	for _, external := range []bool{false, true} {
		t.Run(fmt.Sprintf("external=%v", external), func(t *testing.T) { f(t, external) })
	}
}

// dbSlice is the user's slice for db: one endpoint, 192.0.2.50:5432.
func dbSlice(name, addr string) *endpoints.Slice {
	return &endpoints.Slice{
		ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default",
			Labels: service.Labels{endpoints.LabelServiceName: "db", endpoints.LabelManagedBy: "staff"}},
		AddressType: endpoints.AddressTypeIPv4,
		Endpoints: []*endpoints.Endpoint{{Addresses: []netip.Addr{netip.MustParseAddr(addr)},
			Conditions: endpoints.Conditions{Ready: true, Serving: true}}},
		Ports: []endpoints.Port{{Name: "pg", Protocol: service.ProtocolTCP, Port: 5432}},
	}
}

// A Service without a selector gets no slice from the controller
// (syncService); the user's slice reaches kube-proxy and CoreDNS, as in
// Kubernetes where both consume every slice labelled with the Service's
// name, whoever manages it.
func TestUserSliceRoutesAndResolves(t *testing.T) { bothModes(t, testUserSliceRoutesAndResolves) }

func testUserSliceRoutesAndResolves(t *testing.T, external bool) {
	c := sliceCluster(t, external)
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
func TestUserSliceHeadlessDNS(t *testing.T) { bothModes(t, testUserSliceHeadlessDNS) }

func testUserSliceHeadlessDNS(t *testing.T, external bool) {
	c := sliceCluster(t, external)
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
	bothModes(t, testUserSliceBeforeAndAcrossService)
}

func testUserSliceBeforeAndAcrossService(t *testing.T, external bool) {
	c := sliceCluster(t, external)
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

func TestUserSliceRejected(t *testing.T) { bothModes(t, testUserSliceRejected) }

func testUserSliceRejected(t *testing.T, external bool) {
	c := sliceCluster(t, external)
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
			if external && tc.name == "controller's" {
				// With ExternalSlices every slice is applied, the
				// controller's too.
				_, err := c.ApplyEndpointSlice(sl)
				require.NoError(t, err)
				_, err = c.DeleteEndpointSlice(sl.Key())
				require.NoError(t, err)
				return
			}
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
			require.Empty(t, c.AppliedSlices(nn("default", "db")))
		})
	}
	_, err := c.ApplyEndpointSlice(nil)
	require.ErrorIs(t, err, service.ErrInvalid)
}

// A snapshot carries the user slices; Restore serves them again.
func TestUserSliceSnapshot(t *testing.T) { bothModes(t, testUserSliceSnapshot) }

func testUserSliceSnapshot(t *testing.T, external bool) {
	c := sliceCluster(t, external)
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

// extManifests are the example manifests (example_test.go): two nodes,
// web pods on each, a client pod, my-service selecting the web pods.
const extManifests = `
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
status: {addresses: [{type: InternalIP, address: 192.168.0.10}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {topology.kubernetes.io/zone: zone-b}}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec: {nodeName: node-b, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: node-a, containers: [{name: curl}]}
status: {phase: Running, podIP: 10.244.0.9, podIPs: [{ip: 10.244.0.9}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
`

// manifestCluster is a Cluster holding extManifests, with
// Config.ExternalSlices when external.
func manifestCluster(t *testing.T, external bool) (*Cluster, Changes) {
	t.Helper()
	c, err := NewCluster(Config{
		ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:      []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:           rand.New(rand.NewPCG(1, 2)),
		ImmediateSync:  true,
		ExternalSlices: external,
	})
	require.NoError(t, err)
	ch, err := c.Apply([]byte(extManifests))
	require.NoError(t, err)
	return c, ch
}

// externalCluster is manifestCluster with Config.ExternalSlices: its
// controller computes nothing.
func externalCluster(t *testing.T) *Cluster {
	t.Helper()
	c, ch := manifestCluster(t, true)
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
		s.Endpoints = append(s.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(a)},
			Conditions: endpoints.Conditions{Ready: true, Serving: true}})
	}
	return s
}

var myService = service.NamespacedName{Namespace: "default", Name: "my-service"}

// backend dials my-service from the client pod and returns the backend
// address, or the zero AddrPort when no backend served it.
func backend(t *testing.T, c *Cluster) netip.AddrPort {
	t.Helper()
	tr, err := c.Dial(FromPod("default", "client"), "my-service:80")
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
	ch, err := c.ApplyEndpointSlice(in)
	require.NoError(t, err)
	require.Len(t, ch.Slices, 1)
	require.Equal(t, endpoints.Created, ch.Slices[0].Kind)
	require.Equal(t, myService, ch.Slices[0].Service)
	require.Equal(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, c))
	in.Endpoints[0].Addresses[0] = netip.MustParseAddr("10.244.9.9") // the Cluster kept a copy
	require.Equal(t, "10.244.1.77", c.Slices(myService)[0].Endpoints[0].Address().String())

	// An update replaces it.
	ch, err = c.ApplyEndpointSlice(extSlice("my-service-ext1", "my-service", "10.244.0.5"))
	require.NoError(t, err)
	require.Equal(t, endpoints.Updated, ch.Slices[0].Kind)
	require.Equal(t, "10.244.1.77", ch.Slices[0].Old.Endpoints[0].Address().String())
	require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c))

	// The Service goes and comes back: its slices are used again.
	_, err = c.DeleteService(myService)
	require.NoError(t, err)
	require.Len(t, c.Slices(myService), 1, "applied slices stay until DeleteEndpointSlice")
	_, err = c.Apply([]byte(extManifests))
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c))

	ch, err = c.DeleteEndpointSlice(service.NamespacedName{Namespace: "default", Name: "my-service-ext1"})
	require.NoError(t, err)
	require.Equal(t, endpoints.Deleted, ch.Slices[0].Kind)
	require.Empty(t, c.Slices(myService))
	require.False(t, backend(t, c).IsValid())
	_, err = c.DeleteEndpointSlice(service.NamespacedName{Namespace: "default", Name: "my-service-ext1"})
	require.ErrorIs(t, err, ErrNotFound)
}

// A headless Service's DNS answers are its slices' addresses: a slice
// applied before its Service is used once the Service exists.
func TestExternalSlicesHeadlessDNS(t *testing.T) {
	c := externalCluster(t)
	s := extSlice("db-abc", "db", "10.244.0.5", "10.244.1.5")
	s.Endpoints[0].Hostname = "db-0"
	_, err := c.ApplyEndpointSlice(s)
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

// A slice whose Service label changes moves to the other Service, in
// both modes.
func TestExternalSliceMoves(t *testing.T) {
	bothModes(t, func(t *testing.T, external bool) {
		c, _ := manifestCluster(t, external)
		_, err := c.ApplyEndpointSlice(extSlice("s1", "my-service", "10.244.0.77"))
		require.NoError(t, err)
		ch, err := c.ApplyEndpointSlice(extSlice("s1", "other", "10.244.0.77"))
		require.NoError(t, err)
		require.Len(t, ch.Slices, 2)
		require.Equal(t, endpoints.Deleted, ch.Slices[0].Kind)
		require.Equal(t, myService, ch.Slices[0].Service)
		require.Equal(t, endpoints.Created, ch.Slices[1].Kind)
		require.Empty(t, c.AppliedSlices(myService))
		require.Len(t, c.AppliedSlices(service.NamespacedName{Namespace: "default", Name: "other"}), 1)
		if external {
			require.Empty(t, c.Slices(myService))
			require.False(t, backend(t, c).IsValid())
		} else {
			require.Len(t, c.Slices(myService), 1, "the controller's slice stays")
		}
	})
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
		{"4in6", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.MustParseAddr("::ffff:10.244.1.5") }, "endpoints[0].addresses[0]"},
		{"invalid addr", func(s *endpoints.Slice) { s.Endpoints[0].Addresses[0] = netip.Addr{} }, "endpoints[0].addresses[0]"},
		{"no addresses", func(s *endpoints.Slice) { s.Endpoints[0].Addresses = nil }, "endpoints[0].addresses"},
		{"hostname", func(s *endpoints.Slice) { s.Endpoints[0].Hostname = "a.b" }, "endpoints[0].hostname"},
		{"null endpoint", func(s *endpoints.Slice) { s.Endpoints = append(s.Endpoints, nil) }, "endpoints[1]"},
		{"protocol", func(s *endpoints.Slice) { s.Ports[0].Protocol = "ICMP" }, "ports[0].protocol"},
		{"port", func(s *endpoints.Slice) { s.Ports[0].Port = 70000 }, "ports[0].port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := externalCluster(t)
			_, err := c.ApplyEndpointSlice(extSlice("good", "my-service", "10.244.0.5"))
			require.NoError(t, err)
			gen := c.Generation()
			s := extSlice("good", "my-service", "10.244.1.5")
			tc.mod(s)
			_, err = c.ApplyEndpointSlice(s)
			var ve *service.ValidationError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, service.ErrInvalid)
			require.Equal(t, "EndpointSlice", ve.Kind)
			require.Equal(t, tc.field, ve.Errors[0].Path)
			require.Equal(t, gen, c.Generation(), "a refused slice publishes nothing")
			require.Equal(t, netip.MustParseAddrPort("10.244.0.5:8080"), backend(t, c), "and changes nothing")
			require.ErrorAs(t, ValidateEndpointSlice(s), &ve, "ValidateEndpointSlice has the same rules")
		})
	}
	c := externalCluster(t)
	_, err := c.ApplyEndpointSlice(nil)
	require.ErrorIs(t, err, service.ErrInvalid)
}

// With ExternalSlices every slice is applied, the controller-managed
// ones too (a real cluster's); without, those are refused, and the
// controller's own slices can be neither replaced nor deleted.
func TestExternalSlicesTakeControllerManaged(t *testing.T) {
	managed := func(name string) *endpoints.Slice {
		s := extSlice(name, "my-service", "10.244.1.77")
		s.Labels[endpoints.LabelManagedBy] = endpoints.DefaultManagedBy
		return s
	}
	c := externalCluster(t)
	_, err := c.ApplyEndpointSlice(managed("my-service-abcde"))
	require.NoError(t, err)
	require.Equal(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, c))

	c, _ = manifestCluster(t, false)
	own := c.Slices(myService)
	require.Len(t, own, 1)
	gen := c.Generation()
	_, err = c.ApplyEndpointSlice(managed("my-service-abcde"))
	var ve *service.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "metadata.labels["+endpoints.LabelManagedBy+"]", ve.Errors[0].Path)
	// Unlabelled but named as the controller's slice: refused too.
	_, err = c.ApplyEndpointSlice(extSlice(own[0].Name, "my-service", "10.244.1.77"))
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "metadata.name", ve.Errors[0].Path)
	_, err = c.DeleteEndpointSlice(own[0].Key())
	require.True(t, errors.Is(err, ErrNotFound), "the controller's slices are not applied ones")
	require.Equal(t, gen, c.Generation())
	require.Equal(t, own, c.Slices(myService), "the controller's slice is untouched")
}

// A snapshot of an ExternalSlices Cluster keeps its slices, restores into
// another such Cluster, and is refused by one without (ErrSnapshot,
// nothing changed).
func TestExternalSlicesSnapshot(t *testing.T) {
	c := externalCluster(t)
	s := extSlice("my-service-abcde", "my-service", "10.244.1.77")
	s.Labels[endpoints.LabelManagedBy] = endpoints.DefaultManagedBy
	_, err := c.ApplyEndpointSlice(s)
	require.NoError(t, err)
	snap, err := c.Snapshot()
	require.NoError(t, err)

	other := externalCluster(t)
	require.NoError(t, other.Restore(snap))
	require.Len(t, other.Slices(myService), 1)
	require.Equal(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, other))

	plain, _ := manifestCluster(t, false)
	before := plain.Slices(myService)
	gen := plain.Generation()
	err = plain.Restore(snap)
	require.ErrorIs(t, err, ErrSnapshot)
	require.ErrorContains(t, err, "ExternalSlices")
	require.Equal(t, gen, plain.Generation())
	require.Equal(t, before, plain.Slices(myService))
}

// sliceDocs are EndpointSlice documents as a dump holds them: one
// user-managed slice of db (conditions and protocol unset: ready, TCP),
// one of the controller's, one of no Service, one FQDN slice.
const sliceDocs = `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  resourceVersion: "12"
  labels: {kubernetes.io/service-name: db, endpointslice.kubernetes.io/managed-by: staff}
addressType: IPv4
endpoints: [{addresses: [192.0.2.50]}]
ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: my-service-abcde
  labels: {kubernetes.io/service-name: my-service, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}
addressType: IPv4
endpoints: [{addresses: [10.244.1.77], conditions: {ready: true}}]
ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: loose}
addressType: IPv4
endpoints: [{addresses: [192.0.2.60]}]
ports: []
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-fqdn
  labels: {kubernetes.io/service-name: db}
addressType: FQDN
endpoints: [{addresses: [db.example.com]}]
ports: []
`

// Apply applies a stream's EndpointSlices through ApplyEndpointSlice,
// skipping those CarriedSlice skips: without ExternalSlices the
// controller's; with it, none of a Service's IPv4/IPv6 slices.
func TestApplyEndpointSliceDocuments(t *testing.T) {
	bothModes(t, func(t *testing.T, external bool) {
		c, _ := manifestCluster(t, external)
		ch, err := c.Apply([]byte(sliceDocs))
		require.NoError(t, err)
		db := nn("default", "db")
		got := c.AppliedSlices(db)
		require.Len(t, got, 1, "the FQDN slice is skipped")
		require.Equal(t, "db-1", got[0].Name)
		require.Empty(t, got[0].ResourceVersion, "system fields cleared")
		e := got[0].Endpoints[0]
		require.Equal(t, endpoints.Conditions{Ready: true, Serving: true}, e.Conditions, "unset conditions: ready, serving, not terminating")
		require.Equal(t, service.ProtocolTCP, got[0].Ports[0].Protocol)
		_, err = c.DeleteEndpointSlice(nn("default", "loose"))
		require.ErrorIs(t, err, ErrNotFound, "a slice of no Service is skipped")

		managed := c.AppliedSlices(myService)
		var created []string
		for _, sc := range ch.Slices {
			if sc.Kind == endpoints.Created {
				created = append(created, sc.Slice.Name)
			}
		}
		if external {
			require.Len(t, managed, 1, "with ExternalSlices the controller's slice is followed")
			require.Equal(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, c))
			require.ElementsMatch(t, []string{"db-1", "my-service-abcde"}, created)
		} else {
			require.Empty(t, managed, "the controller computes its own slices: the dump's is skipped")
			require.NotEqual(t, netip.MustParseAddrPort("10.244.1.77:8080"), backend(t, c))
			require.Equal(t, []string{"db-1"}, created)
		}
	})

	// A carried slice that is bad stops Apply with ApplyEndpointSlice's
	// error.
	c, _ := manifestCluster(t, false)
	_, err := c.Apply([]byte(strings.Replace(sliceDocs, "192.0.2.50", "127.0.0.1", 1)))
	var ve *service.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "endpoints[0].addresses[0]", ve.Errors[0].Path)
	_, err = c.Apply([]byte(strings.Replace(sliceDocs, "192.0.2.50", "not-an-ip", 1)))
	require.ErrorIs(t, err, service.ErrInvalid)
	require.ErrorContains(t, err, "default/db-1")
	require.Empty(t, c.AppliedSlices(nn("default", "db")))
}

// CarriedSlice is the skip rule Apply and the simulator share.
func TestCarriedSlice(t *testing.T) {
	sl := func(labels service.Labels, at string) *service.EndpointSlice {
		return &service.EndpointSlice{ObjectMeta: service.ObjectMeta{Name: "s", Labels: labels}, AddressType: at}
	}
	svc := service.Labels{endpoints.LabelServiceName: "db"}
	ctl := service.Labels{endpoints.LabelServiceName: "db", endpoints.LabelManagedBy: endpoints.DefaultManagedBy}
	other := service.Labels{endpoints.LabelServiceName: "db", endpoints.LabelManagedBy: "staff"}
	for _, tc := range []struct {
		in       *service.EndpointSlice
		external bool
		want     bool
	}{
		{sl(svc, "IPv4"), false, true},
		{sl(other, "IPv6"), false, true},
		{sl(ctl, "IPv4"), false, false},
		{sl(ctl, "IPv4"), true, true},
		{sl(nil, "IPv4"), true, false},
		{sl(svc, "FQDN"), true, false},
		{sl(svc, "Bogus"), false, true}, // carried: ApplyEndpointSlice refuses it
		{nil, true, false},
	} {
		require.Equal(t, tc.want, CarriedSlice(tc.in, tc.external), "%+v external=%v", tc.in, tc.external)
	}
}

// A version 2 snapshot (before ExternalSlices slices were kept) still
// restores, into a Cluster with or without ExternalSlices; other versions
// are an ErrSnapshot.
func TestSnapshotVersion2Restores(t *testing.T) {
	c := testCluster(t, true)
	svc := create(t, c, externalDB(false))
	_, err := c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.50"))
	require.NoError(t, err)
	data, err := c.Snapshot()
	require.NoError(t, err)
	var s snapshot
	require.NoError(t, sealed.Open(data, snapshotKind, snapshotVersion, &s))
	v2, err := sealed.Seal(snapshotKind, 2, s)
	require.NoError(t, err)
	require.NotContains(t, string(v2), "externalSlices", "version 2 had no such field")

	for _, external := range []bool{false, true} {
		r := sliceCluster(t, external)
		require.NoError(t, r.Restore(v2), "external=%v", external)
		got := r.Slices(svc.Key())
		require.Len(t, got, 1)
		require.Equal(t, "192.0.2.50", got[0].Endpoints[0].Address().String())
	}

	for _, v := range []int{1, 4} {
		bad, err := sealed.Seal(snapshotKind, v, s)
		require.NoError(t, err)
		err = c.Restore(bad)
		require.ErrorIs(t, err, ErrSnapshot)
		require.ErrorContains(t, err, fmt.Sprintf("version %d, want 3", v))
	}
	// The flag is no version 2 field.
	s.ExternalSlices = true
	bad, err := sealed.Seal(snapshotKind, 2, s)
	require.NoError(t, err)
	require.ErrorIs(t, sliceCluster(t, true).Restore(bad), ErrSnapshot)
}

// Random applies, moves and deletes, in both modes, against a naive
// model: a map from slice name to its Service. The Changes, the
// AppliedSlices of each Service and a Snapshot/Restore round trip follow
// it.
func TestAppliedSlicesModel(t *testing.T) {
	bothModes(t, func(t *testing.T, external bool) {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, 7))
			c := sliceCluster(t, external)
			model := map[string]string{} // slice name → Service name
			names, svcs := []string{"a", "b", "c", "d"}, []string{"x", "y"}
			for step := range 60 {
				name := names[rng.IntN(len(names))]
				key := nn("default", name)
				if rng.IntN(3) == 0 {
					ch, err := c.DeleteEndpointSlice(key)
					if old, ok := model[name]; ok {
						require.NoError(t, err)
						require.Len(t, ch.Slices, 1)
						require.Equal(t, endpoints.Deleted, ch.Slices[0].Kind)
						require.Equal(t, nn("default", old), ch.Slices[0].Service)
						delete(model, name)
					} else {
						require.ErrorIs(t, err, ErrNotFound, "seed %d step %d", seed, step)
					}
				} else {
					svc := svcs[rng.IntN(len(svcs))]
					sl := extSlice(name, svc, fmt.Sprintf("192.0.2.%d", 1+rng.IntN(200)))
					ch, err := c.ApplyEndpointSlice(sl)
					require.NoError(t, err)
					var kinds []endpoints.ChangeKind
					for _, sc := range ch.Slices {
						kinds = append(kinds, sc.Kind)
					}
					old, had := model[name]
					switch {
					case !had:
						require.Equal(t, []endpoints.ChangeKind{endpoints.Created}, kinds)
					case old == svc:
						require.Equal(t, []endpoints.ChangeKind{endpoints.Updated}, kinds)
					default:
						require.Equal(t, []endpoints.ChangeKind{endpoints.Deleted, endpoints.Created}, kinds)
						require.Equal(t, nn("default", old), ch.Slices[0].Service)
					}
					require.Equal(t, nn("default", svc), ch.Slices[len(ch.Slices)-1].Service)
					model[name] = svc
				}
				check := func(c *Cluster) {
					for _, svc := range svcs {
						var want []string
						for n, s := range model {
							if s == svc {
								want = append(want, n)
							}
						}
						slices.Sort(want)
						var got []string
						for _, sl := range c.AppliedSlices(nn("default", svc)) {
							got = append(got, sl.Name)
						}
						require.Equal(t, want, got, "seed %d step %d Service %s", seed, step, svc)
					}
				}
				check(c)
				if step%20 == 19 {
					snap, err := c.Snapshot()
					require.NoError(t, err)
					r := sliceCluster(t, external)
					require.NoError(t, r.Restore(snap))
					check(r)
				}
			}
		}
	})
}
