package endpoints

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// Small pools, so that random events keep hitting the same objects.
var (
	genNamespaces = []string{"a", "b"}
	genServices   = []string{"s0", "s1", "s2"}
	genPods       = []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}
	genNodes      = []string{"n0", "n1", "n2"}
	genZones      = []string{"", "z1", "z2"}
)

func genLabels(t *rapid.T, name string) service.Labels {
	ls := service.Labels{}
	for _, k := range []string{"app", "tier"} {
		if v := rapid.SampledFrom([]string{"", "x", "y"}).Draw(t, name+"."+k); v != "" {
			ls[k] = v
		}
	}
	return ls
}

func genService(t *rapid.T) *service.Service {
	svc := &service.Service{ObjectMeta: service.ObjectMeta{
		Namespace: rapid.SampledFrom(genNamespaces).Draw(t, "ns"),
		Name:      rapid.SampledFrom(genServices).Draw(t, "name"),
		UID:       rapid.SampledFrom([]string{"uid-1", "uid-1", "uid-1", "uid-2"}).Draw(t, "uid"),
	}}
	switch rapid.IntRange(0, 9).Draw(t, "selectorKind") {
	case 0:
		// nil selector: no slices from the controller
	case 1:
		svc.Spec.Selector = service.Labels{}
	default:
		svc.Spec.Selector = genLabels(t, "selector")
	}
	if rapid.IntRange(0, 9).Draw(t, "externalName") == 0 {
		svc.Spec.Type = service.ServiceTypeExternalName
		svc.Spec.ExternalName = "example.com"
	}
	if rapid.Bool().Draw(t, "labelled") {
		svc.Labels = service.Labels{"team": rapid.SampledFrom([]string{"a", "b"}).Draw(t, "team")}
	}
	svc.Spec.ClusterIP = rapid.SampledFrom([]string{"10.96.0.1", "fd00::1", "None", ""}).Draw(t, "clusterIP")
	svc.Spec.IPFamilies = rapid.SampledFrom([][]service.IPFamily{
		nil, {service.IPv4Protocol}, {service.IPv6Protocol},
		{service.IPv4Protocol, service.IPv6Protocol}, {service.IPv6Protocol, service.IPv4Protocol},
	}).Draw(t, "families")
	svc.Spec.PublishNotReadyAddresses = rapid.IntRange(0, 3).Draw(t, "pnr") == 0
	if td := rapid.SampledFrom([]string{"", "", "PreferClose", "PreferSameZone", "PreferSameNode", "Bogus"}).Draw(t, "td"); td != "" {
		svc.Spec.TrafficDistribution = &td
	}
	n := rapid.IntRange(0, 2).Draw(t, "ports")
	for i := range n {
		sp := service.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i)}
		switch rapid.IntRange(0, 4).Draw(t, "target") {
		case 0:
			// unset: the port itself
		case 1:
			sp.TargetPort = service.FromInt(8080)
		case 2:
			sp.TargetPort = service.FromString("http")
		case 3:
			sp.TargetPort = service.FromString("dns")
			sp.Protocol = service.ProtocolUDP
		case 4:
			sp.TargetPort = service.FromString("metrics")
		}
		if rapid.IntRange(0, 4).Draw(t, "appProtocol") == 0 {
			app := "http"
			sp.AppProtocol = &app
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc
}

