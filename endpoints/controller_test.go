package endpoints

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

func testService(name string, selector service.Labels, mods ...func(*service.Service)) *service.Service {
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + name},
		Spec: service.ServiceSpec{
			Selector:   selector,
			ClusterIP:  "10.96.0.10",
			IPFamilies: []service.IPFamily{service.IPv4Protocol},
			Ports:      []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}},
		},
	}
	for _, m := range mods {
		m(svc)
	}
	service.Default(svc)
	return svc
}

func testPod(name string, labels service.Labels, ip string, mods ...func(*service.Pod)) *service.Pod {
	p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + name, Labels: labels}}
	p.Spec.NodeName = "node-a"
	p.Spec.Containers = []service.Container{{Name: "main"}}
	p.Status.Phase = service.PodRunning
	if ip != "" {
		p.Status.PodIP = ip
		p.Status.PodIPs = []service.PodIP{{IP: ip}}
	}
	p.SetReady(true)
	for _, m := range mods {
		m(p)
	}
	return p
}

func podIP(i int) string { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String() }

func kinds(changes []Change) string {
	var b []string
	for _, ch := range changes {
		name := ""
		if ch.Slice != nil {
			name = ch.Slice.Name
		} else {
			name = ch.Old.Name
		}
		b = append(b, ch.Kind.String()+" "+name)
	}
	return strings.Join(b, ", ")
}

func mustUpsertPod(t testing.TB, c *Controller, p *service.Pod) []Change {
	t.Helper()
	changes, err := c.UpsertPod(p)
	require.NoError(t, err)
	return changes
}

func mustUpsertService(t testing.TB, c *Controller, s *service.Service) []Change {
	t.Helper()
	changes, err := c.UpsertService(s)
	require.NoError(t, err)
	return changes
}

// knowNode upserts a node without a zone: pods on a node the
// controller does not know get no endpoint (NodeNotFoundError).
func knowNode(t testing.TB, c *Controller, name string) {
	t.Helper()
	_, err := c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: name}})
	require.NoError(t, err)
}

func sliceSizes(ss []*Slice) []int {
	var out []int
	for _, s := range ss {
		out = append(out, len(s.Endpoints))
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{MaxEndpointsPerSlice: 1}, ""},
		{Config{MaxEndpointsPerSlice: 1000, ManagedBy: "my-controller.example.com"}, ""},
		{Config{MaxEndpointsPerSlice: -1}, "endpoints: invalid config: MaxEndpointsPerSlice -1: must be between 1 and 1000, inclusive (0 for the default 100)"},
		{Config{MaxEndpointsPerSlice: 1001}, "endpoints: invalid config: MaxEndpointsPerSlice 1001: must be between 1 and 1000"},
		{Config{ManagedBy: "not a label value"}, `endpoints: invalid config: ManagedBy "not a label value": label value a valid label must be`},
	} {
		err := tc.cfg.Validate()
		c, newErr := New(tc.cfg)
		if tc.want == "" {
			require.NoError(t, err)
			require.NoError(t, newErr)
			require.NotNil(t, c)
			require.NotPanics(t, func() { NewController(tc.cfg) })
			continue
		}
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.ErrorContains(t, err, tc.want)
		require.Nil(t, c)
		require.Equal(t, err, newErr)
		var ce *ConfigError
		require.ErrorAs(t, newErr, &ce)
		require.PanicsWithError(t, err.Error(), func() { NewController(tc.cfg) })
	}
	require.Equal(t, 100, NewController(Config{}).Config().MaxEndpointsPerSlice)
	require.Equal(t, DefaultManagedBy, NewController(Config{}).Config().ManagedBy)
}

func TestInvalidObjects(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	_, err := c.UpsertService(nil)
	require.ErrorIs(t, err, ErrInvalidObject)
	_, err = c.UpsertService(&service.Service{})
	require.ErrorIs(t, err, ErrInvalidObject)
	_, err = c.UpsertPod(&service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "ns"}})
	require.EqualError(t, err, `endpoints: invalid object: Pod "ns/": name is required`)
	_, err = c.UpsertNode(nil)
	require.ErrorIs(t, err, ErrInvalidObject)
	require.Empty(t, c.DeletePod(service.NamespacedName{Namespace: "x", Name: "y"}))
	require.Empty(t, c.DeleteService(service.NamespacedName{Namespace: "x", Name: "y"}))
	changes, err := c.DeleteNode("nope")
	require.NoError(t, err)
	require.Empty(t, changes)
}

