package ipam

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// segModel describes one range of an allocator as the tests expect it,
// computed naively with math/big from the Kubernetes rules, independently of
// the package's arithmetic.
type segModel struct {
	first  *big.Int
	size   *big.Int
	static int64
	is4    bool
}

func bigOf(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

// modelPrefix applies Kubernetes' rules: total = 2^hostbits; usable
// total-2 (IPv4, none for /31 and /32) or total-1 (IPv6); static
// band min(max(16, total/16), 256), none when total <= 16.
func modelPrefix(p netip.Prefix) segModel {
	p = p.Masked()
	host := p.Addr().BitLen() - p.Bits()
	total := new(big.Int).Lsh(big.NewInt(1), uint(host))
	size := new(big.Int).Set(total)
	if p.Addr().Is4() {
		size.Sub(size, big.NewInt(2))
	} else {
		size.Sub(size, big.NewInt(1))
	}
	if p.Addr().Is4() && host <= 1 {
		size.SetInt64(0)
	}
	var static int64
	if total.Cmp(big.NewInt(16)) > 0 {
		s := new(big.Int).Div(total, big.NewInt(16))
		if s.Cmp(big.NewInt(256)) > 0 {
			s.SetInt64(256)
		}
		static = max(16, s.Int64())
	}
	return segModel{first: new(big.Int).Add(bigOf(p.Addr()), big.NewInt(1)), size: size, static: static, is4: p.Addr().Is4()}
}

func modelRange(r Range) segModel {
	size := new(big.Int).Sub(bigOf(r.Last), bigOf(r.First))
	size.Add(size, big.NewInt(1))
	return segModel{first: bigOf(r.First), size: size, is4: r.First.Is4()}
}

// offset returns the offset of a in m, or -1 if a is not in m.
func (m segModel) offset(a netip.Addr) *big.Int {
	if a.Is4() != m.is4 {
		return nil
	}
	off := new(big.Int).Sub(bigOf(a), m.first)
	if off.Sign() < 0 || off.Cmp(m.size) >= 0 {
		return nil
	}
	return off
}

// poolConfig is an allocator configuration drawn by the property tests.
type poolConfig struct {
	prefixes []netip.Prefix
	ranges   []Range
	opts     []Option
	segs     []segModel
	universe []netip.Addr // addresses to try: usable, unusable and outside
}

func (c poolConfig) String() string {
	if c.ranges != nil {
		return fmt.Sprint(c.ranges)
	}
	return fmt.Sprint(c.prefixes)
}

func (c poolConfig) build() (*Allocator, error) {
	if c.ranges != nil {
		return NewRanges(c.ranges, c.opts...)
	}
	return NewPool(c.prefixes, c.opts...)
}

func drawConfig(t *rapid.T) poolConfig {
	var c poolConfig
	kind := rapid.IntRange(0, 5).Draw(t, "kind")
	switch kind {
	case 0, 1: // one small IPv4 prefix, /26 to /32
		bits := rapid.IntRange(26, 32).Draw(t, "bits")
		c.prefixes = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(rapid.IntRange(0, 255).Draw(t, "b")), 0}), bits)}
	case 2: // one small IPv6 prefix, /121 to /128
		bits := rapid.IntRange(121, 128).Draw(t, "bits")
		c.prefixes = []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("fd00::%x00/%d", rapid.IntRange(1, 255).Draw(t, "b"), bits))}
	case 3: // a pool of two IPv4 prefixes
		c.prefixes = []netip.Prefix{
			netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, 0, 0}), rapid.IntRange(27, 30).Draw(t, "bits1")),
			netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, 0}), rapid.IntRange(27, 30).Draw(t, "bits2")),
		}
	case 4: // LoadBalancer ranges
		n1 := rapid.IntRange(1, 20).Draw(t, "n1")
		n2 := rapid.IntRange(1, 20).Draw(t, "n2")
		c.ranges = []Range{
			{netip.AddrFrom4([4]byte{192, 0, 2, 200}), netip.AddrFrom4([4]byte{192, 0, 2, byte(199 + n1)})},
			{netip.AddrFrom4([4]byte{192, 0, 2, 10}), netip.AddrFrom4([4]byte{192, 0, 2, byte(9 + n2)})},
		}
	case 5: // an IPv6 /64: never fills, exercises the run tree on 2^64-1 addresses
		c.prefixes = []netip.Prefix{netip.MustParsePrefix("2001:db8:0:1::/64")}
	}
	if rapid.Bool().Draw(t, "sparse") {
		c.opts = append(c.opts, withDenseLimit(0))
	}
	if rapid.Bool().Draw(t, "sequential") {
		c.opts = append(c.opts, Sequential())
	} else {
		c.opts = append(c.opts, WithRand(rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))))
	}
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) {
		if a.IsValid() && !seen[a] {
			seen[a] = true
			c.universe = append(c.universe, a)
		}
	}
	for _, p := range c.prefixes {
		c.segs = append(c.segs, modelPrefix(p))
		p = p.Masked()
		a := p.Addr()
		add(a.Prev())
		for i := 0; i < 70 && p.Contains(a); i++ {
			add(a)
			a = a.Next()
		}
		add(a)
	}
	for _, r := range c.ranges {
		c.segs = append(c.segs, modelRange(r))
		add(r.First.Prev())
		for a := r.First; a.Compare(r.Last) <= 0; a = a.Next() {
			add(a)
		}
		add(r.Last.Next())
	}
	add(netip.MustParseAddr("::1"))
	add(netip.MustParseAddr("127.0.0.1"))
	return c
}

