package main

import (
	"cmp"
	"slices"

	"github.com/svcnet/svcnet/sim"
)

// maxViewRuns is the most runs of a variant that the report's per-run
// views read (the seed bands, the node timeline's median run, the blame
// tables, the per-backend load, the comparison whiskers): the runs of
// the variant's lowest seeds. It bounds what a report keeps and draws
// however many seeds ran.
const maxViewRuns = 20

// keepSample adds r to sample — a variant's runs of its lowest seeds,
// in seed order — and keeps at most maxViewRuns of them. Whatever order
// the runs come in (parallel workers, shards merged in any order), the
// sample is the same; a run given twice (a shard merged twice) is kept
// once.
func keepSample(sample []sim.Result, r sim.Result) []sim.Result {
	i, found := slices.BinarySearchFunc(sample, r.Seed, func(x sim.Result, seed uint64) int { return cmp.Compare(x.Seed, seed) })
	if found || i >= maxViewRuns {
		return sample
	}
	sample = slices.Insert(sample, i, r)
	if len(sample) > maxViewRuns {
		sample[maxViewRuns] = sim.Result{}
		sample = sample[:maxViewRuns]
	}
	return sample
}

// viewRuns are the runs the report's per-run views read: the variant's
// sample, those of its lowest seeds, at most maxViewRuns, as the sweep
// or merge kept them.
func viewRuns(vr *variantReport) []sim.Result { return vr.Sample }