func TestPlaceholderBecomesTheSlice(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	svc := testService("web", service.Labels{"app": "web"})
	changes := mustUpsertService(t, c, svc)
	require.Equal(t, "created web-8p6m9", kinds(changes))
	ph := changes[0].Slice
	require.Empty(t, ph.Endpoints)
	require.NotNil(t, ph.Endpoints, "Kubernetes writes endpoints: []")
	require.Empty(t, ph.Ports)
	require.Equal(t, map[string]string{LabelServiceName: "web", LabelManagedBy: DefaultManagedBy}, map[string]string(ph.Labels))

	// The first pod's slice replaces the placeholder: a create and a
	// delete merged into one update (finalize), keeping the name.
	changes = mustUpsertPod(t, c, testPod("web-0", service.Labels{"app": "web"}, "10.1.0.1"))
	require.Equal(t, "updated web-8p6m9", kinds(changes))
	require.Same(t, ph, changes[0].Old)
	require.Equal(t, int64(2), changes[0].Slice.Generation)
	require.Equal(t, []Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}, changes[0].Slice.Ports)

	// And back, when the last pod goes.
	changes = c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"})
	require.Equal(t, "updated web-8p6m9", kinds(changes))
	require.Empty(t, changes[0].Slice.Endpoints)
	require.Empty(t, changes[0].Slice.Ports)
	require.Equal(t, int64(3), changes[0].Slice.Generation)

	// An unchanged Service writes nothing.
	require.Empty(t, mustUpsertService(t, c, svc))
}

func TestSelectorlessAndExternalName(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	mustUpsertPod(t, c, testPod("p", service.Labels{"app": "web"}, "10.1.0.1"))
	require.Empty(t, mustUpsertService(t, c, testService("manual", nil)))
	require.Empty(t, mustUpsertService(t, c, testService("ext", service.Labels{"app": "web"}, func(s *service.Service) {
		s.Spec.Type = service.ServiceTypeExternalName
		s.Spec.ExternalName = "example.com"
		s.Spec.ClusterIP, s.Spec.IPFamilies = "", nil
	})))
	require.Nil(t, c.Slices(service.NamespacedName{Namespace: "default", Name: "ext"}))

	// A Service that gains a selector gets slices.
	manual := service.NamespacedName{Namespace: "default", Name: "manual"}
	require.Equal(t, "created manual-gwh6s", kinds(mustUpsertService(t, c, testService("manual", service.Labels{"app": "web"}))))
	held := c.Slices(manual)
	require.Len(t, held[0].Endpoints, 1)
	// Losing it keeps them as they are (syncService returns before the
	// reconciler): pod events no longer reach them, whatever they change.
	require.Empty(t, mustUpsertService(t, c, testService("manual", nil)))
	require.Empty(t, mustUpsertService(t, c, testService("manual", nil, func(s *service.Service) { s.Labels = service.Labels{"team": "a"} })))
	require.Empty(t, mustUpsertPod(t, c, testPod("p", service.Labels{"app": "web"}, "10.1.0.1", func(p *service.Pod) { p.SetReady(false) })))
	require.Empty(t, mustUpsertPod(t, c, testPod("q", service.Labels{"app": "web"}, "10.1.0.2")))
	require.Equal(t, held, c.Slices(manual))
	// Getting a selector back reconciles them from what they hold: p's
	// endpoint turns not ready, q joins, the labels are the new ones.
	changes := mustUpsertService(t, c, testService("manual", service.Labels{"app": "web"}, func(s *service.Service) { s.Labels = service.Labels{"team": "a"} }))
	require.Equal(t, "updated manual-gwh6s", kinds(changes))
	require.Len(t, changes[0].Slice.Endpoints, 2)
	require.False(t, changes[0].Slice.Endpoints[0].Conditions.Ready)
	require.Equal(t, "a", changes[0].Slice.Labels["team"])
	// Paused again, then the pods go: the slice keeps them until the
	// selector returns; selecting nothing then brings back the placeholder.
	require.Empty(t, mustUpsertService(t, c, testService("manual", nil)))
	c.DeletePod(service.NamespacedName{Namespace: "default", Name: "p"})
	c.DeletePod(service.NamespacedName{Namespace: "default", Name: "q"})
	require.Len(t, c.Slices(manual)[0].Endpoints, 2)
	changes = mustUpsertService(t, c, testService("manual", service.Labels{"app": "web"}))
	require.Equal(t, "updated manual-gwh6s", kinds(changes))
	require.Empty(t, changes[0].Slice.Endpoints)
	require.Empty(t, changes[0].Slice.Ports)
	// Becoming ExternalName pauses it too; deleting it deletes its slices.
	require.Empty(t, mustUpsertService(t, c, testService("manual", service.Labels{"app": "web"}, func(s *service.Service) {
		s.Spec.Type, s.Spec.ExternalName = service.ServiceTypeExternalName, "example.com"
	})))
	require.Len(t, c.Slices(manual), 1)
	require.Equal(t, "deleted manual-gwh6s", kinds(c.DeleteService(manual)))

	// An empty (non-nil) selector selects every pod of the namespace.
	mustUpsertPod(t, c, testPod("p", service.Labels{"app": "web"}, "10.1.0.1"))
	changes = mustUpsertService(t, c, testService("all", service.Labels{}))
	require.Len(t, changes, 1)
	require.Len(t, changes[0].Slice.Endpoints, 1)
}

