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

// report is result.json: the scenario as run, the seeds, and each
// variant's aggregate (its summary, a row of headline figures per seed,
// and the whole Results of its maxViewRuns lowest seeds); every run's
// whole Result only with -runs. Its size grows with the variants and the
// seeds' rows, not with every run's detail. It
// holds nothing from the host (no wall time, no paths), so the same
// scenario and seeds give the same bytes, on any machine, however the
// sweep was sharded.
type report struct {
	// Scenario is the scenario as run, flags applied, variants included.
	Scenario sim.Scenario `json:"scenario"`
	// Seeds are the seeds of the sweep: First, First+1, ...; a variant
	// with a seed of its own counts from that instead.
	Seeds seedRange `json:"seeds"`
	// Shard, when set, says this file holds one shard of the sweep: the
	// runs whose position is Index modulo Count. merge takes each shard
	// once and refuses shards of another sweep or another sharding.
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

// variantReport is one variant's aggregate, and its runs on request.
type variantReport struct {
	// Variant is the variant as the scenario gives it.
	Variant sim.Variant `json:"variant"`
	// Summary aggregates the variant's runs.
	Summary summary `json:"summary"`
	// PerSeed holds each run's headline figures, ordered by seed: the
	// seeds this file holds, and what Summary's spreads are made of.
	PerSeed []seedRow `json:"perSeed"`
	// Sample are the Results of the variant's maxViewRuns lowest seeds,
	// ordered by seed: what the report's per-run views read (the seed
	// bands, the median run, the blame tables, the per-backend load).
	Sample []sim.Result `json:"sample"`
	// Runs are the variant's whole Results, ordered by seed, with -runs
	// only.
	Runs []sim.Result `json:"runs,omitempty"`
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

// job is one run of a sweep: a few words, so that a sweep's list of
// jobs stays small beside its aggregate.
type job struct {
	// index is the run's position in the sweep: variant-major, then seed.
	index   int
	variant int
	seed    uint64
	// s is the variant's scenario, shared by its jobs; the run's is s
	// with Seed seed (scenario).
	s *sim.Scenario
	// events, if not nil, gets the run's event log (-events).
	events io.Writer
}

// scenario is the scenario the job runs.
func (j job) scenario() sim.Scenario {
	s := *j.s
	s.Seed = j.seed
	return s
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
			out = append(out, job{index: idx, variant: vi, seed: applied.Seed + uint64(k), s: &applied})
		}
	}
	return out
}

