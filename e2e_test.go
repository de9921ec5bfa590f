package svcnet

import (
	"fmt"
	"net/netip"
	"slices"
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

// End-to-end tests: every seed feature of a Service, through the whole
// path (Registry → endpoints → DNS and proxies → Dial), checked against
// what Kubernetes does.

var outsider = FromAddr(netip.MustParseAddr("203.0.113.7"))

func mustService(t *testing.T, c *Cluster, key service.NamespacedName) *service.Service {
	t.Helper()
	svc, err := c.Service(key)
	require.NoError(t, err)
	return svc
}

func apply(t *testing.T, c *Cluster, pods ...*service.Pod) {
	t.Helper()
	for _, p := range pods {
		_, err := c.ApplyPod(p)
		require.NoError(t, err)
	}
}

func create(t *testing.T, c *Cluster, svc *service.Service) *service.Service {
	t.Helper()
	ch, err := c.CreateService(svc)
	require.NoError(t, err)
	return ch.Services[0].New
}

func dial(t *testing.T, c *Cluster, from Source, target string) Trace {
	t.Helper()
	tr, err := c.Dial(from, target)
	require.NoError(t, err)
	return tr
}

func aRecords(c *Cluster, name string, qt dnsname.Type) []string {
	var out []string
	for _, r := range c.DNS().Resolve(name, qt).Answer {
		if r.Type == qt {
			out = append(out, r.Addr.String())
		}
	}
	return out
}

// A Service keeps its ClusterIP and its name while its pods are replaced
// one by one (a rolling update), and connections only ever reach pods that
// exist and are ready.
func TestE2EStableThroughChurn(t *testing.T) {
	c := testCluster(t, true)
	for i := range 3 {
		apply(t, c, testPod(fmt.Sprintf("web-v1-%d", i), fmt.Sprintf("node-%d", i), fmt.Sprintf("10.244.%d.5", i), true))
	}
	apply(t, c, clientPod("client", "node-0", "10.244.0.99"))
	svc := create(t, c, webService("web", ""))
	ip := svc.Spec.ClusterIP
	name := "web.default.svc.cluster.local"
	require.Equal(t, []string{ip}, aRecords(c, name, dnsname.TypeA))

	live := map[string]bool{"web-v1-0": true, "web-v1-1": true, "web-v1-2": true}
	for i := range 3 {
		// A new pod starts, not ready: it takes no traffic.
		newPod := testPod(fmt.Sprintf("web-v2-%d", i), fmt.Sprintf("node-%d", (i+1)%3), fmt.Sprintf("10.244.%d.%d", (i+1)%3, 20+i), false)
		apply(t, c, newPod)
		for n := range dialN(t, c, FromPod("default", "client"), "web:80", 60) {
			require.True(t, live[n], "routed to %s before it was ready", n)
		}
		// It turns ready; the old one terminates, then goes.
		newPod.SetReady(true)
		apply(t, c, newPod)
		live[newPod.Name] = true
		old, err := c.Pod(nn("default", fmt.Sprintf("web-v1-%d", i)))
		require.NoError(t, err)
		now := epoch
		old.DeletionTimestamp = &now
		apply(t, c, old)
		delete(live, old.Name)
		for n := range dialN(t, c, FromPod("default", "client"), "web:80", 60) {
			require.True(t, live[n], "routed to %s while it terminates and others are ready", n)
		}
		_, err = c.DeletePod(old.Key())
		require.NoError(t, err)

		require.Equal(t, ip, mustService(t, c, svc.Key()).Spec.ClusterIP, "the ClusterIP is stable")
		require.Equal(t, []string{ip}, aRecords(c, name, dnsname.TypeA), "the name is stable")
	}
	counts := dialN(t, c, FromPod("default", "client"), "web:80", 300)
	require.Equal(t, []string{"web-v2-0", "web-v2-1", "web-v2-2"}, slices.Sorted(mapKeys(counts)))
	require.Len(t, c.Slices(svc.Key())[0].Endpoints, 3)

	// Editing the Service (a new port) keeps its address too.
	svc = mustService(t, c, svc.Key())
	svc.Spec.Ports = append(svc.Spec.Ports, service.ServicePort{Name: "admin", Port: 8081, TargetPort: service.FromInt(8081)})
	_, err := c.UpdateService(svc)
	require.NoError(t, err)
	require.Equal(t, ip, mustService(t, c, svc.Key()).Spec.ClusterIP)
	require.True(t, dial(t, c, FromPod("default", "client"), "web:8081").Served())
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A selector picks the pods of its own namespace that carry all its
// labels, and membership follows label changes both ways.
func TestE2ESelectors(t *testing.T) {
	c := testCluster(t, true)
	pod := func(ns, name, ip string, labels service.Labels) *service.Pod {
		p := testPod(name, "node-0", ip, true)
		p.Namespace, p.Labels = ns, labels
		return p
	}
	apply(t, c,
		pod("default", "fe-0", "10.244.0.10", service.Labels{"app": "web", "tier": "fe"}),
		pod("default", "web-0", "10.244.0.11", service.Labels{"app": "web"}),
		pod("staging", "fe-0", "10.244.0.12", service.Labels{"app": "web", "tier": "fe"}),
		pod("default", "db-0", "10.244.0.13", service.Labels{"app": "db"}),
	)
	fe := webService("fe", "")
	fe.Spec.Selector = service.Labels{"app": "web", "tier": "fe"}
	create(t, c, fe)
	web := create(t, c, webService("web", ""))
	ips := func(key service.NamespacedName) []string {
		var out []string
		for a := range endpointSet(c.Slices(key), endpoints.AddressTypeIPv4) {
			out = append(out, a.String())
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, []string{"10.244.0.10"}, ips(nn("default", "fe")))
	require.Equal(t, []string{"10.244.0.10", "10.244.0.11"}, ips(web.Key()), "not the staging pod, not the db")

	// Relabel: web-0 joins fe; fe-0 becomes a db and leaves both.
	apply(t, c, pod("default", "web-0", "10.244.0.11", service.Labels{"app": "web", "tier": "fe"}),
		pod("default", "fe-0", "10.244.0.10", service.Labels{"app": "db", "tier": "fe"}))
	require.Equal(t, []string{"10.244.0.11"}, ips(nn("default", "fe")))
	require.Equal(t, []string{"10.244.0.11"}, ips(web.Key()))

	// The selector changes: the endpoints follow at once.
	web = mustService(t, c, web.Key())
	web.Spec.Selector = service.Labels{"app": "db"}
	_, err := c.UpdateService(web)
	require.NoError(t, err)
	require.Equal(t, []string{"10.244.0.10", "10.244.0.13"}, ips(web.Key()))

	// Without a selector the controller stops syncing the Service and
	// leaves its slices as they were (Kubernetes' syncService): a
	// connection still reaches the old endpoints, and pod changes no
	// longer reach them.
	web = mustService(t, c, web.Key())
	web.Spec.Selector = nil
	_, err = c.UpdateService(web)
	require.NoError(t, err)
	apply(t, c, pod("default", "db-0", "10.244.0.13", service.Labels{"app": "cache"}))
	require.Equal(t, []string{"10.244.0.10", "10.244.0.13"}, ips(web.Key()))
	apply(t, c, clientPod("client", "node-1", "10.244.1.99"))
	tr := dial(t, c, FromPod("default", "client"), "web:80")
	require.Equal(t, proxy.Routed, tr.Route.Verdict, tr.String())
	require.Contains(t, []string{"fe-0", "db-0"}, tr.Pod.Name, tr.String())
	// Deleting it deletes them; a connection then finds no Service.
	_, err = c.DeleteService(web.Key())
	require.NoError(t, err)
	require.Nil(t, c.Slices(web.Key()))
}

// Ports: a named targetPort resolves per pod (pods may listen on
// different numbers), a pod without the named port is left out of that
// port only, protocols are separate, and named ports get SRV records.
func TestE2EPorts(t *testing.T) {
	c := testCluster(t, true)
	v1 := testPod("web-v1", "node-0", "10.244.0.5", true)
	v1.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9100}}
	v2 := testPod("web-v2", "node-1", "10.244.1.5", true)
	v2.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: 9090}}
	apply(t, c, v1, v2, clientPod("client", "node-2", "10.244.2.99"))
	svc := webService("web", "")
	svc.Spec.Ports = []service.ServicePort{
		{Name: "http", Port: 80, TargetPort: service.FromString("http")},
		{Name: "metrics", Port: 9100, TargetPort: service.FromString("metrics")},
		{Name: "dns", Port: 53, Protocol: service.ProtocolUDP, TargetPort: service.FromInt(5353)},
	}
	svc = create(t, c, svc)

	seen := map[string]bool{}
	for range 100 {
		tr := dial(t, c, FromPod("default", "client"), "web:80")
		require.True(t, tr.Served())
		seen[tr.Route.Backend.Addr.String()] = true
	}
	require.Equal(t, map[string]bool{"10.244.0.5:8080": true, "10.244.1.5:9090": true}, seen, "each pod on its own http port")
	for range 20 {
		tr := dial(t, c, FromPod("default", "client"), "web:9100")
		require.Equal(t, "10.244.0.5:9100", tr.Route.Backend.Addr.String(), "only v1 has metrics")
	}
	// 53 is a UDP port: a TCP connection finds no frontend; a UDP packet does.
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, FromPod("default", "client"), "web:53").Route.Verdict)
	r, err := c.Route("node-2", proxy.Packet{Src: netip.MustParseAddrPort("10.244.2.99:5000"), Dst: netip.AddrPortFrom(netip.MustParseAddr(svc.Spec.ClusterIP), 53), Proto: lb.UDP}, epoch)
	require.NoError(t, err)
	require.Equal(t, proxy.Routed, r.Verdict)
	require.Equal(t, uint16(5353), r.Backend.Addr.Port())
	// A port nobody serves.
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, FromPod("default", "client"), "web:81").Route.Verdict)

	resp := c.DNS().Resolve("_http._tcp.web.default.svc.cluster.local", dnsname.TypeSRV)
	require.Len(t, resp.Answer, 1)
	require.Equal(t, uint16(80), resp.Answer[0].Port)
	require.Equal(t, "web.default.svc.cluster.local.", resp.Answer[0].Target)
	resp = c.DNS().Resolve("_dns._udp.web.default.svc.cluster.local", dnsname.TypeSRV)
	require.Len(t, resp.Answer, 1)
	require.Equal(t, uint16(53), resp.Answer[0].Port)
}