// TestPlaceholderNextToEndpoints: a pod that Kubernetes' reconciler
// counts (ShouldPodBeInEndpoints) files its port set as desired even when
// it adds no endpoint; with an empty port set, that keeps the
// placeholder unchanged beside slices that hold endpoints.
func TestPlaceholderNextToEndpoints(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	// Dual-stack headless, no ports: every pod has the empty port set.
	svc := testService("db", service.Labels{"app": "db"}, func(s *service.Service) {
		s.Spec.ClusterIP, s.Spec.Ports = "None", nil
		s.Spec.IPFamilies = []service.IPFamily{service.IPv4Protocol, service.IPv6Protocol}
	})
	require.Equal(t, "created db-z2xzg, created db-w5b6d", kinds(mustUpsertService(t, c, svc)))
	// A v4-only pod fills the IPv4 placeholder; the IPv6 one stays.
	require.Equal(t, "updated db-z2xzg", kinds(mustUpsertPod(t, c, testPod("v4", service.Labels{"app": "db"}, "10.1.0.1"))))
	// A v6-only pod on an unknown node: skipped, and the placeholders stay.
	_, err := c.UpsertPod(testPod("v6", service.Labels{"app": "db"}, "fd00::1", func(p *service.Pod) { p.Spec.NodeName = "node-b" }))
	require.ErrorIs(t, err, ErrNodeNotFound)
	require.Equal(t, []int{1, 0}, sliceSizes(c.Slices(svc.Key())))

	// Named ports: a pod where none resolves has the empty port set too.
	web := testService("web", service.Labels{"app": "web"}, func(s *service.Service) { s.Spec.Ports[0].TargetPort = service.FromString("http") })
	mustUpsertService(t, c, web)
	named := func(p *service.Pod) {
		p.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: 8080}}
	}
	mustUpsertPod(t, c, testPod("web-0", service.Labels{"app": "web"}, "10.1.0.2", named))
	require.Equal(t, []int{1}, sliceSizes(c.Slices(web.Key())))
	// web-1 resolves no port and has no IPv4 address: it keeps the empty
	// port set desired. Removing web-0 then leaves the placeholder
	// alone, which is what Kubernetes does too.
	changes := mustUpsertPod(t, c, testPod("web-1", service.Labels{"app": "web"}, "fd00::2"))
	require.Empty(t, changes)
	// web-0 moves to the empty port set without an endpoint: its slice
	// goes, and a placeholder replaces it (a create merged with the
	// delete, finalize).
	changes = mustUpsertPod(t, c, testPod("web-0", service.Labels{"app": "web"}, "fd00::3"))
	require.Equal(t, "updated web-8p6m9", kinds(changes))
	require.Empty(t, changes[0].Slice.Endpoints)
	require.Empty(t, changes[0].Slice.Ports)
	// A pod with the port gets a new slice, and the placeholder stays
	// beside it while web-0 and web-1 keep the empty port set desired.
	changes = mustUpsertPod(t, c, testPod("web-2", service.Labels{"app": "web"}, "10.1.0.3", named))
	require.Equal(t, "created web-r78wg", kinds(changes))
	require.Equal(t, []int{0, 1}, sliceSizes(c.Slices(web.Key())))
	// When neither does, the next sync deletes it.
	c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-1"})
	require.Equal(t, []int{0, 1}, sliceSizes(c.Slices(web.Key())))
	changes = c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"})
	require.Equal(t, "deleted web-8p6m9", kinds(changes))
	require.Equal(t, []int{1}, sliceSizes(c.Slices(web.Key())))
}

