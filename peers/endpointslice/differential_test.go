package endpointslice

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
	discovery "k8s.io/api/discovery/v1"
)

// The differential test feeds random event sequences to svcnet and to
// Kubernetes' controller and, after each event, compares every Service's
// slices: their endpoints (address type, pod, addresses, ports,
// conditions, hostname, node, zone, hints), their labels, and their
// shape: how many slices each (address type, port set) has, and how many
// are empty placeholders. Kubernetes is given a resync of every Service
// after each event, so that what it holds is what its reconciler
// computes from the cluster's state (its controller syncs nothing on node
// events: a new zone, a node that appears under its pods or one deleted
// from under them reach the slices at each Service's next sync; svcnet
// makes that sync at once). svcnet's cumulative slice writes must never
// exceed Kubernetes' (resyncs included) at any step.
//
// The generators cover what svcnet used to do differently: pods
// scheduled to nodes that do not exist yet, nodes created late and
// deleted early, Services that lose and regain their selector (or turn
// ExternalName and back), single-family pods under dual-stack Services,
// empty port sets, publishNotReadyAddresses. They stay inside the inputs
// where svcnet still differs by design (see the endpoints package doc):
// pod IPs are valid endpoints, podIPs is always set, and a Service's
// cluster IP never changes.

var (
	diffNamespaces = []string{"default", "other"}
	diffServices   = []string{"s0", "s1", "s2", "s3"}
	diffPods       = 14
	// diffNodes: the first three exist from the start, until deleted;
	// the others come later, or never.
	diffNodes = []string{"n0", "n1", "n2", "n3", "n4"}
	diffZones = []string{"", "z1", "z2"}
)

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randLabels(r *rand.Rand) service.Labels {
	ls := service.Labels{}
	if v := pick(r, "", "a", "b"); v != "" {
		ls["app"] = v
	}
	if v := pick(r, "", "x", "y"); v != "" {
		ls["tier"] = v
	}
	return ls
}

func randService(r *rand.Rand) *service.Service {
	name, ns := pick(r, diffServices...), pick(r, diffNamespaces...)
	svc := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + ns + "-" + name}}
	if r.IntN(10) == 0 {
		svc.UID += "-recreated"
	}
	switch r.IntN(12) {
	case 0:
		// no selector
	case 1:
		svc.Spec.Selector = service.Labels{}
	default:
		svc.Spec.Selector = randLabels(r)
	}
	if r.IntN(12) == 0 {
		svc.Spec.Type = service.ServiceTypeExternalName
		svc.Spec.ExternalName = "example.com"
	}
	if r.IntN(3) == 0 {
		svc.Labels = service.Labels{"team": pick(r, "a", "b")}
	}
	// A Service's cluster IP is immutable, and so its primary family:
	// fixed by name, with or without a second family.
	switch name {
	case "s0":
		svc.Spec.ClusterIP, svc.Spec.IPFamilies = "10.96.0.1", pick(r, []service.IPFamily{service.IPv4Protocol}, []service.IPFamily{service.IPv4Protocol, service.IPv6Protocol})
	case "s1":
		svc.Spec.ClusterIP, svc.Spec.IPFamilies = "fd00::1", pick(r, []service.IPFamily{service.IPv6Protocol}, []service.IPFamily{service.IPv6Protocol, service.IPv4Protocol})
	default:
		// Headless: any families, or none (both, as Kubernetes assumes).
		svc.Spec.ClusterIP = "None"
		svc.Spec.IPFamilies = pick(r, nil, []service.IPFamily{service.IPv4Protocol}, []service.IPFamily{service.IPv6Protocol, service.IPv4Protocol})
	}
	svc.Spec.PublishNotReadyAddresses = r.IntN(4) == 0
	if td := pick(r, "", "", "PreferClose", "PreferSameZone", "PreferSameNode"); td != "" {
		svc.Spec.TrafficDistribution = &td
	}
	nPorts := r.IntN(3)
	if svc.Spec.ClusterIP != "None" && nPorts == 0 {
		nPorts = 1
	}
	for i := range nPorts {
		sp := service.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i)}
		switch r.IntN(5) {
		case 0:
		case 1:
			sp.TargetPort = service.FromInt(8080)
		case 2:
			sp.TargetPort = service.FromString("http")
		case 3:
			sp.TargetPort, sp.Protocol = service.FromString("dns"), service.ProtocolUDP
		case 4:
			sp.TargetPort = service.FromString("metrics")
		}
		if r.IntN(4) == 0 {
			app := "kubernetes.io/h2c"
			sp.AppProtocol = &app
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	service.Default(svc)
	return svc
}

