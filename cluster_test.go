package svcnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

func testCluster(t *testing.T, immediate bool) *Cluster {
	t.Helper()
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:          rand.New(rand.NewPCG(1, 2)),
		ImmediateSync: immediate,
	})
	require.NoError(t, err)
	for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		_, err := c.AddNode(&service.Node{
			ObjectMeta: service.ObjectMeta{Name: fmt.Sprintf("node-%d", i), Labels: service.Labels{service.LabelTopologyZone: zone}},
			Status: service.NodeStatus{
				Addresses:  []service.NodeAddress{{Type: service.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", i+10)}},
				Conditions: []service.NodeCondition{{Type: service.NodeReady, Status: service.ConditionTrue}},
			},
		})
		require.NoError(t, err)
	}
	return c
}

func testPod(name, node, ip string, ready bool) *service.Pod {
	p := &service.Pod{
		ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default", Labels: service.Labels{"app": "web"}},
		Spec: service.PodSpec{NodeName: node, Containers: []service.Container{{Name: "web",
			Ports: []service.ContainerPort{{Name: "http", ContainerPort: 9376}}}}},
		Status: service.PodStatus{Phase: service.PodRunning, PodIP: ip, PodIPs: []service.PodIP{{IP: ip}}},
	}
	p.SetReady(ready)
	return p
}

func TestClusterEndToEnd(t *testing.T) {
	c := testCluster(t, true)
	for i := range 3 {
		_, err := c.ApplyPod(testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i), fmt.Sprintf("10.244.%d.5", i), true))
		require.NoError(t, err)
	}
	client := testPod("client", "node-0", "10.244.0.9", true)
	client.Labels = service.Labels{"app": "client"}
	_, err := c.ApplyPod(client)
	require.NoError(t, err)
	ch, err := c.CreateService(&service.Service{
		ObjectMeta: service.ObjectMeta{Name: "my-service", Namespace: "default"},
		Spec: service.ServiceSpec{Selector: service.Labels{"app": "web"},
			Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromString("http")}}},
	})
	require.NoError(t, err)
	require.Len(t, ch.Services, 1)
	require.NotEmpty(t, ch.Slices)

	res, err := c.Resolve(Source{Pod: service.NamespacedName{Namespace: "default", Name: "client"}}, "my-service", dnsname.TypeA)
	require.NoError(t, err)
	require.Equal(t, "my-service.default.svc.cluster.local.", res.Name)
	svc, err := c.Service(service.NamespacedName{Namespace: "default", Name: "my-service"})
	require.NoError(t, err)
	require.Equal(t, svc.Spec.ClusterIP, res.Response.Answer[0].Addr.String())

	counts := map[string]int{}
	for range 3000 {
		tr, err := c.Dial(FromPod("default", "client"), "my-service:80")
		require.NoError(t, err)
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, uint16(9376), tr.Route.Backend.Addr.Port())
		counts[tr.Pod.Name]++
	}
	require.Len(t, counts, 3)
	for _, n := range counts {
		require.InDelta(t, 1000, n, 150, "kube-proxy random spreads evenly: %v", counts)
	}

	// Outside the cluster, the ClusterIP is unreachable.
	tr, err := c.Dial(FromAddr(netip.MustParseAddr("203.0.113.1")), svc.Spec.ClusterIP+":80")
	require.NoError(t, err)
	require.Equal(t, proxy.Unreachable, tr.Route.Verdict, tr.String())

	// A pod goes away: endpoints and DNS follow, and no route lands on it.
	_, err = c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-1"})
	require.NoError(t, err)
	for range 300 {
		tr, err := c.Dial(FromPod("default", "client"), "my-service:80")
		require.NoError(t, err)
		require.NotEqual(t, "web-1", tr.Pod.Name)
	}
}

func TestClusterStaleNodes(t *testing.T) {
	c := testCluster(t, false)
	_, err := c.ApplyPod(testPod("web-0", "node-1", "10.244.1.5", true))
	require.NoError(t, err)
	client := testPod("client", "node-0", "10.244.0.9", true)
	client.Labels = nil
	_, err = c.ApplyPod(client)
	require.NoError(t, err)
	_, err = c.CreateService(&service.Service{
		ObjectMeta: service.ObjectMeta{Name: "my-service", Namespace: "default"},
		Spec: service.ServiceSpec{Selector: service.Labels{"app": "web"},
			Ports: []service.ServicePort{{Port: 80, TargetPort: service.FromInt(9376)}}},
	})
	require.NoError(t, err)

	// Nothing synced yet: the DNS does not know the name, the node no frontend.
	tr, err := c.Dial(FromPod("default", "client"), "my-service:80")
	require.NoError(t, err)
	require.True(t, tr.DNSFailure)
	require.NoError(t, c.SyncDNS())
	tr, err = c.Dial(FromPod("default", "client"), "my-service:80")
	require.NoError(t, err)
	require.Equal(t, proxy.NotServiceAddress, tr.Route.Verdict)
	stale, _ := c.NodeStale("node-0")
	require.NotZero(t, stale)

	require.NoError(t, c.SyncNode("node-0"))
	tr, err = c.Dial(FromPod("default", "client"), "my-service:80")
	require.NoError(t, err)
	require.True(t, tr.Served())

	// The pod goes; node-0 is not told, and still routes to it.
	_, err = c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"})
	require.NoError(t, err)
	tr, _ = c.Dial(FromPod("default", "client"), "my-service:80")
	require.True(t, tr.Served(), "a stale node routes to the pod it last knew")
	require.NoError(t, c.SyncNode("node-0"))
	tr, _ = c.Dial(FromPod("default", "client"), "my-service:80")
	require.Equal(t, proxy.NoEndpoints, tr.Route.Verdict)
}
