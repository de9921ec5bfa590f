package svcnet

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// Regression tests, one per bug found in the Cluster while proving it.

// An unknown algorithm annotation is refused before the Registry stores
// anything: otherwise the Registry holds the Service while every proxy
// table lacks it (create) or keeps its old version (update).
func TestUnknownAlgorithmChangesNothing(t *testing.T) {
	c := testCluster(t, true)
	svc := webService("web", "")
	svc.Annotations = map[string]string{proxy.AlgorithmAnnotation: "fastest"}
	ch, err := c.CreateService(svc)
	require.ErrorIs(t, err, service.ErrInvalid)
	require.ErrorContains(t, err, `metadata.annotations[lb.svcnet.dev/algorithm]: invalid value "fastest"`)
	require.True(t, ch.Empty())
	_, err = c.Service(nn("default", "web"))
	require.ErrorIs(t, err, service.ErrNotFound)
	require.Zero(t, c.DNSPending())

	svc.Annotations = nil
	_, err = c.CreateService(svc)
	require.NoError(t, err)
	got, err := c.Service(nn("default", "web"))
	require.NoError(t, err)
	got.Annotations = map[string]string{proxy.AlgorithmAnnotation: "fastest"}
	got.Spec.Ports[0].Port = 8080
	ch, err = c.UpdateService(got)
	require.ErrorIs(t, err, service.ErrInvalid)
	require.True(t, ch.Empty())
	stored, err := c.Service(nn("default", "web"))
	require.NoError(t, err)
	require.Equal(t, int32(80), stored.Spec.Ports[0].Port, "the Registry kept the Service as it was")

	// A known one is accepted, on create and on update.
	got.Annotations[proxy.AlgorithmAnnotation] = lb.AlgorithmMaglev
	got.ResourceVersion = ""
	_, err = c.UpdateService(got)
	require.NoError(t, err)
}

// A node updated with a new zone or new addresses is served by a proxy
// that knows them: topology hints use the new zone, NodePorts answer on
// the new address and no longer on the old one.
func TestAddNodeUpdatesProxy(t *testing.T) {
	c := testCluster(t, true)
	svc := webService("web", service.ServiceTypeNodePort)
	_, err := c.CreateService(svc)
	require.NoError(t, err)
	_, err = c.ApplyPod(testPod("web-0", "node-1", "10.244.1.5", true))
	require.NoError(t, err)
	got, err := c.Service(nn("default", "web"))
	require.NoError(t, err)
	np := got.Spec.Ports[0].NodePort

	n := testNode("node-0", "zone-b", "192.168.0.99")
	_, err = c.AddNode(n)
	require.NoError(t, err)
	outside := FromAddr(mustAddr("203.0.113.7"))
	tr, err := c.Dial(outside, "192.168.0.99:"+itoa(np))
	require.NoError(t, err)
	require.Equal(t, "node-0", tr.Node, tr.String())
	require.True(t, tr.Served(), tr.String())
	tr, err = c.Dial(outside, "192.168.0.10:"+itoa(np))
	require.NoError(t, err)
	require.False(t, tr.Served(), "the old address is gone: %s", tr)

	// Zone: PreferClose hints the endpoint to zone-b, where node-0 now is.
	pc := service.TrafficDistributionPreferClose
	got.Spec.TrafficDistribution = &pc
	got.ResourceVersion = ""
	_, err = c.UpdateService(got)
	require.NoError(t, err)
	_, err = c.ApplyPod(testPod("web-2", "node-2", "10.244.2.5", true))
	require.NoError(t, err)
	_, err = c.ApplyPod(clientPod("client", "node-0", "10.244.0.9"))
	require.NoError(t, err)
	counts := dialN(t, c, FromPod("default", "client"), "web:80", 50)
	require.Equal(t, map[string]int{"web-0": 50}, counts, "node-0 is in zone-b now, with web-0")
}

// A failed Restore leaves the cluster as it was, the load-balancer pool
// included: the pool is shared between the old and the new Registry.
func TestFailedRestoreKeepsPool(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	_, err := c.CreateService(webService("lb-a", service.ServiceTypeLoadBalancer))
	require.NoError(t, err)
	a, err := c.Service(nn("default", "lb-a"))
	require.NoError(t, err)
	require.Equal(t, "192.0.2.100", a.Status.LoadBalancer.Ingress[0].IP)

	// A snapshot of an empty cluster with a pod that cannot be applied.
	empty := lbCluster(t, true, &now)
	snap, err := empty.Snapshot()
	require.NoError(t, err)
	bad := strings.Replace(string(snap), `"pods":null`, `"pods":[{"metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c"}]}}]`, 1)
	require.NotEqual(t, string(snap), bad)
	require.ErrorIs(t, c.Restore([]byte(bad)), ErrSnapshot)

	_, err = c.CreateService(webService("lb-b", service.ServiceTypeLoadBalancer))
	require.NoError(t, err)
	b, err := c.Service(nn("default", "lb-b"))
	require.NoError(t, err)
	require.Equal(t, "192.0.2.101", b.Status.LoadBalancer.Ingress[0].IP, "the pool still holds lb-a's address")
	rep, err := c.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep)
}

