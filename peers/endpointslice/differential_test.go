package endpointslice

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcnet/svcnet/service"
)

// The differential test feeds random event sequences to svcnet and to
// Kubernetes' controller and, after each event, compares every Service's
// endpoints: (address type, pod, addresses, ports, conditions, hostname,
// node, zone, hints). Kubernetes is given a resync of every Service after
// each event, so that what it holds is what its reconciler computes from
// the cluster's state (its controller picks up node zone changes only at
// resyncs; svcnet at once).
//
// The generators stay inside the inputs where svcnet deliberately
// differs (see the endpoints package doc): every pod is on a known node,
// pod IPs are valid endpoints and podIPs is always set; Services that
// lose their selector or become ExternalName are not compared (Kubernetes
// leaves their old slices in place, svcnet deletes them).

var (
	diffNamespaces = []string{"default", "other"}
	diffServices   = []string{"s0", "s1", "s2", "s3"}
	diffPods       = 14
	diffNodes      = []string{"n0", "n1", "n2"}
	diffZones      = []string{"", "z1", "z2"}
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
	name := pick(r, diffServices...)
	svc := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: pick(r, diffNamespaces...), Name: name, UID: "uid-" + name}}
	if r.IntN(10) == 0 {
		svc.UID += "-recreated"
	}
	switch r.IntN(20) {
	case 0:
		// no selector
	case 1:
		svc.Spec.Selector = service.Labels{}
	default:
		svc.Spec.Selector = randLabels(r)
	}
	if r.IntN(20) == 0 {
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

func TestDifferential(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 5
	}
	const steps = 200
	events := map[string]int{}
	compared := 0
	var svcnetWrites, kubeWrites, resync int
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
		sv := newSvcnet(pick(r, 1, 2, 3, 100))
		maxEPS := sv.c.Config().MaxEndpointsPerSlice
		k := kubeSide{newKube(maxEPS)}
		both := []side{sv, k}
		services := map[service.NamespacedName]*service.Service{}
		for _, name := range diffNodes {
			n := &service.Node{ObjectMeta: service.ObjectMeta{Name: name, Labels: service.Labels{service.LabelTopologyZone: "z1"}}}
			for _, s := range both {
				must(t, s.upsertNode(n))
			}
		}
		var history []string
		for step := range steps {
			var ev string
			switch x := r.IntN(20); {
			case x < 5:
				svc := randService(r)
				services[svc.Key()] = svc
				ev = fmt.Sprintf("upsert service %s %v", svc.Key(), svc.Spec)
				for _, s := range both {
					must(t, s.upsertService(svc))
				}
			case x < 6:
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: pick(r, diffServices...)}
				delete(services, key)
				ev = "delete service " + key.String()
				for _, s := range both {
					must(t, s.deleteService(key))
				}
			case x < 16:
				p := randPod(r)
				ev = fmt.Sprintf("upsert pod %s %v %v %+v", p.Key(), p.Labels, p.Spec.NodeName, p.Status)
				for _, s := range both {
					must(t, s.upsertPod(p))
				}
			case x < 18:
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: fmt.Sprintf("p%d", r.IntN(diffPods))}
				ev = "delete pod " + key.String()
				for _, s := range both {
					must(t, s.deletePod(key))
				}
			default:
				n := randNode(r)
				ev = fmt.Sprintf("upsert node %s %v", n.Name, n.Labels)
				for _, s := range both {
					must(t, s.upsertNode(n))
				}
			}
			events[strings.Fields(ev)[0]+" "+strings.Fields(ev)[1]]++
			history = append(history, ev)
			kw := k.writes()
			must(t, k.syncAll())
			resync += k.writes() - kw

			for key, svc := range services {
				if svc.Spec.Type == service.ServiceTypeExternalName || svc.Spec.Selector == nil {
					if n := sv.sliceCount(key); n != 0 {
						t.Fatalf("seed %d step %d: %s has %d svcnet slices without a selector", seed, step, key, n)
					}
					continue
				}
				if la, lb := sv.labels(key), k.labels(key); !slices.Equal(la, lb) {
					t.Fatalf("seed %d step %d: %s slice labels: svcnet %v, kubernetes %v", seed, step, key, la, lb)
				}
				a, b := sv.slices(key), k.slices(key)
				compared += len(a)
				if !slices.Equal(a, b) {
					t.Fatalf("seed %d step %d (max %d): %s differs\nsvcnet:     %+v\nkubernetes: %+v\nlast events:\n  %s",
						seed, step, maxEPS, key, a, b, strings.Join(history[max(0, len(history)-8):], "\n  "))
				}
			}
		}
		svcnetWrites += sv.writes()
		kubeWrites += k.writes()
	}
	t.Logf("events: %v; endpoints compared: %d; slice writes: svcnet %d, kubernetes %d (%d of them in resyncs)", events, compared, svcnetWrites, kubeWrites, resync)
	if compared < seeds*steps {
		t.Errorf("only %d endpoints compared: the generators starve the comparison", compared)
	}
}

// TestPodEventWrites: on random pod events against fixed Services, svcnet
// writes no more slices than Kubernetes' event-driven controller, summed
// over each sequence.
func TestPodEventWrites(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	totalS, totalK := 0, 0
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
		for range 6 {
			svc := randService(r)
			for _, s := range both {
				must(t, s.upsertService(svc))
			}
		}
		s0, k0 := sv.writes(), k.writes()
		for range 300 {
			if r.IntN(6) == 0 {
				key := service.NamespacedName{Namespace: pick(r, diffNamespaces...), Name: fmt.Sprintf("p%d", r.IntN(diffPods))}
				for _, s := range both {
					must(t, s.deletePod(key))
				}
				continue
			}
			p := randPod(r)
			for _, s := range both {
				must(t, s.upsertPod(p))
			}
		}
		ws, wk := sv.writes()-s0, k.writes()-k0
		totalS, totalK = totalS+ws, totalK+wk
		if ws > wk {
			t.Errorf("seed %d (max %d): svcnet wrote %d slices, Kubernetes %d", seed, maxEPS, ws, wk)
		}
	}
	t.Logf("slice writes on pod events: svcnet %d, kubernetes %d", totalS, totalK)
}
