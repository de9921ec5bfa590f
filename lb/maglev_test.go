package lb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// naiveMaglev is the paper's pseudo-code (NSDI 2016, Pseudocode 1) with the
// full N×M permutation array, and a naive earliest-deadline-first turn
// order for weights: the oracle for the in-place build.
func naiveMaglev(bs []Backend, m int) []int32 {
	n := len(bs)
	perm := make([][]int, n)
	for i, b := range bs {
		off, skip := maglevPermutation(b.Addr, m)
		perm[i] = make([]int, m)
		for j := range m {
			perm[i][j] = (int(off) + j*int(skip)) % m
		}
	}
	entry := slices.Repeat([]int32{-1}, m)
	next := make([]int, n)
	k := make([]uint64, n) // next deadline k/w, phase 0
	for i := range k {
		k[i] = 1
	}
	turn := func() int {
		best := 0
		for i := 1; i < n; i++ {
			if k[i]*bs[best].weight() < k[best]*bs[i].weight() {
				best = i
			}
		}
		k[best]++
		return best
	}
	for filled := 0; filled < m; filled++ {
		i := filled % n
		if !uniform(bs) {
			i = turn()
		}
		c := perm[i][next[i]]
		for entry[c] >= 0 {
			next[i]++
			c = perm[i][next[i]]
		}
		entry[c] = int32(i)
		next[i]++
	}
	return entry
}

func TestMaglevMatchesPaper(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := rapid.SampledFrom([]int{2, 3, 7, 13, 251, 1021}).Draw(t, "M")
		n := rapid.IntRange(1, min(m, 40)).Draw(t, "n")
		bs := testBackends(n)
		if rapid.Bool().Draw(t, "weighted") {
			for i := range bs {
				bs[i].Weight = rapid.Uint32Range(1, 20).Draw(t, "w")
			}
		}
		g := mustMaglev(m)
		if err := g.Update(bs); err != nil {
			t.Fatal(err)
		}
		want := naiveMaglev(g.backends, m)
		if !slices.Equal(want, g.table) {
			t.Fatalf("table differs from the paper's construction")
		}
	})
}

// slotCounts counts the slots of each backend.
func slotCounts(g *Maglev) []int {
	c := make([]int, len(g.backends))
	for _, i := range g.table {
		c[i]++
	}
	return c
}

func TestMaglevBalance(t *testing.T) {
	for _, n := range []int{1, 10, 100, 1000} {
		g := mustMaglev(DefaultMaglevTableSize)
		require.NoError(t, g.Update(testBackends(n)))
		c := slotCounts(g)
		// Every backend owns ⌊M/N⌋ or ⌈M/N⌉ slots: within one slot.
		require.LessOrEqual(t, slices.Max(c)-slices.Min(c), 1, "N=%d", n)
	}
}

// TestMaglevWeights: turns by earliest deadline give backend j a share of
// M·w_j/W slots, off by less than max(1, N·w_j/W) (the turns of a prefix
// of an EDF schedule), so weights are honoured to within a slot or so.
func TestMaglevWeights(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := rapid.SampledFrom([]int{251, 1021, 16381}).Draw(t, "M")
		ws := rapid.SliceOfN(rapid.Uint32Range(1, 1000), 2, 30).Draw(t, "weights")
		g := mustMaglev(m)
		if err := g.Update(weighted(ws...)); err != nil {
			t.Fatal(err)
		}
		var wsum float64
		for _, w := range ws {
			wsum += float64(w)
		}
		for i, c := range slotCounts(g) {
			w := float64(g.backends[i].Weight)
			ideal := float64(m) * w / wsum
			if d := float64(c) - ideal; d <= -1 || d >= math.Max(1, float64(len(ws))*w/wsum) {
				t.Fatalf("backend %d weight %v: %d slots, ideal %.2f", i, w, c, ideal)
			}
		}
	})
}