// ClusterIP: reachable from pods and nodes, not from outside.
func TestE2EClusterIP(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-0", "node-1", "10.244.1.5", true), clientPod("client", "node-0", "10.244.0.9"))
	svc := create(t, c, webService("web", ""))
	target := svc.Spec.ClusterIP + ":80"
	require.True(t, dial(t, c, FromPod("default", "client"), target).Served())
	require.True(t, dial(t, c, FromPod("default", "client"), "web.default.svc.cluster.local:80").Served())
	tr := dial(t, c, FromAddr(netip.MustParseAddr("192.168.0.12")), target)
	require.True(t, tr.Served(), "from a node: %s", tr)
	require.Equal(t, "node-2", tr.Node, "a node's own connection goes through its own proxy")
	tr = dial(t, c, outsider, target)
	require.Equal(t, proxy.Unreachable, tr.Route.Verdict, tr.String())
	require.Equal(t, proxy.FrontendClusterIP, tr.Route.Kind)
	// A name only resolves inside.
	_, err := c.Dial(outsider, "web:80")
	require.ErrorIs(t, err, ErrInvalidTarget)
	// A pod in another namespace needs the namespace in the name.
	other := clientPod("other", "node-0", "10.244.0.10")
	other.Namespace = "shop"
	apply(t, c, other)
	tr = dial(t, c, FromPod("shop", "other"), "web:80")
	require.True(t, tr.DNSFailure)
	require.True(t, dial(t, c, FromPod("shop", "other"), "web.default:80").Served())
}

