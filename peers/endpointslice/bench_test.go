package endpointslice

import (
	"fmt"
	"testing"
)

// Shapes of BenchmarkReadinessFlip, the same as endpoints' own benchmark.
var (
	benchServices  = []int{100, 1000, 5000}
	benchEndpoints = []int{10, 100, 250, 1000}
)

// BenchmarkReadinessFlip: one pod of a Service flips readiness, in a
// namespace of many Services. For Kubernetes an operation is what the
// EndpointSlice controller does for the pod event: the informer cache
// update, the membership lookup (GetPodUpdateProjectionKey,
// GetServicesToUpdate: every Service of the namespace matched) and
// syncService (list the Service's pods and slices, Reconcile). For
// svcnet it is Controller.UpsertPod. Both write one slice per flip.
func BenchmarkReadinessFlip(b *testing.B) {
	for _, ns := range benchServices {
		for _, ne := range benchEndpoints {
			for _, impl := range impls {
				b.Run(fmt.Sprintf("services=%d/endpoints=%d/impl=%s", ns, ne, impl), func(b *testing.B) {
					s := newSide(impl, 100)
					flips := readinessFixture(b, s, ns, ne)
					before := s.writes()
					b.ReportAllocs()
					n := 0
					for b.Loop() {
						if err := s.upsertPod(flips[n&1]); err != nil {
							b.Fatal(err)
						}
						n++
					}
					if w := s.writes() - before; w != n {
						b.Fatalf("%d slice writes for %d flips", w, n)
					}
				})
			}
		}
	}
}