func genPod(t *rapid.T) *service.Pod {
	p := &service.Pod{ObjectMeta: service.ObjectMeta{
		Namespace: rapid.SampledFrom(genNamespaces).Draw(t, "ns"),
		Name:      rapid.SampledFrom(genPods).Draw(t, "name"),
		UID:       "uid-" + rapid.SampledFrom([]string{"1", "2"}).Draw(t, "uid"),
		Labels:    genLabels(t, "labels"),
	}}
	p.Spec.NodeName = rapid.SampledFrom(append([]string{""}, genNodes...)).Draw(t, "node")
	p.Spec.Hostname = rapid.SampledFrom([]string{"", "h"}).Draw(t, "hostname")
	p.Spec.Subdomain = rapid.SampledFrom(append([]string{""}, genServices...)).Draw(t, "subdomain")
	p.Status.Phase = rapid.SampledFrom([]service.PodPhase{service.PodRunning, service.PodRunning, service.PodRunning, service.PodPending, service.PodSucceeded, service.PodFailed}).Draw(t, "phase")
	p.SetReady(rapid.Bool().Draw(t, "ready"))
	if rapid.IntRange(0, 4).Draw(t, "terminating") == 0 {
		ts := time.Unix(1, 0)
		p.DeletionTimestamp = &ts
	}
	v4 := fmt.Sprintf("10.0.0.%d", rapid.IntRange(1, 9).Draw(t, "v4"))
	v6 := fmt.Sprintf("fd00::%d", rapid.IntRange(1, 9).Draw(t, "v6"))
	switch rapid.IntRange(0, 7).Draw(t, "ips") {
	case 0:
	case 1:
		p.Status.PodIP = v4 // podIP only
	case 2, 3:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}}
	case 4:
		p.Status.PodIP, p.Status.PodIPs = v6, []service.PodIP{{IP: v6}}
	case 5, 6:
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}, {IP: v6}}
	case 7:
		bad := rapid.SampledFrom([]string{"127.0.0.1", "169.254.1.1", "::1", "0.0.0.0", "fe80::1"}).Draw(t, "bad")
		p.Status.PodIP, p.Status.PodIPs = v4, []service.PodIP{{IP: v4}, {IP: bad}}
	}
	c := service.Container{Name: "main"}
	if rapid.Bool().Draw(t, "http") {
		c.Ports = append(c.Ports, service.ContainerPort{Name: "http", ContainerPort: int32(rapid.SampledFrom([]int{8080, 9090}).Draw(t, "httpPort"))})
	}
	if rapid.Bool().Draw(t, "dns") {
		proto := rapid.SampledFrom([]service.Protocol{service.ProtocolUDP, service.ProtocolTCP}).Draw(t, "dnsProto")
		c.Ports = append(c.Ports, service.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: proto})
	}
	p.Spec.Containers = []service.Container{c}
	if rapid.IntRange(0, 3).Draw(t, "sidecar") == 0 {
		always := rapid.SampledFrom([]string{"Always", "OnFailure"}).Draw(t, "sidecarRestart")
		p.Spec.InitContainers = []service.Container{{Name: "side", RestartPolicy: &always,
			Ports: []service.ContainerPort{{Name: "metrics", ContainerPort: 9100}}}}
	}
	return p
}

// machine drives a Controller and the model with the same events and
// checks, after each, that the slices hold exactly the model's
// endpoints, packed within the limits, and that the changes returned
// describe exactly how the slices moved.
type machine struct {
	c      *Controller
	m      *model
	mirror map[service.NamespacedName]map[string]*Slice // slices as rebuilt from the changes
	prints map[*Slice]string                            // each published slice as first seen
}

func newMachine(cfg Config) *machine {
	return &machine{
		c:      NewController(cfg),
		m:      newModel(cfg),
		mirror: map[service.NamespacedName]map[string]*Slice{},
		prints: map[*Slice]string{},
	}
}

func fingerprint(s *Slice) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// apply replays changes onto the mirror, checking that each is
// consistent with what the mirror holds, and that no published slice
// was modified afterwards. It returns the writes per service and
// address type.
func (mc *machine) apply(t *rapid.T, changes []Change) map[string]int {
	writes := map[string]int{}
	checkOld := func(ch Change) {
		cur := mc.mirror[ch.Service][ch.Old.Name]
		if cur != ch.Old {
			t.Fatalf("%s of %s: Old is not the slice last published", ch.Kind, ch.Old.Name)
		}
		if fingerprint(ch.Old) != mc.prints[ch.Old] {
			t.Fatalf("published slice %s was modified after publication", ch.Old.Name)
		}
		delete(mc.prints, ch.Old)
	}
	for _, ch := range changes {
		if mc.mirror[ch.Service] == nil {
			mc.mirror[ch.Service] = map[string]*Slice{}
		}
		var at AddressType
		switch ch.Kind {
		case Created:
			if ch.Old != nil || ch.Slice == nil {
				t.Fatalf("created: Old %v, Slice %v", ch.Old, ch.Slice)
			}
			if mc.mirror[ch.Service][ch.Slice.Name] != nil {
				t.Fatalf("created %s, which exists", ch.Slice.Name)
			}
			if ch.Slice.Generation != 1 {
				t.Fatalf("created %s with generation %d", ch.Slice.Name, ch.Slice.Generation)
			}
			at = ch.Slice.AddressType
		case Updated:
			checkOld(ch)
			if ch.Slice.Name != ch.Old.Name || ch.Slice.Generation != ch.Old.Generation+1 || ch.Slice.AddressType != ch.Old.AddressType {
				t.Fatalf("updated %s gen %d to %s gen %d", ch.Old.Name, ch.Old.Generation, ch.Slice.Name, ch.Slice.Generation)
			}
			at = ch.Slice.AddressType
		case Deleted:
			checkOld(ch)
			if ch.Slice != nil {
				t.Fatalf("deleted with a Slice")
			}
			delete(mc.mirror[ch.Service], ch.Old.Name)
			writes[ch.Service.String()+"/"+string(ch.Old.AddressType)]++
			continue
		default:
			t.Fatalf("change kind %d", ch.Kind)
		}
		if ch.Slice.Namespace != ch.Service.Namespace || ch.Slice.ServiceName() != ch.Service.Name {
			t.Fatalf("slice %s/%s labelled for %s, change for %s", ch.Slice.Namespace, ch.Slice.Name, ch.Slice.ServiceName(), ch.Service)
		}
		mc.mirror[ch.Service][ch.Slice.Name] = ch.Slice
		mc.prints[ch.Slice] = fingerprint(ch.Slice)
		writes[ch.Service.String()+"/"+string(at)]++
	}
	return writes
}

