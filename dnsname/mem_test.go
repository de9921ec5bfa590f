package dnsname

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// peerWorld loads the cluster of peers/coredns's benchmark (bigWorld
// there): n Services over n/100 namespaces, every tenth headless, the
// others with one ClusterIP; each with a port "http" and one slice of
// five ready endpoints.
func peerWorld(tb testing.TB, n int) *Resolver {
	r := NewResolver(Config{})
	var b Batch
	for i := range n {
		ns, name := fmt.Sprintf("ns-%d", i/100), fmt.Sprintf("svc-%d", i)
		ip := fmt.Sprintf("10.%d.%d.%d", 96+i>>16, (i>>8)&0xff, i&0xff)
		if i%10 == 0 {
			ip = service.ClusterIPNone
		}
		b.UpsertService(newSvc(ns, name, clusterIPs(ip), ports(tcp("http", 80))))
		var eps []endpoints.Endpoint
		for j := range 5 {
			k := i*5 + j
			eps = append(eps, ep(netip.AddrFrom4([4]byte{10, byte(128 + k>>16), byte(k >> 8), byte(k)}).String(), "", true))
		}
		b.Slices(created(sliceOf(ns, name, name+"-1", []endpoints.Port{eport("http", 8080)}, eps...)))
	}
	if err := r.Apply(&b); err != nil {
		tb.Fatal(err)
	}
	return r
}

// heldSink keeps the last resolver BenchmarkHeld built alive, so that a
// heap profile written after the benchmark (go test -memprofile) shows
// what it holds.
var heldSink *Resolver

// BenchmarkHeld reports the heap a resolver of peers/coredns's
// benchmark cluster (10 000 Services, 50 000 endpoints) holds, measured
// as peers/coredns's TestPeerServer does: HeapAlloc after a GC, less
// HeapAlloc after a GC before building it.
//
//	go test ./dnsname -run '^$' -bench BenchmarkHeld -benchtime 1x -memprofile mem.out
//	go tool pprof -top -sample_index=inuse_space mem.out
func BenchmarkHeld(b *testing.B) {
	var held float64
	for b.Loop() {
		heldSink = nil
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := peerWorld(b, 10000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heldSink = r
		held = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
	}
	b.ReportMetric(held, "held-MB")
}
