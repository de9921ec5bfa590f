package proxy

import (
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// syncWorld is a control plane of n ClusterIP Services, each with one
// slice of eps endpoints, and one node's proxy that has routed a
// connection to every one of them (a pickers entry and a cached
// frontend per Service: the state a busy node carries).
type syncWorld struct {
	tab    *Table
	p      *Proxy
	slices []*endpoints.Slice
	step   int
}

func svcAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})
}

func newSyncWorld(tb testing.TB, n, eps int) *syncWorld {
	tb.Helper()
	w := &syncWorld{}
	b := NewTable().Builder()
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		svc := &service.Service{
			ObjectMeta: service.ObjectMeta{Name: name, Namespace: "default"},
			Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIP: svcAddr(i).String(),
				Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}}},
		}
		service.Default(svc)
		if err := b.UpsertService(svc); err != nil {
			tb.Fatal(err)
		}
		sl := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}}
		sl.Name, sl.Namespace = name+"-abcde", "default"
		for j := range eps {
			sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{
				Addresses: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(128 + i>>8), byte(i), byte(j + 1)})},
				NodeName:  fmt.Sprintf("node-%d", j%3), Zone: "z1",
				Conditions: endpoints.Conditions{Ready: true, Serving: true},
			})
		}
		w.slices = append(w.slices, sl)
		b.ApplySlices([]endpoints.Change{{Kind: endpoints.Created, Service: svc.Key(), Slice: sl}})
	}
	w.tab = b.Build()
	p, err := NewProxy(ProxyConfig{NodeName: "node-0", NodeZone: "z1",
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.128.0.0/9")}})
	if err != nil {
		tb.Fatal(err)
	}
	p.Sync(w.tab)
	for i := range n {
		if r := w.route(p, i); r.Verdict != Routed {
			tb.Fatalf("svc-%05d: %v", i, r.Verdict)
		}
	}
	w.p = p
	return w
}

func (w *syncWorld) route(p *Proxy, i int) Route {
	return p.Route(Packet{Src: netip.MustParseAddrPort("10.128.0.1:40000"), Dst: netip.AddrPortFrom(svcAddr(i), 80), Proto: lb.TCP}, t0)
}

// flip is one pod's readiness change as the endpoints controller
// publishes it: a new slice of the Service (next in turn) with one
// endpoint's Ready condition flipped, built into a new Table generation
// that the node's proxy syncs to, then routes one connection through.
func (w *syncWorld) flip(tb testing.TB) {
	i := w.step % len(w.slices)
	w.step++
	old := w.slices[i]
	sl := *old
	sl.Endpoints = slices.Clone(old.Endpoints)
	e := *sl.Endpoints[len(sl.Endpoints)-1] // a new endpoint: the old slice's is shared
	e.Conditions.Ready = !e.Conditions.Ready
	sl.Endpoints[len(sl.Endpoints)-1] = &e
	w.slices[i] = &sl
	b := w.tab.Builder()
	b.ApplySlices([]endpoints.Change{{Kind: endpoints.Updated, Service: service.NamespacedName{Namespace: "default", Name: old.Name[:len(old.Name)-6]}, Slice: &sl, Old: old}})
	w.tab = b.Build()
	w.p.Sync(w.tab)
	if r := w.route(w.p, i); r.Verdict != Routed {
		tb.Fatalf("svc %d after the flip: %v", i, r.Verdict)
	}
}

// BenchmarkSyncOneEndpoint is a node's whole proxy sync after one pod's
// readiness flips, with 1 000 and 20 000 Services in the table: the new
// Table generation, the node's Sync to it, and the first connection that
// refreshes the changed port's pickers. Its cost should not depend on
// the number of Services.
func BenchmarkSyncOneEndpoint(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			w := newSyncWorld(b, n, 3)
			b.ReportAllocs()
			for b.Loop() {
				w.flip(b)
			}
		})
	}
}