// NodePort: every node answers the port on its own addresses, from
// outside and from inside, and externalTrafficPolicy Local answers only
// on nodes with a local endpoint.
func TestE2ENodePort(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-0", "node-1", "10.244.1.5", true), clientPod("client", "node-0", "10.244.0.9"))
	svc := webService("web", service.ServiceTypeNodePort)
	svc.Spec.Ports[0].NodePort = 30080
	svc = create(t, c, svc)
	require.Equal(t, int32(30080), svc.Spec.Ports[0].NodePort)
	require.NotEmpty(t, svc.Spec.ClusterIP, "a NodePort Service has a ClusterIP too")
	for i := range 3 {
		tr := dial(t, c, outsider, fmt.Sprintf("192.168.0.%d:30080", 10+i))
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, fmt.Sprintf("node-%d", i), tr.Node)
		require.Equal(t, proxy.FrontendNodePort, tr.Route.Kind)
		require.Equal(t, nn("default", "web-0"), tr.Pod)
	}
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, outsider, "192.168.0.10:30081").Route.Verdict)
	require.Equal(t, proxy.Unreachable, dial(t, c, outsider, svc.Spec.ClusterIP+":80").Route.Verdict)

	// From a pod to another node's address: its own node lets the packet
	// pass, the other node's proxy answers.
	tr := dial(t, c, FromPod("default", "client"), "192.168.0.12:30080")
	require.True(t, tr.Served(), tr.String())
	require.Equal(t, "node-2", tr.Node)
	require.True(t, dial(t, c, FromPod("default", "client"), "192.168.0.10:30080").Served())

	// externalTrafficPolicy Local: only node-1 has an endpoint.
	svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	_, err := c.UpdateService(svc)
	require.NoError(t, err)
	tr = dial(t, c, outsider, "192.168.0.10:30080")
	require.Equal(t, proxy.DroppedByPolicy, tr.Route.Verdict, tr.String())
	tr = dial(t, c, outsider, "192.168.0.11:30080")
	require.True(t, tr.Served(), tr.String())
	// From inside, kube-proxy short-circuits to the cluster endpoints.
	require.True(t, dial(t, c, FromPod("default", "client"), "192.168.0.10:30080").Served())
}