// tableDigest is the SHA-256 of a table as the frozen keys of its slots.
func tableDigest(addrs []netip.AddrPort) string {
	h := sha256.New()
	for _, a := range addrs {
		k := frozenKey(a)
		h.Write(k[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// goldenBackends is a fixed mixed list: IPv4, IPv6, weights.
func goldenBackends() []Backend {
	bs := testBackends(97)
	for i := range bs {
		bs[i].Weight = uint32(1 + i%3)
	}
	return append(bs,
		Backend{Addr: netip.MustParseAddrPort("[2001:db8::1]:8080"), Ready: true},
		Backend{Addr: netip.MustParseAddrPort("[2001:db8::2]:8080"), Ready: true, Weight: 2},
		Backend{Addr: netip.MustParseAddrPort("[fd00::10]:443"), Ready: true},
	)
}

// TestMaglevGolden pins the table for a fixed backend list, in any input
// order: every node, and every svcnet version, must build these bytes.
func TestMaglevGolden(t *testing.T) {
	golden := map[int]string{
		251:                    "20db090cbc63c04be5dbbeb229104c910010489bfac8589cbbd24c3cbe940507",
		DefaultMaglevTableSize: "d4f2d9a3da8ce4417b1407a6aac4b7345d80957504e21d1078e0819e212d1b36",
	}
	for m, want := range golden {
		for seed := range uint64(4) {
			bs := goldenBackends()
			if seed > 0 {
				rand.New(rand.NewPCG(seed, 0)).Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
			}
			g := mustMaglev(m)
			require.NoError(t, g.Update(bs))
			require.Equal(t, want, tableDigest(g.AppendTable(nil)), "M=%d, shuffle %d", m, seed)
		}
	}
	// Unweighted too, the common case.
	g := mustMaglev(DefaultMaglevTableSize)
	require.NoError(t, g.Update(testBackends(1000)))
	require.Equal(t, "4a4ca59d2450868a3506ae8c4eaa89871067a122f43ce7df632dcaab54e5e347", tableDigest(g.AppendTable(nil)))
}

// maglevDisruption removes victim and returns the fraction of slots that
// changed owner although their owner stayed (the extra disruption), after
// checking that every slot of the victim went to a survivor.
func maglevDisruption(t interface{ Fatalf(string, ...any) }, m int, bs []Backend, victim netip.AddrPort) float64 {
	g := mustMaglev(m)
	if err := g.Update(bs); err != nil {
		t.Fatalf("%v", err)
	}
	before, owners := slices.Clone(g.table), slices.Clone(g.backends)
	if err := g.Update(without(bs, victim)); err != nil {
		t.Fatalf("%v", err)
	}
	extra := 0
	for s, i := range before {
		was, is := owners[i].Addr, g.backends[g.table[s]].Addr
		if is == victim {
			t.Fatalf("slot %d still on the removed backend", s)
		}
		if was != victim && was != is {
			extra++
		}
	}
	return float64(extra) / float64(m)
}

// TestMaglevDisruption: when one backend leaves, its slots go to the
// others and fewer than 1 % of the other slots move (Cilium's
// TestBackendRemoval bound), at the default M for N up to 1000.
func TestMaglevDisruption(t *testing.T) {
	for _, n := range []int{3, 10, 100, 1000} {
		bs := testBackends(n)
		for _, v := range []int{0, n / 2, n - 1} {
			extra := maglevDisruption(t, DefaultMaglevTableSize, bs, bs[v].Addr)
			require.Less(t, extra, 0.01, "N=%d victim %d", n, v)
			t.Logf("N=%d, victim %d: %.3f%% extra", n, v, 100*extra)
		}
	}
}

// TestMaglevRemovalProperty: removing a backend moves its keys and a
// bounded extra of the others. The extra shrinks with M (about 1.6 % of
// slots at M = 4093, 0.7 % at 16381, 0.35 % at 65537, in medians over random
// backend sets) and has spikes when two backends draw the same skip (up to
// 17 % at M = 1021), so the bound is checked at the default M, where 6000
// random cases of this shape had a median of 0.34 %, a 99.9th percentile of
// 1.3 % and a maximum of 3.0 %.
func TestMaglevRemovalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 40).Draw(t, "n")
		bs := testBackends(n)
		for i := range bs {
			bs[i].Addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(rapid.IntRange(0, 255).Draw(t, "a")), 1}), 80)
		}
		victim := bs[rapid.IntRange(0, n-1).Draw(t, "victim")].Addr
		if extra := maglevDisruption(t, DefaultMaglevTableSize, bs, victim); extra > 0.08 {
			t.Fatalf("%.2f%% of other slots moved", 100*extra)
		}
	})
}

func ExampleMaglev() {
	g, err := NewMaglev(MaglevConfig{TableSize: 251})
	if err != nil {
		panic(err)
	}
	err = g.Update([]Backend{
		{Addr: netip.MustParseAddrPort("10.0.0.1:8080"), Ready: true},
		{Addr: netip.MustParseAddrPort("10.0.0.2:8080"), Ready: true},
		{Addr: netip.MustParseAddrPort("10.0.0.3:8080"), Ready: true},
	})
	if err != nil {
		panic(err)
	}
	slots := map[netip.AddrPort]int{}
	for _, a := range g.AppendTable(nil) {
		slots[a]++
	}
	fmt.Println(slots)
	b, ok := g.Pick(Key{Src: netip.MustParseAddrPort("192.0.2.7:51000"), Proto: TCP})
	fmt.Println(b.Addr, ok)
	// Output:
	// map[10.0.0.1:8080:84 10.0.0.2:8080:84 10.0.0.3:8080:83]
	// 10.0.0.2:8080 true
}
