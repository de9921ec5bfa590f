package svcnet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// syncCluster is a Cluster of n Services on three nodes, each Service
// with two pods of its own, and node-0 synced and having routed a
// connection to every Service (pickers for each: a busy node's state).
type syncCluster struct {
	c    *Cluster
	pods []*service.Pod
	ips  []netip.Addr
	step int
}

func newSyncCluster(tb testing.TB, n int) *syncCluster {
	tb.Helper()
	c, err := NewCluster(Config{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.128.0.0/9")},
		NodeCIDRs:    []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
		Rand:         rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.AddNode(testNode(fmt.Sprintf("node-%d", i), "zone-a", fmt.Sprintf("192.168.0.%d", i+10))); err != nil {
			tb.Fatal(err)
		}
	}
	w := &syncCluster{c: c}
	for i := range n {
		app := fmt.Sprintf("svc-%05d", i)
		svc := webService(app, service.ServiceTypeClusterIP)
		svc.Spec.Selector = service.Labels{"app": app}
		if _, err := c.CreateService(svc); err != nil {
			tb.Fatal(err)
		}
		got, err := c.Service(svc.Key())
		if err != nil {
			tb.Fatal(err)
		}
		w.ips = append(w.ips, netip.MustParseAddr(got.Spec.ClusterIP))
	}
	// The pods after the Services: a Service created reselects every
	// pod of its namespace.
	for i := range n {
		app := fmt.Sprintf("svc-%05d", i)
		for j := range 2 {
			p := testPod(fmt.Sprintf("%s-%d", app, j), fmt.Sprintf("node-%d", j+1), fmt.Sprintf("10.%d.%d.%d", 128+i>>8, i&255, j+1), true)
			p.Labels = service.Labels{"app": app}
			if _, err := c.ApplyPod(p); err != nil {
				tb.Fatal(err)
			}
			if j == 1 {
				w.pods = append(w.pods, p)
			}
		}
	}
	if err := c.SyncNode("node-0"); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		w.route(tb, i)
	}
	return w
}

func (w *syncCluster) route(tb testing.TB, i int) {
	r, err := w.c.Route("node-0", proxy.Packet{Src: netip.MustParseAddrPort("192.168.0.10:40000"),
		Dst: netip.AddrPortFrom(w.ips[i], 80), Proto: lb.TCP}, time.Time{})
	if err != nil || r.Verdict != proxy.Routed {
		tb.Fatalf("svc %d: %v %v", i, r.Verdict, err)
	}
}

// flip is one pod's readiness change (the Services' second pods, in
// turn) through the control plane, then node-0's sync to the new
// generation and a connection through the changed Service.
func (w *syncCluster) flip(tb testing.TB) {
	i := w.step % len(w.pods)
	w.step++
	p := w.pods[i]
	p.SetReady(!p.IsReady())
	if _, err := w.c.ApplyPod(p); err != nil {
		tb.Fatal(err)
	}
	if err := w.c.SyncNode("node-0"); err != nil {
		tb.Fatal(err)
	}
	w.route(tb, i)
}

// BenchmarkSyncOneEndpoint is the whole path of one pod's readiness flip
// to one node's sync, in a Cluster of 1 000 and 20 000 Services: the
// endpoints controller's slice change, the new table generation, the
// node's sync to it, and the first connection that refreshes the
// changed port's pickers. proxy.BenchmarkSyncOneEndpoint is the proxy's
// part alone.
func BenchmarkSyncOneEndpoint(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			w := newSyncCluster(b, n)
			b.ReportAllocs()
			for b.Loop() {
				w.flip(b)
			}
		})
	}
}
