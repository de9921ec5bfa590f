package dnsname

import (
	"fmt"
	"net/netip"
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
	var eps []endpoints.Endpoint
	for i := range 250 {
		eps = append(eps, ep(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}).String(), fmt.Sprintf("db-%d", i), true))
	}
	for i := 0; i < 250; i += 100 { // slices of at most 100 endpoints
		b.Slices(created(sliceOf("big", "db", fmt.Sprintf("db-%d", i), []endpoints.Port{eport("pg", 5432)}, eps[i:min(i+100, 250)]...)))
	}
	require.NoError(tb, r.Apply(&b))
	return r
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
		{PTRName(netip.MustParseAddr("fd00::1")), TypePTR, 0}, // NXDOMAIN
		{"nope.cluster.local.", TypeA, 0},
		{"example.com.", TypeA, 0},
		{"nope.ns-42.svc.cluster.local.", TypeA, 0},
	} {
		var resp Response
		allocs := testing.AllocsPerRun(200, func() { resp = r.Resolve(q.name, q.t) })
		require.Zero(t, allocs, "%s %s", q.name, q.t)
		require.Len(t, resp.Answer, q.n, "%s %s", q.name, q.t)
	}
}

// BenchmarkResolveClusterIP is the hot path: an A query for one ClusterIP
// Service among 10 000. Goal: at most 150 ns and no allocation.
func BenchmarkResolveClusterIP(b *testing.B) {
	r := bigWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		resp := r.Resolve("svc-4242.ns-42.svc.cluster.local.", TypeA)
		if len(resp.Answer) != 1 {
			b.Fatal(resp)
		}
	}
}

// BenchmarkResolveHeadless250 queries a headless Service with 250 ready
// endpoints for its addresses and for its SRV records.
func BenchmarkResolveHeadless250(b *testing.B) {
	r := bigWorld(b)
	for _, q := range []struct {
		name string
		t    Type
	}{{"db.big.svc.cluster.local.", TypeA}, {"_pg._tcp.db.big.svc.cluster.local.", TypeSRV}} {
		b.Run(q.t.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if resp := r.Resolve(q.name, q.t); len(resp.Answer) != 250 {
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

// BenchmarkApplySliceUpdate measures one endpoints change of the
// 250-endpoint headless Service among 10 000 Services: recomputing its
// records and publishing a snapshot.
func BenchmarkApplySliceUpdate(b *testing.B) {
	r := bigWorld(b)
	old := r.w.slices[keyOf("big", "db")]["db-0"]
	flip := *old
	flip.Endpoints = append([]endpoints.Endpoint(nil), old.Endpoints...)
	flip.Endpoints[0].Conditions.Ready = false
	cur, next := old, &flip
	b.ReportAllocs()
	for b.Loop() {
		if err := r.ApplySlices([]endpoints.Change{updated(cur, next)}); err != nil {
			b.Fatal(err)
		}
		cur, next = next, cur
	}
}

// BenchmarkApplyService measures upserting one ClusterIP Service among
// 10 000.
func BenchmarkApplyService(b *testing.B) {
	r := bigWorld(b)
	svc := newSvc("ns-42", "svc-4242", clusterIPs("10.96.16.146"), ports(tcp("http", 80)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.UpsertService(svc); err != nil {
			b.Fatal(err)
		}
	}
}
