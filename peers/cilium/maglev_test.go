package cilium

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"testing"

	cmtypes "github.com/cilium/cilium/pkg/clustermesh/types"
	"github.com/cilium/cilium/pkg/loadbalancer"
	"github.com/cilium/cilium/pkg/maglev"
	"github.com/cilium/hive/cell"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/lb"
)

// lifecycle is the smallest cell.Lifecycle: it starts hooks as they are
// appended (Cilium's Maglev starts its worker pool there) and stops them
// on Stop, so a benchmark can release one instance before the next.
type lifecycle struct{ hooks []cell.HookInterface }

func (l *lifecycle) Append(h cell.HookInterface) {
	if err := h.Start(context.Background()); err != nil {
		panic(err) // a worker pool that does not start is a broken test machine
	}
	l.hooks = append(l.hooks, h)
}

func (l *lifecycle) Start(*slog.Logger, context.Context) error { return nil }

func (l *lifecycle) Stop(*slog.Logger, context.Context) error {
	for _, h := range l.hooks {
		if err := h.Stop(context.Background()); err != nil {
			return err
		}
	}
	return nil
}

func (l *lifecycle) PrintHooks(io.Writer) {}

// newCilium returns a started Cilium Maglev of table size m with Cilium's
// default seed, and the function that stops it.
func newCilium(tb testing.TB, m int) (*maglev.Maglev, func()) {
	cfg, err := maglev.UserConfig{TableSize: uint(m), HashSeed: maglev.DefaultHashSeed}.ToConfig()
	require.NoError(tb, err)
	lc := &lifecycle{}
	ml := maglev.New(cfg, lc)
	return ml, func() { require.NoError(tb, lc.Stop(nil, context.Background())) }
}

// addr is backend i's address, the same on both sides: 10.x.y.z:8080
// counting from 10.0.0.1.
func addr(i int) netip.AddrPort {
	i++
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8080)
}

func ciliumBackends(n int, weights ...uint16) []maglev.BackendInfo {
	bs := make([]maglev.BackendInfo, n)
	for i := range bs {
		a := addr(i)
		bs[i] = maglev.BackendInfo{
			ID:     loadbalancer.BackendID(i),
			Addr:   loadbalancer.NewL3n4Addr(loadbalancer.TCP, cmtypes.AddrClusterFrom(a.Addr(), 0), a.Port(), 0),
			Weight: 1,
		}
		if i < len(weights) {
			bs[i].Weight = weights[i]
		}
	}
	return bs
}

func svcnetBackends(n int, weights ...uint16) []lb.Backend {
	bs := make([]lb.Backend, n)
	for i := range bs {
		bs[i] = lb.Backend{Addr: addr(i), Ready: true}
		if i < len(weights) {
			bs[i].Weight = uint32(weights[i])
		}
	}
	return bs
}

// ciliumTable returns Cilium's table as backend addresses, slot by slot.
func ciliumTable(ml *maglev.Maglev, bs []maglev.BackendInfo) []netip.AddrPort {
	ids := ml.GetLookupTable(slices.Values(bs))
	out := make([]netip.AddrPort, len(ids))
	for s, id := range ids {
		out[s] = addr(int(id))
	}
	return out
}

func svcnetTable(tb testing.TB, m int, bs []lb.Backend) []netip.AddrPort {
	g, err := lb.NewMaglev(lb.MaglevConfig{TableSize: m})
	require.NoError(tb, err)
	require.NoError(tb, g.Update(bs))
	return g.AppendTable(nil)
}

