package svcnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/service"
)

// epoch is the fixed clock of the tests: no test reads the wall clock.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedClock returns a clock that reads *now.
func fixedClock(now *time.Time) func() time.Time { return func() time.Time { return *now } }

// lbCluster is testCluster's three nodes with a LoadBalancer pool of
// 192.0.2.100-192.0.2.103 and the clock *now.
func lbCluster(t testing.TB, immediate bool, now *time.Time) *Cluster {
	t.Helper()
	pool, err := service.NewPoolProvider(service.PoolProviderConfig{
		Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.100-192.0.2.103")},
	})
	require.NoError(t, err)
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		LoadBalancer:  pool,
		Rand:          rand.New(rand.NewPCG(1, 2)),
		Clock:         fixedClock(now),
		ImmediateSync: immediate,
	})
	require.NoError(t, err)
	for i, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		_, err := c.AddNode(testNode(fmt.Sprintf("node-%d", i), zone, fmt.Sprintf("192.168.0.%d", i+10)))
		require.NoError(t, err)
	}
	return c
}

func testNode(name, zone, ip string) *service.Node {
	n := &service.Node{
		ObjectMeta: service.ObjectMeta{Name: name},
		Status: service.NodeStatus{
			Addresses:  []service.NodeAddress{{Type: service.NodeInternalIP, Address: ip}},
			Conditions: []service.NodeCondition{{Type: service.NodeReady, Status: service.ConditionTrue}},
		},
	}
	if zone != "" {
		n.Labels = service.Labels{service.LabelTopologyZone: zone}
	}
	return n
}

func nn(namespace, name string) service.NamespacedName {
	return service.NamespacedName{Namespace: namespace, Name: name}
}

// webService is a Service selecting app=web, port 80 to the pods' "http".
func webService(name string, typ service.ServiceType) *service.Service {
	return &service.Service{
		ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default"},
		Spec: service.ServiceSpec{Type: typ, Selector: service.Labels{"app": "web"},
			Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromString("http")}}},
	}
}

// clientPod is a pod that no Service selects, on node.
func clientPod(name, node, ip string) *service.Pod {
	p := testPod(name, node, ip, true)
	p.Labels = service.Labels{"app": "client"}
	return p
}

// sliceAddrs returns the endpoint addresses of a Service's slices with
// their conditions, sorted: what a Service's slices hold, whatever the
// packing.
func sliceAddrs(c *Cluster, key service.NamespacedName) []string {
	var out []string
	for _, sl := range c.Slices(key) {
		for _, e := range sl.Endpoints {
			out = append(out, fmt.Sprintf("%s %s r=%t s=%t t=%t", sl.AddressType, e.Address(), e.Conditions.Ready, e.Conditions.Serving, e.Conditions.Terminating))
		}
	}
	slices.Sort(out)
	return out
}

// endpointSet returns the addresses of the endpoints of a Service's slices
// in one family.
func endpointSet(sls []*endpoints.Slice, at endpoints.AddressType) map[netip.Addr]endpoints.Endpoint {
	out := map[netip.Addr]endpoints.Endpoint{}
	for _, sl := range sls {
		if sl.AddressType != at {
			continue
		}
		for _, e := range sl.Endpoints {
			out[e.Address()] = *e
		}
	}
	return out
}

// dialN dials target n times from a source and counts the backend pods.
func dialN(t *testing.T, c *Cluster, from Source, target string, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		tr, err := c.Dial(from, target)
		require.NoError(t, err)
		if !tr.Served() {
			counts["!"+tr.Route.Verdict.String()]++
			continue
		}
		counts[tr.Pod.Name]++
	}
	return counts
}
