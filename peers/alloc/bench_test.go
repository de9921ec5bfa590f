package alloc

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/kubernetes/pkg/registry/core/service/ipallocator"
	"k8s.io/kubernetes/pkg/registry/core/service/portallocator"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// churn runs the steady-state benchmark shared by both sides: the range is
// filled to use percent with AllocateNext, then every operation releases
// the oldest allocation and allocates the next one in its place.
func churn[T any](b *testing.B, size, use int, next func() (T, error), release func(T) error) {
	ring := make([]T, size*use/100)
	for i := range ring {
		v, err := next()
		if err != nil {
			b.Fatal(err)
		}
		ring[i] = v
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := release(ring[i]); err != nil {
			b.Fatal(err)
		}
		v, err := next()
		if err != nil {
			b.Fatal(err)
		}
		ring[i] = v
		if i++; i == len(ring) {
			i = 0
		}
	}
}

// BenchmarkIPChurn: release one, allocate next, at 50, 90 and 99 % use of an
// IPv4 /16 and /12.
func BenchmarkIPChurn(b *testing.B) {
	for _, bits := range []int{16, 12} {
		p := netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), bits)
		for _, use := range []int{50, 90, 99} {
			name := fmt.Sprintf("prefix=%d/use=%d", bits, use)
			b.Run(name+"/impl=svcnet", func(b *testing.B) {
				a, err := ipam.New(p, ipam.WithRand(rand.New(rand.NewPCG(1, 1))))
				if err != nil {
					b.Fatal(err)
				}
				churn(b, int(a.Size()), use, a.AllocateNext, a.Release)
			})
			b.Run(name+"/impl=kubernetes", func(b *testing.B) {
				_, cidr, _ := net.ParseCIDR(p.String())
				k, err := ipallocator.NewInMemory(cidr)
				if err != nil {
					b.Fatal(err)
				}
				churn(b, k.Free(), use, k.AllocateNext, k.Release)
			})
		}
	}
}

// BenchmarkIPFill allocates every address of an empty /16, per operation.
func BenchmarkIPFill(b *testing.B) {
	p := netip.MustParsePrefix("10.0.0.0/16")
	b.Run("prefix=16/impl=svcnet", func(b *testing.B) {
		b.ReportAllocs()
		seed := uint64(0)
		for b.Loop() {
			seed++
			a, err := ipam.New(p, ipam.WithRand(rand.New(rand.NewPCG(seed, 1))))
			if err != nil {
				b.Fatal(err)
			}
			for range a.Size() {
				if _, err := a.AllocateNext(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("prefix=16/impl=kubernetes", func(b *testing.B) {
		_, cidr, _ := net.ParseCIDR(p.String())
		b.ReportAllocs()
		for b.Loop() {
			k, err := ipallocator.NewInMemory(cidr)
			if err != nil {
				b.Fatal(err)
			}
			for range k.Free() {
				if _, err := k.AllocateNext(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkPortChurn: release one, allocate next, at 50, 90 and 99 % use of
// 30000-32767.
func BenchmarkPortChurn(b *testing.B) {
	for _, use := range []int{50, 90, 99} {
		name := fmt.Sprintf("range=30000-32767/use=%d", use)
		b.Run(name+"/impl=svcnet", func(b *testing.B) {
			a, err := portalloc.New(portalloc.DefaultRange, portalloc.WithRand(rand.New(rand.NewPCG(1, 1))))
			if err != nil {
				b.Fatal(err)
			}
			churn(b, portalloc.DefaultRange.Size, use, a.AllocateNext, a.Release)
		})
		b.Run(name+"/impl=kubernetes", func(b *testing.B) {
			k, err := portallocator.NewInMemory(utilnet.PortRange{Base: 30000, Size: 2768})
			if err != nil {
				b.Fatal(err)
			}
			churn(b, 2768, use, k.AllocateNext, k.Release)
		})
	}
}

// BenchmarkIPv6Memory allocates 1 M random addresses in an IPv6 /64 and
// reports the live heap per allocated address. svcnet only: Kubernetes'
// bitmap caps IPv6 at 65536 addresses.
func BenchmarkIPv6Memory(b *testing.B) {
	const n = 1 << 20
	b.Run("prefix=64/addrs=1M/impl=svcnet", func(b *testing.B) {
		var perAddr float64
		for b.Loop() {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			a, err := ipam.New(netip.MustParsePrefix("fd00:10:96::/64"), ipam.WithRand(rand.New(rand.NewPCG(1, 1))))
			if err != nil {
				b.Fatal(err)
			}
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
	})
}
