package endpoints

import (
	"fmt"
	"testing"

	"github.com/svcnet/svcnet/service"
)

// Benchmark shapes, the same as peers/endpointslice's, which runs
// Kubernetes' reconciler on them beside svcnet.
var (
	benchServices  = []int{100, 1000, 5000}
	benchEndpoints = []int{10, 100, 250, 1000}
)

// readinessFixture is a namespace of nServices Services, each selecting
// its own app, the first backed by nEndpoints ready pods.
func readinessFixture(tb testing.TB, nServices, nEndpoints int) (*Controller, [2]*service.Pod) {
	c := NewController(Config{})
	knowNode(tb, c, "node-a")
	for i := range nServices {
		mustUpsertService(tb, c, testService(fmt.Sprintf("svc-%d", i), service.Labels{"app": fmt.Sprintf("app-%d", i)}))
	}
	labels := service.Labels{"app": "app-0", "tier": "web", "pod-template-hash": "5d4f8c7b9"}
	for i := range nEndpoints {
		mustUpsertPod(tb, c, testPod(fmt.Sprintf("web-%d", i), labels, podIP(i)))
	}
	victim := nEndpoints / 2
	ready := testPod(fmt.Sprintf("web-%d", victim), labels, podIP(victim))
	notReady := testPod(fmt.Sprintf("web-%d", victim), labels, podIP(victim), func(p *service.Pod) { p.SetReady(false) })
	return c, [2]*service.Pod{notReady, ready}
}

// BenchmarkReadinessFlip: one pod flips readiness, in a namespace of
// many Services, in a Service of many endpoints.
func BenchmarkReadinessFlip(b *testing.B) {
	for _, ns := range benchServices {
		for _, ne := range benchEndpoints {
			b.Run(fmt.Sprintf("services=%d/endpoints=%d/impl=svcnet", ns, ne), func(b *testing.B) {
				c, flips := readinessFixture(b, ns, ne)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					changes, err := c.UpsertPod(flips[i&1])
					if err != nil || len(changes) != 1 {
						b.Fatalf("%v %v", changes, err)
					}
					i++
				}
			})
		}
	}
}
