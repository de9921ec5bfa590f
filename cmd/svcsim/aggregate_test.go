package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// folded is vr with its Runs folded into its Summary, PerSeed and
// Sample, as a sweep folds them, the Runs kept.
func folded(vr variantReport) variantReport {
	vr.Summary = newSummary()
	vr.PerSeed = []seedRow{}
	vr.Sample = []sim.Result{}
	for _, r := range vr.Runs {
		vr.PerSeed = append(vr.PerSeed, vr.Summary.add(r))
		vr.Sample = keepSample(vr.Sample, r)
	}
	slices.SortStableFunc(vr.Runs, func(a, b sim.Result) int { return cmp.Compare(a.Seed, b.Seed) })
	vr.finish()
	return vr
}

// bigResult is constructed(seed, failed) with a timeline of n buckets:
// a Result of about n×80 bytes, as a long run's is.
func bigResult(seed uint64, failed int64, n int) sim.Result {
	r := constructed(seed, failed)
	r.Timeline = make([]sim.Bucket, n)
	for i := range r.Timeline {
		r.Timeline[i] = sim.Bucket{At: sim.Duration(time.Duration(i) * time.Second), Outcomes: sim.Outcomes{Total: 1, Served: 1}}
	}
	return r
}

// retained folds runs Results of a 2000-bucket timeline into a sweep
// and returns the heap the sweep holds afterwards, in bytes.
func retained(t *testing.T, runs int, keepRuns bool) float64 {
	t.Helper()
	s := sim.Scenario{Metadata: sim.Metadata{Name: "mem"}}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	w := newSweep(s, seedRange{First: 1, Count: runs}, nil, keepRuns)
	for k := range runs {
		w.add(outcome{job: job{index: k, seed: uint64(1 + k)}, res: bigResult(uint64(1+k), int64(k%7), 2000)})
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	after := ms.HeapAlloc
	r := w.report()
	require.Equal(t, runs, r.Variants[0].Summary.Runs)
	runtime.KeepAlive(w)
	return float64(after) - float64(before)
}

// TestSweepMemoryBounded: a sweep holds its aggregate — the summary,
// a row per run, and the sample of the maxViewRuns lowest seeds' Results
// (here 20 of about 160 KB: some 3 MB) — not every run's Result. Folding
// n = maxViewRuns runs (the sample full) and then 10n, the 9n more runs
// add a few hundred bytes each (their rows); with -runs every Result is
// held, which the same measure shows.
func TestSweepMemoryBounded(t *testing.T) {
	n := maxViewRuns
	small, large := retained(t, n, false), retained(t, 10*n, false)
	perRun := (large - small) / float64(9*n)
	t.Logf("held: %.0f KB at %d runs, %.0f KB at %d runs: %.0f B per run more; a Result is about 160 KB, the sample %d of them", small/1024, n, large/1024, 10*n, perRun, maxViewRuns)
	require.Less(t, perRun, 1024.0, "each run past the sample holds at most a row")
	require.Less(t, large, 1.5*small, "10x the runs: the same sample, and 9n small rows more")
	kept := retained(t, 10*n, true)
	keptPerRun := (kept - large) / float64(10*n)
	t.Logf("with -runs: %.0f KB at %d runs, %.0f KB per run more", kept/1024, 10*n, keptPerRun/1024)
	require.Greater(t, keptPerRun, 100_000.0, "with -runs every Result is held: the measure sees them")
}

// shardsOf folds constructed Results of the sweep of seeds over a
// scenario with no variants into count shards, and the whole sweep.
func shardsOf(t *testing.T, seeds seedRange, count int) (whole report, parts []report) {
	t.Helper()
	s := sim.Scenario{Metadata: sim.Metadata{Name: "m"}}
	outs := func(sh *shard) []outcome {
		var out []outcome
		for _, j := range jobs(s, seeds, sh) {
			out = append(out, outcome{job: j, res: constructed(j.seed, int64(j.seed%5))})
		}
		return out
	}
	whole = assemble(s, seeds, nil, outs(nil), false)
	for i := range count {
		sh := &shard{Index: i, Count: count}
		parts = append(parts, assemble(s, seeds, sh, outs(sh), false))
	}
	return whole, parts
}

// mergeParts merges parts named "part 1", "part 2", ...
func mergeParts(parts []report) (report, []string, error) {
	names := make([]string, len(parts))
	for i := range parts {
		names[i] = fmt.Sprintf("part %d", i+1)
	}
	return merge(parts, names)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestMergeAggregates: shards merge into the whole sweep's report byte
// for byte, in any order; a shard given twice counts once; a shard
// edited, of another sharding, or holding a seed not its own is refused.
func TestMergeAggregates(t *testing.T) {
	seeds := seedRange{First: 1, Count: 7}
	whole, parts := shardsOf(t, seeds, 3)
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0, 1}} {
		var in []report
		for _, i := range order {
			in = append(in, parts[i])
		}
		got, missing, err := mergeParts(in)
		require.NoError(t, err)
		require.Empty(t, missing)
		require.Equal(t, mustJSON(t, whole), mustJSON(t, got), "order %v", order)
	}

	_, missing, err := mergeParts([]report{parts[0], parts[2]})
	require.NoError(t, err)
	require.Equal(t, []string{"baseline seed 2", "baseline seed 5"}, missing)

	edited := parts[1]
	edited.Variants = slices.Clone(edited.Variants)
	edited.Variants[0].Summary.Connections.Total++
	_, _, err = mergeParts([]report{parts[0], parts[1], edited})
	require.ErrorIs(t, err, errMerge)
	require.ErrorContains(t, err, "part 2 and part 3 are both shard 1/3 but hold different results")

	_, halves := shardsOf(t, seeds, 2)
	_, _, err = mergeParts([]report{parts[0], halves[1]})
	require.ErrorContains(t, err, "parts of two shardings overlap")
	_, _, err = mergeParts([]report{parts[0], whole})
	require.ErrorContains(t, err, "parts of two shardings overlap")

	// A row moved into a shard it is not in.
	moved := parts[0]
	moved.Variants = slices.Clone(moved.Variants)
	moved.Variants[0].PerSeed = append(slices.Clone(moved.Variants[0].PerSeed), parts[1].Variants[0].PerSeed[0])
	moved.Variants[0].Summary.Runs++
	_, _, err = mergeParts([]report{moved, parts[1], parts[2]})
	require.ErrorContains(t, err, "seed 2 is not one of shard 0/3's")

	// More seeds than the sample holds: each shard keeps its lowest
	// maxViewRuns, the merge the sweep's lowest.
	many := seedRange{First: 1, Count: 3*maxViewRuns + 5}
	wholeMany, partsMany := shardsOf(t, many, 3)
	require.Equal(t, maxViewRuns, len(wholeMany.Variants[0].Sample))
	for i, res := range wholeMany.Variants[0].Sample {
		require.Equal(t, uint64(1+i), res.Seed, "the sample is of the lowest seeds")
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		var in []report
		for _, i := range order {
			require.Equal(t, maxViewRuns, len(partsMany[i].Variants[0].Sample))
			in = append(in, partsMany[i])
		}
		got, missing, err := mergeParts(in)
		require.NoError(t, err)
		require.Empty(t, missing)
		require.Equal(t, mustJSON(t, wholeMany), mustJSON(t, got), "order %v", order)
	}
	// A sample not of the part's lowest seeds, or short of them.
	shifted := partsMany[1]
	shifted.Variants = slices.Clone(shifted.Variants)
	shifted.Variants[0].Sample = slices.Clone(shifted.Variants[0].Sample)
	shifted.Variants[0].Sample[0] = constructed(200, 0)
	_, _, err = mergeParts([]report{partsMany[0], shifted, partsMany[2]})
	require.ErrorIs(t, err, errMerge)
	require.ErrorContains(t, err, "sample run 1 is of seed 200, want seed 2")
	shifted.Variants[0].Sample = shifted.Variants[0].Sample[1:]
	_, _, err = mergeParts([]report{partsMany[0], shifted, partsMany[2]})
	require.ErrorContains(t, err, "a sample of 19 runs, want the 20 of its lowest seeds")

	// A summary that does not match its rows.
	short := parts[2]
	short.Variants = slices.Clone(short.Variants)
	short.Variants[0].PerSeed = short.Variants[0].PerSeed[1:]
	_, _, err = mergeParts([]report{parts[0], parts[1], short})
	require.ErrorContains(t, err, "a summary of 2 runs with 1 seed rows")
}
