package dnsname

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// world is the naive model: the current inputs, from which a fresh
// resolver is built in one batch. The incremental resolver must answer
// exactly as the fresh one after every step.
type world struct {
	services map[service.NamespacedName]*service.Service
	slices   map[string]*endpoints.Slice // by namespace/slice name
	pods     map[service.NamespacedName]*service.Pod
	declared map[string]bool
}

var (
	modelNS    = []string{"a", "b"}
	modelSvcs  = []string{"s1", "s2", "s3"}
	modelIPs   = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "fd00::1", "fd00::2"}
	modelVIPs  = []string{"10.96.0.1", "10.96.0.2", "fd00:96::1", "10.0.0.1"} // one VIP collides with a pod IP
	modelHosts = []string{"", "", "h0", "h1"}
	modelPorts = []string{"", "http", "dns"}
)

func (w *world) fresh(t require.TestingT) *Resolver {
	r := NewResolver(Config{Pods: PodsVerified})
	var b Batch
	for _, s := range w.services {
		b.UpsertService(s)
	}
	for _, s := range w.slices {
		b.Slices(created(s))
	}
	for _, p := range w.pods {
		b.UpsertPod(p)
	}
	for ns := range w.declared {
		b.UpsertNamespace(ns)
	}
	require.NoError(t, r.Apply(&b))
	return r
}

func queries() []string {
	var qs []string
	for _, ns := range modelNS {
		qs = append(qs, ns+".svc.cluster.local", ns+".pod.cluster.local")
		for _, s := range modelSvcs {
			base := s + "." + ns + ".svc.cluster.local"
			qs = append(qs, base)
			for _, p := range modelPorts[1:] {
				qs = append(qs, "_"+p+"._tcp."+base, "_"+p+"._udp."+base)
			}
			for _, h := range modelHosts[2:] {
				qs = append(qs, h+"."+base)
			}
			for _, ip := range modelIPs {
				qs = append(qs, podLabel(netip.MustParseAddr(ip))+"."+base)
			}
		}
		for _, ip := range modelIPs {
			qs = append(qs, PodName(netip.MustParseAddr(ip), ns, ""))
		}
	}
	for _, ip := range append(slices.Clone(modelIPs), modelVIPs...) {
		qs = append(qs, PTRName(netip.MustParseAddr(ip)))
	}
	return qs
}

func genModelService(t *rapid.T) *service.Service {
	ns := rapid.SampledFrom(modelNS).Draw(t, "ns")
	name := rapid.SampledFrom(modelSvcs).Draw(t, "svc")
	s := newSvc(ns, name)
	switch rapid.IntRange(0, 3).Draw(t, "type") {
	case 0:
		s.Spec.ClusterIPs = rapid.SliceOfNDistinct(rapid.SampledFrom(modelVIPs), 0, 2, rapid.ID[string]).Draw(t, "vips")
	case 1:
		headless()(s)
	case 2:
		externalName(rapid.SampledFrom([]string{"ext.example.com", "s1.a.svc.cluster.local", "10.1.2.3"}).Draw(t, "ext"))(s)
	case 3:
		s.Spec.ClusterIP = rapid.SampledFrom(modelVIPs).Draw(t, "vip")
	}
	s.Spec.PublishNotReadyAddresses = rapid.Bool().Draw(t, "pnr")
	for i, p := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelPorts), 0, 2, rapid.ID[string]).Draw(t, "ports") {
		s.Spec.Ports = append(s.Spec.Ports, service.ServicePort{Name: p, Protocol: rapid.SampledFrom([]service.Protocol{"", "TCP", "UDP"}).Draw(t, "proto"), Port: int32(80 + i)})
	}
	return s
}