// TestSyncOneEndpointCost counts the allocations of BenchmarkSyncOneEndpoint's
// operation at 1 000 and 20 000 Services: a node's sync after one
// endpoint change costs what changed, not the table's size. The only
// growth allowed is the B-trees' copy-on-write path, one node per level
// of the Services and frontends trees (a level more at 20 000 than at
// 1 000 with degree 16), so a few allocations, where walking the
// Services would add one or more per Service.
func TestSyncOneEndpointCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a table of 20 000 Services")
	}
	allocs := map[int]float64{}
	for _, n := range []int{1000, 20000} {
		w := newSyncWorld(t, n, 3)
		allocs[n] = testing.AllocsPerRun(200, func() { w.flip(t) })
		require.Len(t, w.p.pickers, n, "every other Service's pickers are kept")
	}
	t.Logf("allocations per sync: %v", allocs)
	require.LessOrEqual(t, allocs[20000], allocs[1000]+10)
}

// checkProxyCache asserts that a proxy's caches agree with its table:
// every cached frontend is what a lookup of the table finds now, and
// every port with pickers is a port of the table.
func checkProxyCache(t require.TestingT, p *Proxy) {
	for k, sf := range p.seen {
		key := tableFrontend{addr: k.addr, port: k.port, proto: k.proto, ipv6: k.addr.Is6()}
		f, found := p.table.frontends.Get(key)
		if !found && p.local[k.addr] {
			key.addr = netip.Addr{}
			f, found = p.table.nodePorts.Get(key)
		}
		require.True(t, found, "cached frontend %v is not in the table", k)
		require.True(t, f.tp == sf.f.tp && f.kind == sf.f.kind && f.addr == sf.f.addr, "cached frontend %v is stale", k)
	}
	for k := range p.pickers {
		ts, ok := p.table.services.Get(&tableService{key: k.svc})
		require.True(t, ok && slices.ContainsFunc(ts.ports, func(tp *tablePort) bool { return tp.key == k }), "pickers of %v, a port the table does not have", k)
	}
}

// checkEndpointsFull asserts that every port's endpoints in t are what
// gathering and sorting them from all the Service's slices gives.
func checkEndpointsFull(t require.TestingT, tab *Table) {
	tab.services.Ascend(func(ts *tableService) bool {
		names := slices.Sorted(maps.Keys(ts.slices))
		ports := slicePortIndex(ts, names)
		for _, tp := range ts.ports {
			want, dups := portEndpoints(ts, names, ports, tp.svc.Spec.Ports[tp.spIdx], tp.key.ipv6)
			require.Equal(t, want, tp.eps, "endpoints of %v", tp.key)
			require.Equal(t, dups, tp.dups, "dups of %v", tp.key)
		}
		return true
	})
}

// checkFrontendsCurrent asserts that every frontend of t points at a
// port its Service has in t: none is left from an older build.
func checkFrontendsCurrent(t require.TestingT, tab *Table) {
	check := func(f tableFrontend) bool {
		ts, ok := tab.services.Get(&tableService{key: f.tp.key.svc})
		require.True(t, ok && slices.Contains(ts.ports, f.tp), "frontend %v:%d points at a port its Service does not have", f.addr, f.port)
		return true
	}
	tab.frontends.Ascend(check)
	tab.nodePorts.Ascend(check)
}

// TestPatchEndpointsSortsWhatChanged: one endpoint's readiness flips in
// one of ten slices of a hundred endpoints; the new table's endpoints of
// the port are those of a full gathering, and only the changed
// endpoint's old and new versions were sorted, not the slice's hundred
// (the new slice shares the other 99 endpoints by pointer) nor all
// thousand.
func TestPatchEndpointsSortsWhatChanged(t *testing.T) {
	svc := testService(service.ServiceTypeClusterIP)
	b := NewTable().Builder()
	require.NoError(t, b.UpsertService(svc))
	var chs []endpoints.Change
	for i := range 10 {
		var eps []ep
		for j := range 100 {
			eps = append(eps, ready(fmt.Sprintf("10.244.%d.%d", 100-i, j+1), "node-b", "z1"))
		}
		chs = append(chs, testSlice(fmt.Sprintf("web-%d", i), endpoints.AddressTypeIPv4, eps...))
	}
	b.ApplySlices(chs)
	tab := b.Build()
	require.Equal(t, 1000, b.sorted)
	old := chs[4].Slice
	sl := *old
	sl.Endpoints = slices.Clone(old.Endpoints)
	e := *old.Endpoints[50]
	e.Conditions.Ready = false
	sl.Endpoints[50] = &e
	b = tab.Builder()
	b.ApplySlices([]endpoints.Change{{Kind: endpoints.Updated, Service: svc.Key(), Slice: &sl, Old: old}})
	tab = b.Build()
	require.Equal(t, 2, b.sorted, "the changed endpoint's old and new versions only, not the slice's 200")
	checkEndpointsFull(t, tab)
	got := tab.Backends(svc.Key(), "http", service.ProtocolTCP, false)
	require.Len(t, got, 1000)
	require.Equal(t, 999, len(slices.DeleteFunc(got, func(b lb.Backend) bool { return !b.Ready })))
}

