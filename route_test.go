package svcnet

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

func TestEphemeralPort(t *testing.T) {
	require.Equal(t, uint16(32769), EphemeralPort(1))
	require.Equal(t, uint16(EphemeralPortLast), EphemeralPort(EphemeralPortLast-EphemeralPortFirst))
	require.Equal(t, uint16(EphemeralPortFirst), EphemeralPort(EphemeralPortLast-EphemeralPortFirst+1), "wraps")
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Uint64().Draw(t, "n")
		p := EphemeralPort(n)
		require.GreaterOrEqual(t, p, uint16(EphemeralPortFirst))
		require.LessOrEqual(t, p, uint16(EphemeralPortLast))
		if n < ^uint64(0) && p != EphemeralPortLast {
			require.Equal(t, p+1, EphemeralPort(n+1), "the next connection, the next port")
		}
	})
}

// TestDialEphemeralPorts: Dial hands out the ports in turn.
func TestDialEphemeralPorts(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, clientPod("client", "node-0", "10.244.0.9"))
	for i := range uint64(3) {
		tr := dial(t, c, FromPod("default", "client"), "10.244.0.9:80")
		require.Equal(t, EphemeralPort(i+1), tr.Src.Port())
	}
	tr := dial(t, c, Source{Pod: nn("default", "client"), Port: 1234}, "10.244.0.9:80")
	require.Equal(t, uint16(1234), tr.Src.Port(), "a chosen port is kept")
}

// TestLoadBalancerStartKnownAnswer pins the load balancer's hash: the
// simulator's figures for LoadBalancer traffic depend on it. The answers
// were computed apart from this code, with SplitMix64's finalizer written
// out in Python over the addresses' 16-byte (IPv4-mapped) forms.
func TestLoadBalancerStartKnownAnswer(t *testing.T) {
	var got []int
	for i := range 8 {
		got = append(got, loadBalancerStart(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), 5))
	}
	require.Equal(t, []int{2, 3, 2, 0, 0, 1, 1, 1}, got)
	require.Equal(t, loadBalancerStart(netip.MustParseAddr("203.0.113.1"), 5),
		loadBalancerStart(netip.MustParseAddr("::ffff:203.0.113.1"), 5), "the 16-byte form: mapped and plain agree")
}

// TestLoadBalance: one policy for Dial and embedders. A client keeps its
// node; clients spread over the nodes; under Local the failed health
// checks are skipped, and with no node passing the last one tried takes
// the packet; a list narrows the nodes; bad input is an error.
func TestLoadBalance(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	apply(t, c, testPod("web-0", "node-2", "10.244.2.5", true))
	svc := create(t, c, webService("web", service.ServiceTypeLoadBalancer))
	vip := netip.AddrPortFrom(netip.MustParseAddr(svc.Status.LoadBalancer.Ingress[0].IP), 80)
	pkt := func(i int) proxy.Packet {
		return proxy.Packet{Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), 40000), Dst: vip, Proto: lb.TCP}
	}
	names := []string{"node-0", "node-1", "node-2"}
	seen := map[string]bool{}
	for i := range 40 {
		node, r, err := c.LoadBalance(nil, pkt(i), now)
		require.NoError(t, err)
		require.Equal(t, proxy.Routed, r.Verdict)
		require.Equal(t, names[loadBalancerStart(pkt(i).Src.Addr(), 3)], node, "Cluster policy: every health check passes")
		again, _, err := c.LoadBalance(nil, pkt(i), now)
		require.NoError(t, err)
		require.Equal(t, node, again, "a client keeps its node")
		tr := dial(t, c, FromAddr(pkt(i).Src.Addr()), vip.String())
		require.Equal(t, node, tr.Node, "Dial enters by the node LoadBalance picks")
		c.Done(r)
		seen[node] = true
	}
	require.Len(t, seen, 3, "clients spread over every node")

	svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	_, err := c.UpdateService(svc)
	require.NoError(t, err)
	for i := range 40 {
		node, r, err := c.LoadBalance(nil, pkt(i), now)
		require.NoError(t, err)
		require.Equal(t, "node-2", node, "only node-2 has a local endpoint")
		require.Equal(t, proxy.Routed, r.Verdict)
		tr := dial(t, c, FromAddr(pkt(i).Src.Addr()), vip.String())
		skips := strings.Count(tr.String(), "health check fails")
		require.Equal(t, (2-loadBalancerStart(pkt(i).Src.Addr(), 3)+3)%3, skips, "Dial reports each node skipped:\n%s", tr)
	}
	node, r, err := c.LoadBalance([]string{"node-1", "node-0"}, pkt(0), now)
	require.NoError(t, err)
	require.Contains(t, []string{"node-0", "node-1"}, node, "only the nodes listed")
	require.Equal(t, proxy.DroppedByPolicy, r.Verdict, "no node passes: the last tried drops it")

	node, r, err = c.LoadBalance([]string{}, pkt(0), now)
	require.NoError(t, err)
	require.Equal(t, "", node)
	require.Equal(t, proxy.Route{}, r)
	_, _, err = c.LoadBalance([]string{"nope"}, pkt(0), now)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.Route("nope", pkt(0), now)
	require.ErrorIs(t, err, ErrNotFound)
}