func TestOnlyPodsOfTheNamespaceWithAnIPAndNotTerminal(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel))
	other := testPod("elsewhere", sel, "10.1.0.9")
	other.Namespace = "other"
	require.Empty(t, mustUpsertPod(t, c, other))
	require.Empty(t, mustUpsertPod(t, c, testPod("pending", sel, "")))
	require.Empty(t, mustUpsertPod(t, c, testPod("done", sel, "10.1.0.2", func(p *service.Pod) { p.Status.Phase = service.PodSucceeded })))
	require.Empty(t, mustUpsertPod(t, c, testPod("failed", sel, "10.1.0.3", func(p *service.Pod) { p.Status.Phase = service.PodFailed })))
	require.Empty(t, mustUpsertPod(t, c, testPod("other-app", service.Labels{"app": "db"}, "10.1.0.4")))
	require.Len(t, mustUpsertPod(t, c, testPod("ok", sel, "10.1.0.5")), 1)
	ss := c.Slices(service.NamespacedName{Namespace: "default", Name: "web"})
	require.Len(t, ss, 1)
	require.Len(t, ss[0].Endpoints, 1)
	require.Equal(t, "ok", ss[0].Endpoints[0].TargetRef.Name)

	// A pod that completes leaves.
	changes := mustUpsertPod(t, c, testPod("ok", sel, "10.1.0.5", func(p *service.Pod) { p.Status.Phase = service.PodSucceeded }))
	require.Equal(t, "updated web-8p6m9", kinds(changes))
	require.Empty(t, changes[0].Slice.Endpoints)
}

func TestReadinessFlap(t *testing.T) {
	c := NewController(Config{MaxEndpointsPerSlice: 10})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel))
	for i := range 25 {
		mustUpsertPod(t, c, testPod(fmt.Sprintf("web-%d", i), sel, podIP(i)))
	}
	key := service.NamespacedName{Namespace: "default", Name: "web"}
	before := c.Slices(key)
	require.Equal(t, []int{10, 10, 5}, sliceSizes(before))

	for flap := range 6 {
		ready := flap%2 == 1
		changes := mustUpsertPod(t, c, testPod("web-13", sel, podIP(13), func(p *service.Pod) { p.SetReady(ready) }))
		require.Len(t, changes, 1, "one slice written per flap")
		ch := changes[0]
		require.Equal(t, Updated, ch.Kind)
		require.Equal(t, len(ch.Old.Endpoints), len(ch.Slice.Endpoints), "in place")
		for _, ep := range ch.Slice.Endpoints {
			if ep.TargetRef.Name == "web-13" {
				require.Equal(t, Conditions{Ready: ready, Serving: ready}, ep.Conditions)
			}
		}
		// The same pod upserted again is no change.
		require.Empty(t, mustUpsertPod(t, c, testPod("web-13", sel, podIP(13), func(p *service.Pod) { p.SetReady(ready) })))
	}
	after := c.Slices(key)
	require.Same(t, before[0], after[0], "untouched slices are the same objects")
	require.Same(t, before[2], after[2])
	require.Equal(t, before[1].Generation+6, after[1].Generation)
}

func TestTerminatingAndPublishNotReady(t *testing.T) {
	sel := service.Labels{"app": "web"}
	ts := time.Unix(100, 0)
	for _, pnr := range []bool{false, true} {
		c := NewController(Config{})
		knowNode(t, c, "node-a")
		mustUpsertService(t, c, testService("web", sel, func(s *service.Service) { s.Spec.PublishNotReadyAddresses = pnr }))
		mustUpsertPod(t, c, testPod("notready", sel, "10.1.0.1", func(p *service.Pod) { p.SetReady(false) }))
		mustUpsertPod(t, c, testPod("draining", sel, "10.1.0.2", func(p *service.Pod) { p.DeletionTimestamp = &ts }))
		mustUpsertPod(t, c, testPod("gone", sel, "10.1.0.3", func(p *service.Pod) { p.DeletionTimestamp = &ts; p.SetReady(false) }))
		got := map[string]Conditions{}
		for _, ep := range c.Slices(service.NamespacedName{Namespace: "default", Name: "web"})[0].Endpoints {
			got[ep.TargetRef.Name] = ep.Conditions
		}
		require.Equal(t, map[string]Conditions{
			"notready": {Ready: pnr, Serving: false, Terminating: false},
			"draining": {Ready: pnr, Serving: true, Terminating: true},
			"gone":     {Ready: pnr, Serving: false, Terminating: true},
		}, got, "publishNotReadyAddresses=%v", pnr)
	}
}

