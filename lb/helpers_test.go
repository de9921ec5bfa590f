package lb

import (
	"math/rand/v2"
	"net/netip"
)

// addr4 returns the i-th test address, 10.x.y.z:8080 counting from 10.0.0.1:
// consecutive addresses, as a pod CIDR hands them out, which is the hard
// case for a hash.
func addr4(i int) netip.AddrPort {
	i++
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8080)
}

// testBackends returns n ready backends of weight 1 at addr4(0..n-1).
func testBackends(n int) []Backend {
	bs := make([]Backend, n)
	for i := range bs {
		bs[i] = Backend{Addr: addr4(i), Ready: true}
	}
	return bs
}

// testKeys returns n random client keys (IPv4 clients, TCP).
func testKeys(n int, seed uint64) []Key {
	r := rand.New(rand.NewPCG(seed, 0x6b657973))
	ks := make([]Key, n)
	for i := range ks {
		var a [4]byte
		v := r.Uint32()
		a[0], a[1], a[2], a[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		ks[i] = Key{Src: netip.AddrPortFrom(netip.AddrFrom4(a), uint16(1024+r.IntN(64512))), Proto: TCP}
	}
	return ks
}

// without returns bs without the backend at addr.
func without(bs []Backend, addr netip.AddrPort) []Backend {
	out := make([]Backend, 0, len(bs))
	for _, b := range bs {
		if b.Addr != addr {
			out = append(out, b)
		}
	}
	return out
}

// seeded returns a PCG-backed generator for tests.
func seeded(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// mustMaglev returns a Maglev picker of table size m or panics.
func mustMaglev(m int) *Maglev {
	g, err := NewMaglev(MaglevConfig{TableSize: m})
	if err != nil {
		panic(err)
	}
	return g
}

// mustRing returns a RingHash picker or panics.
func mustRing(cfg RingHashConfig) *RingHash {
	r, err := NewRingHash(cfg)
	if err != nil {
		panic(err)
	}
	return r
}

// allPickers returns one picker of each kind, for tests that hold for all.
func allPickers(seed uint64) map[string]Picker {
	lr, _ := NewLeastRequest(LeastRequestConfig{Rand: seeded(seed)})
	bl, _ := NewBoundedLoad(BoundedLoadConfig{})
	aff, _ := NewAffinity(NewLeastConn(LeastConnConfig{}), AffinityConfig{})
	return map[string]Picker{
		"random":       NewRandom(RandomConfig{Rand: seeded(seed)}),
		"roundrobin":   NewRoundRobin(RoundRobinConfig{Rand: seeded(seed)}),
		"wrr":          NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(seed)}),
		"leastconn":    NewLeastConn(LeastConnConfig{}),
		"wlc":          NewLeastConn(LeastConnConfig{Weighted: true}),
		"leastrequest": lr,
		"sourcehash":   NewSourceHash(),
		"maglev":       mustMaglev(251),
		"ringhash":     mustRing(RingHashConfig{MinRingSize: 64}),
		"boundedload":  bl,
		"rendezvous":   NewRendezvous(),
		"affinity":     aff,
	}
}
