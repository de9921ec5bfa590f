package dnsname

import (
	"cmp"
	"fmt"
	"maps"
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
	var eps []*endpoints.Endpoint
	for range rapid.IntRange(0, 6).Draw(t, "eps") {
		eps = append(eps, genModelEndpoint(t))
	}
	return sliceOf(ns, svc, name, genModelPorts(t), eps...)
}

func genModelPorts(t *rapid.T) []endpoints.Port {
	var ps []endpoints.Port
	for i, p := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelPorts), 0, 2, rapid.ID[string]).Draw(t, "ports") {
		port := int32(8080 + i)
		if rapid.IntRange(0, 9).Draw(t, "badport") == 0 {
			port = 70000 // out of range: addresses, but no SRV record
		}
		ps = append(ps, endpoints.Port{Name: p, Protocol: rapid.SampledFrom([]service.Protocol{"TCP", "udp"}).Draw(t, "proto"), Port: port})
	}
	return ps
}

// genModelEndpoint makes an endpoint of one address mostly; sometimes two
// (as Kubernetes allows), an IPv4-mapped IPv6 one (published unmapped) or
// an invalid one (not published). Addresses repeat across endpoints.
func genModelEndpoint(t *rapid.T) *endpoints.Endpoint {
	e := ep(rapid.SampledFrom(modelIPs).Draw(t, "ip"), rapid.SampledFrom(modelHosts).Draw(t, "host"), rapid.Bool().Draw(t, "ready"))
	switch rapid.IntRange(0, 9).Draw(t, "addrs") {
	case 0:
		e.Addresses = append(e.Addresses, netip.MustParseAddr(rapid.SampledFrom(modelIPs).Draw(t, "ip2")))
	case 1:
		e.Addresses[0] = netip.AddrFrom16(e.Addresses[0].As16())
	case 2:
		e.Addresses[0] = netip.Addr{}
	}
	return e
}

// mutateSlice returns a copy of s with one change, as the endpoints
// controller makes them: a readiness flip, an endpoint added, removed,
// renamed or moved, or new ports.
func mutateSlice(t *rapid.T, s *endpoints.Slice) *endpoints.Slice {
	c := *s
	eps := slices.Clone(s.Endpoints)
	n := len(eps)
	switch op := rapid.IntRange(0, 5).Draw(t, "mutate"); {
	case op == 0 && n > 0:
		i := rapid.IntRange(0, n-1).Draw(t, "i")
		e := *eps[i] // published endpoints are immutable: a new one
		e.Conditions.Ready = !e.Conditions.Ready
		eps[i] = &e
	case op == 1 || n == 0:
		i := rapid.IntRange(0, n).Draw(t, "i")
		eps = slices.Insert(eps, i, genModelEndpoint(t))
	case op == 2:
		i := rapid.IntRange(0, n-1).Draw(t, "i")
		eps = slices.Delete(eps, i, i+1)
	case op == 3:
		i := rapid.IntRange(0, n-1).Draw(t, "i")
		e := *eps[i]
		e.Hostname = rapid.SampledFrom(modelHosts).Draw(t, "host")
		eps[i] = &e
	case op == 4:
		eps = append(eps[1:], eps[0])
	default:
		c.Ports = genModelPorts(t)
	}
	c.Endpoints = eps
	return &c
}

// mutateService returns a copy of s with one change that keeps its type:
// publishNotReadyAddresses, its ports or its clusterIPs.
func mutateService(t *rapid.T, s *service.Service) *service.Service {
	c := s.DeepCopy()
	switch rapid.IntRange(0, 2).Draw(t, "respec") {
	case 0:
		c.Spec.PublishNotReadyAddresses = !c.Spec.PublishNotReadyAddresses
	case 1:
		c.Spec.Ports = nil
		for i, p := range rapid.SliceOfNDistinct(rapid.SampledFrom(modelPorts), 0, 2, rapid.ID[string]).Draw(t, "ports") {
			c.Spec.Ports = append(c.Spec.Ports, service.ServicePort{Name: p, Protocol: service.ProtocolUDP, Port: int32(90 + i)})
		}
	default:
		if !c.IsHeadless() && c.Spec.Type != service.ServiceTypeExternalName {
			c.Spec.ClusterIPs = rapid.SliceOfNDistinct(rapid.SampledFrom(modelVIPs), 1, 2, rapid.ID[string]).Draw(t, "vips")
			c.Spec.ClusterIP = c.Spec.ClusterIPs[0]
		}
	}
	return c
}