// LoadBalancer: the provider's address answers from outside, the
// NodePorts too; Local policy makes the load balancer skip nodes without
// an endpoint; source ranges filter clients; without a provider the
// Service stays <pending> and only its NodePorts answer.
func TestE2ELoadBalancer(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	apply(t, c, testPod("web-0", "node-2", "10.244.2.5", true))
	svc := create(t, c, webService("web", service.ServiceTypeLoadBalancer))
	require.Equal(t, "192.0.2.100", svc.Status.LoadBalancer.Ingress[0].IP)
	np := svc.Spec.Ports[0].NodePort
	require.NotZero(t, np)

	for i := range 20 {
		src := FromAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}))
		tr := dial(t, c, src, "192.0.2.100:80")
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, proxy.FrontendLoadBalancer, tr.Route.Kind)
	}
	require.True(t, dial(t, c, outsider, "192.168.0.10:"+itoa(np)).Served())

	// Local: the load balancer's health checks fail on node-0 and node-1.
	svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	ch, err := c.UpdateService(svc)
	require.NoError(t, err)
	require.NotZero(t, ch.Services[0].New.Spec.HealthCheckNodePort)
	for i := range 20 {
		src := FromAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}))
		tr := dial(t, c, src, "192.0.2.100:80")
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, "node-2", tr.Node, "only node-2 passes the health check")
	}

	// Source ranges.
	svc = ch.Services[0].New
	svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyCluster
	svc.Spec.LoadBalancerSourceRanges = []string{"198.51.100.0/24"}
	_, err = c.UpdateService(svc)
	require.NoError(t, err)
	require.Equal(t, proxy.BlockedBySourceRange, dial(t, c, outsider, "192.0.2.100:80").Route.Verdict)
	require.True(t, dial(t, c, FromAddr(netip.MustParseAddr("198.51.100.7")), "192.0.2.100:80").Served())

	// Deleting the Service frees its address and its frontends.
	_, err = c.DeleteService(svc.Key())
	require.NoError(t, err)
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, FromAddr(netip.MustParseAddr("198.51.100.7")), "192.0.2.100:80").Route.Verdict)
	again := create(t, c, webService("web2", service.ServiceTypeLoadBalancer))
	require.Equal(t, "192.0.2.100", again.Status.LoadBalancer.Ingress[0].IP)

	// Without a provider: <pending>, NodePorts only.
	c2 := testCluster(t, true)
	apply(t, c2, testPod("web-0", "node-2", "10.244.2.5", true))
	pending := create(t, c2, webService("web", service.ServiceTypeLoadBalancer))
	require.Empty(t, pending.Status.LoadBalancer.Ingress)
	require.True(t, dial(t, c2, outsider, "192.168.0.11:"+itoa(pending.Spec.Ports[0].NodePort)).Served())
	// A controller reports an address through the status.
	pending.Status.LoadBalancer.Ingress = []service.LoadBalancerIngress{{IP: "203.0.113.50"}}
	_, err = c2.UpdateServiceStatus(pending)
	require.NoError(t, err)
	require.True(t, dial(t, c2, outsider, "203.0.113.50:80").Served())
}

