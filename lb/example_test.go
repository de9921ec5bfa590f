package lb_test

import (
	"fmt"
	"net/netip"

	"github.com/svcnet/svcnet/lb"
)

// Example shows the flow every algorithm shares: Update with the backends,
// Pick for a key, Done when a connection ends (for connection-aware ones).
func Example() {
	backends := []lb.Backend{
		{Addr: netip.MustParseAddrPort("10.0.0.1:8080"), Ready: true, Zone: "a"},
		{Addr: netip.MustParseAddrPort("10.0.0.2:8080"), Ready: true, Zone: "b"},
		{Addr: netip.MustParseAddrPort("10.0.0.3:8080"), Serving: true, Terminating: true},
	}
	lc := lb.NewLeastConn(lb.LeastConnConfig{})
	if err := lc.Update(backends); err != nil {
		panic(err)
	}
	key := lb.Key{Src: netip.MustParseAddrPort("192.0.2.1:40000"), Proto: lb.TCP}
	b1, _ := lc.Pick(key)
	b2, _ := lc.Pick(key)
	lc.Done(b1)
	b3, _ := lc.Pick(key)
	// The terminating backend is not used while others are ready.
	fmt.Println(b1.Addr, b2.Addr, b3.Addr)
	// Output: 10.0.0.1:8080 10.0.0.2:8080 10.0.0.1:8080
}

// ExampleWeightedRoundRobin: each cycle of Σw picks gives every backend
// exactly its weight, interleaved.
func ExampleWeightedRoundRobin() {
	wrr := lb.NewWeightedRoundRobin(lb.WeightedRoundRobinConfig{})
	err := wrr.Update([]lb.Backend{
		{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 3, Ready: true},
		{Addr: netip.MustParseAddrPort("10.0.0.2:80"), Weight: 1, Ready: true},
	})
	if err != nil {
		panic(err)
	}
	for range 8 {
		b, _ := wrr.Pick(lb.Key{})
		fmt.Print(b.Addr.Addr().As4()[3], " ")
	}
	fmt.Println()
	// Output: 1 1 1 2 1 1 1 2
}

// ExampleNewMaglev_errors: a table size must be prime.
func ExampleNewMaglev_errors() {
	_, err := lb.NewMaglev(lb.MaglevConfig{TableSize: 65536})
	fmt.Println(err)
	// Output: lb: invalid table size: 65536 is not a prime in [2, 5000011]
}
