package endpointslice

import (
	"fmt"
	"testing"

	"github.com/svcnet/svcnet/service"
)

// rollingUpdate is a Deployment rolling a Service of n pods: one new
// ready pod added, one old pod removed, repeated until every pod is new.
type rollingUpdate struct {
	n, gen, step int
}

// next applies one step (add one, remove one) to s.
func (r *rollingUpdate) next(tb testing.TB, s side) {
	if r.step == r.n {
		r.gen, r.step = r.gen+1, 0
	}
	i := r.step
	must(tb, s.upsertPod(newPod(fmt.Sprintf("web-g%d-%d", r.gen+1, i), "web", (r.gen+1)%2*r.n+i, true)))
	must(tb, s.deletePod(service.NamespacedName{Namespace: namespace, Name: fmt.Sprintf("web-g%d-%d", r.gen, i)}))
	r.step++
}

func rollingFixture(tb testing.TB, s side, n int) *rollingUpdate {
	must(tb, s.upsertNode(nodeA))
	must(tb, s.upsertService(newService("web", "web")))
	for i := range n {
		must(tb, s.upsertPod(newPod(fmt.Sprintf("web-g0-%d", i), "web", i, true)))
	}
	return &rollingUpdate{n: n}
}

// TestRollingUpdateWrites: on a rolling update of a 250-pod Service,
// svcnet writes no more slices than Kubernetes, ends with as many slices,
// and both hold the same endpoints throughout.
func TestRollingUpdateWrites(t *testing.T) {
	const n = 250
	key := service.NamespacedName{Namespace: namespace, Name: "web"}
	sides := map[string]side{}
	rolls := map[string]*rollingUpdate{}
	setup := map[string][3]int{}
	for _, impl := range impls {
		sides[impl] = newSide(impl, 100)
		rolls[impl] = rollingFixture(t, sides[impl], n)
		setup[impl] = sides[impl].counts()
	}
	for step := range n {
		for _, impl := range impls {
			rolls[impl].next(t, sides[impl])
		}
		if step%50 == 49 {
			requireSameEndpoints(t, key, sides["svcnet"], sides["kubernetes"])
		}
	}
	w, kinds := map[string]int{}, map[string][3]int{}
	for _, impl := range impls {
		c := sides[impl].counts()
		for i := range c {
			c[i] -= setup[impl][i]
		}
		kinds[impl] = c
		w[impl] = c[0] + c[1] + c[2]
	}
	sn, kn := sides["svcnet"], sides["kubernetes"]
	t.Logf("rolling update of %d pods: slice writes (creates, updates, deletes): svcnet %d %v, kubernetes %d %v; slices at the end: svcnet %d, kubernetes %d",
		n, w["svcnet"], kinds["svcnet"], w["kubernetes"], kinds["kubernetes"], sn.sliceCount(key), kn.sliceCount(key))
	setupW := func(impl string) int { return setup[impl][0] + setup[impl][1] + setup[impl][2] }
	if setupW("svcnet") > setupW("kubernetes") {
		t.Errorf("setup: svcnet wrote %d slices, Kubernetes %d", setupW("svcnet"), setupW("kubernetes"))
	}
	if w["svcnet"] > w["kubernetes"] {
		t.Errorf("svcnet wrote %d slices, Kubernetes %d", w["svcnet"], w["kubernetes"])
	}
	if a, b := sn.sliceCount(key), kn.sliceCount(key); a != b {
		t.Errorf("slices at the end: svcnet %d, Kubernetes %d", a, b)
	}
	requireSameEndpoints(t, key, sn, kn)
}

func requireSameEndpoints(t *testing.T, key service.NamespacedName, a, b side) {
	t.Helper()
	ea, eb := a.slices(key), b.slices(key)
	if len(ea) != len(eb) {
		t.Fatalf("%s: svcnet has %d endpoints, Kubernetes %d", key, len(ea), len(eb))
	}
	for i := range ea {
		if ea[i] != eb[i] {
			t.Fatalf("%s: svcnet has %+v, Kubernetes %+v", key, ea[i], eb[i])
		}
	}
}

// BenchmarkRollingUpdate: one step of a rolling update of a 250-pod
// Service (add one new ready pod, remove one old), with the slice writes
// per step reported as writes/op.
func BenchmarkRollingUpdate(b *testing.B) {
	for _, impl := range impls {
		b.Run("endpoints=250/impl="+impl, func(b *testing.B) {
			s := newSide(impl, 100)
			r := rollingFixture(b, s, 250)
			before := s.writes()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				r.next(b, s)
				n++
			}
			b.ReportMetric(float64(s.writes()-before)/float64(n), "writes/op")
		})
	}
}