// ExternalName: a CNAME and nothing else — no slices, no frontends.
func TestE2EExternalName(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-0", "node-1", "10.244.1.5", true), clientPod("client", "node-0", "10.244.0.9"))
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: service.ServiceSpec{Type: service.ServiceTypeExternalName, ExternalName: "db.example.com",
			Selector: service.Labels{"app": "web"}},
	}
	frontends := c.Table().Frontends()
	svc = create(t, c, svc)
	require.Empty(t, svc.Spec.ClusterIP)
	require.Nil(t, c.Slices(svc.Key()), "ExternalName Services get no slices, selector or not")
	require.Equal(t, frontends, c.Table().Frontends())
	resp := c.DNS().Resolve("db.default.svc.cluster.local", dnsname.TypeCNAME)
	require.Equal(t, "db.example.com.", resp.Answer[0].Target)
	tr := dial(t, c, FromPod("default", "client"), "db:5432")
	require.True(t, tr.DNSFailure)
	require.False(t, tr.Served())
	require.Contains(t, tr.String(), "CNAME to db.example.com.")
}

// Readiness and termination (KEP-1672, KEP-1669): not-ready pods take no
// traffic; terminating pods take none while others are ready, and take it
// when only serving terminating ones are left.
func TestE2EReadinessAndTermination(t *testing.T) {
	c := testCluster(t, true)
	a, b := testPod("a", "node-0", "10.244.0.5", true), testPod("b", "node-1", "10.244.1.5", true)
	notReady := testPod("c", "node-2", "10.244.2.5", false)
	apply(t, c, a, b, notReady, clientPod("client", "node-0", "10.244.0.9"))
	create(t, c, webService("web", ""))
	from := FromPod("default", "client")
	require.Equal(t, []string{"a", "b"}, slices.Sorted(mapKeys(dialN(t, c, from, "web:80", 100))))

	ts := epoch
	a.DeletionTimestamp = &ts
	apply(t, c, a)
	require.Equal(t, map[string]int{"b": 50}, dialN(t, c, from, "web:80", 50))
	b.DeletionTimestamp = &ts
	apply(t, c, b)
	require.Equal(t, []string{"a", "b"}, slices.Sorted(mapKeys(dialN(t, c, from, "web:80", 100))), "serving terminating endpoints as a last resort")
	b.SetReady(false)
	apply(t, c, b)
	require.Equal(t, map[string]int{"a": 50}, dialN(t, c, from, "web:80", 50))
	a.SetReady(false)
	apply(t, c, a)
	require.Equal(t, map[string]int{"!no endpoints": 10}, dialN(t, c, from, "web:80", 10))
	// publishNotReadyAddresses makes every endpoint ready.
	svc := mustService(t, c, nn("default", "web"))
	svc.Spec.PublishNotReadyAddresses = true
	_, err := c.UpdateService(svc)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, slices.Sorted(mapKeys(dialN(t, c, from, "web:80", 100))))
}

// ClientIP session affinity: a client sticks to one backend.
func TestE2ESessionAffinity(t *testing.T) {
	c := testCluster(t, true)
	for i := range 3 {
		apply(t, c, testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i), fmt.Sprintf("10.244.%d.5", i), true))
	}
	apply(t, c, clientPod("client", "node-0", "10.244.0.9"))
	svc := webService("web", "")
	svc.Spec.SessionAffinity = service.ServiceAffinityClientIP
	create(t, c, svc)
	counts := dialN(t, c, FromPod("default", "client"), "web:80", 100)
	require.Len(t, counts, 1, "%v", counts)
}

// internalTrafficPolicy Local: a pod reaches only endpoints on its own
// node, and none when its node has none (KEP-2086).
func TestE2EInternalTrafficPolicyLocal(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-0", "node-0", "10.244.0.5", true), testPod("web-1", "node-1", "10.244.1.5", true),
		clientPod("c0", "node-0", "10.244.0.9"), clientPod("c2", "node-2", "10.244.2.9"))
	svc := webService("web", "")
	local := service.TrafficPolicyLocal
	svc.Spec.InternalTrafficPolicy = &local
	create(t, c, svc)
	require.Equal(t, map[string]int{"web-0": 50}, dialN(t, c, FromPod("default", "c0"), "web:80", 50))
	require.Equal(t, map[string]int{"!dropped by policy": 5}, dialN(t, c, FromPod("default", "c2"), "web:80", 5))
	// A node's own connection follows the same rule.
	require.Equal(t, map[string]int{"web-1": 20}, dialN(t, c, FromAddr(netip.MustParseAddr("192.168.0.11")), mustService(t, c, svc.Key()).Spec.ClusterIP+":80", 20))
}

