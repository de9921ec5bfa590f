package portalloc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/svcnet/svcnet/portalloc"
)

// BenchmarkChurn releases the oldest port and allocates the next, in steady
// state at a given use of 30000-32767. peers/alloc runs the same shape
// against Kubernetes' allocator.
func BenchmarkChurn(b *testing.B) {
	for _, use := range []int{50, 90, 99} {
		b.Run(fmt.Sprintf("use=%d", use), func(b *testing.B) {
			a, err := portalloc.New(portalloc.DefaultRange, portalloc.WithRand(rand.New(rand.NewPCG(1, 1))))
			if err != nil {
				b.Fatal(err)
			}
			ring := make([]int, portalloc.DefaultRange.Size*use/100)
			for i := range ring {
				ring[i], _ = a.AllocateNext()
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := a.Release(ring[i]); err != nil {
					b.Fatal(err)
				}
				p, err := a.AllocateNext()
				if err != nil {
					b.Fatal(err)
				}
				ring[i] = p
				if i++; i == len(ring) {
					i = 0
				}
			}
		})
	}
}