// TestSyncIncrementalMatchesFull drives tables through random changes
// (Services moving between addresses that collide, ports and NodePorts
// changing, slices coming and going, builds branching from older
// tables) and syncs one proxy to random tables among them, routing to
// random frontends in between. Every table's endpoints are those of a
// full gathering (checkEndpointsFull: patched ports included). After
// every sync its caches agree with
// the table (checkProxyCache), it keeps exactly the pickers of its ports
// the new table still has (what a full walk keeps), and it routes as a
// fresh proxy synced to the same table does; ChangedServices from the
// table it had is what a walk of both tables finds.
func TestSyncIncrementalMatchesFull(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		names := []string{"a", "b", "c", "d"}
		addrs := []string{"10.96.0.1", "10.96.0.2", "10.96.0.3"}
		tabs := []*Table{NewTable()}
		p, err := NewProxy(ProxyConfig{NodeName: "node-a", NodeZone: "z1",
			NodeAddresses:   []netip.Addr{netip.MustParseAddr("192.168.0.1")},
			ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
		require.NoError(rt, err)
		dsts := []string{"192.168.0.1:30080", "192.168.0.1:30081"}
		for _, a := range addrs {
			dsts = append(dsts, a+":80", a+":81")
		}
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			if rapid.Bool().Draw(rt, "build") {
				from := tabs[len(tabs)-1-rapid.IntRange(0, min(len(tabs)-1, 3)).Draw(rt, "from")]
				b := from.Builder()
				for range rapid.IntRange(1, 3).Draw(rt, "changes") {
					name := rapid.SampledFrom(names).Draw(rt, "name")
					key := service.NamespacedName{Namespace: "default", Name: name}
					switch rapid.IntRange(0, 4).Draw(rt, "op") {
					case 0:
						port := int32(rapid.IntRange(80, 81).Draw(rt, "port"))
						typ := rapid.SampledFrom([]service.ServiceType{service.ServiceTypeClusterIP, service.ServiceTypeNodePort}).Draw(rt, "type")
						svc := testService(typ, func(s *service.Service) {
							s.Name = name
							s.Spec.ClusterIP = rapid.SampledFrom(addrs).Draw(rt, "ip")
							s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
							s.Spec.Ports[0].Port = port
							if typ == service.ServiceTypeNodePort {
								s.Spec.Ports[0].NodePort = 30000 + port
							}
						})
						require.NoError(rt, b.UpsertService(svc))
					case 1:
						b.DeleteService(key)
					case 2:
						// Two slices per Service, whose addresses may
						// overlap (first slice by name wins).
						var eps []ep
						for a := range 4 {
							if rapid.Bool().Draw(rt, "has") {
								eps = append(eps, ep{addr: fmt.Sprintf("10.244.1.%d", a+1), node: "node-a", zone: "z1",
									ready: rapid.Bool().Draw(rt, "ready"), serving: true})
							}
						}
						ch := testSlice(name+rapid.SampledFrom([]string{"-1", "-2"}).Draw(rt, "slice"), endpoints.AddressTypeIPv4, eps...)
						ch.Service = key
						b.ApplySlices([]endpoints.Change{ch})
					case 4:
						// A new version of a slice the builder holds,
						// sharing its endpoints by pointer as the
						// endpoints controller does, with one edit:
						// the diff path of patchEndpoints.
						sname := name + rapid.SampledFrom([]string{"-1", "-2"}).Draw(rt, "slice")
						ts := b.get(key)
						if ts == nil || ts.slices[sname] == nil {
							continue
						}
						old := ts.slices[sname]
						sl := *old
						sl.Endpoints = slices.Clone(old.Endpoints)
						newEp := func() *endpoints.Endpoint {
							return &endpoints.Endpoint{
								Addresses: []netip.Addr{netip.MustParseAddr(fmt.Sprintf("10.244.1.%d", rapid.IntRange(1, 5).Draw(rt, "a")))},
								NodeName:  "node-a", Zone: "z1",
								Conditions: endpoints.Conditions{Ready: rapid.Bool().Draw(rt, "ready"), Serving: true}}
						}
						n := len(sl.Endpoints)
						switch rapid.IntRange(0, 5).Draw(rt, "edit") {
						case 0: // replace in place: a flip, or another address
							if n > 0 {
								i := rapid.IntRange(0, n-1).Draw(rt, "i")
								e := *sl.Endpoints[i]
								if rapid.Bool().Draw(rt, "flip") {
									e.Conditions.Ready = !e.Conditions.Ready
									sl.Endpoints[i] = &e
								} else {
									sl.Endpoints[i] = newEp()
								}
							}
						case 1: // remove: the last one moves into the hole
							if n > 0 {
								i := rapid.IntRange(0, n-1).Draw(rt, "i")
								sl.Endpoints[i] = sl.Endpoints[n-1]
								sl.Endpoints = sl.Endpoints[:n-1]
							}
						case 2: // append
							sl.Endpoints = append(sl.Endpoints, newEp())
						case 3: // two shared endpoints trade places
							if n > 1 {
								i, j := rapid.IntRange(0, n-1).Draw(rt, "i"), rapid.IntRange(0, n-1).Draw(rt, "j")
								sl.Endpoints[i], sl.Endpoints[j] = sl.Endpoints[j], sl.Endpoints[i]
							}
						case 4: // the port's number changes, endpoints shared
							sl.Ports = []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: int32(rapid.IntRange(8080, 8081).Draw(rt, "tport"))}}
						case 5: // a shared endpoint twice
							if n > 0 {
								sl.Endpoints = append(sl.Endpoints, sl.Endpoints[rapid.IntRange(0, n-1).Draw(rt, "i")])
							}
						}
						b.ApplySlices([]endpoints.Change{{Kind: endpoints.Updated, Service: key, Old: old, Slice: &sl}})
					case 3:
						sl := &endpoints.Slice{}
						sl.Name = name + rapid.SampledFrom([]string{"-1", "-2"}).Draw(rt, "slice")
						b.ApplySlices([]endpoints.Change{{Kind: endpoints.Deleted, Service: key, Old: sl}})
					}
				}
				tabs = append(tabs, b.Build())
				checkEndpointsFull(rt, tabs[len(tabs)-1])
				checkFrontendsCurrent(rt, tabs[len(tabs)-1])
			}
			tab := tabs[len(tabs)-1-rapid.IntRange(0, min(len(tabs)-1, 20)).Draw(rt, "sync")]
			before, prev := slices.Collect(maps.Keys(p.pickers)), p.table
			p.Sync(tab)
			checkProxyCache(rt, p)
			require.Equal(rt, p.changedByWalk(prev), p.ChangedServices(prev), "ChangedServices from the last builds and by a walk")
			for _, k := range before {
				ts, ok := tab.services.Get(&tableService{key: k.svc})
				want := ok && slices.ContainsFunc(ts.ports, func(tp *tablePort) bool { return tp.key == k })
				_, got := p.pickers[k]
				require.Equal(rt, want, got, "pickers of %v", k)
			}
			fresh, err := NewProxy(p.Config())
			require.NoError(rt, err)
			fresh.Sync(tab)
			for _, d := range dsts {
				dst := netip.MustParseAddrPort(d)
				pkt := Packet{Src: podSrc, Dst: dst, Proto: lb.TCP}
				got, want := p.Route(pkt, t0), fresh.Route(pkt, t0)
				require.Equal(rt, want.Verdict, got.Verdict, "%s", d)
				require.Equal(rt, want.Service, got.Service, "%s", d)
				require.Equal(rt, want.Kind, got.Kind, "%s", d)
				if want.Verdict == Routed {
					// The pickers' streams differ; the choice is among
					// the port's current endpoints.
					bs := tab.Backends(got.Service, got.PortName, service.ProtocolTCP, false)
					require.True(rt, slices.ContainsFunc(bs, func(b lb.Backend) bool { return b == got.Backend }), "%s: %v not among %v", d, got.Backend, bs)
					require.True(rt, tab.HasBackend(got.Service, got.PortName, service.ProtocolTCP, false, got.Backend.Addr), "%s: HasBackend(%v)", d, got.Backend.Addr)
				}
			}
			// HasBackend answers as a scan of Backends, for every
			// address a port may have and one it may not.
			for _, name := range names {
				key := service.NamespacedName{Namespace: "default", Name: name}
				bs := tab.Backends(key, "http", service.ProtocolTCP, false)
				for a := range 6 {
					for _, tport := range []uint16{8080, 8081} {
						ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 244, 1, byte(a)}), tport)
						want := slices.ContainsFunc(bs, func(b lb.Backend) bool { return b.Addr == ap })
						require.Equal(rt, want, tab.HasBackend(key, "http", service.ProtocolTCP, false, ap), "HasBackend(%v, %v)", key, ap)
					}
				}
			}
			checkProxyCache(rt, p)
		}
	})
}