// Topology-aware routing (trafficDistribution PreferClose, KEP-4444):
// clients use the endpoints of their own zone when there are any.
func TestE2ETopology(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-a", "node-0", "10.244.0.5", true), testPod("web-b", "node-1", "10.244.1.5", true),
		clientPod("ca", "node-0", "10.244.0.9"), clientPod("cc", "node-2", "10.244.2.9"))
	svc := webService("web", "")
	pc := service.TrafficDistributionPreferClose
	svc.Spec.TrafficDistribution = &pc
	create(t, c, svc)
	require.Equal(t, map[string]int{"web-a": 50}, dialN(t, c, FromPod("default", "ca"), "web:80", 50), "zone-a stays in zone-a")
	require.Equal(t, []string{"web-a", "web-b"}, slices.Sorted(mapKeys(dialN(t, c, FromPod("default", "cc"), "web:80", 100))), "zone-c has no endpoint: all of them")
}

// Headless: the name answers the ready pods' addresses, each pod of a
// StatefulSet has its own name, and connections go to pods directly.
func TestE2EHeadless(t *testing.T) {
	c := testCluster(t, true)
	svc := webService("web", "")
	svc.Spec.ClusterIP = service.ClusterIPNone
	create(t, c, svc)
	for i := range 3 {
		p := testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i), fmt.Sprintf("10.244.%d.5", i), i != 2)
		p.Spec.Hostname, p.Spec.Subdomain = p.Name, "web"
		apply(t, c, p)
	}
	apply(t, c, clientPod("client", "node-0", "10.244.0.9"))
	require.Equal(t, []string{"10.244.0.5", "10.244.1.5"}, aRecords(c, "web.default.svc.cluster.local", dnsname.TypeA))
	require.Equal(t, []string{"10.244.1.5"}, aRecords(c, "web-1.web.default.svc.cluster.local", dnsname.TypeA))
	require.Equal(t, dnsname.RcodeNXDomain, c.DNS().Resolve("web-2.web.default.svc.cluster.local", dnsname.TypeA).Rcode, "not ready")
	tr := dial(t, c, FromPod("default", "client"), "web-1.web:80")
	require.True(t, tr.Served(), tr.String())
	require.True(t, tr.Direct)
	require.Equal(t, nn("default", "web-1"), tr.Pod)
	require.Zero(t, c.Table().Frontends(), "a headless Service has no frontend")
}

// Dual-stack (KEP-563): one ClusterIP per family, A and AAAA records, and
// each family routes to the pods' addresses of that family.
func TestE2EDualStack(t *testing.T) {
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:10:96::/112")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:244::/56")},
		ImmediateSync: true,
	})
	require.NoError(t, err)
	_, err = c.AddNode(testNode("node-0", "", "192.168.0.10"))
	require.NoError(t, err)
	dual := func(name, ip4, ip6 string) *service.Pod {
		p := testPod(name, "node-0", ip4, true)
		p.Status.PodIPs = []service.PodIP{{IP: ip4}, {IP: ip6}}
		return p
	}
	apply(t, c, dual("web-0", "10.244.0.5", "fd00:10:244::5"), testPod("web-old", "node-0", "10.244.0.6", true),
		dual("client", "10.244.0.9", "fd00:10:244::9"))
	cl, err := c.Pod(nn("default", "client"))
	require.NoError(t, err)
	cl.Labels = nil
	apply(t, c, cl)
	svc := webService("web", "")
	pol := service.IPFamilyPolicyRequireDualStack
	svc.Spec.IPFamilyPolicy = &pol
	svc = create(t, c, svc)
	require.Len(t, svc.Spec.ClusterIPs, 2)
	require.Equal(t, []string{svc.Spec.ClusterIPs[0]}, aRecords(c, "web.default.svc.cluster.local", dnsname.TypeA))
	require.Equal(t, []string{svc.Spec.ClusterIPs[1]}, aRecords(c, "web.default.svc.cluster.local", dnsname.TypeAAAA))
	seen4 := map[string]bool{}
	for range 50 {
		tr := dial(t, c, FromPod("default", "client"), svc.Spec.ClusterIPs[0]+":80")
		seen4[tr.Pod.Name] = true
	}
	require.Equal(t, map[string]bool{"web-0": true, "web-old": true}, seen4)
	for range 20 {
		tr := dial(t, c, FromPod("default", "client"), "["+svc.Spec.ClusterIPs[1]+"]:80")
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, "fd00:10:244::5", tr.Route.Backend.Addr.Addr().String(), "only web-0 has IPv6")
	}
}