// Concurrent.DNS may be called while Do restores the cluster.
func TestConcurrentDNSDuringRestore(t *testing.T) {
	c := testCluster(t, true)
	_, err := c.CreateService(webService("web", ""))
	require.NoError(t, err)
	snap, err := c.Snapshot()
	require.NoError(t, err)
	w := NewConcurrent(c)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 20 {
			assert.NoError(t, w.Do(func(c *Cluster) error { return c.Restore(snap) }))
		}
	})
	wg.Go(func() {
		for range 200 {
			resp := w.DNS().Resolve("web.default.svc.cluster.local", dnsname.TypeA)
			assert.Equal(t, dnsname.RcodeNoError, resp.Rcode)
		}
	})
	wg.Wait()
}

// A name that resolves to a pod (a headless Service's record) is reached
// directly, without a Service frontend.
func TestDialHeadlessReachesPod(t *testing.T) {
	c := testCluster(t, true)
	svc := webService("db", "")
	svc.Spec.ClusterIP = service.ClusterIPNone
	_, err := c.CreateService(svc)
	require.NoError(t, err)
	web := testPod("web-0", "node-1", "10.244.1.5", true)
	web.Spec.Hostname, web.Spec.Subdomain = "web-0", "db"
	_, err = c.ApplyPod(web)
	require.NoError(t, err)
	_, err = c.ApplyPod(clientPod("client", "node-0", "10.244.0.9"))
	require.NoError(t, err)
	for _, target := range []string{"db:9376", "web-0.db:9376", "10.244.1.5:9376"} {
		tr, err := c.Dial(FromPod("default", "client"), target)
		require.NoError(t, err)
		require.True(t, tr.Served(), "%s: %s", target, tr)
		require.True(t, tr.Direct)
		require.Equal(t, nn("default", "web-0"), tr.Pod)
		require.Equal(t, proxy.NotServiceAddress, tr.Route.Verdict)
	}
	// From outside, pod addresses are not reachable.
	tr, err := c.Dial(FromAddr(mustAddr("203.0.113.7")), "10.244.1.5:9376")
	require.NoError(t, err)
	require.False(t, tr.Served())
}

// An IPv6-only pod dialing a dual-stack Service's name connects over
// IPv6, as its resolver would, rather than failing for want of an IPv4
// source address.
func TestDialUsesThePodsFamily(t *testing.T) {
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("fd00:10:96::/112"), netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("fd00:10:244::/56"), netip.MustParsePrefix("10.244.0.0/16")},
		ImmediateSync: true,
	})
	require.NoError(t, err)
	_, err = c.AddNode(testNode("node-0", "", "192.168.0.10"))
	require.NoError(t, err)
	pol := service.IPFamilyPolicyPreferDualStack
	svc := webService("web", "")
	svc.Spec.IPFamilyPolicy = &pol
	_, err = c.CreateService(svc)
	require.NoError(t, err)
	_, err = c.ApplyPod(testPod("web-0", "node-0", "fd00:10:244::5", true))
	require.NoError(t, err)
	_, err = c.ApplyPod(clientPod("client", "node-0", "fd00:10:244::9"))
	require.NoError(t, err)
	tr, err := c.Dial(FromPod("default", "client"), "web:80")
	require.NoError(t, err)
	require.True(t, tr.Served(), tr.String())
	require.True(t, tr.Dst.Addr().Is6())
}

