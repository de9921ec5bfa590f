package lb

import (
	"flag"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

var qualityKeys = flag.Int("lb.quality.keys", 0,
	"random keys per measurement in TestQuality; 0 means 100000, or 20000 under -short or -race; the figures quoted in the package doc use 1000000")

// quality is what TestQuality measures for one algorithm and one N.
type quality struct {
	n, keys int
	sticky  bool
	// Balance over the keys: largest and smallest count, max/mean, relative
	// standard deviation, backends with no key.
	maxCount, minCount int
	maxMean, rsd       float64
	zero               int
	// Disruption: fraction of keys that change backend when backend N/2
	// leaves (ideal: its share, 1/N) or a new backend joins (ideal:
	// 1/(N+1)), and the part of it that is extra: keys that moved between
	// backends that both stayed.
	removed, removedExtra float64
	added, addedExtra     float64
	// Costs: the first Update, the Update removing one backend, one Pick.
	build, update time.Duration
	pickNs        float64
}

type qualitySpec struct {
	name string
	new  func(n int) Picker
	// sticky algorithms map a key to a backend, so disruption means
	// something; for the others it is not measured.
	sticky bool
	check  func(t *testing.T, p Picker, q quality)
}

// noise is the relative standard deviation of a backend's count when keys
// fall at random: 1/√(keys/N). Bounds on key counts allow for it.
func (q quality) noise() float64 { return 1 / math.Sqrt(float64(q.keys)/float64(q.n)) }

func measure(spec qualitySpec, n int, keys []Key) quality {
	q := quality{n: n, keys: len(keys), sticky: spec.sticky}
	bs := testBackends(n)
	idx := index(bs)
	p := spec.new(n)
	t0 := time.Now()
	if err := p.Update(bs); err != nil {
		panic(err)
	}
	q.build = time.Since(t0)
	owners := make([]netip.AddrPort, len(keys))
	t0 = time.Now()
	for i, k := range keys {
		b, _ := p.Pick(k)
		owners[i] = b.Addr
	}
	q.pickNs = float64(time.Since(t0).Nanoseconds()) / float64(len(keys))

	counts := make([]int, n)
	for _, a := range owners {
		counts[idx[a]]++
	}
	mean := float64(len(keys)) / float64(n)
	var ss float64
	for _, c := range counts {
		ss += (float64(c) - mean) * (float64(c) - mean)
		if c == 0 {
			q.zero++
		}
	}
	q.maxCount, q.minCount = slices.Max(counts), slices.Min(counts)
	q.maxMean = float64(q.maxCount) / mean
	q.rsd = math.Sqrt(ss/float64(n)) / mean

	victim := bs[n/2].Addr
	t0 = time.Now()
	if err := p.Update(without(bs, victim)); err != nil {
		panic(err)
	}
	q.update = time.Since(t0)
	if !spec.sticky {
		return q
	}
	// Fresh pickers for the changed sets, so that connection-aware ones
	// start from zero load as the first did.
	moved := func(set []Backend, joined netip.AddrPort) (moved, extra float64) {
		p := spec.new(n)
		if err := p.Update(set); err != nil {
			panic(err)
		}
		var m, x int
		for i, k := range keys {
			b, _ := p.Pick(k)
			if b.Addr == owners[i] {
				continue
			}
			m++
			if owners[i] != victim && b.Addr != joined {
				x++
			}
		}
		return float64(m) / float64(len(keys)), float64(x) / float64(len(keys))
	}
	q.removed, q.removedExtra = moved(without(bs, victim), netip.AddrPort{})
	joined := netip.MustParseAddrPort("10.255.255.254:8080")
	victim = netip.AddrPort{}
	q.added, q.addedExtra = moved(append(testBackends(n), Backend{Addr: joined, Ready: true}), joined)
	return q
}

func (q quality) String() string {
	s := fmt.Sprintf("%9s %9s %7.0f %8.3f %7.2f%% %5d", round(q.build), round(q.update), q.pickNs, q.maxMean, 100*q.rsd, q.zero)
	if !q.sticky {
		return s + "          -                -"
	}
	return s + fmt.Sprintf(" %7.2f%% (+%.2f%%) %7.2f%% (+%.2f%%)", 100*q.removed, 100*q.removedExtra, 100*q.added, 100*q.addedExtra)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d > time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}

func qualitySpecs() []qualitySpec {
	exact := func(t *testing.T, _ Picker, q quality) {
		// Turn-taking and least-loaded algorithms: counts differ by one.
		if q.maxCount-q.minCount > 1 {
			t.Errorf("N=%d: counts %d..%d, want within one", q.n, q.minCount, q.maxCount)
		}
	}
	randomLike := func(t *testing.T, _ Picker, q quality) {
		if q.maxMean > 1+6*q.noise() || q.rsd > 1.5*q.noise() {
			t.Errorf("N=%d: max/mean %.3f, rsd %.3f: more than sampling noise %.3f", q.n, q.maxMean, q.rsd, q.noise())
		}
	}
	return []qualitySpec{
		{name: "random (iptables)", new: func(int) Picker { return NewRandom(RandomConfig{Rand: seeded(1)}) }, check: randomLike},
		{name: "roundrobin", new: func(int) Picker { return NewRoundRobin(RoundRobinConfig{Rand: seeded(1)}) }, check: exact},
		{name: "wrr (EDF)", new: func(int) Picker { return NewWeightedRoundRobin(WeightedRoundRobinConfig{Rand: seeded(1)}) }, check: exact},
		{name: "leastconn", new: func(int) Picker { return NewLeastConn(LeastConnConfig{}) }, check: exact},
		{name: "wlc", new: func(int) Picker { return NewLeastConn(LeastConnConfig{Weighted: true}) }, check: exact},
		{name: "p2c", new: func(int) Picker {
			p, _ := NewLeastRequest(LeastRequestConfig{Rand: seeded(1)})
			return p
		}, check: func(t *testing.T, _ Picker, q quality) {
			// d = 2 choices without departures: the gap is ln ln N/ln 2 + O(1).
			if q.maxCount-q.minCount > 10 {
				t.Errorf("N=%d: counts %d..%d", q.n, q.minCount, q.maxCount)
			}
		}},
		{name: "sourcehash (IPVS)", new: func(int) Picker { return NewSourceHash() }, sticky: true, check: func(t *testing.T, _ Picker, q quality) {
			if q.n > SourceHashBuckets {
				// Only 256 backends have a bucket.
				if q.zero != q.n-SourceHashBuckets {
					t.Errorf("N=%d: %d backends without keys, want %d", q.n, q.zero, q.n-SourceHashBuckets)
				}
				return
			}
			// Not consistent: one removal reshuffles most keys.
			if q.removed < 0.5 || q.added < 0.5 {
				t.Errorf("N=%d: removal moved %.2f, addition %.2f of keys; IPVS sh reshuffles most", q.n, q.removed, q.added)
			}
		}},
		{name: "maglev", new: func(int) Picker { return mustMaglev(DefaultMaglevTableSize) }, sticky: true, check: func(t *testing.T, p Picker, q quality) {
			c := slotCounts(p.(*Maglev))
			m := float64(DefaultMaglevTableSize)
			slots := math.Ceil(m/float64(q.n)) / (m / float64(q.n))
			switch {
			case slices.Max(c)-slices.Min(c) > 1:
				t.Errorf("N=%d: slots per backend %d..%d", q.n, slices.Min(c), slices.Max(c))
			case q.removedExtra >= 0.01 || q.addedExtra >= 0.01:
				t.Errorf("N=%d: extra disruption %.4f on removal, %.4f on addition", q.n, q.removedExtra, q.addedExtra)
			case q.maxMean > slots*(1+6*q.noise()):
				t.Errorf("N=%d: max/mean %.3f", q.n, q.maxMean)
			}
		}},
		{name: "ringhash", new: func(int) Picker { return mustRing(RingHashConfig{}) }, sticky: true, check: checkRing},
		{name: "ringhash min=65536", new: func(int) Picker { return mustRing(RingHashConfig{MinRingSize: 65536}) }, sticky: true, check: checkRing},
		{name: "boundedload c=1.25", new: func(int) Picker {
			p, _ := NewBoundedLoad(BoundedLoadConfig{})
			return p
		}, sticky: true, check: func(t *testing.T, _ Picker, q quality) {
			limit := math.Ceil(1.25*float64(q.keys)/float64(q.n)) / (float64(q.keys) / float64(q.n))
			if q.maxMean > limit {
				t.Errorf("N=%d: max/mean %.3f above the bound %.3f", q.n, q.maxMean, limit)
			}
		}},
		{name: "rendezvous", new: func(int) Picker { return NewRendezvous() }, sticky: true, check: func(t *testing.T, p Picker, q quality) {
			if q.removedExtra != 0 || q.addedExtra != 0 {
				t.Errorf("N=%d: extra disruption %.4f/%.4f, want none", q.n, q.removedExtra, q.addedExtra)
			}
			randomLike(t, p, q)
		}},
	}
}

// checkRing asserts ring hashing's known variance: with v points per
// backend, shares of the ring have a relative standard deviation of about
// 1/√v (a backend's share is a sum of v arcs). It measures the shares
// exactly from the arcs, and the key counts within sampling noise of them.
// Removal or addition moves only the changed backend's keys unless the
// number of points per backend changed with N.
func checkRing(t *testing.T, p Picker, q quality) {
	r := p.(*RingHash)
	v := float64(r.RingSize()) / float64(q.n)
	share := make([]float64, q.n)
	hs := r.ring.hashes
	for i, o := range r.ring.owners {
		prev := hs[(i+len(hs)-1)%len(hs)]
		share[o] += float64(hs[i]-prev) / math.Exp2(64) // wraps correctly
	}
	mean := 1 / float64(q.n)
	var ss float64
	for _, s := range share {
		ss += (s - mean) * (s - mean)
	}
	rsd := math.Sqrt(ss/float64(q.n)) / mean
	if rsd < 0.5/math.Sqrt(v) || rsd > 1.6/math.Sqrt(v) {
		t.Errorf("N=%d: ring share rsd %.3f, outside [0.5, 1.6]/√%v", q.n, rsd, v)
	}
	if q.rsd > math.Hypot(rsd, q.noise())*1.3 {
		t.Errorf("N=%d: key rsd %.3f, ring rsd %.3f, noise %.3f", q.n, q.rsd, rsd, q.noise())
	}
	points := func(n int) uint64 {
		return ringCounts(testBackends(n), r.minSize, r.maxSize)[0]
	}
	if points(q.n-1) == points(q.n) && q.removedExtra != 0 {
		t.Errorf("N=%d: %.4f extra moved on removal with unchanged points", q.n, q.removedExtra)
	}
	if points(q.n+1) == points(q.n) && q.addedExtra != 0 {
		t.Errorf("N=%d: %.4f extra moved on addition with unchanged points", q.n, q.addedExtra)
	}
}

// TestQuality measures every algorithm the same way for N = 10, 100, 1000:
// balance over random keys, disruption on one removal and one addition,
// build, update and pick time. It prints the table (go test -v) and asserts
// the bounds each algorithm is known for. Timings are printed, never
// asserted. go test -run TestQuality -v -lb.quality.keys=1000000 gives the
// full figures.
func TestQuality(t *testing.T) {
	nkeys := *qualityKeys
	if nkeys == 0 {
		nkeys = 100000
		if testing.Short() || raceEnabled {
			nkeys = 20000
		}
	}
	keys := testKeys(nkeys, 2026)
	for _, n := range []int{10, 100, 1000} {
		var b strings.Builder
		fmt.Fprintf(&b, "N=%d, %d keys; disruption: moved (+extra), ideal %.2f%% on removal, %.2f%% on addition\n",
			n, nkeys, 100/float64(n), 100/float64(n+1))
		fmt.Fprintf(&b, "%-20s %9s %9s %7s %8s %8s %5s %18s %16s\n", "algorithm", "build", "update", "pick ns", "max/mean", "rsd", "zero", "remove one", "add one")
		for _, spec := range qualitySpecs() {
			q := measure(spec, n, keys)
			fmt.Fprintf(&b, "%-20s %s\n", spec.name, q)
			// A picker of the measured set, for structural checks.
			p := spec.new(n)
			if err := p.Update(testBackends(n)); err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s/N=%d", spec.name, n), func(t *testing.T) { spec.check(t, p, q) })
		}
		t.Log("\n" + b.String())
	}
}