// A Cluster without ImmediateSync changes nodes and the DNS only when
// told; SyncAllNodes and SyncDNS bring everything up to date, and a
// node's staleness counts table versions.
func TestE2EExplicitSync(t *testing.T) {
	c := testCluster(t, false)
	apply(t, c, testPod("web-0", "node-1", "10.244.1.5", true), clientPod("client", "node-0", "10.244.0.9"))
	create(t, c, webService("web", ""))
	require.NotZero(t, c.DNSPending())
	for _, n := range c.Nodes() {
		stale, err := c.NodeStale(n.Name)
		require.NoError(t, err)
		require.NotZero(t, stale)
	}
	c.SyncAllNodes()
	require.NoError(t, c.SyncDNS())
	require.True(t, dial(t, c, FromPod("default", "client"), "web:80").Served())
	gen := c.DNS().Generation()
	require.NoError(t, c.SyncDNS(), "nothing pending")
	require.Equal(t, gen, c.DNS().Generation())

	// A node removed: its pods stay (until the pod GC), connections from
	// them have no node to enter by, and its proxy is gone.
	_, err := c.RemoveNode("node-0")
	require.NoError(t, err)
	_, err = c.Proxy("node-0")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, c.SyncNode("node-0"), ErrNotFound)
	tr := dial(t, c, FromPod("default", "client"), "web:80")
	require.False(t, tr.Served())
	require.Contains(t, tr.String(), "no node to enter the cluster by")
	_, err = c.RemoveNode("node-0")
	require.ErrorIs(t, err, ErrNotFound)
}

// Apply takes a manifest stream: nodes, pods and Services, creating or
// updating, and stops at the first bad object.
func TestE2EApply(t *testing.T) {
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		ImmediateSync: true,
	})
	require.NoError(t, err)
	manifests := `
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: z1}}
status: {addresses: [{type: InternalIP, address: 192.168.1.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
`
	ch, err := c.Apply([]byte(manifests))
	require.NoError(t, err)
	require.Len(t, ch.Services, 1)
	require.NotEmpty(t, ch.Slices)
	ip := mustService(t, c, nn("default", "web")).Spec.ClusterIP
	// Applying again updates (the allocated clusterIP is kept, as
	// kube-apiserver patches allocated values), and a new port shows up.
	ch, err = c.Apply([]byte(strings.Replace(manifests, "ports: [{port: 80, targetPort: http}]", "ports: [{name: a, port: 80, targetPort: http}, {name: b, port: 81, targetPort: http}]", 1)))
	require.NoError(t, err)
	require.Equal(t, service.Modified, ch.Services[0].Type)
	svc := mustService(t, c, nn("default", "web"))
	require.Equal(t, ip, svc.Spec.ClusterIP)
	require.Len(t, svc.Spec.Ports, 2)

	_, err = c.Apply([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c}]}\n"))
	require.ErrorIs(t, err, service.ErrInvalid)
	_, err = c.Apply([]byte("kind: [\n"))
	require.ErrorIs(t, err, service.ErrDecode)
}

