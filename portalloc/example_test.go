package portalloc_test

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/svcnet/svcnet/portalloc"
)

// The main flow: Kubernetes' default NodePort range, a dynamic and a static
// port, a release and a snapshot restored into a second allocator.
func Example() {
	r, err := portalloc.ParseRange("30000-32767")
	if err != nil {
		panic(err)
	}
	fmt.Println(r, "size", r.Size, "static band", r.StaticBand())
	a, _ := portalloc.New(r, portalloc.WithRand(rand.New(rand.NewPCG(1, 2))))

	if err := a.Allocate(30007); err != nil { // static: in the lower band
		panic(err)
	}
	p, _ := a.AllocateNext() // dynamic: from the upper band
	fmt.Println("dynamic band:", p >= 30000+r.StaticBand())
	fmt.Println(a.Allocate(30007))

	data, _ := a.Snapshot()
	b, _ := portalloc.New(r)
	_ = b.Restore(data)
	fmt.Println("restored:", b.Used(), b.Has(30007), b.Has(p))

	_ = a.Release(p)
	fmt.Println("used:", a.Used(), "free:", a.Free())
	// Output:
	// 30000-32767 size 2768 static band 86
	// dynamic band: true
	// portalloc: allocate 30007: port is already allocated
	// restored: 2 true true
	// used: 1 free: 2767
}

// Sequential allocation and the ordered iterator.
func ExampleSequential() {
	a, _ := portalloc.New(portalloc.MustParseRange("30000+20"), portalloc.Sequential())
	for range 3 {
		p, _ := a.AllocateNext()
		fmt.Println(p)
	}
	_ = a.Allocate(30001)
	fmt.Println(slices.Collect(a.All()))
	// Output:
	// 30016
	// 30017
	// 30018
	// [30001 30016 30017 30018]
}

// A repair pass, as Kubernetes' NodePort repair loop: a leaked port is
// released on the third consecutive pass that sees it.
func ExampleRepair() {
	a, _ := portalloc.New(portalloc.DefaultRange)
	_ = a.Allocate(30100) // leaked: no Service uses it
	r := portalloc.NewRepair(a, portalloc.RepairConfig{})
	for pass := 1; pass <= 3; pass++ {
		rep, _ := r.Pass([]int{30200, 8080})
		fmt.Printf("pass %d: leaked %v released %v missing %v out of range %v\n",
			pass, rep.Leaked, rep.Released, rep.Missing, rep.OutOfRange)
	}
	// Output:
	// pass 1: leaked [30100] released [] missing [30200] out of range [8080]
	// pass 2: leaked [30100] released [] missing [] out of range [8080]
	// pass 3: leaked [] released [30100] missing [] out of range [8080]
}