func randPod(r *rand.Rand) *service.Pod {
	name := fmt.Sprintf("p%d", r.IntN(diffPods))
	p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: pick(r, diffNamespaces...), Name: name, UID: "uid-" + name, Labels: randLabels(r)}}
	p.Spec.NodeName = pick(r, diffNodes...)
	p.Spec.Hostname = pick(r, "", "h")
	p.Spec.Subdomain = pick(r, "", "s0", "s1")
	p.Status.Phase = pick(r, service.PodRunning, service.PodRunning, service.PodRunning, service.PodPending, service.PodSucceeded, service.PodFailed)
	p.SetReady(r.IntN(3) > 0)
	if r.IntN(5) == 0 {
		ts := time.Unix(1000, 0)
		p.DeletionTimestamp = &ts
	}
	v4 := fmt.Sprintf("10.0.%d.%d", r.IntN(2), 1+r.IntN(20))
	v6 := fmt.Sprintf("fd00::%x", 1+r.IntN(20))
	switch r.IntN(6) {
	case 0:
	case 1, 2:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}}
	case 3:
		p.Status.PodIP, p.Status.PodIPs = v6, []service.PodIP{{IP: v6}}
	default:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}, {IP: v6}}
	}
	c := service.Container{Name: "main"}
	if r.IntN(2) == 0 {
		c.Ports = append(c.Ports, service.ContainerPort{Name: "http", ContainerPort: pick(r, int32(8080), 9090)})
	}
	if r.IntN(2) == 0 {
		c.Ports = append(c.Ports, service.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: pick(r, service.ProtocolUDP, service.ProtocolTCP)})
	}
	p.Spec.Containers = []service.Container{c}
	if r.IntN(4) == 0 {
		policy := pick(r, "Always", "OnFailure")
		p.Spec.InitContainers = []service.Container{{Name: "side", RestartPolicy: &policy,
			Ports: []service.ContainerPort{{Name: "metrics", ContainerPort: 9100}}}}
	}
	return p
}

func randNode(r *rand.Rand) *service.Node {
	n := &service.Node{ObjectMeta: service.ObjectMeta{Name: pick(r, diffNodes...)}}
	if z := pick(r, diffZones...); z != "" {
		n.Labels = service.Labels{service.LabelTopologyZone: z}
	}
	return n
}

// toggleSelector takes svc's selector away (or makes it ExternalName),
// or gives it one back.
func toggleSelector(r *rand.Rand, svc *service.Service) *service.Service {
	svc = svc.DeepCopy()
	switch {
	case svc.Spec.Type == service.ServiceTypeExternalName:
		svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeClusterIP, ""
	case svc.Spec.Selector == nil:
		svc.Spec.Selector = randLabels(r)
	case r.IntN(4) == 0:
		svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeExternalName, "example.com"
	default:
		svc.Spec.Selector = nil
	}
	return svc
}

// sliceShape is one slice as the shape comparison sees it: address
// type, port set and size.
func sliceShape(at, ports string, n int) string {
	return fmt.Sprintf("%s %s n=%d", at, ports, n)
}

func kubeShapes(ss []*discovery.EndpointSlice) []string {
	var out []string
	for _, s := range ss {
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s/%d", deref(p.Name), *p.Protocol, *p.Port))
		}
		slices.Sort(ports)
		out = append(out, sliceShape(string(s.AddressType), fmt.Sprint(ports), len(s.Endpoints)))
	}
	slices.Sort(out)
	return out
}

func svcnetShapes(ss []*endpoints.Slice) []string {
	var out []string
	for _, s := range ss {
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s/%d", p.Name, p.Protocol, p.Port))
		}
		slices.Sort(ports)
		out = append(out, sliceShape(string(s.AddressType), fmt.Sprint(ports), len(s.Endpoints)))
	}
	slices.Sort(out)
	return out
}

// groups reduces shapes to what must agree whatever the packing: the
// port groups present (address type and port set) and the placeholders
// (empty slices), each listed once per slice.
func groups(shapes []string) []string {
	var out []string
	for _, sh := range shapes {
		if strings.HasSuffix(sh, " n=0") {
			out = append(out, sh)
			continue
		}
		out = append(out, sh[:strings.LastIndex(sh, " n=")])
	}
	return slices.Compact(out)
}

