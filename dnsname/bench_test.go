package dnsname

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
)

// bigWorld is 10 000 ClusterIP Services over 100 namespaces, each with a
// named port, and one headless Service with 250 ready endpoints.
func bigWorld(tb testing.TB) *Resolver {
	r := NewResolver(Config{})
	var b Batch
	for i := range 10000 {
		ip := netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})
		b.UpsertService(newSvc(fmt.Sprintf("ns-%d", i%100), fmt.Sprintf("svc-%d", i), clusterIPs(ip.String()), ports(tcp("http", 80))))
	}
	b.UpsertService(newSvc("big", "db", headless(), ports(tcp("pg", 5432))))
	for _, s := range dbSlices() {
		b.Slices(created(s))
	}
	require.NoError(tb, r.Apply(&b))
	return r
}

// dbSlices are the slices of bigWorld's headless Service: db-0, db-100
// and db-200, of at most 100 endpoints.
func dbSlices() []*endpoints.Slice {
	var eps []*endpoints.Endpoint
	for i := range 250 {
		eps = append(eps, ep(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}).String(), fmt.Sprintf("db-%d", i), true))
	}
	var out []*endpoints.Slice
	for i := 0; i < 250; i += 100 {
		out = append(out, sliceOf("big", "db", fmt.Sprintf("db-%d", i), []endpoints.Port{eport("pg", 5432)}, eps[i:min(i+100, 250)]...))
	}
	return out
}

func TestNoAllocs(t *testing.T) {
	r := bigWorld(t)
	for _, q := range []struct {
		name string
		t    Type
		n    int
	}{
		{"svc-4242.ns-42.svc.cluster.local.", TypeA, 1},
		{"SVC-4242.Ns-42.svc.cluster.local", TypeA, 1}, // mixed case, no trailing dot
		{"svc-4242.ns-42.svc.cluster.local.", TypeAAAA, 0},
		{"_http._tcp.svc-4242.ns-42.svc.cluster.local.", TypeSRV, 1},
		{"db.big.svc.cluster.local.", TypeA, 250},
		{"_pg._tcp.db.big.svc.cluster.local.", TypeSRV, 250},
		{"db-7.db.big.svc.cluster.local.", TypeA, 1},
		{"146.16.96.10.in-addr.arpa.", TypePTR, 1},
		{"7.0.244.10.in-addr.arpa.", TypePTR, 1}, // db-7, in a slice of 100
		{"db-7.db.big.svc.cluster.local.", TypeSRV, 1},
		{PTRName(netip.MustParseAddr("fd00::1")), TypePTR, 0}, // NXDOMAIN
		{"nope.cluster.local.", TypeA, 0},
		{"example.com.", TypeA, 0},
		{"nope.ns-42.svc.cluster.local.", TypeA, 0},
	} {
		// The server path: answers made in a reused Scratch.
		var sc Scratch
		name := []byte(q.name)
		var resp Response
		allocs := testing.AllocsPerRun(200, func() { resp = r.ResolveInto(&sc, name, q.t) })
		require.Zero(t, allocs, "%s %s", q.name, q.t)
		require.Len(t, resp.Answer, q.n, "%s %s", q.name, q.t)
		require.Equal(t, r.Resolve(q.name, q.t).String(), resp.String(), "%s %s", q.name, q.t)
	}
}

// BenchmarkResolveClusterIP is the hot path: an A query for one ClusterIP
// Service among 10 000, answered in a reused Scratch as the server does.
// Goal: at most 150 ns and no allocation.
func BenchmarkResolveClusterIP(b *testing.B) {
	r := bigWorld(b)
	var sc Scratch
	name := []byte("svc-4242.ns-42.svc.cluster.local.")
	b.ReportAllocs()
	for b.Loop() {
		resp := r.ResolveInto(&sc, name, TypeA)
		if len(resp.Answer) != 1 {
			b.Fatal(resp)
		}
	}
}

// BenchmarkResolveHeadless250 queries a headless Service with 250 ready
// endpoints for its addresses and for its SRV records, in a reused
// Scratch.
func BenchmarkResolveHeadless250(b *testing.B) {
	r := bigWorld(b)
	for _, q := range []struct {
		name string
		t    Type
	}{{"db.big.svc.cluster.local.", TypeA}, {"_pg._tcp.db.big.svc.cluster.local.", TypeSRV}} {
		b.Run(q.t.String(), func(b *testing.B) {
			var sc Scratch
			name := []byte(q.name)
			b.ReportAllocs()
			for b.Loop() {
				if resp := r.ResolveInto(&sc, name, q.t); len(resp.Answer) != 250 {
					b.Fatal(len(resp.Answer))
				}
			}
		})
	}
}

// BenchmarkResolveSearch expands names from a pod in ns-42 with ndots:5:
// a Service found at the first candidate, and an external name that goes
// through the whole search list to an upstream.
func BenchmarkResolveSearch(b *testing.B) {
	r := bigWorld(b)
	r.upstream = func(name string, qtype Type) Response {
		if name == "www.example.com." {
			return Response{Answer: []Record{{Name: name, Type: TypeA, TTL: 60, Addr: netip.MustParseAddr("192.0.2.1")}}}
		}
		return Response{Rcode: RcodeNXDomain}
	}
	conf := Kubelet{ClusterDNS: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, Host: ResolvConf{Search: []string{"ec2.internal"}}}.ClusterFirst("ns-42")
	for _, q := range []struct{ name string }{{"svc-4242"}, {"www.example.com"}} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := r.ResolveSearch(conf, q.name, TypeA); res.Name == "" {
					b.Fatal(res.Queries)
				}
			}
		})
	}
}