func TestNamedPortsResolvingOnSomePods(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	svc := testService("web", sel, func(s *service.Service) {
		s.Spec.Ports = []service.ServicePort{
			{Name: "http", Port: 80, TargetPort: service.FromString("http")},
			{Name: "dns", Port: 53, Protocol: service.ProtocolUDP, TargetPort: service.FromString("dns")},
		}
	})
	mustUpsertService(t, c, svc)
	withHTTP := func(port int32) func(*service.Pod) {
		return func(p *service.Pod) {
			p.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: port}, {Name: "dns", ContainerPort: 53, Protocol: service.ProtocolTCP}}
		}
	}
	mustUpsertPod(t, c, testPod("a", sel, "10.1.0.1", withHTTP(8080)))
	mustUpsertPod(t, c, testPod("b", sel, "10.1.0.2", withHTTP(8080)))
	mustUpsertPod(t, c, testPod("c", sel, "10.1.0.3", withHTTP(9090)))
	mustUpsertPod(t, c, testPod("d", sel, "10.1.0.4"))
	// A sidecar (init container with restartPolicy Always) counts; a
	// plain init container does not.
	always, never := "Always", "Never"
	mustUpsertPod(t, c, testPod("e", sel, "10.1.0.5", func(p *service.Pod) {
		p.Spec.InitContainers = []service.Container{
			{Name: "init", RestartPolicy: &never, Ports: []service.ContainerPort{{Name: "dns", ContainerPort: 5353, Protocol: service.ProtocolUDP}}},
			{Name: "proxy", RestartPolicy: &always, Ports: []service.ContainerPort{{Name: "http", ContainerPort: 8080}}},
		}
	}))
	groups := map[string][]string{}
	for _, s := range c.Slices(svc.Key()) {
		for _, ep := range s.Endpoints {
			groups[formatPorts(s.Ports)] = append(groups[formatPorts(s.Ports)], ep.TargetRef.Name)
		}
	}
	// "dns" is UDP on the Service and TCP in the containers: never
	// resolves, so it is left out everywhere.
	require.Equal(t, map[string][]string{
		"http/TCP/8080/-": {"a", "b", "e"},
		"http/TCP/9090/-": {"c"},
		"":                {"d"},
	}, groups)

	// d gains the port: it moves to a's slice (an update of that slice,
	// and the deletion of d's emptied slice).
	changes := mustUpsertPod(t, c, testPod("d", sel, "10.1.0.4", withHTTP(8080)))
	require.Len(t, changes, 2)
	require.Equal(t, Updated, changes[0].Kind)
	require.Equal(t, Deleted, changes[1].Kind)
	// c changes its port while alone in its slice: create and delete
	// merge into an update of c's slice.
	changes = mustUpsertPod(t, c, testPod("c", sel, "10.1.0.3", withHTTP(7070)))
	require.Len(t, changes, 1)
	require.Equal(t, Updated, changes[0].Kind)
	require.Equal(t, "http/TCP/7070/-", formatPorts(changes[0].Slice.Ports))
}

func TestDualStack(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	svc := testService("web", sel, func(s *service.Service) {
		s.Spec.IPFamilies = []service.IPFamily{service.IPv6Protocol, service.IPv4Protocol}
		s.Spec.ClusterIPs = []string{"fd00::10", "10.96.0.10"}
		s.Spec.ClusterIP = "fd00::10"
	})
	changes := mustUpsertService(t, c, svc)
	require.Equal(t, "created web-8p6m9, created web-r78wg", kinds(changes))
	require.Equal(t, AddressTypeIPv6, changes[0].Slice.AddressType)
	require.Equal(t, AddressTypeIPv4, changes[1].Slice.AddressType)

	dual := func(p *service.Pod) {
		p.Status.PodIPs = []service.PodIP{{IP: "10.1.0.1"}, {IP: "fd00:1::1"}}
	}
	changes = mustUpsertPod(t, c, testPod("dual", sel, "10.1.0.1", dual))
	require.Equal(t, "updated web-8p6m9, updated web-r78wg", kinds(changes))
	require.Equal(t, []netip.Addr{netip.MustParseAddr("fd00:1::1")}, changes[0].Slice.Endpoints[0].Addresses)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("10.1.0.1")}, changes[1].Slice.Endpoints[0].Addresses)

	// A single-stack pod only reaches its family's slices.
	changes = mustUpsertPod(t, c, testPod("v4only", sel, "10.1.0.2"))
	require.Equal(t, "updated web-r78wg", kinds(changes))

	// Dropping a family deletes its slices.
	single := svc.DeepCopy()
	single.Spec.IPFamilies = []service.IPFamily{service.IPv4Protocol}
	require.Equal(t, "deleted web-8p6m9", kinds(mustUpsertService(t, c, single)))
}