// checkSkips checks the *NodeNotFoundErrors in err against the model:
// each names a pod and a Service the model skips; when exact, every pod
// the filter accepts is reported for every Service that skips it.
func (mc *machine) checkSkips(t *rapid.T, err error, exact bool, filter func(*service.Pod) bool) {
	got := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case *NodeNotFoundError:
			k := e.Pod.String() + "@" + e.Node + " for " + e.Service.String()
			if got[k] {
				t.Fatalf("skip reported twice: %s", k)
			}
			got[k] = true
			svc, p := mc.m.services[e.Service], mc.m.pods[e.Pod]
			if svc == nil || p == nil || p.Spec.NodeName != e.Node || !mc.m.skipped(svc, p) {
				t.Fatalf("reported %s, which the model does not skip", k)
			}
		case *SkippedPodError:
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	}
	walk(err)
	if !exact {
		return
	}
	for _, svc := range mc.m.services {
		for _, p := range mc.m.pods {
			if filter(p) && mc.m.skipped(svc, p) {
				if k := p.Key().String() + "@" + p.Spec.NodeName + " for " + svc.Key().String(); !got[k] {
					t.Fatalf("%s skipped but not reported (error %v)", k, err)
				}
			}
		}
	}
}

// check compares the controller's slices with the mirror and the model.
func (mc *machine) check(t *rapid.T) {
	keys := map[service.NamespacedName]bool{}
	for k := range mc.m.services {
		keys[k] = true
	}
	for k := range mc.mirror {
		keys[k] = true
	}
	max := mc.c.Config().MaxEndpointsPerSlice
	for key := range keys {
		got := mc.c.Slices(key)
		mirror := mc.mirror[key]
		if len(got) != len(mirror) {
			t.Fatalf("%s: Slices has %d slices, the changes built %d", key, len(got), len(mirror))
		}
		for _, s := range got {
			if mirror[s.Name] != s {
				t.Fatalf("%s: slice %s differs from what the changes built", key, s.Name)
			}
			if fingerprint(s) != mc.prints[s] {
				t.Fatalf("%s: published slice %s was modified", key, s.Name)
			}
		}
		svc := mc.m.services[key]
		frozen, isFrozen := mc.m.frozen[key]
		if !isFrozen && (svc == nil || !modelManaged(svc)) {
			if len(got) > 0 {
				t.Fatalf("%s: %d slices for a Service without slices", key, len(got))
			}
			continue
		}
		perFamily := map[AddressType][]*Slice{}
		for _, s := range got {
			perFamily[s.AddressType] = append(perFamily[s.AddressType], s)
			if len(s.Endpoints) > max {
				t.Fatalf("%s: slice %s has %d endpoints, max %d", key, s.Name, len(s.Endpoints), max)
			}
			if s.Labels[LabelManagedBy] != mc.c.Config().ManagedBy {
				t.Fatalf("%s: slice %s labels %v", key, s.Name, s.Labels)
			}
			if len(s.Endpoints) == 0 && len(s.Ports) != 0 {
				t.Fatalf("%s: empty slice %s has ports %v", key, s.Name, s.Ports)
			}
		}
		fams := frozen.families
		if !isFrozen {
			fams = modelFamilies(svc)
		}
		if len(perFamily) != len(fams) {
			t.Fatalf("%s: slices for %d families, want %v", key, len(perFamily), fams)
		}
		for _, fam := range fams {
			ss := perFamily[fam]
			if len(ss) == 0 {
				t.Fatalf("%s: no slice (not even a placeholder) for %s", key, fam)
			}
			empty := 0
			for _, s := range ss {
				if len(s.Endpoints) == 0 {
					empty++
				}
			}
			// The placeholder may stay beside other slices only while a
			// pod keeps the empty port set desired (reconcileByAddressType).
			if empty > 1 || empty == 1 && len(ss) > 1 && !isFrozen && !mc.m.wantsEmptyPorts(svc) {
				t.Fatalf("%s: %d empty slices among %d of %s", key, empty, len(ss), fam)
			}
		}
		have, err := flatten(got)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		want := mc.m.endpoints(key)
		if !maps.Equal(have, want) {
			for k, w := range want {
				if have[k] != w {
					t.Errorf("%s: %s: have %v, want %v", key, k, have[k], w)
				}
			}
			for k, h := range have {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: %s: have %v, want none", key, k, h)
				}
			}
			t.FailNow()
		}
	}
}