// spread returns the smallest and largest number of slots of a backend.
func spread(table []netip.AddrPort) (lo, hi int) {
	c := map[netip.AddrPort]int{}
	for _, a := range table {
		c[a]++
	}
	lo = len(table)
	for _, v := range c {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// TestSameTableSizes: svcnet accepts every table size Cilium offers and,
// for the sizes cheap enough to build on Cilium's side, both tables have
// M slots, every backend, and every backend within one slot.
func TestSameTableSizes(t *testing.T) {
	for _, m := range []int{251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071} {
		g, err := lb.NewMaglev(lb.MaglevConfig{TableSize: m})
		require.NoError(t, err, "M=%d", m)
		require.Equal(t, m, g.TableSize())
	}
	// Cilium keeps 8·M·max(N, M/100) bytes of permutations per instance:
	// 1.4 GB at M = 131071, so the larger sizes are left to the disruption
	// test and the benchmarks.
	for _, m := range []int{251, 1021, 4093, 16381} {
		ml, stop := newCilium(t, m)
		for _, n := range []int{1, 2, 10, 100} {
			if n > m {
				continue
			}
			ct, st := ciliumTable(ml, ciliumBackends(n)), svcnetTable(t, m, svcnetBackends(n))
			require.Len(t, ct, m)
			require.Len(t, st, m)
			clo, chi := spread(ct)
			slo, shi := spread(st)
			require.LessOrEqual(t, chi-clo, 1, "cilium M=%d N=%d", m, n)
			require.LessOrEqual(t, shi-slo, 1, "svcnet M=%d N=%d", m, n)
		}
		stop()
	}
}

// TestSameWeights: on Cilium's own weighted example (TestWeightedBackendWithRemoval:
// weights 2, 13, 111, 10 at M = 1021, where Cilium gives 16, 98, 832, 75
// slots), svcnet's turns give each backend the same share to within two
// slots.
func TestSameWeights(t *testing.T) {
	const m = 1021
	weights := []uint16{2, 13, 111, 10}
	ml, stop := newCilium(t, m)
	defer stop()
	ct := ciliumTable(ml, ciliumBackends(4, weights...))
	st := svcnetTable(t, m, svcnetBackends(4, weights...))
	count := func(table []netip.AddrPort) []int {
		c := make([]int, 4)
		for _, a := range table {
			for i := range c {
				if a == addr(i) {
					c[i]++
				}
			}
		}
		return c
	}
	cc, sc := count(ct), count(st)
	require.Equal(t, []int{16, 98, 832, 75}, cc)
	for i := range cc {
		require.InDelta(t, cc[i], sc[i], 2, "backend %d: cilium %v, svcnet %v", i, cc, sc)
	}
	t.Logf("slots per weight %v: cilium %v, svcnet %v", weights, cc, sc)
}

// extraDisruption is the fraction of slots that changed backend although
// their backend stayed, after checking that no slot still names the
// removed one.
func extraDisruption(tb testing.TB, before, after []netip.AddrPort, victim netip.AddrPort) float64 {
	extra := 0
	for s := range before {
		require.NotEqual(tb, victim, after[s])
		if before[s] != victim && before[s] != after[s] {
			extra++
		}
	}
	return float64(extra) / float64(len(before))
}

// TestDisruptionVsCilium: with M = 65521 and N = 1000, removing one backend
// moves no more of the other backends' slots in svcnet than in Cilium.
//
// The two run the same algorithm with different hash functions, so each
// removal is an independent random draw on both sides (about 0.58 % of the
// slots, ±0.02 %), and neither is better in expectation. The test averages
// ten removals and checks non-inferiority: svcnet's mean may exceed
// Cilium's by at most three standard errors of the difference of the
// means. It costs Cilium about half a second and half a gigabyte per table.
func TestDisruptionVsCilium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds eleven 65521-slot Cilium tables")
	}
	const m, n = 65521, 1000
	ml, stop := newCilium(t, m)
	defer stop()
	cbs, sbs := ciliumBackends(n), svcnetBackends(n)
	cBefore, sBefore := ciliumTable(ml, cbs), svcnetTable(t, m, sbs)
	var cs, ss []float64
	for v := 0; v < n; v += 111 {
		victim := addr(v)
		cAfter := ciliumTable(ml, slices.Delete(slices.Clone(cbs), v, v+1))
		sAfter := svcnetTable(t, m, slices.Delete(slices.Clone(sbs), v, v+1))
		c, s := extraDisruption(t, cBefore, cAfter, victim), extraDisruption(t, sBefore, sAfter, victim)
		t.Logf("remove %v: extra disruption cilium %.3f%%, svcnet %.3f%%", victim, 100*c, 100*s)
		cs, ss = append(cs, c), append(ss, s)
	}
	cm, cv := meanVar(cs)
	sm, sv := meanVar(ss)
	se := math.Sqrt(cv/float64(len(cs)) + sv/float64(len(ss)))
	t.Logf("mean extra disruption over %d removals: cilium %.3f%%, svcnet %.3f%%, standard error of the difference %.3f%% (the removed backend's own share: %.2f%%)",
		len(cs), 100*cm, 100*sm, 100*se, 100.0/n)
	require.LessOrEqual(t, sm, cm+3*se, "svcnet moves more slots than Cilium beyond noise")
	// And both stay below Cilium's own bound of 1 % (TestBackendRemoval).
	require.Less(t, slices.Max(ss), 0.01)
}

// meanVar returns the mean and the sample variance of xs.
func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

// heldBytes returns the heap kept alive by build's result after a GC.
func heldBytes(build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	keep := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// BenchmarkMaglevBuild builds a table of M slots for N backends of weight
// 1 with each implementation. impl=svcnet and impl=cilium build from a new
// instance each time (B/op is all a table costs from scratch: for Cilium,
// 8·N·M bytes of permutations); the -warm variants reuse one instance, the
// shape of Cilium's own BenchmarkGetMaglevTable. held-B is what one
// instance keeps allocated between builds.
func BenchmarkMaglevBuild(b *testing.B) {
	for _, c := range []struct{ m, n int }{{16381, 100}, {16381, 1000}, {65521, 1000}} {
		sbs, cbs := svcnetBackends(c.n), ciliumBackends(c.n)
		name := fmt.Sprintf("M=%d/N=%d/impl=", c.m, c.n)
		b.Run(name+"svcnet", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, err := lb.NewMaglev(lb.MaglevConfig{TableSize: c.m})
				if err != nil {
					b.Fatal(err)
				}
				if err := g.Update(sbs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"cilium", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ml, stop := newCilium(b, c.m)
				if len(ml.GetLookupTable(slices.Values(cbs))) != c.m {
					b.Fatal("short table")
				}
				stop()
			}
		})
		b.Run(name+"svcnet-warm", func(b *testing.B) {
			g, err := lb.NewMaglev(lb.MaglevConfig{TableSize: c.m})
			if err != nil {
				b.Fatal(err)
			}
			held := heldBytes(func() any {
				if err := g.Update(sbs); err != nil {
					b.Fatal(err)
				}
				return g
			})
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Update(sbs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(held, "held-B")
		})
		b.Run(name+"cilium-warm", func(b *testing.B) {
			var ml *maglev.Maglev
			var stop func()
			held := heldBytes(func() any {
				ml, stop = newCilium(b, c.m)
				ml.GetLookupTable(slices.Values(cbs))
				return ml
			})
			defer stop()
			b.ReportAllocs()
			for b.Loop() {
				if len(ml.GetLookupTable(slices.Values(cbs))) != c.m {
					b.Fatal("short table")
				}
			}
			b.ReportMetric(held, "held-B")
		})
	}
}