// Bad input is an error, never a panic, and changes nothing.
func TestE2EErrors(t *testing.T) {
	_, err := NewCluster(Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewCluster(Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}, Algorithm: "fastest"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewCluster(Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}, MaxEndpointsPerSlice: 1001})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewCluster(Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}, Domain: "bad_domain"})
	require.ErrorIs(t, err, ErrInvalidConfig)

	c := testCluster(t, true)
	apply(t, c, clientPod("client", "node-0", "10.244.0.9"))
	for _, target := range []string{"web", "web:0", "web:http", "web:70000", ":80"} {
		_, err := c.Dial(FromPod("default", "client"), target)
		require.ErrorIs(t, err, ErrInvalidTarget, target)
	}
	_, err = c.Dial(FromPod("default", "nobody"), "web:80")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.Dial(Source{}, "10.96.0.1:80")
	require.ErrorIs(t, err, ErrInvalidTarget)
	_, err = c.Dial(FromPod("default", "client"), "[fd00::1]:80")
	require.ErrorIs(t, err, ErrInvalidTarget, "no IPv6 address to dial from")
	_, err = c.Resolve(Source{Pod: nn("default", "nobody")}, "web", dnsname.TypeA)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.Pod(nn("default", "nobody"))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.DeletePod(nn("default", "nobody"))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.DeleteService(nn("default", "nobody"))
	require.ErrorIs(t, err, service.ErrNotFound)
	_, err = c.UpdateService(webService("nobody", ""))
	require.ErrorIs(t, err, service.ErrNotFound)
	_, err = c.NodeStale("nobody")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.AddNode(&service.Node{})
	require.ErrorIs(t, err, service.ErrInvalid)
	_, err = c.ApplyPod(&service.Pod{ObjectMeta: service.ObjectMeta{Name: "x"}})
	require.ErrorIs(t, err, service.ErrInvalid)
	bad := webService("web", "")
	bad.Spec.Ports[0].Port = 0
	ch, err := c.CreateService(bad)
	require.ErrorIs(t, err, service.ErrInvalid)
	require.True(t, ch.Empty())
	require.Empty(t, c.Services(""))
	require.Equal(t, 1, len(c.Pods("")))
	require.Equal(t, time.Time{}, c.now(), "no Clock: zero times, never the wall clock")
}

// Apply takes a `kubectl get -o yaml` dump as it is: the server-set
// metadata (a resourceVersion the Registry would refuse on create, a
// uid, managedFields) is cleared first, as creating from the manifest
// would; fields svcnet does not model are carried into the stored
// objects; applying the same dump again updates without a conflict on
// the dump's stale resourceVersion; Namespaces and EndpointSlices are
// decoded and skipped.
func TestE2EApplyDump(t *testing.T) {
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		ImmediateSync: true,
	})
	require.NoError(t, err)
	dump := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop, uid: u-ns, resourceVersion: "3"}
- apiVersion: v1
  kind: Node
  metadata: {name: node-a, uid: u-node, resourceVersion: "9", labels: {topology.kubernetes.io/zone: z1}}
  status:
    addresses: [{type: InternalIP, address: 192.168.1.1}]
    daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-0, namespace: shop, uid: u-pod, resourceVersion: "77", labels: {app: web}}
  spec:
    nodeName: node-a
    enableServiceLinks: true
    containers: [{name: web, terminationMessagePath: /dev/termination-log, ports: [{name: http, containerPort: 8080}]}]
  status: {phase: Running, podIP: 10.244.0.5, conditions: [{type: Ready, status: "True"}]}
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
    uid: u-svc
    resourceVersion: "4242"
    creationTimestamp: "2026-11-01T10:00:01Z"
    managedFields: [{manager: kubectl, operation: Update, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {}}]
  spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}], clusterIP: 10.96.0.10, clusterIPs: [10.96.0.10]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-x, namespace: shop, labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}
  addressType: IPv4
  endpoints: [{addresses: [10.244.0.5]}]
  ports: [{port: 8080}]
`
	ch, err := c.Apply([]byte(dump))
	require.NoError(t, err)
	require.Len(t, ch.Services, 1)
	svc := mustService(t, c, nn("shop", "web"))
	require.Equal(t, "10.96.0.10", svc.Spec.ClusterIP, "the dump's clusterIP is allocated as given")
	require.NotEqual(t, "u-svc", svc.UID)
	require.NotEqual(t, "4242", svc.ResourceVersion)
	require.Nil(t, svc.ManagedFields)
	sl := c.Slices(nn("shop", "web"))
	require.Len(t, sl, 1, "the dump's controller-managed slice is skipped (CarriedSlice): the controller computes its own")
	require.NotEqual(t, "web-x", sl[0].Name)
	require.Equal(t, "10.244.0.5", sl[0].Endpoints[0].Address().String(), "podIP alone is the pod's address")

	_, err = c.Apply([]byte(dump))
	require.NoError(t, err, "the stale resourceVersion of the dump is no precondition")
}