func genModelSlice(t *rapid.T) *endpoints.Slice {
	ns := rapid.SampledFrom(modelNS).Draw(t, "ns")
	svc := rapid.SampledFrom(modelSvcs).Draw(t, "svc")
	name := svc + "-" + rapid.SampledFrom([]string{"x", "y"}).Draw(t, "slice")
	var ps []endpoints.Port
	for i, p := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelPorts), 0, 2, rapid.ID[string]).Draw(t, "ports") {
		ps = append(ps, endpoints.Port{Name: p, Protocol: service.ProtocolTCP, Port: int32(8080 + i)})
	}
	var eps []endpoints.Endpoint
	for _, ip := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelIPs), 0, 4, rapid.ID[string]).Draw(t, "ips") {
		eps = append(eps, ep(ip, rapid.SampledFrom(modelHosts).Draw(t, "host"), rapid.Bool().Draw(t, "ready")))
	}
	return sliceOf(ns, svc, name, ps, eps...)
}

// TestModel drives the resolver through random Service, slice, pod and
// namespace changes and checks, after every step, that its answers equal
// those of a resolver built from scratch from the same inputs.
func TestModel(t *testing.T) {
	qs := queries()
	rapid.Check(t, func(t *rapid.T) {
		w := &world{
			services: map[service.NamespacedName]*service.Service{},
			slices:   map[string]*endpoints.Slice{},
			pods:     map[service.NamespacedName]*service.Pod{},
			declared: map[string]bool{},
		}
		r := NewResolver(Config{Pods: PodsVerified})
		steps := rapid.IntRange(1, 25).Draw(t, "steps")
		for i := range steps {
			var b Batch
			for range rapid.IntRange(1, 3).Draw(t, "ops") {
				switch rapid.IntRange(0, 6).Draw(t, "op") {
				case 0, 1:
					s := genModelService(t)
					w.services[s.Key()] = s
					b.UpsertService(s)
				case 2:
					k := keyOf(rapid.SampledFrom(modelNS).Draw(t, "ns"), rapid.SampledFrom(modelSvcs).Draw(t, "svc"))
					delete(w.services, k)
					b.DeleteService(k)
				case 3, 4:
					s := genModelSlice(t)
					id := s.Namespace + "/" + s.Name
					if old := w.slices[id]; old != nil {
						b.Slices(updated(old, s))
					} else {
						b.Slices(created(s))
					}
					w.slices[id] = s
				case 5:
					id := rapid.SampledFrom(modelNS).Draw(t, "ns") + "/" + rapid.SampledFrom(modelSvcs).Draw(t, "svc") + "-x"
					if old := w.slices[id]; old != nil {
						b.Slices(deleted(old))
						delete(w.slices, id)
					}
				case 6:
					ns := rapid.SampledFrom(modelNS).Draw(t, "ns")
					k := keyOf(ns, rapid.SampledFrom([]string{"p0", "p1"}).Draw(t, "pod"))
					switch rapid.IntRange(0, 2).Draw(t, "podop") {
					case 0:
						p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: k.Name}}
						for _, ip := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelIPs), 0, 2, rapid.ID[string]).Draw(t, "podips") {
							p.Status.PodIPs = append(p.Status.PodIPs, service.PodIP{IP: ip})
						}
						w.pods[k] = p
						b.UpsertPod(p)
					case 1:
						delete(w.pods, k)
						b.DeletePod(k)
					case 2:
						if w.declared[ns] {
							delete(w.declared, ns)
							b.DeleteNamespace(ns)
						} else {
							w.declared[ns] = true
							b.UpsertNamespace(ns)
						}
					}
				}
			}
			require.NoError(t, r.Apply(&b))
			f := w.fresh(t)
			for _, q := range qs {
				for _, qt := range []Type{TypeA, TypeAAAA, TypeSRV, TypePTR, TypeCNAME} {
					got, want := r.Resolve(q, qt), f.Resolve(q, qt)
					require.Equal(t, want.String(), got.String(), fmt.Sprintf("step %d: %s %s", i, q, qt))
				}
			}
		}
	})
}