func TestHostnameAndZones(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "db"}
	close := service.TrafficDistributionPreferClose
	svc := testService("db", sel, func(s *service.Service) { s.Spec.TrafficDistribution = &close })
	mustUpsertService(t, c, svc)
	_, err := c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-a", Labels: service.Labels{service.LabelTopologyZone: "zone-1"}}})
	require.NoError(t, err)
	mustUpsertPod(t, c, testPod("db-0", sel, "10.1.0.1", func(p *service.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "db" }))
	mustUpsertPod(t, c, testPod("db-1", sel, "10.1.0.2", func(p *service.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-1", "other" }))
	// node-b is unknown: db-2 gets no endpoint, and that is reported.
	changes, err := c.UpsertPod(testPod("db-2", sel, "10.1.0.3", func(p *service.Pod) { p.Spec.NodeName = "node-b"; p.SetReady(false) }))
	require.Empty(t, changes)
	require.EqualError(t, err, `endpoints: node not found: pod default/db-2 skipped for Service default/db: node "node-b" not found`)

	eps := func() map[string]Endpoint {
		m := map[string]Endpoint{}
		for _, ep := range c.Slices(svc.Key())[0].Endpoints {
			m[ep.TargetRef.Name] = *ep
		}
		return m
	}
	got := eps()
	require.Equal(t, "db-0", got["db-0"].Hostname)
	require.Equal(t, "", got["db-1"].Hostname, "subdomain is another Service")
	require.Equal(t, "zone-1", got["db-0"].Zone)
	require.Equal(t, &Hints{ForZones: []ForZone{{Name: "zone-1"}}}, got["db-0"].Hints)
	require.NotContains(t, got, "db-2", "node-b is unknown")

	// node-b appears with a zone: its pod's endpoint comes; it is not
	// ready, so it gets no hint (trafficdist hints ready endpoints).
	changes, err = c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-b", Labels: service.Labels{service.LabelTopologyZone: "zone-2"}}})
	require.NoError(t, err)
	require.Len(t, changes, 1)
	require.Equal(t, "zone-2", eps()["db-2"].Zone)
	require.Nil(t, eps()["db-2"].Hints)

	// node-a moves zone: both its endpoints in one write.
	changes, err = c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-a", Labels: service.Labels{service.LabelTopologyZone: "zone-3"}}})
	require.NoError(t, err)
	require.Len(t, changes, 1)
	require.Equal(t, "zone-3", eps()["db-1"].Zone)
	require.Equal(t, "zone-3", eps()["db-1"].Hints.ForZones[0].Name)
	// Same zone again: nothing.
	changes, _ = c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-a", Labels: service.Labels{service.LabelTopologyZone: "zone-3"}}})
	require.Empty(t, changes)

	// PreferSameNode adds node hints; without trafficDistribution, none.
	sameNode := service.TrafficDistributionPreferSameNode
	svc.Spec.TrafficDistribution = &sameNode
	mustUpsertService(t, c, svc)
	require.Equal(t, &Hints{ForZones: []ForZone{{Name: "zone-3"}}, ForNodes: []ForNode{{Name: "node-a"}}}, eps()["db-0"].Hints)
	svc.Spec.TrafficDistribution = nil
	mustUpsertService(t, c, svc)
	require.Nil(t, eps()["db-0"].Hints)

	// node-a goes: its pods lose their endpoints (reconcileByAddressType
	// skips pods whose node is not found), each reported.
	changes, err = c.DeleteNode("node-a")
	require.Len(t, changes, 1)
	var nf *NodeNotFoundError
	require.ErrorAs(t, err, &nf)
	require.ErrorIs(t, err, ErrNodeNotFound)
	require.Equal(t, NodeNotFoundError{Pod: service.NamespacedName{Namespace: "default", Name: "db-0"}, Node: "node-a", Service: svc.Key()}, *nf)
	require.ErrorContains(t, err, `endpoints: node not found: pod default/db-1 skipped for Service default/db: node "node-a" not found`)
	require.Equal(t, []string{"db-2"}, slices.Collect(maps.Keys(eps())))
}

func TestSkippedPod(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel))
	mustUpsertPod(t, c, testPod("p", sel, "10.1.0.1"))
	changes, err := c.UpsertPod(testPod("p", sel, "127.0.0.1"))
	require.ErrorIs(t, err, ErrEndpointIP)
	var skip *SkippedPodError
	require.True(t, errors.As(err, &skip))
	require.Equal(t, service.NamespacedName{Namespace: "default", Name: "p"}, skip.Pod)
	require.Equal(t, "127.0.0.1", skip.IP)
	require.Contains(t, err.Error(), `endpoints: invalid endpoint IP: pod default/p skipped: IP "127.0.0.1": may not be in the loopback range`)
	// The changes are complete: the pod's endpoint is gone.
	require.Equal(t, "updated web-8p6m9", kinds(changes))
	require.Empty(t, changes[0].Slice.Endpoints)
	_, err = c.UpsertPod(testPod("link", sel, "", func(p *service.Pod) {
		p.Status.PodIPs = []service.PodIP{{IP: "10.1.0.2"}, {IP: "fe80::1"}}
	}))
	require.ErrorIs(t, err, ErrEndpointIP)
	require.Empty(t, c.Slices(service.NamespacedName{Namespace: "default", Name: "web"})[0].Endpoints)
	changes, err = c.UpsertPod(testPod("p", sel, "10.1.0.1"))
	require.NoError(t, err)
	require.Len(t, changes[0].Slice.Endpoints, 1)
}

