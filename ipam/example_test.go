package ipam_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/svcnet/svcnet/ipam"
)

// The main flow: a Service CIDR, a dynamic and a static ClusterIP, a
// release, and a snapshot restored into a second allocator.
func Example() {
	cidr := netip.MustParsePrefix("10.96.0.0/24")
	a, err := ipam.New(cidr, ipam.WithRand(rand.New(rand.NewPCG(1, 2))))
	if err != nil {
		panic(err)
	}
	fmt.Println("usable:", a.Size(), "static band:", a.Bands()[0].Static)

	dns := netip.MustParseAddr("10.96.0.10") // in the static band
	if err := a.Allocate(dns); err != nil {
		panic(err)
	}
	ip, err := a.AllocateNext() // from the dynamic band
	if err != nil {
		panic(err)
	}
	fmt.Println("dynamic band:", !ip.Less(netip.MustParseAddr("10.96.0.17")))
	fmt.Println(a.Allocate(dns))

	data, _ := a.Snapshot()
	b, _ := ipam.New(cidr)
	if err := b.Restore(data); err != nil {
		panic(err)
	}
	fmt.Println("restored:", b.Used(), b.Has(dns), b.Has(ip))

	_ = a.Release(ip)
	fmt.Println("used:", a.Used(), "free:", a.Free())
	// Output:
	// usable: 254 static band: 16
	// dynamic band: true
	// ipam: allocate 10.96.0.10: address is already allocated
	// restored: 2 true true
	// used: 1 free: 253
}

// Several Service CIDRs as one pool (KEP-1880): the first with room serves.
func ExampleNewPool() {
	a, _ := ipam.NewPool([]netip.Prefix{
		netip.MustParsePrefix("10.96.0.0/30"),
		netip.MustParsePrefix("10.97.0.0/30"),
	}, ipam.Sequential())
	for range 5 {
		ip, err := a.AllocateNext()
		fmt.Println(ip, err)
	}
	// Output:
	// 10.96.0.1 <nil>
	// 10.96.0.2 <nil>
	// 10.97.0.1 <nil>
	// 10.97.0.2 <nil>
	// invalid IP ipam: allocate next 10.96.0.0/30,10.97.0.0/30: range is full
}

// A LoadBalancer address pool of first-last ranges, like MetalLB's.
func ExampleNewRanges() {
	a, _ := ipam.NewRanges([]ipam.Range{
		ipam.MustParseRange("192.0.2.254-192.0.2.255"),
		ipam.MustParseRange("198.51.100.0-198.51.100.0"),
	}, ipam.Sequential())
	for addr, err := a.AllocateNext(); err == nil; addr, err = a.AllocateNext() {
		fmt.Println(addr)
	}
	for addr := range a.All() {
		fmt.Print(addr, " ")
	}
	fmt.Println()
	// Output:
	// 192.0.2.254
	// 192.0.2.255
	// 198.51.100.0
	// 192.0.2.254 192.0.2.255 198.51.100.0
}

// IPv6 prefixes are served up to a /64, with memory for what is allocated.
func ExampleNew_ipv6() {
	a, err := ipam.New(netip.MustParsePrefix("fd00:10:96::/64"))
	fmt.Println(a.Size(), err)
	_, err = ipam.New(netip.MustParsePrefix("fd00:10::/48"))
	fmt.Println(err)
	// Output:
	// 18446744073709551615 <nil>
	// ipam: new fd00:10::/48: invalid range: IPv6 prefix shorter than /64 (the shortest allowed prefix length is 64)
}

// A repair pass, as Kubernetes' ClusterIP repair loop: a leaked address is
// released on the third consecutive pass that sees it.
func ExampleRepair() {
	a, _ := ipam.New(netip.MustParsePrefix("10.96.0.0/24"))
	used := netip.MustParseAddr("10.96.0.20")
	leaked := netip.MustParseAddr("10.96.0.30")
	_ = a.Allocate(leaked)
	inUse := []netip.Addr{used, netip.MustParseAddr("10.96.1.1"), netip.MustParseAddr("10.96.0.40"), netip.MustParseAddr("10.96.0.40")}

	r := ipam.NewRepair(a, ipam.RepairConfig{})
	for pass := 1; pass <= 3; pass++ {
		rep, err := r.Pass(inUse)
		fmt.Printf("pass %d: leaked %v released %v missing %v duplicate %v out of range %v err %v\n",
			pass, rep.Leaked, rep.Released, rep.Missing, rep.Duplicate, rep.OutOfRange, err)
	}
	fmt.Println(a.Has(leaked), a.Has(used))
	// Output:
	// pass 1: leaked [10.96.0.30] released [] missing [10.96.0.20 10.96.0.40] duplicate [10.96.0.40] out of range [10.96.1.1] err <nil>
	// pass 2: leaked [10.96.0.30] released [] missing [] duplicate [10.96.0.40] out of range [10.96.1.1] err <nil>
	// pass 3: leaked [] released [10.96.0.30] missing [] duplicate [10.96.0.40] out of range [10.96.1.1] err <nil>
	// false true
}
