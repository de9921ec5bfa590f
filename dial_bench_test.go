package svcnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"github.com/svcnet/svcnet/service"
)

// benchCluster is a synced cluster of n nodes (192.168.0.0/16) with a
// NodePort Service "web" backed by three pods on node-0..2 and a client
// pod on node-0.
func benchCluster(b *testing.B, n int) *Cluster {
	b.Helper()
	c, err := NewCluster(Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
		Rand:          rand.New(rand.NewPCG(1, 2)),
		ImmediateSync: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := c.AddNode(testNode("node-"+strconv.Itoa(i), "zone-a", fmt.Sprintf("192.168.%d.%d", i/250, i%250+1))); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := c.ApplyPod(testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i), fmt.Sprintf("10.244.%d.5", i), true)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.ApplyPod(clientPod("client", "node-0", "10.244.0.9")); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateService(webService("web", service.ServiceTypeNodePort)); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkDial is one connection through Dial as the cluster grows: a
// pod dialling a Service by name (resolved through its search path, then
// its node's proxy), and a client outside dialling a node's NodePort (the
// node found by its address). Neither depends on the number of nodes.
func BenchmarkDial(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		c := benchCluster(b, n)
		svc, err := c.Service(nn("default", "web"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("pod-by-name/nodes=%d", n), func(b *testing.B) {
			from := FromPod("default", "client")
			b.ReportAllocs()
			for b.Loop() {
				if tr, err := c.Dial(from, "web:80"); err != nil || !tr.Served() {
					b.Fatal(tr, err)
				}
			}
		})
		b.Run(fmt.Sprintf("external-nodeport/nodes=%d", n), func(b *testing.B) {
			from := FromAddr(netip.MustParseAddr("203.0.113.7"))
			target := fmt.Sprintf("192.168.%d.%d:%d", (n-1)/250, (n-1)%250+1, svc.Spec.Ports[0].NodePort)
			b.ReportAllocs()
			for b.Loop() {
				if tr, err := c.Dial(from, target); err != nil || !tr.Served() {
					b.Fatal(tr, err)
				}
			}
		})
	}
}