func TestRollingUpdate(t *testing.T) {
	const n = 250
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel))
	for i := range n {
		mustUpsertPod(t, c, testPod(fmt.Sprintf("old-%d", i), sel, podIP(i)))
	}
	key := service.NamespacedName{Namespace: "default", Name: "web"}
	require.Equal(t, []int{100, 100, 50}, sliceSizes(c.Slices(key)))

	writes := 0
	for i := range n {
		changes := mustUpsertPod(t, c, testPod(fmt.Sprintf("new-%d", i), sel, podIP(1000+i)))
		require.Equal(t, 1, len(changes))
		require.Equal(t, Updated, changes[0].Kind)
		writes += len(changes)
		changes = c.DeletePod(service.NamespacedName{Namespace: "default", Name: fmt.Sprintf("old-%d", i)})
		require.Equal(t, 1, len(changes))
		require.Equal(t, Updated, changes[0].Kind)
		writes += len(changes)
	}
	// Each step adds to the slice with room closest to full and removes
	// from another: one update each, never a create or delete.
	require.Equal(t, 2*n, writes)
	ss := c.Slices(key)
	require.Len(t, ss, 3)
	require.Equal(t, []string{"web-8p6m9", "web-r78wg", "web-q59fk"}, []string{ss[0].Name, ss[1].Name, ss[2].Name})
	total := 0
	for _, s := range ss {
		total += len(s.Endpoints)
		for _, ep := range s.Endpoints {
			require.True(t, strings.HasPrefix(ep.TargetRef.Name, "new-"))
		}
	}
	require.Equal(t, n, total)
}

// TestFillUpdatedSlicesFirst exercises the reconciler's step 2: a
// selector change that drops one pod and adds two fills the slice that
// lost the pod, then creates only for what does not fit.
func TestFillUpdatedSlicesFirst(t *testing.T) {
	c := NewController(Config{MaxEndpointsPerSlice: 2})
	knowNode(t, c, "node-a")
	mustUpsertService(t, c, testService("web", service.Labels{"app": "web"}))
	mustUpsertPod(t, c, testPod("a", service.Labels{"app": "web"}, "10.1.0.1"))
	mustUpsertPod(t, c, testPod("b", service.Labels{"app": "web", "track": "stable"}, "10.1.0.2"))
	mustUpsertPod(t, c, testPod("c", service.Labels{"app": "web", "track": "stable"}, "10.1.0.3"))
	mustUpsertPod(t, c, testPod("d", service.Labels{"app": "web", "track": "stable"}, "10.1.0.4"))
	mustUpsertPod(t, c, testPod("e", service.Labels{"track": "stable"}, "10.1.0.5"))
	mustUpsertPod(t, c, testPod("f", service.Labels{"track": "stable"}, "10.1.0.6"))
	key := service.NamespacedName{Namespace: "default", Name: "web"}
	require.Equal(t, []int{2, 2}, sliceSizes(c.Slices(key))) // [a b] [c d]

	changes := mustUpsertService(t, c, testService("web", service.Labels{"track": "stable"}))
	require.Equal(t, "created web-q59fk, updated web-8p6m9", kinds(changes))
	require.Equal(t, []int{2, 2, 1}, sliceSizes(c.Slices(key)))
	have, err := flatten(c.Slices(key))
	require.NoError(t, err)
	require.Len(t, have, 5)
}

// TestCandidatesIndependentOfServices checks the inverted index: with
// thousands of Services in the namespace, a pod event looks only at the
// Services that could select it.
func TestCandidatesIndependentOfServices(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	for i := range 3000 {
		sel := service.Labels{"app": fmt.Sprintf("app-%d", i)}
		if i%2 == 0 {
			sel["tier"] = "backend" // shared by 1500 Services
		}
		mustUpsertService(t, c, testService(fmt.Sprintf("svc-%d", i), sel))
	}
	mustUpsertPod(t, c, testPod("p", service.Labels{"app": "app-42", "tier": "backend"}, "10.1.0.1"))
	require.LessOrEqual(t, c.candidateCount(service.NamespacedName{Namespace: "default", Name: "p"}), 2, "Services looked at by the pod event")
	require.Len(t, c.Slices(service.NamespacedName{Namespace: "default", Name: "svc-42"})[0].Endpoints, 1)
	// tier=backend alone selects nothing: 1500 Services carry it, none
	// is looked at.
	require.Empty(t, mustUpsertPod(t, c, testPod("q", service.Labels{"app": "none", "tier": "backend"}, "10.1.0.2")))
	require.LessOrEqual(t, c.candidateCount(service.NamespacedName{Namespace: "default", Name: "q"}), 1, "Services looked at by the pod event")
}