// poolModel is the obviously right model: a set of allocated addresses.
type poolModel struct {
	cfg   poolConfig
	alloc map[netip.Addr]bool
}

// locate returns the segment index and offset of a, or -1.
func (m *poolModel) locate(a netip.Addr) (int, *big.Int) {
	for i, s := range m.cfg.segs {
		if off := s.offset(a); off != nil {
			return i, off
		}
	}
	return -1, nil
}

// count returns how many allocated addresses of segment i have an offset
// in [lo, hi).
func (m *poolModel) count(i int, lo, hi *big.Int) *big.Int {
	n := new(big.Int)
	for a := range m.alloc {
		if j, off := m.locate(a); j == i && off.Cmp(lo) >= 0 && off.Cmp(hi) < 0 {
			n.Add(n, big.NewInt(1))
		}
	}
	return n
}

func TestAllocatorStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		a, err := cfg.build()
		if err != nil {
			t.Fatalf("build %v: %v", cfg, err)
		}
		m := &poolModel{cfg: cfg, alloc: map[netip.Addr]bool{}}
		sequential := slices.ContainsFunc(cfg.opts, func(o Option) bool {
			var c config
			o(&c)
			return c.sequential
		})
		size := new(big.Int)
		for _, s := range cfg.segs {
			size.Add(size, s.size)
		}
		pickAddr := func(t *rapid.T) netip.Addr {
			if len(m.alloc) > 0 && rapid.Bool().Draw(t, "known") {
				keys := make([]netip.Addr, 0, len(m.alloc))
				for k := range m.alloc {
					keys = append(keys, k)
				}
				slices.SortFunc(keys, netip.Addr.Compare)
				return rapid.SampledFrom(keys).Draw(t, "addr")
			}
			return rapid.SampledFrom(cfg.universe).Draw(t, "addr")
		}
		t.Repeat(map[string]func(*rapid.T){
			"Allocate": func(t *rapid.T) {
				addr := pickAddr(t)
				err := a.Allocate(addr)
				i, _ := m.locate(addr)
				switch {
				case i < 0:
					if !errors.Is(err, ErrNotInRange) {
						t.Fatalf("Allocate(%v) = %v, want ErrNotInRange", addr, err)
					}
				case m.alloc[addr]:
					if !errors.Is(err, ErrAllocated) {
						t.Fatalf("Allocate(%v) = %v, want ErrAllocated", addr, err)
					}
				default:
					if err != nil {
						t.Fatalf("Allocate(%v) = %v", addr, err)
					}
					m.alloc[addr] = true
				}
			},
			"AllocateNext": func(t *rapid.T) {
				addr, err := a.AllocateNext()
				if big.NewInt(int64(len(m.alloc))).Cmp(size) == 0 {
					if !errors.Is(err, ErrFull) {
						t.Fatalf("AllocateNext on a full pool = %v, %v; want ErrFull", addr, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("AllocateNext = %v", err)
				}
				i, off := m.locate(addr)
				if i < 0 {
					t.Fatalf("AllocateNext = %v, not a usable address", addr)
				}
				if m.alloc[addr] {
					t.Fatalf("AllocateNext = %v, already allocated", addr)
				}
				// Pool order: every earlier range is full.
				for j := 0; j < i; j++ {
					if m.count(j, big.NewInt(0), cfg.segs[j].size).Cmp(cfg.segs[j].size) != 0 {
						t.Fatalf("AllocateNext = %v from range %d while range %d has room", addr, i, j)
					}
				}
				// Band order: the lower band only once the upper is full.
				s := cfg.segs[i]
				static := big.NewInt(s.static)
				lo, hi := static, s.size
				if off.Cmp(static) < 0 {
					upper := new(big.Int).Sub(s.size, static)
					if m.count(i, static, s.size).Cmp(upper) != 0 {
						t.Fatalf("AllocateNext = %v in the static band while the dynamic band has room", addr)
					}
					lo, hi = big.NewInt(0), static
				}
				if sequential && m.count(i, lo, off).Cmp(new(big.Int).Sub(off, lo)) != 0 {
					_ = hi
					t.Fatalf("Sequential AllocateNext = %v, a lower address of the band is free", addr)
				}
				m.alloc[addr] = true
			},
			"Release": func(t *rapid.T) {
				addr := pickAddr(t)
				err := a.Release(addr)
				if i, _ := m.locate(addr); i < 0 {
					if !errors.Is(err, ErrNotInRange) {
						t.Fatalf("Release(%v) = %v, want ErrNotInRange", addr, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Release(%v) = %v", addr, err)
				}
				delete(m.alloc, addr)
			},
			"SnapshotRestore": func(t *rapid.T) {
				data, err := a.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				if len(data) > 8 && rapid.Bool().Draw(t, "corrupt") {
					bad := slices.Clone(data)
					i := rapid.IntRange(0, len(bad)-1).Draw(t, "at")
					bad[i] ^= byte(rapid.IntRange(1, 255).Draw(t, "flip"))
					if err := a.Restore(bad); !errors.Is(err, ErrSnapshot) {
						t.Fatalf("Restore(corrupt) = %v, want ErrSnapshot", err)
					}
					if err := a.Restore(data[:rapid.IntRange(0, len(data)-1).Draw(t, "cut")]); !errors.Is(err, ErrSnapshot) {
						t.Fatalf("Restore(truncated) = %v, want ErrSnapshot", err)
					}
					return // the checks below see that nothing changed
				}
				if rapid.Bool().Draw(t, "fresh") {
					b, err := cfg.build()
					if err != nil {
						t.Fatal(err)
					}
					a = b
				}
				if err := a.Restore(data); err != nil {
					t.Fatalf("Restore = %v", err)
				}
			},
			"": func(t *rapid.T) {
				if got := a.Used(); got != uint64(len(m.alloc)) {
					t.Fatalf("Used = %d, model has %d", got, len(m.alloc))
				}
				if size.IsUint64() {
					if a.Used()+a.Free() != size.Uint64() || a.Size() != size.Uint64() {
						t.Fatalf("Used %d + Free %d != Size %d (want %v)", a.Used(), a.Free(), a.Size(), size)
					}
				}
				for _, addr := range cfg.universe {
					if got := a.Has(addr); got != m.alloc[addr] {
						t.Fatalf("Has(%v) = %v, model %v", addr, got, m.alloc[addr])
					}
				}
				var got []netip.Addr
				for addr := range a.All() {
					got = append(got, addr)
				}
				want := make([]netip.Addr, 0, len(m.alloc))
				for addr := range m.alloc {
					want = append(want, addr)
				}
				slices.SortFunc(want, netip.Addr.Compare)
				if !slices.Equal(got, want) {
					t.Fatalf("All = %v, model %v", got, want)
				}
			},
		})
	})
}