// TestPatchEndpointsAllocs counts the allocations of a build after one
// endpoint's readiness flips in a 1 000-endpoint slice: the new slice
// shares the other 999 endpoints by pointer, so the build converts and
// sorts two endpoints (TestPatchEndpointsSortsWhatChanged) and its
// allocations do not depend on the slice's size, where converting both
// versions of the slice grew its buffers a dozen times each. The
// merged list of the port's endpoints is the one allocation that grows
// with the port.
func TestPatchEndpointsAllocs(t *testing.T) {
	allocs, bytes := map[int]float64{}, map[int]float64{}
	for _, n := range []int{10, 1000} {
		svc := testService(service.ServiceTypeClusterIP)
		b := NewTable().Builder()
		require.NoError(t, b.UpsertService(svc))
		var eps []ep
		for j := range n {
			eps = append(eps, ready(fmt.Sprintf("10.244.%d.%d", j/250, j%250+1), "node-b", "z1"))
		}
		ch := testSlice("web-1", endpoints.AddressTypeIPv4, eps...)
		b.ApplySlices([]endpoints.Change{ch})
		tab := b.Build()
		cur := ch.Slice
		k := 0
		flip := func() {
			sl := *cur
			sl.Endpoints = slices.Clone(cur.Endpoints)
			e := *cur.Endpoints[k%n]
			e.Conditions.Ready = !e.Conditions.Ready
			sl.Endpoints[k%n] = &e
			k++
			b := tab.Builder()
			b.ApplySlices([]endpoints.Change{{Kind: endpoints.Updated, Service: svc.Key(), Slice: &sl, Old: cur}})
			tab, cur = b.Build(), &sl
			if b.sorted != 2 {
				t.Fatalf("%d endpoints: sorted %d, want 2", n, b.sorted)
			}
		}
		allocs[n] = testing.AllocsPerRun(100, flip)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			flip()
		}
		runtime.ReadMemStats(&after)
		bytes[n] = float64(after.TotalAlloc-before.TotalAlloc) / 100
		checkEndpointsFull(t, tab)
		// The invariant check of every routed connection asks the
		// table whether it holds the pick: no allocation either.
		in := netip.MustParseAddrPort("10.244.0.1:8080")
		out := netip.MustParseAddrPort("10.244.9.9:8080")
		has := testing.AllocsPerRun(100, func() {
			if !tab.HasBackend(svc.Key(), "http", service.ProtocolTCP, false, in) || tab.HasBackend(svc.Key(), "http", service.ProtocolTCP, false, out) {
				t.Fatal("HasBackend is wrong")
			}
		})
		if !raceEnabled {
			require.Zero(t, has, "allocations of HasBackend")
		}
	}
	t.Logf("allocations per build: %v, bytes: %v", allocs, bytes)
	require.Equal(t, allocs[10], allocs[1000], "allocations do not grow with the slice")
	// What grows with the port is two lists of pointers, the slice's
	// (the flip's own copy) and the port's merged endpoints: 16 bytes an
	// endpoint, where a copy of the endpoints' values would be more than
	// an endpointInfo each.
	perEndpoint := (bytes[1000] - bytes[10]) / 990
	require.Less(t, perEndpoint, float64(unsafe.Sizeof(endpointInfo{})), "bytes per endpoint of the port")
}