// TestReadinessFlipAllocations bounds the allocations of the hot path: a
// new slice version, its list of endpoints (pointers, shared with the
// version before), the one new endpoint and the change list; and their
// bytes, which no longer grow with the endpoints' size (a copy of the
// 100 endpoints' values was 9.6 KB of the 10.1 KB a flip allocated).
func TestReadinessFlipAllocations(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel))
	for i := range 250 {
		mustUpsertPod(t, c, testPod(fmt.Sprintf("web-%d", i), sel, podIP(i)))
	}
	ready := testPod("web-7", sel, podIP(7))
	notReady := testPod("web-7", sel, podIP(7), func(p *service.Pod) { p.SetReady(false) })
	flip := false
	allocs := testing.AllocsPerRun(1000, func() {
		flip = !flip
		p := ready
		if flip {
			p = notReady
		}
		if changes, _ := c.UpsertPod(p); len(changes) != 1 {
			panic("no change")
		}
	})
	require.LessOrEqual(t, allocs, 4.0)

	// Bytes per flip, over many flips (runtime.MemStats counts every
	// allocation, whatever its size, unlike AllocsPerRun's count).
	const runs = 1000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range runs {
		p := ready // AllocsPerRun's 1001 runs left the pod not ready
		if i%2 == 1 {
			p = notReady
		}
		if changes, _ := c.UpsertPod(p); len(changes) != 1 {
			t.Fatal("no change")
		}
	}
	runtime.ReadMemStats(&after)
	perFlip := (after.TotalAlloc - before.TotalAlloc) / runs
	// 100 pointers (896 B with its size class), one Endpoint (96 B),
	// the Slice (320 B) and the change list (64 B).
	t.Logf("%.0f allocations, %d bytes per flip", allocs, perFlip)
	require.LessOrEqual(t, perFlip, uint64(1536), "bytes per flip")
}

// TestDeletingTheLastEmptyPortSetPod: a pod that resolves no port but has
// an endpoint keeps the empty port set desired, so the placeholder stays
// beside its slice. Deleting it leaves that port set undesired, and
// reconcileByAddressType deletes every slice of it: the pod's slice and
// the placeholder, two writes for one pod (found by
// TestControllerMatchesModel, whose bound allows the placeholder).
func TestDeletingTheLastEmptyPortSetPod(t *testing.T) {
	c := NewController(Config{MaxEndpointsPerSlice: 1})
	knowNode(t, c, "node-a")
	web := testService("web", service.Labels{"app": "web"}, func(s *service.Service) { s.Spec.Ports[0].TargetPort = service.FromString("http") })
	changes := mustUpsertService(t, c, web)
	require.Len(t, changes, 1)
	ph := changes[0].Slice.Name
	named := func(p *service.Pod) {
		p.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: 8080}}
	}
	// web-1 resolves no port: the placeholder (an unchanged slice of the
	// empty port set) cannot take its endpoint with one endpoint per
	// slice, so web-1 gets a slice of its own and the placeholder stays.
	// web-0 resolves the port and gets a slice of that port set.
	mustUpsertPod(t, c, testPod("web-1", service.Labels{"app": "web"}, "10.1.0.2"))
	mustUpsertPod(t, c, testPod("web-0", service.Labels{"app": "web"}, "10.1.0.1", named))
	require.Equal(t, []int{0, 1, 1}, sliceSizes(c.Slices(web.Key())))
	changes = c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-1"})
	require.Len(t, changes, 2)
	var deleted []string
	for _, ch := range changes {
		require.Equal(t, Deleted, ch.Kind)
		deleted = append(deleted, ch.Old.Name)
	}
	require.Contains(t, deleted, ph)
	require.Equal(t, []int{1}, sliceSizes(c.Slices(web.Key())))
}

func TestSplitSkips(t *testing.T) {
	a := &NodeNotFoundError{Pod: service.NamespacedName{Namespace: "default", Name: "a"}, Node: "n1"}
	b := &NodeNotFoundError{Pod: service.NamespacedName{Namespace: "default", Name: "b"}}
	other := errors.New("other")
	skipped, rest := SplitSkips(errors.Join(a, errors.Join(other, b)))
	require.Equal(t, []*NodeNotFoundError{a, b}, skipped)
	require.Same(t, other, rest)
	skipped, rest = SplitSkips(errors.Join(a, b))
	require.Len(t, skipped, 2)
	require.NoError(t, rest)
	skipped, rest = SplitSkips(nil)
	require.Empty(t, skipped)
	require.NoError(t, rest)
}
