package endpoints

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// TestPodLabelSetsShared checks that pods with the same labels share one
// copy of them, counted, that a relabel and a delete move and drop the
// references, and that the copy is the controller's own: changing the
// caller's map after the upsert changes nothing.
func TestPodLabelSetsShared(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	a := func() service.Labels { return service.Labels{"app": "web", "hash": "a"} }
	b := func() service.Labels { return service.Labels{"app": "web", "hash": "b"} }
	mustUpsertService(t, c, testService("web-a", a()))
	mustUpsertService(t, c, testService("web-b", b()))
	var pods []*service.Pod
	for i := range 40 {
		ls := a()
		if i >= 30 {
			ls = b()
		}
		p := testPod(fmt.Sprintf("web-%d", i), ls, podIP(i))
		pods = append(pods, p)
		mustUpsertPod(t, c, p)
	}
	refs := func() map[string]int {
		m := map[string]int{}
		for _, s := range c.labelSets {
			m[s.m["hash"]] += s.refs
		}
		return m
	}
	require.Len(t, c.labelSets, 2)
	require.Equal(t, map[string]int{"a": 30, "b": 10}, refs())
	ns := c.namespaces["default"]
	require.Same(t, ns.pods["web-0"].labels, ns.pods["web-29"].labels)
	endpointsOf := func(svc string) int {
		n := 0
		for _, s := range c.Slices(service.NamespacedName{Namespace: "default", Name: svc}) {
			n += len(s.Endpoints)
		}
		return n
	}
	require.Equal(t, 30, endpointsOf("web-a"))

	// The caller's map is not held: a Service created after the caller
	// changed it selects by what was upserted.
	pods[0].Labels["hash"] = "z"
	mustUpsertService(t, c, testService("web-a2", a()))
	require.Equal(t, 30, endpointsOf("web-a2"))
	pods[0].Labels["hash"] = "a"

	// A relabel moves a reference; the pod moves between Services.
	mustUpsertPod(t, c, testPod("web-0", b(), podIP(0)))
	require.Equal(t, map[string]int{"a": 29, "b": 11}, refs())
	require.Equal(t, 29, endpointsOf("web-a"))
	require.Equal(t, 11, endpointsOf("web-b"))

	// Deleting every pod of a label set forgets it.
	for i := 30; i < 40; i++ {
		c.DeletePod(service.NamespacedName{Namespace: "default", Name: fmt.Sprintf("web-%d", i)})
	}
	c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"})
	require.Len(t, c.labelSets, 1)
	require.Equal(t, map[string]int{"a": 29}, refs())
	require.Equal(t, 0, endpointsOf("web-b"))
}

// TestPodUpsertLabelAllocations bounds the allocations of creating and
// deleting a pod whose labels another pod already has: the labels are
// shared, not copied (the copy of a two-label map took two of the six
// allocations, and some 320 bytes per pod at the simulator's Kubernetes
// scale).
func TestPodUpsertLabelAllocations(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	ls := service.Labels{"app": "web", "hash": "a"}
	mustUpsertService(t, c, testService("other", service.Labels{"app": "other"}))
	mustUpsertPod(t, c, testPod("web-0", ls, podIP(0)))
	p := testPod("web-1", ls, podIP(1))
	key := service.NamespacedName{Namespace: "default", Name: "web-1"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.UpsertPod(p); err != nil {
			panic(err)
		}
		c.DeletePod(key)
	})
	t.Logf("%.0f allocations per create and delete", allocs)
	require.LessOrEqual(t, allocs, 4.0) // 6 when each pod copied its labels
	require.Len(t, c.labelSets, 1)
}

// TestPodPortSetsShared checks that pods with the same named container
// ports share one counted list of them, that a named targetPort still
// resolves on each pod, and that changing and deleting pods moves and
// drops the references.
func TestPodPortSetsShared(t *testing.T) {
	c := NewController(Config{})
	knowNode(t, c, "node-a")
	sel := service.Labels{"app": "web"}
	mustUpsertService(t, c, testService("web", sel, func(s *service.Service) {
		s.Spec.Ports[0].TargetPort = service.FromString("http")
	}))
	withPort := func(port int32) func(*service.Pod) {
		return func(p *service.Pod) {
			p.Spec.Containers[0].Ports = []service.ContainerPort{{Name: "http", ContainerPort: port}}
		}
	}
	for i := range 20 {
		port := int32(8080)
		if i >= 15 {
			port = 9090
		}
		mustUpsertPod(t, c, testPod(fmt.Sprintf("web-%d", i), sel, podIP(i), withPort(port)))
	}
	refs := func() map[int32]int {
		m := map[int32]int{}
		for _, s := range c.portSets {
			require.Len(t, s.ps, 1)
			m[s.ps[0].port] += s.refs
		}
		return m
	}
	require.Equal(t, map[int32]int{8080: 15, 9090: 5}, refs())
	ns := c.namespaces["default"]
	require.Same(t, ns.pods["web-0"].ports, ns.pods["web-14"].ports)
	byPort := func() map[int32]int {
		m := map[int32]int{}
		for _, s := range c.Slices(service.NamespacedName{Namespace: "default", Name: "web"}) {
			require.Len(t, s.Ports, 1)
			m[s.Ports[0].Port] += len(s.Endpoints)
		}
		return m
	}
	require.Equal(t, map[int32]int{8080: 15, 9090: 5}, byPort())

	mustUpsertPod(t, c, testPod("web-0", sel, podIP(0), withPort(9090)))
	require.Equal(t, map[int32]int{8080: 14, 9090: 6}, refs())
	require.Equal(t, map[int32]int{8080: 14, 9090: 6}, byPort())
	mustUpsertPod(t, c, testPod("web-1", sel, podIP(1))) // no named port
	require.Equal(t, map[int32]int{8080: 13, 9090: 6}, refs())
	for i := range 20 {
		c.DeletePod(service.NamespacedName{Namespace: "default", Name: fmt.Sprintf("web-%d", i)})
	}
	require.Empty(t, c.portSets)
	require.Empty(t, c.labelSets)
}