// TestLoadBalanceTerminatingLocal: under externalTrafficPolicy Local a
// node whose only local endpoint is terminating fails the load
// balancer's health check (KEP-1669), so no client is sent there while a
// node with a ready endpoint passes, though the node itself still routes
// what reaches it to the serving terminating pod; when no node has a
// ready one, the last node tried takes the packet, to its terminating
// pod.
func TestLoadBalanceTerminatingLocal(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	leaving := testPod("web-0", "node-0", "10.244.0.5", true)
	apply(t, c, leaving, testPod("web-2", "node-2", "10.244.2.5", true))
	svc := webService("web", service.ServiceTypeLoadBalancer)
	svc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	svc = create(t, c, svc)
	vip := netip.AddrPortFrom(netip.MustParseAddr(svc.Status.LoadBalancer.Ingress[0].IP), 80)
	pkt := func(i int) proxy.Packet {
		return proxy.Packet{Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), 40000), Dst: vip, Proto: lb.TCP}
	}
	picked := func() map[string]int {
		out := map[string]int{}
		for i := range 40 {
			node, r, err := c.LoadBalance(nil, pkt(i), now)
			require.NoError(t, err)
			require.Equal(t, proxy.Routed, r.Verdict)
			out[node]++
			c.Done(r)
		}
		return out
	}
	both := picked()
	require.Len(t, both, 2, "both nodes with a ready pod take clients: %v", both)
	require.Zero(t, both["node-1"])

	ts := epoch
	leaving.DeletionTimestamp = &ts
	apply(t, c, leaving)
	r, err := c.Route("node-0", pkt(0), now)
	require.NoError(t, err)
	require.Equal(t, proxy.Routed, r.Verdict, "node-0 still routes to its serving terminating pod")
	require.True(t, r.ExternalLocal)
	require.True(t, r.Backend.Terminating)
	require.Equal(t, map[string]int{"node-2": 40}, picked(), "node-0's health check fails: only a terminating endpoint")

	two := testPod("web-2", "node-2", "10.244.2.5", true)
	two.DeletionTimestamp = &ts
	apply(t, c, two)
	names := []string{"node-0", "node-1", "node-2"}
	for i := range 40 {
		node, r, err := c.LoadBalance(nil, pkt(i), now)
		require.NoError(t, err)
		require.Equal(t, names[(loadBalancerStart(pkt(i).Src.Addr(), 3)+2)%3], node, "no node passes: the last tried")
		if node != "node-1" {
			require.Equal(t, proxy.Routed, r.Verdict, "to its terminating pod")
			require.True(t, r.Backend.Terminating)
		}
		c.Done(r)
	}
}

// TestNodeAddressIndex: Dial finds the node that owns an address through
// the index AddNode and RemoveNode keep, also when a node's address
// changes.
func TestNodeAddressIndex(t *testing.T) {
	c := testCluster(t, true)
	apply(t, c, testPod("web-0", "node-2", "10.244.2.5", true))
	svc := create(t, c, webService("web", service.ServiceTypeNodePort))
	np := itoa(svc.Spec.Ports[0].NodePort)
	for i, addr := range []string{"192.168.0.10", "192.168.0.11", "192.168.0.12"} {
		tr := dial(t, c, outsider, addr+":"+np)
		require.True(t, tr.Served(), tr.String())
		require.Equal(t, "node-"+itoa(int32(i)), tr.Node)
	}
	moved := testNode("node-2", "zone-c", "192.168.0.99")
	_, err := c.AddNode(moved)
	require.NoError(t, err)
	tr := dial(t, c, outsider, "192.168.0.99:"+np)
	require.True(t, tr.Served(), tr.String())
	require.Equal(t, "node-2", tr.Node)
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, outsider, "192.168.0.12:"+np).Route.Verdict, "the old address is no node's")
	_, err = c.RemoveNode("node-2")
	require.NoError(t, err)
	require.Equal(t, proxy.NotServiceAddress, dial(t, c, outsider, "192.168.0.99:"+np).Route.Verdict)
	require.Equal(t, []string{"node-0", "node-1"}, nodeNames(c))

	// Two nodes with one address: when the one indexed goes, the other
	// answers for it.
	_, err = c.AddNode(testNode("node-9", "zone-c", "192.168.0.10"))
	require.NoError(t, err)
	require.Equal(t, "node-9", dial(t, c, outsider, "192.168.0.10:"+np).Node, "the last added")
	_, err = c.RemoveNode("node-9")
	require.NoError(t, err)
	require.Equal(t, "node-0", dial(t, c, outsider, "192.168.0.10:"+np).Node)
}

func nodeNames(c *Cluster) []string {
	var out []string
	for _, n := range c.Nodes() {
		out = append(out, n.Name)
	}
	return out
}