// counts reduces shapes to the number of slices per address type.
func counts(shapes []string) map[string]int {
	out := map[string]int{}
	for _, sh := range shapes {
		out[sh[:strings.Index(sh, " ")]]++
	}
	return out
}

// diffStats is what a differential run measured.
type diffStats struct {
	runs, steps int
	events      map[string]int
	compared    int            // Service comparisons
	endpoints   int            // endpoints in them
	differ      map[string]int // comparisons that differ, by what differs
	finalDiffer map[string]int // the same, at the end of the runs only
	final       int            // Services at the end of the runs
	// overSteps counts the steps where svcnet had written more slices
	// than Kubernetes (cumulative; in lockstep, in the step).
	overSteps int
	// selfOver counts the same for a second Kubernetes against the
	// first (free-running only): the noise of random packing.
	selfOver                 int
	svcnetWrites, kubeWrites int
	kube2Writes, resync      int
	svcnetSkips, kubeSkips   int
	first                    []string // the first differences, for the failure message
}

// runDifferential runs seeds random sequences of steps events. In
// lockstep, Kubernetes starts every step from svcnet's slices (mirror),
// so that both compute the same step from the same state: then even the
// packing (slice sizes) and the writes of each step must agree, whereas
// free-running sides drift apart by Kubernetes' random packing, which a
// second Kubernetes measures.
func runDifferential(t *testing.T, seeds, steps int, lockstep bool) *diffStats {
	st := &diffStats{events: map[string]int{}, differ: map[string]int{}, finalDiffer: map[string]int{}}
	for seed := range seeds {
		st.runs++
		r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		sv := newSvcnet(pick(r, 1, 2, 3, 100))
		maxEPS := sv.c.Config().MaxEndpointsPerSlice
		k := kubeSide{newKube(maxEPS)}
		all := []side{sv, k}
		var k2 kubeSide
		if !lockstep {
			k2 = kubeSide{newKube(maxEPS)}
			all = append(all, k2)
		}
		services := map[service.NamespacedName]*service.Service{}
		sortedKeys := func() []service.NamespacedName {
			return slices.SortedFunc(maps.Keys(services), func(a, b service.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
		}
		for _, name := range diffNodes[:3] {
			n := &service.Node{ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{service.LabelTopologyZone: "z1"}}}
			for _, s := range all {
				must(t, s.upsertNode(n))
			}
		}
		var history []string
		last := func() string { return strings.Join(history[max(0, len(history)-8):], "\n  ") }
		compare := func(step int, final bool) {
			for _, key := range sortedKeys() {
				la, lb := sv.labels(key), k.labels(key)
				a, b := sv.slices(key), k.slices(key)
				sa, sb := svcnetShapes(sv.c.Slices(key)), kubeShapes(k.slicesOf(key))
				var what []string
				if !slices.Equal(la, lb) {
					what = append(what, "labels")
				}
				if !slices.Equal(a, b) {
					what = append(what, "endpoints")
				}
				if !slices.Equal(groups(sa), groups(sb)) {
					what = append(what, "port groups or placeholders")
				}
				if !maps.Equal(counts(sa), counts(sb)) {
					what = append(what, "slices per address type")
				}
				if !slices.Equal(sa, sb) {
					what = append(what, "slice sizes")
				}
				if !lockstep && !slices.Equal(sb, kubeShapes(k2.slicesOf(key))) {
					what = append(what, "slice sizes, kubernetes vs kubernetes")
				}
				m := st.differ
				if final {
					m = st.finalDiffer
					st.final++
				} else {
					st.compared++
					st.endpoints += len(a)
				}
				for _, w := range what {
					m[w]++
				}
				exact := len(what) > 0 && (lockstep || what[0] == "labels" || what[0] == "endpoints" || what[0] == "port groups or placeholders")
				if !final && exact && len(st.first) < 3 {
					st.first = append(st.first, fmt.Sprintf("seed %d step %d (max %d): %s: %v differ\nlabels: svcnet %v, kubernetes %v\nshape:  svcnet %v\n        kubernetes %v\nsvcnet:     %+v\nkubernetes: %+v\nlast events:\n  %s",
						seed, step, maxEPS, key, what, la, lb, sa, sb, a, b, last()))
				}
			}
		}
		for step := range steps {
			if lockstep {
				var ss []*endpoints.Slice
				for _, key := range sortedKeys() {
					ss = append(ss, sv.c.Slices(key)...)
				}
				must(t, k.mirror(ss))
			}
			sw0, kw0 := sv.writes(), k.writes()
			st.steps++
			var ev string
			switch x := r.IntN(40); {
			case x < 8:
				svc := randService(r)
				services[svc.Key()] = svc
				ev = fmt.Sprintf("upsert service %s %s type=%s sel=%#v pnr=%v %v ports=%d", svc.Key(), svc.UID, svc.Spec.Type, svc.Spec.Selector, svc.Spec.PublishNotReadyAddresses, svc.Spec.IPFamilies, len(svc.Spec.Ports))
				for _, s := range all {
					must(t, s.upsertService(svc))
				}
			case x < 11 && len(services) > 0:
				svc := toggleSelector(r, services[pick(r, sortedKeys()...)])
				services[svc.Key()] = svc
				ev = fmt.Sprintf("toggle service %s type=%s sel=%#v", svc.Key(), svc.Spec.Type, svc.Spec.Selector)
				for _, s := range all {
					must(t, s.upsertService(svc))
				}
			case x < 12:
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: pick(r, diffServices...)}
				delete(services, key)
				ev = "delete service " + key.String()
				for _, s := range all {
					must(t, s.deleteService(key))
				}
			case x < 30:
				p := randPod(r)
				ev = fmt.Sprintf("upsert pod %s %v %v %+v", p.Key(), p.Labels, p.Spec.NodeName, p.Status)
				for _, s := range all {
					must(t, s.upsertPod(p))
				}
			case x < 34:
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: fmt.Sprintf("p%d", r.IntN(diffPods))}
				ev = "delete pod " + key.String()
				for _, s := range all {
					must(t, s.deletePod(key))
				}
			case x < 38:
				n := randNode(r)
				ev = fmt.Sprintf("upsert node %s %v", n.Name, n.Labels)
				for _, s := range all {
					must(t, s.upsertNode(n))
				}
			default:
				name := pick(r, diffNodes...)
				ev = "delete node " + name
				for _, s := range all {
					must(t, s.deleteNode(name))
				}
			}
			f := strings.Fields(ev)
			st.events[f[0]+" "+f[1]]++
			history = append(history, ev)
			kw := k.writes()
			must(t, k.syncAll())
			st.resync += k.writes() - kw
			if !lockstep {
				must(t, k2.syncAll())
				if k2.writes() > k.writes() {
					st.selfOver++
				}
			}
			ds, dk := sv.writes(), k.writes()
			if lockstep {
				ds, dk = ds-sw0, dk-kw0
				st.svcnetWrites += ds
				st.kubeWrites += dk
			}
			if ds > dk {
				st.overSteps++
				if len(st.first) < 3 && lockstep {
					st.first = append(st.first, fmt.Sprintf("seed %d step %d: svcnet wrote %d slices, kubernetes %d; last events:\n  %s", seed, step, ds, dk, last()))
				}
			}
			compare(step, false)
		}
		compare(steps, true)
		if !lockstep {
			st.svcnetWrites += sv.writes()
			st.kubeWrites += k.writes()
			st.kube2Writes += k2.writes()
		}
		st.svcnetSkips += sv.skips
		st.kubeSkips += k.skips
	}
	return st
}

