package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/svcnet/svcnet/sim"
)

// report is result.json: the scenario as run, the seeds, and every run's
// Result grouped by variant with their aggregate. It holds nothing from
// the host (no wall time, no paths), so the same scenario and seeds give
// the same bytes, on any machine, however the sweep was sharded.
type report struct {
	// Scenario is the scenario as run, flags applied, variants included.
	Scenario sim.Scenario `json:"scenario"`
	// Seeds are the seeds of the sweep: First, First+1, ...; a variant
	// with a seed of its own counts from that instead.
	Seeds seedRange `json:"seeds"`
	// Shard, when set, says this file holds one shard of the sweep.
	Shard *shard `json:"shard,omitempty"`
	// Partial, when set, says the sweep was interrupted: runs not started
	// are missing from Variants (svcsim merge -partial takes such files).
	Partial *partial `json:"partial,omitempty"`
	// Variants are the scenario's variants, in its order (one named
	// "baseline" when it has none).
	Variants []variantReport `json:"variants"`
}

// partial says how much of an interrupted sweep is missing.
type partial struct {
	// NotRun is how many runs of the sweep (or shard) never started.
	NotRun int `json:"notRun"`
}

// seedRange is Count seeds from First.
type seedRange struct {
	First uint64 `json:"first"`
	Count int    `json:"count"`
}

// shard is shard Index of Count: the runs whose position in the sweep
// (variant-major, then seed) is Index modulo Count.
type shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// String returns "i/n".
func (s shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// parseShard reads "i/n", or "/n" with i from $JOB_COMPLETION_INDEX (the
// index Kubernetes gives each pod of an Indexed Job).
func parseShard(s string, getenv func(string) string) (shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return shard{}, fmt.Errorf("-shard %q: want i/n, or /n with i from $JOB_COMPLETION_INDEX", s)
	}
	if is == "" {
		is = getenv("JOB_COMPLETION_INDEX")
		if is == "" {
			return shard{}, fmt.Errorf("-shard %q: no index given and $JOB_COMPLETION_INDEX is not set", s)
		}
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return shard{}, fmt.Errorf("-shard %q: want 0 <= i < n (index %q)", s, is)
	}
	return shard{Index: i, Count: n}, nil
}

// variantReport is one variant's runs and their aggregate.
type variantReport struct {
	// Variant is the variant as the scenario gives it.
	Variant sim.Variant `json:"variant"`
	// Summary aggregates Runs.
	Summary summary `json:"summary"`
	// Runs are the variant's Results, ordered by seed.
	Runs []sim.Result `json:"runs"`
}

// baseline is the one variant of a scenario without variants.
const baseline = "baseline"

// variants returns the scenario's variants, or one that changes nothing.
func variants(s sim.Scenario) []sim.Variant {
	if len(s.Variants) == 0 {
		return []sim.Variant{{Name: baseline}}
	}
	return s.Variants
}

// job is one run of a sweep.
type job struct {
	// index is the run's position in the sweep: variant-major, then seed.
	index   int
	variant int
	seed    uint64
	s       sim.Scenario
	// events, if not nil, gets the run's event log (-events).
	events io.Writer
}

// jobs lists the runs of a sweep, or of one shard of it.
func jobs(s sim.Scenario, seeds seedRange, sh *shard) []job {
	var out []job
	vs := variants(s)
	for vi, v := range vs {
		applied := v.Apply(s)
		if v.Seed == nil {
			applied.Seed = seeds.First
		}
		for k := range seeds.Count {
			idx := vi*seeds.Count + k
			if sh != nil && idx%sh.Count != sh.Index {
				continue
			}
			js := applied
			js.Seed = applied.Seed + uint64(k)
			out = append(out, job{index: idx, variant: vi, seed: js.Seed, s: js})
		}
	}
	return out
}

// outcome is what one job gave.
type outcome struct {
	job job
	res sim.Result
	err error
}

// errInternal marks a failure of svcsim or the simulator itself (a
// panic), as opposed to bad input or a broken invariant.
var errInternal = errors.New("internal error")

// runJobs runs the jobs on a pool of workers and returns their outcomes
// in the jobs' order, whatever order they finish in. progress, if not
// nil, is called as a job runs (every simulated second) and done after
// it, both from the worker that runs it; neither changes an outcome.
//
// When stop is closed, no further job starts: those left are outcomes
// with errInterrupted, and the running ones finish.
func runJobs(js []job, workers int, stop <-chan struct{}, progress func(job, sim.Progress), done func(outcome)) []outcome {
	out := make([]outcome, len(js))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(js))) {
		wg.Go(func() {
			for i := range next {
				out[i] = runOne(js[i], progress)
				if done != nil {
					done(out[i])
				}
			}
		})
	}
	handed := 0
