package lb

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestRingCounts(t *testing.T) {
	tests := []struct {
		name     string
		bs       []Backend
		min, max uint64
		want     []uint64
	}{
		{"equal", testBackends(4), 1024, DefaultMaxRingSize, []uint64{256, 256, 256, 256}},
		// w_min/W = 1/3: ⌈1024/3⌉ = 342 points for the light one, twice as
		// many for the heavy one.
		{"weighted", weighted(1, 2), 1024, DefaultMaxRingSize, []uint64{342, 684}},
		// Envoy's own example (ring_hash_lb.cc): 4 hosts, ring capped at 6,
		// 1.5 hashes each by running sums: 2, 1, 2, 1.
		{"capped", testBackends(4), 1024, 6, []uint64{2, 1, 2, 1}},
		{"N=10 default", testBackends(10), 1024, DefaultMaxRingSize, []uint64{103, 103, 103, 103, 103, 103, 103, 103, 103, 103}},
		{"heavy tail", weighted(1, MaxWeight), 8, 1000, []uint64{1, 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ringCounts(tt.bs, tt.min, tt.max))
		})
	}
	c := ringCounts(testBackends(1000), DefaultMinRingSize, DefaultMaxRingSize)
	require.Equal(t, uint64(2), c[0])
	require.Equal(t, uint64(2), c[999])
}

// TestRingFind checks the indexed lookup against a binary search.
func TestRingFind(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 50).Draw(t, "n")
		minSize := rapid.IntRange(1, 5000).Draw(t, "min")
		r := mustRing(RingHashConfig{MinRingSize: minSize})
		if err := r.Update(testBackends(n)); err != nil {
			t.Fatal(err)
		}
		hs := r.ring.hashes
		probes := rapid.SliceOfN(rapid.Uint64(), 1, 50).Draw(t, "h")
		probes = append(probes, 0, ^uint64(0), hs[0], hs[len(hs)-1], hs[len(hs)/2]+1)
		for _, h := range probes {
			want := sort.Search(len(hs), func(i int) bool { return hs[i] >= h })
			if want == len(hs) {
				want = 0
			}
			if got := r.ring.find(h); got != want {
				t.Fatalf("find(%#x) = %d, want %d", h, got, want)
			}
		}
	})
}

func ringDigest(r *RingHash) string {
	h := sha256.New()
	for i, p := range r.ring.hashes {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], p)
		h.Write(b[:])
		k := frozenKey(r.backends[r.ring.owners[i]].Addr)
		h.Write(k[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRingGolden pins the ring for a fixed backend list, in any order.
func TestRingGolden(t *testing.T) {
	for seed := range uint64(4) {
		bs := goldenBackends()
		if seed > 0 {
			rand.New(rand.NewPCG(seed, 0)).Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
		}
		r := mustRing(RingHashConfig{})
		require.NoError(t, r.Update(bs))
		require.Equal(t, 6*197, r.RingSize()) // ⌈1024/W⌉·W, W = 197
		require.Equal(t, "4e498989d9d6762f5791662251e714b1abae10feb93590ffd7efaed74afeb760", ringDigest(r), "shuffle %d", seed)
	}
}

// TestRingRemovalProperty: after removing a backend a key moves only if its
// backend was removed, or lost ring points, or its new backend gained ring
// points (Envoy's sizing can change the points per backend with N). With
// equal weights and an unchanged point count, only the removed backend's
// keys move.
func TestRingRemovalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 30).Draw(t, "n")
		bs := testBackends(n)
		if rapid.Bool().Draw(t, "weighted") {
			for i := range bs {
				bs[i].Weight = rapid.Uint32Range(1, 5).Draw(t, "w")
			}
		}
		minSize := rapid.SampledFrom([]int{16, 100, 1024}).Draw(t, "min")
		victim := bs[rapid.IntRange(0, n-1).Draw(t, "victim")].Addr
		r := mustRing(RingHashConfig{MinRingSize: minSize})
		if err := r.Update(bs); err != nil {
			t.Fatal(err)
		}
		points := func() map[netip.AddrPort]int {
			m := map[netip.AddrPort]int{}
			for _, o := range r.ring.owners {
				m[r.backends[o].Addr]++
			}
			return m
		}
		keys := testKeys(300, rapid.Uint64().Draw(t, "seed"))
		before, p0 := make([]netip.AddrPort, len(keys)), points()
		for i, k := range keys {
			b, _ := r.Pick(k)
			before[i] = b.Addr
		}
		if err := r.Update(without(bs, victim)); err != nil {
			t.Fatal(err)
		}
		p1 := points()
		for i, k := range keys {
			b, _ := r.Pick(k)
			was, is := before[i], b.Addr
			if was == is {
				continue
			}
			if was != victim && p1[was] >= p0[was] && p1[is] <= p0[is] {
				t.Fatalf("key moved from %v (%d→%d points) to %v (%d→%d points)", was, p0[was], p1[was], is, p0[is], p1[is])
			}
		}
	})
}

// TestRingWeights: each backend's points are its weight share of the ring
// to within one point (Envoy's running sums), so key shares converge to
// the weights as the ring grows.
func TestRingWeights(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ws := rapid.SliceOfN(rapid.Uint32Range(1, 1000), 1, 30).Draw(t, "weights")
		minSize := uint64(rapid.IntRange(1, 100000).Draw(t, "min"))
		maxSize := max(minSize, uint64(rapid.IntRange(1, 200000).Draw(t, "max")))
		counts := ringCounts(weighted(ws...), minSize, maxSize)
		var total, wsum uint64
		for i, c := range counts {
			total += c
			wsum += uint64(ws[i])
		}
		if total > maxSize {
			t.Fatalf("ring of %d points above the maximum %d", total, maxSize)
		}
		// Envoy's ring holds scale points, scale = min(⌈w_min/W·minSize⌉ /
		// (w_min/W), maxSize); backend i's share of it is scale·w_i/W, and
		// the running sums round each share by less than one point. (The
		// actual total is ⌈scale⌉, so shares of the total may be off by
		// up to two.)
		wmin := slices.Min(ws)
		scale := math.Min(math.Ceil(float64(wmin)*float64(minSize)/float64(wsum))*float64(wsum)/float64(wmin), float64(maxSize))
		if float64(total) < scale-1e-9 || float64(total) >= scale+1 {
			t.Fatalf("ring of %d points for a scale of %.3f", total, scale)
		}
		for i, c := range counts {
			ideal := scale * float64(ws[i]) / float64(wsum)
			if math.Abs(float64(c)-ideal) >= 1+1e-9 {
				t.Fatalf("backend %d weight %d: %d points, ideal %.2f of a %.2f ring", i, ws[i], c, ideal, scale)
			}
		}
	})
}