func (st *diffStats) log(t *testing.T) {
	t.Helper()
	t.Logf("%d runs × %d steps; events %v", st.runs, st.steps/st.runs, st.events)
	t.Logf("%d Service comparisons (%d endpoints); differing: %v; at the end of the runs, of %d Services: %v",
		st.compared, st.endpoints, st.differ, st.final, st.finalDiffer)
	t.Logf("slice writes: svcnet %d, kubernetes %d (%d in resyncs); steps where svcnet had written more: %d of %d",
		st.svcnetWrites, st.kubeWrites, st.resync, st.overSteps, st.steps)
	if st.kube2Writes > 0 {
		t.Logf("a second kubernetes wrote %d; steps where it had written more than the first: %d", st.kube2Writes, st.selfOver)
	}
	t.Logf("pods skipped for an unknown node: svcnet reported %d (per pod and Service), kubernetes %d (per pod, address type and sync)",
		st.svcnetSkips, st.kubeSkips)
}

func (st *diffStats) checkCoverage(t *testing.T) {
	t.Helper()
	if st.endpoints < st.steps {
		t.Errorf("only %d endpoints compared: the generators starve the comparison", st.endpoints)
	}
	for _, ev := range []string{"toggle service", "delete node", "upsert node", "upsert service", "delete pod"} {
		if st.events[ev] == 0 {
			t.Errorf("no %q event", ev)
		}
	}
	if st.svcnetSkips == 0 || st.kubeSkips == 0 {
		t.Errorf("no pod skipped for an unknown node (svcnet %d, kubernetes %d)", st.svcnetSkips, st.kubeSkips)
	}
}