feed:
	for ; handed < len(js); handed++ {
		select {
		case <-stop:
			break feed
		default:
		}
		select {
		case next <- handed:
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i := handed; i < len(js); i++ {
		out[i] = outcome{job: js[i], err: errInterrupted}
	}
	return out
}

// runOne runs one job, reporting its progress, if progress is not nil,
// and turning a panic into an internal error.
func runOne(j job, progress func(job, sim.Progress)) (o outcome) {
	o.job = j
	defer func() {
		if p := recover(); p != nil {
			o.err = fmt.Errorf("%w: seed %d: panic: %v\n%s", errInternal, j.seed, p, debug.Stack())
		}
	}()
	var opts sim.RunOptions
	if j.events != nil {
		opts.Events = j.events
	}
	if progress != nil {
		opts.Progress = func(p sim.Progress) { progress(j, p) }
	}
	o.res, o.err = sim.RunWithOptions(j.s, opts)
	return o
}

// assemble builds the report of a sweep (or shard) from its outcomes:
// every variant of the scenario, its runs ordered by seed.
func assemble(s sim.Scenario, seeds seedRange, sh *shard, outs []outcome) report {
	r := report{Scenario: s, Seeds: seeds, Shard: sh}
	vs := variants(s)
	r.Variants = make([]variantReport, len(vs))
	for i, v := range vs {
		r.Variants[i].Variant = v
		r.Variants[i].Runs = []sim.Result{}
	}
	for _, o := range outs {
		if o.err != nil && o.res.Violation == nil {
			continue // no Result to speak of
		}
		res := o.res
		res.Variant = vs[o.job.variant].Name
		vr := &r.Variants[o.job.variant]
		vr.Runs = append(vr.Runs, res)
	}
	for i := range r.Variants {
		vr := &r.Variants[i]
		slices.SortStableFunc(vr.Runs, func(a, b sim.Result) int {
			switch {
			case a.Seed < b.Seed:
				return -1
			case a.Seed > b.Seed:
				return 1
			}
			return 0
		})
		vr.Summary = summarize(vr.Runs)
	}
	return r
}

// merge combines shard reports of one sweep into the report of the
// whole sweep. The shards must come from the same scenario and seeds;
// a run present in two shards must be the same in both. It returns the
// runs missing, by variant and seed. names name the parts in errors.
func merge(parts []report, names []string) (report, []string, error) {
	if len(parts) == 0 {
		return report{}, nil, errors.New("nothing to merge")
	}
	first := parts[0]
	want, err := canonicalJSON(first.Scenario)
	if err != nil {
		return report{}, nil, err
	}
	byVariant := map[string]map[uint64]sim.Result{}
	for i, p := range parts {
		got, err := canonicalJSON(p.Scenario)
		if err != nil {
			return report{}, nil, err
		}
		if string(got) != string(want) || p.Seeds != first.Seeds {
			return report{}, nil, fmt.Errorf("%s is of another sweep than %s (scenario or seeds differ)", names[i], names[0])
		}
		for _, vr := range p.Variants {
			m := byVariant[vr.Variant.Name]
			if m == nil {
				m = map[uint64]sim.Result{}
				byVariant[vr.Variant.Name] = m
			}
			for _, res := range vr.Runs {
				if err := checkHistograms(res); err != nil {
					return report{}, nil, fmt.Errorf("%s: variant %q seed %d: %w", names[i], vr.Variant.Name, res.Seed, err)
				}
				if old, dup := m[res.Seed]; dup {
					a, _ := canonicalJSON(old)
					b, _ := canonicalJSON(res)
					if string(a) != string(b) {
						return report{}, nil, fmt.Errorf("variant %q seed %d: two parts hold different results", vr.Variant.Name, res.Seed)
					}
					continue
				}
				m[res.Seed] = res
			}
		}
	}
	var outs []outcome
	var missing []string
	for _, j := range jobs(first.Scenario, first.Seeds, nil) {
		name := variants(first.Scenario)[j.variant].Name
		res, ok := byVariant[name][j.seed]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s seed %d", name, j.seed))
			continue
		}
		outs = append(outs, outcome{job: j, res: res})
	}
	return assemble(first.Scenario, first.Seeds, nil, outs), missing, nil
}

// checkHistograms checks that a Result's latency histograms have the
// buckets of this svcsim's simulator, so that they merge exactly.
func checkHistograms(r sim.Result) error {
	want := sim.Histogram{Bounds: sim.LatencyBounds(), Counts: make([]int64, len(sim.LatencyBounds())+1)}
	for _, l := range []sim.Latency{r.EndpointLatency, r.DNSLatency} {
		err := want.Merge(l.Histogram)
		if err == nil && l.Histogram.Count != int64(l.Count) {
			err = fmt.Errorf("histogram of %d samples, latency of %d", l.Histogram.Count, l.Count)
		}
		if err != nil {
			return fmt.Errorf("latency histogram: %w (written by another version of svcsim?)", err)
		}
	}
	return nil
}