// TestControllerMatchesModel runs the state machine in several rounds of
// rapid's checks (each round from a fresh seed): the interesting
// interleavings, such as a selector change that both removes and adds
// endpoints of one port set, are rare per run.
func TestControllerMatchesModel(t *testing.T) {
	rounds := 8
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		t.Run(fmt.Sprint("round-", round), func(t *testing.T) { rapid.Check(t, checkControllerMatchesModel) })
	}
}

func checkControllerMatchesModel(t *rapid.T) {
	{
		cfg := Config{
			MaxEndpointsPerSlice: rapid.IntRange(1, 4).Draw(t, "max"),
			Topology: Topology{
				PreferCloseOnly:           rapid.IntRange(0, 3).Draw(t, "closeOnly") == 0,
				IgnoreTrafficDistribution: rapid.IntRange(0, 5).Draw(t, "ignoreTD") == 0,
			},
		}
		mc := newMachine(cfg)
		// Groups past this many slices are filed in a B-tree: lower it
		// so that both filings meet the model.
		mc.c.smallGroup = rapid.SampledFrom([]int{0, 1, 2, smallGroup}).Draw(t, "smallGroup")
		// Start from a populated cluster, so that 30-odd random steps
		// work on full slices rather than on an empty world.
		for range rapid.IntRange(0, 12).Draw(t, "initialPods") {
			pod := genPod(t)
			changes, _ := mc.c.UpsertPod(pod)
			mc.m.pods[pod.Key()] = pod
			mc.apply(t, changes)
		}
		t.Repeat(map[string]func(*rapid.T){
			"upsertService": func(t *rapid.T) {
				svc := genService(t)
				changes, err := mc.c.UpsertService(svc)
				mc.m.upsertService(svc.DeepCopy())
				mc.checkSkips(t, err, false, nil)
				mc.apply(t, changes)
			},
			"reselect": func(t *rapid.T) {
				// Change only one Service's selector or ports, so that
				// many pods join, leave or move between port sets in one
				// sync: the reconciler's steps 2 and 3 at full width.
				keys := slices.SortedFunc(maps.Keys(mc.m.services), func(a, b service.NamespacedName) int {
					return strings.Compare(a.String(), b.String())
				})
				if len(keys) == 0 {
					t.Skip("no service")
				}
				svc := mc.m.services[rapid.SampledFrom(keys).Draw(t, "service")].DeepCopy()
				if rapid.Bool().Draw(t, "selector") {
					svc.Spec.Selector = genLabels(t, "selector")
				} else {
					other := genService(t)
					svc.Spec.Ports = other.Spec.Ports
				}
				changes, err := mc.c.UpsertService(svc)
				mc.m.upsertService(svc)
				mc.checkSkips(t, err, false, nil)
				mc.apply(t, changes)
			},
			"deleteService": func(t *rapid.T) {
				key := service.NamespacedName{Namespace: rapid.SampledFrom(genNamespaces).Draw(t, "ns"), Name: rapid.SampledFrom(genServices).Draw(t, "name")}
				changes := mc.c.DeleteService(key)
				mc.m.deleteService(key)
				mc.apply(t, changes)
			},
			"upsertPod": func(t *rapid.T) {
				pod := genPod(t)
				changes, err := mc.c.UpsertPod(pod)
				_, good := modelPodIPs(pod)
				var skip *SkippedPodError
				if good == errors.As(err, &skip) || skip != nil && skip.Pod != pod.Key() {
					t.Fatalf("UpsertPod error %v, IPs acceptable: %v", err, good)
				}
				// The pod reached the controller all the same: keep it,
				// and check the caller's object is not retained.
				mc.m.pods[pod.Key()] = pod.DeepCopy()
				mc.checkSkips(t, err, true, func(p *service.Pod) bool { return p.Key() == pod.Key() })
				pod.Labels["mutated"] = "after"
				pod.Spec.Containers[0].Ports = nil
				for w, n := range mc.apply(t, changes) {
					// One pod event moves one endpoint per address type:
					// out of one slice and into another at worst.
					if n > 2 {
						t.Fatalf("pod event wrote %d slices of %s", n, w)
					}
				}
			},
			"deletePod": func(t *rapid.T) {
				key := service.NamespacedName{Namespace: rapid.SampledFrom(genNamespaces).Draw(t, "ns"), Name: rapid.SampledFrom(genPods).Draw(t, "name")}
				changes := mc.c.DeletePod(key)
				delete(mc.m.pods, key)
				// A deletion removes the pod's endpoint from one slice per
				// address type. It may also delete the family's
				// endpoint-less placeholder, when this pod was the last to
				// keep the empty port set desired beside slices with
				// endpoints: reconcileByAddressType then finds that port
				// set no longer desired and deletes its slices, the
				// placeholder among them.
				placeholders := map[string]int{}
				for _, ch := range changes {
					if ch.Kind == Deleted && len(ch.Old.Endpoints) == 0 {
						placeholders[ch.Service.String()+"/"+string(ch.Old.AddressType)]++
					}
				}
				for w, n := range mc.apply(t, changes) {
					if ph := placeholders[w]; ph > 1 || n-ph > 1 {
						t.Fatalf("pod deletion wrote %d slices of %s (%d placeholders)", n, w, ph)
					}
				}
			},
			"upsertNode": func(t *rapid.T) {
				name := rapid.SampledFrom(genNodes).Draw(t, "node")
				zone := rapid.SampledFrom(genZones).Draw(t, "zone")
				n := &service.Node{ObjectMeta: service.ObjectMeta{Name: name}}
				if zone != "" {
					n.Labels = service.Labels{service.LabelTopologyZone: zone}
				}
				changes, err := mc.c.UpsertNode(n)
				if err != nil {
					t.Fatal(err)
				}
				mc.m.zones[name] = zone
				mc.apply(t, changes)
			},
			"deleteNode": func(t *rapid.T) {
				name := rapid.SampledFrom(genNodes).Draw(t, "node")
				changes, err := mc.c.DeleteNode(name)
				_, known := mc.m.zones[name]
				delete(mc.m.zones, name)
				if known {
					mc.checkSkips(t, err, true, func(p *service.Pod) bool { return p.Spec.NodeName == name })
				} else if err != nil || len(changes) > 0 {
					t.Fatalf("DeleteNode of an unknown node: %v, %d changes", err, len(changes))
				}
				mc.apply(t, changes)
			},
			"": func(t *rapid.T) { mc.check(t) },
		})
	}
}

// TestGeneratorsReachCases double-checks the generators: the pools must
// reach every interesting case, or the state machine proves little.
func TestGeneratorsReachCases(t *testing.T) {
	seen := map[string]bool{}
	rapid.Check(t, func(t *rapid.T) {
		p := genPod(t)
		if _, ok := modelPodIPs(p); !ok {
			seen["bad ip"] = true
		}
		if len(p.Status.PodIPs) == 2 {
			seen["dual"] = true
		}
		svc := genService(t)
		if svc.Spec.Selector == nil {
			seen["nil selector"] = true
		} else if len(svc.Spec.Selector) == 0 {
			seen["empty selector"] = true
		}
		for _, sp := range svc.Spec.Ports {
			if sp.TargetPort.IsString {
				seen["named"] = true
			}
		}
	})
	want := []string{"bad ip", "dual", "nil selector", "empty selector", "named"}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("generators never produced %q", w)
		}
	}
}
