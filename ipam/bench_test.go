package ipam_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/svcnet/svcnet/ipam"
)

// BenchmarkChurn releases the oldest address and allocates the next, in
// steady state at a given use of the range. peers/alloc runs the same shape
// against Kubernetes' allocator.
func BenchmarkChurn(b *testing.B) {
	for _, bits := range []int{16, 12} {
		for _, use := range []int{50, 90, 99} {
			b.Run(fmt.Sprintf("prefix=%d/use=%d", bits, use), func(b *testing.B) {
				a, err := ipam.New(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, 0}), bits),
					ipam.WithRand(rand.New(rand.NewPCG(1, 1))))
				if err != nil {
					b.Fatal(err)
				}
				ring := make([]netip.Addr, int(a.Size())*use/100)
				for i := range ring {
					ring[i], _ = a.AllocateNext()
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := a.Release(ring[i]); err != nil {
						b.Fatal(err)
					}
					ip, err := a.AllocateNext()
					if err != nil {
						b.Fatal(err)
					}
					ring[i] = ip
					if i++; i == len(ring) {
						i = 0
					}
				}
			})
		}
	}
}

// BenchmarkFill allocates every address of a /16 from empty, per op.
func BenchmarkFill(b *testing.B) {
	p := netip.MustParsePrefix("10.0.0.0/16")
	b.ReportAllocs()
	for b.Loop() {
		a, _ := ipam.New(p, ipam.WithRand(rand.New(rand.NewPCG(1, 1))))
		for range a.Size() {
			if _, err := a.AllocateNext(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkIPv6Memory allocates 1 M random addresses in a /64 and reports
// the heap bytes per allocated address.
func BenchmarkIPv6Memory(b *testing.B) {
	const n = 1 << 20
	b.ReportAllocs()
	var perAddr float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a, _ := ipam.New(netip.MustParsePrefix("fd00::/64"), ipam.WithRand(rand.New(rand.NewPCG(1, 1))))
		for range n {
			if _, err := a.AllocateNext(); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perAddr = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perAddr, "bytes/addr")
}
