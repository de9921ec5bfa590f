package svcnet

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

// A growth case builds a cluster holding n of something and returns one
// operation on it, which leaves the cluster as it found it (so that it
// can be repeated): each goes through the Registry, the endpoints
// controller, the DNS resolver and the proxy table (ImmediateSync).
type growthCase struct {
	name string
	n    int // the small size; the large is 10n
	op   func(t testing.TB, n int) func()
}

// podIP is the address of the i-th pod, 10.244.x.y.
func podIP(i int) string { return fmt.Sprintf("10.244.%d.%d", i/250, i%250+1) }

var growthCases = []growthCase{
	{"service ports", 100, func(t testing.TB, n int) func() {
		c := growthCluster(t)
		svc := webService("many", service.ServiceTypeNodePort)
		svc.Spec.Ports = make([]service.ServicePort, n)
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i] = service.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(i + 1), TargetPort: service.FromString("http")}
		}
		gApply(t, c, testPod("web-0", "node-0", podIP(0), true))
		return createDelete(t, c, svc)
	}},
	{"endpoints of a Service", 100, func(t testing.TB, n int) func() {
		c := growthCluster(t)
		gCreate(t, c, webService("web", ""))
		for i := range n {
			gApply(t, c, testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i%3), podIP(i), true))
		}
		p := testPod("web-0", "node-0", podIP(0), true)
		return flipReady(t, c, p)
	}},
	{"Services in a namespace", 200, func(t testing.TB, n int) func() {
		c := growthCluster(t)
		gApply(t, c, testPod("web-0", "node-0", podIP(0), true))
		for i := range n {
			s := webService(fmt.Sprintf("s%d", i), "")
			s.Spec.Selector = service.Labels{"app": fmt.Sprintf("s%d", i)}
			gCreate(t, c, s)
		}
		svc := webService("one-more", "")
		return createDelete(t, c, svc)
	}},
	// Every Service selects the one pod, whose address's PTR RRset then
	// names the endpoint once per Service: the RRset, and so each
	// change to it, is O(Services).
	{"Services sharing an endpoint", 200, func(t testing.TB, n int) func() {
		c := growthCluster(t)
		gApply(t, c, testPod("web-0", "node-0", podIP(0), true))
		for i := range n {
			gCreate(t, c, webService(fmt.Sprintf("s%d", i), ""))
		}
		svc := webService("one-more", "")
		return createDelete(t, c, svc)
	}},
	{"labels of a pod", 100, func(t testing.TB, n int) func() {
		c := growthCluster(t)
		for i := range 20 {
			s := webService(fmt.Sprintf("s%d", i), "")
			s.Spec.Selector = service.Labels{"app": "web", fmt.Sprintf("k%d", i): "v"}
			gCreate(t, c, s)
		}
		p := testPod("web-0", "node-0", podIP(0), true)
		for i := range n {
			p.Labels[fmt.Sprintf("k%d", i)] = "v"
		}
		gApply(t, c, p)
		return flipReady(t, c, p)
	}},
}

// growthCluster is a cluster of three nodes that applies every change at
// once, so that one call runs the whole path.
func growthCluster(t testing.TB) *Cluster {
	t.Helper()
	now := epoch
	return lbCluster(t, true, &now)
}

// TestGrowth counts the allocations of each case's operation at n and
// 10n: 10× the input may cost at most 20× (a linear path costs 10×, a
// quadratic one 100×). The ratios are logged; the README's bounded-cost
// section quotes them.
func TestGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds clusters of thousands of objects")
	}
	for _, gc := range growthCases {
		t.Run(gc.name, func(t *testing.T) {
			allocs := func(n int) float64 { return testing.AllocsPerRun(3, gc.op(t, n)) }
			small, large := allocs(gc.n), allocs(10*gc.n)
			t.Logf("%s: %.0f allocs at n=%d, %.0f at 10n: %.1f×", gc.name, small, gc.n, large, large/small)
			require.LessOrEqual(t, large, 20*small, "allocations: %.0f at n=%d, %.0f at 10n", small, gc.n, large)
		})
	}
}

// BenchmarkGrowth runs each case's operation at n and 10n; compare the
// per-op time and allocations of the two sizes.
func BenchmarkGrowth(b *testing.B) {
	for _, gc := range growthCases {
		for _, n := range []int{gc.n, 10 * gc.n} {
			b.Run(fmt.Sprintf("%s/n=%d", gc.name, n), func(b *testing.B) {
				op := gc.op(b, n)
				b.ReportAllocs()
				for b.Loop() {
					op()
				}
			})
		}
	}
}

func gApply(t testing.TB, c *Cluster, p *service.Pod) {
	t.Helper()
	_, err := c.ApplyPod(p)
	require.NoError(t, err)
}

func gCreate(t testing.TB, c *Cluster, svc *service.Service) {
	t.Helper()
	_, err := c.CreateService(svc)
	require.NoError(t, err)
}

// createDelete is the operation of creating svc and deleting it again.
func createDelete(t testing.TB, c *Cluster, svc *service.Service) func() {
	return func() {
		if _, err := c.CreateService(svc.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteService(svc.Key()); err != nil {
			t.Fatal(err)
		}
	}
}

// flipReady is the operation of turning p unready and ready again.
func flipReady(t testing.TB, c *Cluster, p *service.Pod) func() {
	return func() {
		for _, ready := range []bool{false, true} {
			p.SetReady(ready)
			if _, err := c.ApplyPod(p.DeepCopy()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