// PrintEndpointSlices prints ages from the cluster's clock, at most three
// ports, and the namespace for all namespaces, as kubectl does.
func TestPrintersFollowKubectl(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	svc := webService("web", "")
	svc.Spec.Ports = []service.ServicePort{
		{Name: "a", Port: 81, TargetPort: service.FromInt(81)}, {Name: "b", Port: 82, TargetPort: service.FromInt(82)},
		{Name: "c", Port: 83, TargetPort: service.FromInt(83)}, {Name: "d", Port: 84, TargetPort: service.FromInt(84)},
	}
	_, err := c.CreateService(svc)
	require.NoError(t, err)
	now = now.Add(5 * time.Minute)
	_, err = c.ApplyPod(testPod("web-0", "node-0", "10.244.0.5", true))
	require.NoError(t, err)
	now = now.Add(time.Minute)

	var out strings.Builder
	require.NoError(t, c.PrintEndpointSlices(&out, ""))
	require.Equal(t, `NAMESPACE   NAME        ADDRESSTYPE   PORTS                  ENDPOINTS    AGE
default     web-8p6m9   IPv4          81,82,83 + 1 more...   10.244.0.5   6m
`, out.String())
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func itoa[T ~int32 | ~int | ~uint16](n T) string { return strconv.Itoa(int(n)) }

// With ImmediateSync, a pod that no Service selects reaches the DNS at
// once too (its pod record under PodsVerified).
func TestImmediateSyncPodRecords(t *testing.T) {
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		DNS:           DNSConfig{Pods: dnsname.PodsVerified},
		ImmediateSync: true,
	})
	require.NoError(t, err)
	ch, err := c.ApplyPod(clientPod("client", "node-0", "10.244.0.9"))
	require.NoError(t, err)
	require.True(t, ch.Empty())
	require.Zero(t, c.DNSPending())
	resp := c.DNS().Resolve("10-244-0-9.default.pod.cluster.local", dnsname.TypeA)
	require.Equal(t, dnsname.RcodeNoError, resp.Rcode)
	require.Len(t, resp.Answer, 1)
	_, err = c.DeletePod(nn("default", "client"))
	require.NoError(t, err)
	resp = c.DNS().Resolve("10-244-0-9.default.pod.cluster.local", dnsname.TypeA)
	require.Equal(t, dnsname.RcodeNXDomain, resp.Rcode)
}

// Resolve names its client as Dial does, with a Source: the pod's
// search path resolves the short name; an external client, which has
// none, and an unknown pod are errors naming why.
func TestResolveTakesASource(t *testing.T) {
	c := testCluster(t, true)
	_, err := c.CreateService(webService("db", ""))
	require.NoError(t, err)
	_, err = c.ApplyPod(clientPod("client", "node-0", "10.244.0.9"))
	require.NoError(t, err)
	res, err := c.Resolve(FromPod("default", "client"), "db", dnsname.TypeA)
	require.NoError(t, err)
	require.NotEmpty(t, res.Response.Answer)
	tr, err := c.Dial(FromPod("default", "client"), "db:80")
	require.NoError(t, err)
	require.Equal(t, res.Response, tr.Lookup.Response, "Dial resolves as Resolve does")

	_, err = c.Resolve(FromAddr(mustAddr("203.0.113.7")), "db", dnsname.TypeA)
	require.ErrorIs(t, err, ErrInvalidTarget)
	require.ErrorContains(t, err, "needs a client pod")
	_, err = c.Resolve(FromPod("default", "nobody"), "db", dnsname.TypeA)
	require.ErrorIs(t, err, ErrNotFound)
}

// TestKubernetesService: with Config.KubernetesService the cluster has
// default/kubernetes as every cluster does: the first ClusterIP, 443 to
// 6443, resolvable, listed, and without endpoints (no API server).
func TestKubernetesService(t *testing.T) {
	now := epoch
	c, err := NewCluster(Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}, KubernetesService: true, ImmediateSync: true,
		Clock: func() time.Time { return now }})
	require.NoError(t, err)
	svc, err := c.Service(nn("default", "kubernetes"))
	require.NoError(t, err)
	require.Equal(t, "10.96.0.1", svc.Spec.ClusterIP)
	require.Equal(t, service.Labels{"component": "apiserver", "provider": "kubernetes"}, svc.Labels)
	require.Equal(t, []service.ServicePort{{Name: "https", Port: 443, Protocol: service.ProtocolTCP, TargetPort: service.FromInt(6443)}}, svc.Spec.Ports)

	_, err = c.AddNode(testNode("node-0", "zone-a", "192.168.0.10"))
	require.NoError(t, err)
	_, err = c.ApplyPod(clientPod("client", "node-0", "10.244.0.9"))
	require.NoError(t, err)
	res, err := c.Resolve(FromPod("default", "client"), "kubernetes", dnsname.TypeA)
	require.NoError(t, err)
	require.Len(t, res.Response.Answer, 1)
	require.Equal(t, mustAddr("10.96.0.1"), res.Response.Answer[0].Addr)
	tr, err := c.Dial(FromPod("default", "client"), "kubernetes.default:443")
	require.NoError(t, err)
	require.Equal(t, proxy.NoEndpoints, tr.Route.Verdict)

	now = now.Add(time.Hour)
	var out strings.Builder
	require.NoError(t, c.PrintServices(&out, "default"))
	require.Contains(t, out.String(), "\nkubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   60m   <none>\n")

	// The address is taken: a Service asking for it is refused.
	other := webService("other", "")
	other.Spec.ClusterIP = "10.96.0.1"
	_, err = c.CreateService(other)
	require.Error(t, err)

	// Off by default: a cluster has only the Services it is given.
	plain := testCluster(t, true)
	_, err = plain.Service(nn("default", "kubernetes"))
	require.ErrorIs(t, err, service.ErrNotFound)
}