// TestModel drives the resolver through random Service, slice, pod and
// namespace changes and checks, after every step, that its answers equal
// those of a resolver built from scratch from the same inputs, and that
// the snapshot before the step still answers as it did: the incremental
// writer shares structure with it and must not change it.
func TestModel(t *testing.T) {
	qs := queries()
	types := []Type{TypeA, TypeAAAA, TypeSRV, TypePTR, TypeCNAME}
	rapid.Check(t, func(t *rapid.T) {
		w := &world{
			services: map[service.NamespacedName]*service.Service{},
			slices:   map[string]*endpoints.Slice{},
			pods:     map[service.NamespacedName]*service.Pod{},
			declared: map[string]bool{},
		}
		r := NewResolver(Config{Pods: PodsVerified})
		// Memoize the answers of headless Services' wide names from
		// none, three or wideRows endpoint addresses on (see
		// wideCache); the fresh resolver always uses the default.
		r.wideRows = rapid.SampledFrom([]int{0, 3, wideRows}).Draw(t, "wide")
		// Index slices' rows by address from none, two or scanRows on.
		r.scanRows = rapid.SampledFrom([]int{0, 2, scanRows}).Draw(t, "scan")
		var prev *snapshot
		var prevFresh *Resolver
		steps := rapid.IntRange(1, 25).Draw(t, "steps")
		for i := range steps {
			var b Batch
			for range rapid.IntRange(1, 3).Draw(t, "ops") {
				switch rapid.IntRange(0, 9).Draw(t, "op") {
				case 0, 1:
					s := genModelService(t)
					w.services[s.Key()] = s
					b.UpsertService(s)
				case 2:
					k := keyOf(rapid.SampledFrom(modelNS).Draw(t, "ns"), rapid.SampledFrom(modelSvcs).Draw(t, "svc"))
					delete(w.services, k)
					b.DeleteService(k)
				case 3:
					keys := slices.SortedFunc(maps.Keys(w.services), func(x, y service.NamespacedName) int { return cmp.Compare(x.String(), y.String()) })
					if len(keys) == 0 {
						continue
					}
					s := mutateService(t, w.services[rapid.SampledFrom(keys).Draw(t, "svckey")])
					w.services[s.Key()] = s
					b.UpsertService(s)
				case 4:
					s := genModelSlice(t)
					id := s.Namespace + "/" + s.Name
					if old := w.slices[id]; old != nil && rapid.Bool().Draw(t, "update") {
						b.Slices(updated(old, s))
					} else {
						b.Slices(created(s)) // also over an existing slice
					}
					w.slices[id] = s
				case 5, 6:
					ids := slices.Sorted(maps.Keys(w.slices))
					if len(ids) == 0 {
						continue
					}
					id := rapid.SampledFrom(ids).Draw(t, "slicekey")
					s := mutateSlice(t, w.slices[id])
					b.Slices(updated(w.slices[id], s))
					w.slices[id] = s
				case 7:
					ids := slices.Sorted(maps.Keys(w.slices))
					if len(ids) == 0 {
						continue
					}
					id := rapid.SampledFrom(ids).Draw(t, "slicekey")
					b.Slices(deleted(w.slices[id]))
					delete(w.slices, id)
				case 8, 9:
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
			// The previous snapshot first: the writer has changed the
			// structures it shares with it.
			if prev != nil {
				for _, q := range qs {
					for _, qt := range types {
						got, want := r.resolve(prev, q, qt, 0).String(), prevFresh.Resolve(q, qt).String()
						require.Equal(t, want, got, fmt.Sprintf("step %d, previous snapshot: %s %s", i, q, qt))
					}
				}
			}
			if i == steps-1 || rapid.Bool().Draw(t, "check") {
				for _, q := range qs {
					for _, qt := range types {
						got, want := r.Resolve(q, qt).String(), f.Resolve(q, qt).String()
						require.Equal(t, want, got, fmt.Sprintf("step %d: %s %s", i, q, qt))
					}
				}
			}
			prev, prevFresh = r.snap.Load(), f
		}
	})
}