// ran is what runJobs keeps of a job that ran: which one, and its
// error (nil, a violation, an interruption, or a failure).
type ran struct {
	job job
	err error
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
// in the jobs' order, whatever order they finish in, without their
// Results: done, called with the whole outcome after
// each job from the worker that ran it, is where a Result is used (a
// sweep folds it). progress, if not nil, is called as a job runs (every
// simulated second). Neither changes an outcome.
//
// When stop is closed, no further job starts: those left are outcomes
// with errInterrupted, and the running ones finish.
func runJobs(js []job, workers int, stop <-chan struct{}, progress func(job, sim.Progress), done func(outcome)) []ran {
	out := make([]ran, len(js))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(js))) {
		wg.Go(func() {
			for i := range next {
				o := runOne(js[i], progress)
				if done != nil {
					done(o)
				}
				// The Result was done's to fold; keeping it (or the
				// job's scenario) would make the sweep's memory grow
				// with its runs.
				out[i] = ran{job: o.job, err: o.err}
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
		out[i] = ran{job: js[i], err: errInterrupted}
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
	o.res, o.err = sim.RunWithOptions(j.scenario(), opts)
	return o
}

// merge combines the files of one sweep — its shards, or a partial
// result — into the report of the whole sweep, by adding their
// aggregates. The parts must come from the same scenario and seeds and
// the same sharding (each names its shard); a shard given twice must be
// the same file twice, and every seed a part holds must be one of its
// shard's. It returns the runs missing, by variant and seed; names name
// the parts in errors.
func merge(parts []report, names []string) (report, []string, error) {
	if len(parts) == 0 {
		return report{}, nil, errors.New("nothing to merge")
	}
	first := parts[0]
	want, err := canonicalJSON(first.Scenario)
	if err != nil {
		return report{}, nil, err
	}
	vs := variants(first.Scenario)
	// index[v][seed] is the run's position in the sweep.
	index := make([]map[uint64]int, len(vs))
	for i := range index {
		index[i] = map[uint64]int{}
	}
	all := jobs(first.Scenario, first.Seeds, nil)
	for _, j := range all {
		index[j.variant][j.seed] = j.index
	}
	keepRuns := false
	for _, p := range parts {
		for _, vr := range p.Variants {
			keepRuns = keepRuns || len(vr.Runs) > 0
		}
	}
	acc := newSweep(first.Scenario, first.Seeds, nil, keepRuns)
	seen := map[string]int{}
	identity := func(p report) string {
		if p.Shard == nil {
			return "the whole sweep"
		}
		return "shard " + p.Shard.String()
	}
	sharding := func(p report) int {
		if p.Shard == nil {
			return 0
		}
		return p.Shard.Count
	}
	for i, p := range parts {
		got, err := canonicalJSON(p.Scenario)
		if err != nil {
			return report{}, nil, err
		}
		if string(got) != string(want) || p.Seeds != first.Seeds {
			return report{}, nil, fmt.Errorf("%w: %s is of another sweep than %s (scenario or seeds differ)", errMerge, names[i], names[0])
		}
		if sharding(p) != sharding(first) {
			return report{}, nil, fmt.Errorf("%w: %s is %s, %s %s: parts of two shardings overlap", errMerge, names[i], identity(p), names[0], identity(first))
		}
		id := identity(p)
		if j, dup := seen[id]; dup {
			a, _ := canonicalJSON(parts[j])
			b, _ := canonicalJSON(p)
			if string(a) != string(b) {
				return report{}, nil, fmt.Errorf("%w: %s and %s are both %s but hold different results", errMerge, names[j], names[i], id)
			}
			continue
		}
		seen[id] = i
		if len(p.Variants) != len(vs) {
			return report{}, nil, fmt.Errorf("%w: %s has %d variants, the scenario %d", errMerge, names[i], len(p.Variants), len(vs))
		}
		for vi, vr := range p.Variants {
			where := fmt.Sprintf("%s: variant %q", names[i], vr.Variant.Name)
			if vr.Variant.Name != vs[vi].Name {
				return report{}, nil, fmt.Errorf("%w: %s: want variant %q", errMerge, where, vs[vi].Name)
			}
			if vr.Summary.Runs != len(vr.PerSeed) {
				hint := ""
				if len(vr.PerSeed) == 0 {
					hint = " (written by an svcsim before perSeed rows?)"
				}
				return report{}, nil, fmt.Errorf("%w: %s: a summary of %d runs with %d seed rows%s", errMerge, where, vr.Summary.Runs, len(vr.PerSeed), hint)
			}
			if err := checkLatency(vr.Summary.EndpointLatency, vr.Summary.DNSLatency); err != nil {
				return report{}, nil, fmt.Errorf("%w: %s: %w", errMerge, where, err)
			}
			for _, row := range vr.PerSeed {
				idx, ok := index[vi][row.Seed]
				switch {
				case !ok:
					return report{}, nil, fmt.Errorf("%w: %s: seed %d is not one of the sweep's", errMerge, where, row.Seed)
				case p.Shard != nil && idx%p.Shard.Count != p.Shard.Index:
					return report{}, nil, fmt.Errorf("%w: %s: seed %d is not one of %s's", errMerge, where, row.Seed, id)
				}
			}
			if err := checkSample(vr); err != nil {
				return report{}, nil, fmt.Errorf("%w: %s: %w", errMerge, where, err)
			}
			for _, res := range slices.Concat(vr.Sample, vr.Runs) {
				if err := checkHistograms(res); err != nil {
					return report{}, nil, fmt.Errorf("%w: %s seed %d: %w", errMerge, where, res.Seed, err)
				}
			}
			avr := &acc.r.Variants[vi]
			if err := avr.Summary.merge(vr.Summary); err != nil {
				return report{}, nil, fmt.Errorf("%w: %s: %w", errMerge, where, err)
			}
			avr.PerSeed = append(avr.PerSeed, vr.PerSeed...)
			for _, res := range vr.Sample {
				avr.Sample = keepSample(avr.Sample, res)
			}
			if keepRuns {
				avr.Runs = append(avr.Runs, vr.Runs...)
			}
		}
	}
	var missing []string
	have := make([]map[uint64]bool, len(vs))
	for vi := range acc.r.Variants {
		have[vi] = map[uint64]bool{}
		for _, row := range acc.r.Variants[vi].PerSeed {
			if have[vi][row.Seed] {
				return report{}, nil, fmt.Errorf("%w: variant %q seed %d: in two parts", errMerge, vs[vi].Name, row.Seed)
			}
			have[vi][row.Seed] = true
		}
	}
	for _, j := range all {
		if !have[j.variant][j.seed] {
			missing = append(missing, fmt.Sprintf("%s seed %d", vs[j.variant].Name, j.seed))
		}
	}
	return acc.report(), missing, nil
}

// checkSample checks that a part's sample holds the Results of its
// lowest seeds, as its rows give them, one each: so that the merged
// sample (the lowest seeds of the parts' samples) is the whole sweep's.
func checkSample(vr variantReport) error {
	seeds := make([]uint64, len(vr.PerSeed))
	for i, row := range vr.PerSeed {
		seeds[i] = row.Seed
	}
	slices.Sort(seeds)
	seeds = seeds[:min(len(seeds), maxViewRuns)]
	if len(vr.Sample) != len(seeds) {
		return fmt.Errorf("a sample of %d runs, want the %d of its lowest seeds (written by another version of svcsim?)", len(vr.Sample), len(seeds))
	}
	for i, res := range vr.Sample {
		if res.Seed != seeds[i] {
			return fmt.Errorf("sample run %d is of seed %d, want seed %d", i+1, res.Seed, seeds[i])
		}
	}
	return nil
}

// checkHistograms checks that a Result's latency histograms have the
// buckets of this svcsim's simulator, so that they merge exactly.
func checkHistograms(r sim.Result) error {
	for _, l := range []sim.Latency{r.EndpointLatency, r.DNSLatency} {
		if l.Histogram.Count != int64(l.Count) {
			return fmt.Errorf("latency histogram: histogram of %d samples, latency of %d (written by another version of svcsim?)", l.Histogram.Count, l.Count)
		}
	}
	return checkLatency(r.EndpointLatency.Histogram, r.DNSLatency.Histogram)
}

// checkLatency checks that latency histograms have the buckets of this
// svcsim's simulator (or none, empty), so that they merge exactly.
func checkLatency(hs ...sim.Histogram) error {
	for _, h := range hs {
		want := sim.Histogram{Bounds: sim.LatencyBounds(), Counts: make([]int64, len(sim.LatencyBounds())+1)}
		if err := want.Merge(h); err != nil {
			return fmt.Errorf("latency histogram: %w (written by another version of svcsim?)", err)
		}
	}
	return nil
}
