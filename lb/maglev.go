package lb

import (
	"fmt"
	"net/netip"
)

// Maglev table sizes.
const (
	// DefaultMaglevTableSize is M when MaglevConfig.TableSize is zero:
	// 65537, the size the Maglev paper evaluates and Envoy's default.
	DefaultMaglevTableSize = 65537
	// MaxMaglevTableSize is the largest M accepted, Envoy's bound on
	// maglev table_size.
	MaxMaglevTableSize = 5000011
)

// MaglevConfig configures a Maglev picker.
type MaglevConfig struct {
	// TableSize is M, the number of table slots: a prime no larger than
	// MaxMaglevTableSize. Zero means DefaultMaglevTableSize. The sizes
	// Cilium and IPVS offer (251, 509, 1021, 2039, 4093, 8191, 16381, 32749,
	// 65521, 131071) are all prime and accepted. The Maglev paper advises
	// M > 100·N for at most 1 % imbalance in hash space.
	TableSize int
}

// Maglev is Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast
// and Reliable Software Network Load Balancer", NSDI 2016, section 3.4):
// a lookup table of M slots (M prime) in which every backend owns
// ⌊M/N⌋ or ⌈M/N⌉ slots, and which changes little when a backend comes or
// goes. A key's hash picks a slot; the slot names the backend.
//
// The table is built as every node must build it:
//   - each backend is identified by its frozen key (address family, address,
//     port; see frozenKey) and the backends are sorted by it, so every node
//     builds the same table from the same set, in any input order (Cilium
//     pkg/maglev sorts by its hash string for the same reason);
//   - two independent frozen hashes of that key give offset = h1 mod M and
//     skip = h2 mod (M−1) + 1, so backend i prefers slots
//     offset, offset+skip, offset+2·skip, ... (mod M), a permutation since M
//     is prime;
//   - backends take turns claiming their next preferred free slot until the
//     table is full. Weights are honoured by turns: the turn order is an
//     earliest-deadline-first schedule of the weights, so a backend with
//     weight w takes w turns per cycle of Σw, interleaved. With equal
//     weights the turns are plain round robin, as in the paper.
//
// Unlike the paper's pseudo-code, and like IPVS (ip_vs_mh.c), svcnet keeps
// no N×M permutation array: each backend's position in its preference list
// is advanced in place (next[i] += skip mod M) and taken slots are a bitmap,
// so a build needs O(M) memory (4 bytes a slot) and about M·ln M probes.
// Cilium's pkg/maglev materialises the permutations: 8·N·M bytes, half a
// gigabyte for M = 65521, N = 1000.
//
// Update rebuilds the table (a few milliseconds for M = 65521, N = 1000),
// reusing its buffers. Pick hashes the key and reads one slot: O(1), no
// allocation. It is not safe for concurrent use.
type Maglev struct {
	m        int
	backends []Backend
	table    []int32  // slot → index into backends
	taken    []uint64 // build scratch: bitmap of claimed slots
	next     []uint32 // build scratch: next preferred slot per backend
	skip     []uint32 // build scratch: skip per backend
	sched    edf      // build scratch: weighted turn order
}

var _ Picker = (*Maglev)(nil)

// NewMaglev returns a Maglev picker with no backends. It fails with
// ErrInvalidTableSize when TableSize is not a prime in [2,
// MaxMaglevTableSize].
func NewMaglev(cfg MaglevConfig) (*Maglev, error) {
	m := cfg.TableSize
	if m == 0 {
		m = DefaultMaglevTableSize
	}
	if m < 2 || m > MaxMaglevTableSize || !isPrime(m) {
		return nil, fmt.Errorf("%w: %d is not a prime in [2, %d]", ErrInvalidTableSize, cfg.TableSize, MaxMaglevTableSize)
	}
	return &Maglev{m: m}, nil
}

// isPrime reports whether n is prime, by trial division (n ≤ 5·10^6, so
// at most about 1100 divisions).
func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// TableSize returns M.
func (g *Maglev) TableSize() int { return g.m }

// Update replaces the backends and rebuilds the table. It fails with
// ErrTooManyBackends when there are more usable backends than slots.
func (g *Maglev) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	if len(bs) > g.m {
		return fmt.Errorf("%w: %d backends for a Maglev table of %d slots", ErrTooManyBackends, len(bs), g.m)
	}
	g.backends = bs
	g.build()
	return nil
}

// maglevPermutation returns the first preferred slot and the skip of a
// backend in a table of m slots.
func maglevPermutation(addr netip.AddrPort, m int) (offset, skip uint32) {
	k := frozenKey(addr)
	offset = uint32(hashBytes(k[:], seedMaglevOffset) % uint64(m))
	skip = uint32(hashBytes(k[:], seedMaglevSkip)%uint64(m-1)) + 1
	return offset, skip
}

func (g *Maglev) build() {
	n, m := len(g.backends), g.m
	if n == 0 {
		g.table = g.table[:0]
		return
	}
	if cap(g.table) < m {
		g.table = make([]int32, m)
		g.taken = make([]uint64, (m+63)/64)
	}
	g.table = g.table[:m]
	clear(g.taken)
	if cap(g.next) < n {
		g.next = make([]uint32, n)
		g.skip = make([]uint32, n)
	}
	next, skip := g.next[:n], g.skip[:n]
	for i, b := range g.backends {
		next[i], skip[i] = maglevPermutation(b.Addr, m)
	}

	// claim gives backend i its next preferred free slot.
	table, taken, um := g.table, g.taken, uint32(m)
	claim := func(i int) {
		p, s := next[i], skip[i]
		for taken[p>>6]&(1<<(p&63)) != 0 {
			if p += s; p >= um {
				p -= um
			}
		}
		taken[p>>6] |= 1 << (p & 63)
		table[p] = int32(i)
		if p += s; p >= um {
			p -= um
		}
		next[i] = p
	}

	if uniform(g.backends) {
		for filled := 0; ; {
			for i := range n {
				claim(i)
				if filled++; filled == m {
					return
				}
			}
		}
	}
	g.sched.reset(0, 1)
	for i, b := range g.backends {
		w := b.weight()
		g.sched.push(int32(i), g.sched.firstDeadline(w), w, 0)
	}
	g.sched.fix()
	for range m {
		claim(int(g.sched.pick()))
	}
}

// Pick returns the backend owning the key's slot.
func (g *Maglev) Pick(k Key) (Backend, bool) {
	if len(g.table) == 0 {
		return Backend{}, false
	}
	return g.backends[g.table[fastrange(k.sum(), len(g.table))]], true
}

// AppendTable appends the address of each slot's backend, slot by slot,
// to dst and returns it: the table a data plane would load (as Cilium
// loads its lookup table into a BPF map). It appends nothing when there
// are no backends.
func (g *Maglev) AppendTable(dst []netip.AddrPort) []netip.AddrPort {
	for _, i := range g.table {
		dst = append(dst, g.backends[i].Addr)
	}
	return dst
}