// TestDifferential runs both sides free, each from its own slices: at
// every step, every Service's endpoints, labels, port groups and
// placeholders must agree. Slice counts and sizes and the cumulative
// writes are only reported, next to the same numbers for a second
// Kubernetes: its random packing makes them differ from itself, so they
// are checked in lockstep (TestDifferentialLockstep) instead.
func TestDifferential(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 8
	}
	st := runDifferential(t, seeds, 250, false)
	st.log(t)
	for _, f := range st.first {
		t.Error(f)
	}
	for _, w := range []string{"labels", "endpoints", "port groups or placeholders"} {
		if n := st.differ[w]; n > 0 {
			t.Errorf("%s differ in %d comparisons", w, n)
		}
	}
	st.checkCoverage(t)
}

// TestDifferentialLockstep starts Kubernetes at every step from svcnet's
// slices: from the same state, the step's result must be the same on
// both sides, down to slice counts and sizes, and svcnet must write no
// more slices than Kubernetes in any step (so never more in total).
func TestDifferentialLockstep(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 8
	}
	st := runDifferential(t, seeds, 250, true)
	st.log(t)
	for _, f := range st.first {
		t.Error(f)
	}
	for w, n := range st.differ {
		t.Errorf("%s differ in %d comparisons", w, n)
	}
	if st.overSteps > 0 {
		t.Errorf("svcnet wrote more slices than Kubernetes in %d steps", st.overSteps)
	}
	st.checkCoverage(t)
}

// TestPodEventWrites: on random pod events against fixed Services,
// Kubernetes' event-driven controller started from svcnet's slices
// before each event (lockstep, see runDifferential) writes at least as
// many slices as svcnet does for that event. Updates keep what a pod
// cannot change (UID, node, containers, hostname), and a pod that
// completes is not ready. Kubernetes' pod handler ignores a change of
// phase alone (podEndpointsChanged), which svcnet applies at once: its
// writes count the resync after each event that catches up.
func TestPodEventWrites(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	totalS, totalK, resync, events := 0, 0, 0, 0
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0xbeef))
		maxEPS := pick(r, 1, 2, 3, 5, 100)
		sv, k := newSvcnet(maxEPS), kubeSide{newKube(maxEPS)}
		both := []side{sv, k}
		for _, name := range diffNodes {
			n := &service.Node{ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{service.LabelTopologyZone: "z1"}}}
			for _, s := range both {
				must(t, s.upsertNode(n))
			}
		}
		keys := map[service.NamespacedName]bool{}
		for range 6 {
			svc := randService(r)
			keys[svc.Key()] = true
			for _, s := range both {
				must(t, s.upsertService(svc))
			}
		}
		pods := map[service.NamespacedName]*service.Pod{}
		for i := range 300 {
			var ss []*endpoints.Slice
			for key := range keys {
				ss = append(ss, sv.c.Slices(key)...)
			}
			must(t, k.mirror(ss))
			s0, k0 := sv.writes(), k.writes()
			ev := ""
			if r.IntN(6) == 0 {
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: fmt.Sprintf("p%d", r.IntN(diffPods))}
				delete(pods, key)
				ev = "delete pod " + key.String()
				for _, s := range both {
					must(t, s.deletePod(key))
				}
			} else {
				p := randPod(r)
				if old := pods[p.Key()]; old != nil {
					p.UID, p.Spec = old.UID, old.DeepCopy().Spec
				}
				if p.Status.Phase == service.PodSucceeded || p.Status.Phase == service.PodFailed {
					p.SetReady(false)
				}
				pods[p.Key()] = p
				ev = fmt.Sprintf("upsert pod %s %v %+v", p.Key(), p.Labels, p.Status)
				for _, s := range both {
					must(t, s.upsertPod(p))
				}
			}
			kw := k.writes()
			must(t, k.syncAll())
			resync += k.writes() - kw
			ws, wk := sv.writes()-s0, k.writes()-k0
			totalS, totalK, events = totalS+ws, totalK+wk, events+1
			if ws > wk {
				t.Errorf("seed %d event %d (max %d): svcnet wrote %d slices, Kubernetes %d: %s", seed, i, maxEPS, ws, wk, ev)
			}
		}
	}
	t.Logf("slice writes on %d pod events: svcnet %d, kubernetes %d (%d of them in the resyncs)", events, totalS, totalK, resync)
}
