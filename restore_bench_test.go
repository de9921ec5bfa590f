package svcnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/svcnet/svcnet/service"
)

// restoreCluster is a cluster of n Services, each selecting two of 2n
// pods by its own label, on ten nodes.
func restoreCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c, err := NewCluster(Config{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:    []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:         rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 10 {
		if _, err := c.AddNode(testNode(fmt.Sprintf("node-%d", i), "zone-a", fmt.Sprintf("192.168.0.%d", i+10))); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n {
		svc := webService(fmt.Sprintf("svc-%d", i), service.ServiceTypeClusterIP)
		svc.Spec.Selector = service.Labels{"app": fmt.Sprintf("app-%d", i)}
		if _, err := c.CreateService(svc); err != nil {
			tb.Fatal(err)
		}
		for j := range 2 {
			k := 2*i + j
			p := testPod(fmt.Sprintf("pod-%d", k), fmt.Sprintf("node-%d", k%10), fmt.Sprintf("10.244.%d.%d", k/250, k%250+1), true)
			p.Labels = service.Labels{"app": fmt.Sprintf("app-%d", i)}
			if _, err := c.ApplyPod(p); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return c
}

// BenchmarkRestore restores snapshots of n and 10n Services (and twice as
// many pods): one published table makes the cost grow linearly.
func BenchmarkRestore(b *testing.B) {
	for _, n := range []int{100, 1000} {
		data, err := restoreCluster(b, n).Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			c := restoreCluster(b, 0)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Restore(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
