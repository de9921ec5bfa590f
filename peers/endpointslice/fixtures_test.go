package endpointslice

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

const namespace = "default"

// newService returns a defaulted single-stack ClusterIP Service with one
// numeric port, selecting app=<app>.
func newService(name, app string) *service.Service {
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Namespace: namespace, Name: name, UID: "uid-" + name},
		Spec: service.ServiceSpec{
			Selector:   service.Labels{"app": app},
			ClusterIP:  "10.96.0.10",
			ClusterIPs: []string{"10.96.0.10"},
			IPFamilies: []service.IPFamily{service.IPv4Protocol},
			Ports:      []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}},
		},
	}
	service.Default(svc)
	return svc
}

// newPod returns a running pod of app on node-a with the i-th address.
func newPod(name, app string, i int, ready bool) *service.Pod {
	ip := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String()
	p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: namespace, Name: name, UID: "uid-" + name,
		Labels: service.Labels{"app": app, "tier": "web", "pod-template-hash": "5d4f8c7b9"}}}
	p.Spec.NodeName = "node-a"
	p.Spec.Containers = []service.Container{{Name: "main", Ports: []service.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
	p.Status.Phase = service.PodRunning
	p.Status.PodIP, p.Status.PodIPs = ip, []service.PodIP{{IP: ip}}
	p.SetReady(ready)
	return p
}

var nodeA = &service.Node{ObjectMeta: service.ObjectMeta{Name: "node-a", Labels: service.Labels{service.LabelTopologyZone: "zone-a"}}}

// side is one implementation under the same events.
type side interface {
	upsertService(*service.Service) error
	deleteService(service.NamespacedName) error
	upsertPod(*service.Pod) error
	deletePod(service.NamespacedName) error
	upsertNode(*service.Node) error
	deleteNode(string) error
	writes() int
	counts() [3]int // creates, updates, deletes
	slices(service.NamespacedName) []flat
	sliceCount(service.NamespacedName) int
	// labels returns the distinct label sets of a Service's slices.
	labels(service.NamespacedName) []string
}

// svcnetSide drives an endpoints.Controller and counts its writes, and
// the pods it reports skipped for their unknown node.
type svcnetSide struct {
	c                         *endpoints.Controller
	creates, updates, deletes int
	skips                     int
}

// skipErrors counts and drops the *endpoints.NodeNotFoundErrors in err
// (the slices are complete without those pods, as Kubernetes writes
// them), and returns any other error.
func (s *svcnetSide) skipErrors(err error) error {
	skipped, rest := endpoints.SplitSkips(err)
	s.skips += len(skipped)
	return rest
}

func newSvcnet(max int) *svcnetSide {
	return &svcnetSide{c: endpoints.NewController(endpoints.Config{MaxEndpointsPerSlice: max})}
}

func (s *svcnetSide) count(changes []endpoints.Change) {
	for _, ch := range changes {
		switch ch.Kind {
		case endpoints.Created:
			s.creates++
		case endpoints.Updated:
			s.updates++
		case endpoints.Deleted:
			s.deletes++
		}
	}
}

func (s *svcnetSide) upsertService(svc *service.Service) error {
	changes, err := s.c.UpsertService(svc)
	s.count(changes)
	return s.skipErrors(err)
}

func (s *svcnetSide) deleteService(key service.NamespacedName) error {
	s.count(s.c.DeleteService(key))
	return nil
}

func (s *svcnetSide) upsertPod(p *service.Pod) error {
	changes, err := s.c.UpsertPod(p)
	s.count(changes)
	return s.skipErrors(err)
}

func (s *svcnetSide) deletePod(key service.NamespacedName) error {
	s.count(s.c.DeletePod(key))
	return nil
}

func (s *svcnetSide) upsertNode(n *service.Node) error {
	changes, err := s.c.UpsertNode(n)
	s.count(changes)
	return s.skipErrors(err)
}

func (s *svcnetSide) deleteNode(name string) error {
	changes, err := s.c.DeleteNode(name)
	s.count(changes)
	return s.skipErrors(err)
}

func (s *svcnetSide) writes() int { return s.creates + s.updates + s.deletes }

func (s *svcnetSide) counts() [3]int { return [3]int{s.creates, s.updates, s.deletes} }

func (s *svcnetSide) slices(key service.NamespacedName) []flat { return svcnetFlat(s.c.Slices(key)) }

func (s *svcnetSide) sliceCount(key service.NamespacedName) int { return len(s.c.Slices(key)) }

func (s *svcnetSide) labels(key service.NamespacedName) []string {
	var out []string
	for _, sl := range s.c.Slices(key) {
		out = append(out, fmt.Sprint(map[string]string(sl.Labels)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// kubeSide adapts kube to side.
type kubeSide struct{ *kube }

func (k kubeSide) writes() int { return k.store.writes() }

func (k kubeSide) counts() [3]int { return [3]int{k.store.creates, k.store.updates, k.store.deletes} }

func (k kubeSide) slices(key service.NamespacedName) []flat {
	f, _ := kubeFlat(k.slicesOf(key))
	return f
}

func (k kubeSide) sliceCount(key service.NamespacedName) int { return len(k.slicesOf(key)) }

func (k kubeSide) labels(key service.NamespacedName) []string {
	var out []string
	for _, sl := range k.slicesOf(key) {
		out = append(out, fmt.Sprint(sl.Labels))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func newSide(impl string, max int) side {
	if impl == "svcnet" {
		return newSvcnet(max)
	}
	return kubeSide{newKube(max)}
}

var impls = []string{"svcnet", "kubernetes"}

// readinessFixture builds a namespace of nServices Services, each
// selecting its own app, the first backed by nEndpoints ready pods, and
// returns the two states of the pod that flips.
func readinessFixture(tb testing.TB, s side, nServices, nEndpoints int) [2]*service.Pod {
	tb.Helper()
	must(tb, s.upsertNode(nodeA))
	must(tb, s.upsertService(newService("svc-0", "app-0")))
	for i := range nEndpoints {
		must(tb, s.upsertPod(newPod(fmt.Sprintf("web-%d", i), "app-0", i, true)))
	}
	// The other Services come after the pods: Kubernetes syncs each one
	// it is given, and only the first has pods to sync.
	for i := 1; i < nServices; i++ {
		svc := newService(fmt.Sprintf("svc-%d", i), fmt.Sprintf("app-%d", i))
		if k, ok := s.(kubeSide); ok {
			obj := coreService(svc)
			obj.ResourceVersion = k.nextRV()
			must(tb, k.services.Add(obj))
			continue
		}
		must(tb, s.upsertService(svc))
	}
	v := nEndpoints / 2
	return [2]*service.Pod{newPod(fmt.Sprintf("web-%d", v), "app-0", v, false), newPod(fmt.Sprintf("web-%d", v), "app-0", v, true)}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