// flipReady returns a copy of s with endpoint i's readiness flipped, as
// the endpoints controller publishes a readiness change.
func flipReady(s *endpoints.Slice, i int) *endpoints.Slice {
	c := *s
	c.Endpoints = slices.Clone(s.Endpoints)
	e := *s.Endpoints[i] // a new endpoint: s keeps its own
	e.Conditions.Ready = !e.Conditions.Ready
	e.Conditions.Serving = e.Conditions.Ready
	c.Endpoints[i] = &e
	return &c
}

// BenchmarkApplySliceUpdate measures one readiness change of an endpoint
// of the 250-endpoint headless Service among 10 000 Services: the slice
// update, the claims it touches and publishing a snapshot. Goal: at most
// 50 µs. "then-query" also asks for the Service's addresses, whose 250 A
// records every query makes.
func BenchmarkApplySliceUpdate(b *testing.B) {
	for _, query := range []bool{false, true} {
		name := "apply"
		if query {
			name = "then-query"
		}
		b.Run(name, func(b *testing.B) {
			r := bigWorld(b)
			old := dbSlices()[0]
			cur, next := old, flipReady(old, 0)
			b.ReportAllocs()
			for b.Loop() {
				if err := r.ApplySlices([]endpoints.Change{updated(cur, next)}); err != nil {
					b.Fatal(err)
				}
				if query {
					if resp := r.Resolve("db.big.svc.cluster.local.", TypeA); len(resp.Answer) < 249 {
						b.Fatal(len(resp.Answer))
					}
				}
				cur, next = next, cur
			}
		})
	}
}

// scaleWorld is the simulator's Kubernetes scale for DNS: 10 000
// ClusterIP Services over 100 namespaces, each with a named port and a
// slice of 15 ready endpoints (150 000 in all, each with a PTR record).
func scaleWorld(tb testing.TB) *Resolver {
	r := NewResolver(Config{})
	var b Batch
	for i := range 10000 {
		ns, name := fmt.Sprintf("ns-%d", i%100), fmt.Sprintf("svc-%d", i)
		ip := netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})
		b.UpsertService(newSvc(ns, name, clusterIPs(ip.String()), ports(tcp("http", 80))))
		b.Slices(created(scaleSlice(i)))
	}
	require.NoError(tb, r.Apply(&b))
	return r
}

// scaleSlice is the slice of scaleWorld's Service i.
func scaleSlice(i int) *endpoints.Slice {
	ns, name := fmt.Sprintf("ns-%d", i%100), fmt.Sprintf("svc-%d", i)
	eps := make([]*endpoints.Endpoint, 15)
	for j := range eps {
		k := i*15 + j
		eps[j] = ep(netip.AddrFrom4([4]byte{10, byte(128 + k>>16), byte(k >> 8), byte(k)}).String(), "", true)
	}
	return sliceOf(ns, name, name+"-abcde", []endpoints.Port{eport("http", 8080)}, eps...)
}

// BenchmarkApplySliceClusterIP measures one slice change of a ClusterIP
// Service at Kubernetes scale (scaleWorld): an endpoint's readiness
// flipping, and an endpoint added to and removed from the slice. Goal: at
// most 10 µs.
func BenchmarkApplySliceClusterIP(b *testing.B) {
	r := scaleWorld(b)
	old := scaleSlice(4242)
	name := podLabel(old.Endpoints[7].Address()) + ".svc-4242.ns-42.svc.cluster.local."
	if got := r.Resolve(name, TypeA); len(got.Answer) != 1 {
		b.Fatal(got)
	}
	b.Run("ready", func(b *testing.B) {
		cur, next := old, flipReady(old, 7)
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ApplySlices([]endpoints.Change{updated(cur, next)}); err != nil {
				b.Fatal(err)
			}
			cur, next = next, cur
		}
	})
	b.Run("add-remove", func(b *testing.B) {
		grown := *old
		grown.Endpoints = append(slices.Clone(old.Endpoints), ep("10.200.0.1", "", true))
		cur, next := old, &grown
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ApplySlices([]endpoints.Change{updated(cur, next)}); err != nil {
				b.Fatal(err)
			}
			cur, next = next, cur
		}
	})
}

// BenchmarkApplyService measures upserting one ClusterIP Service among
// 10 000: unchanged (a status update), and with its port changing.
func BenchmarkApplyService(b *testing.B) {
	r := bigWorld(b)
	svc := newSvc("ns-42", "svc-4242", clusterIPs("10.96.16.146"), ports(tcp("http", 80)))
	b.Run("same", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.UpsertService(svc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("port", func(b *testing.B) {
		other := newSvc("ns-42", "svc-4242", clusterIPs("10.96.16.146"), ports(tcp("https", 443)))
		cur, next := svc, other
		b.ReportAllocs()
		for b.Loop() {
			if err := r.UpsertService(next); err != nil {
				b.Fatal(err)
			}
			cur, next = next, cur
		}
	})
}
