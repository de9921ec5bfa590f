package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/svcnet/svcnet/sim"
)

// A sweep's memory is bounded by its aggregate, not by its runs: each
// run's Result is folded into its variant's summary (sums, maxima,
// merged histograms) and one seedRow of headline figures as soon as it
// finishes, and kept only while it is one of the variant's maxViewRuns
// lowest seeds (the sample the report's per-run views read, keepSample);
// then it is dropped. Only with -runs is every Result kept, to be
// written to result.json as well.
//
// Everything the fold keeps is a sum of integers or a maximum (exact in
// any order), a seedRow, or the sample (the same Results in any order),
// and the figures that are not sums (the spreads, means of floats) are
// computed from the rows in seed order when the sweep ends. So a sweep
// folded in whatever order its runs finish, or in shards folded apart
// and merged (merge adds their sums, joins their rows and keeps the
// lowest seeds of their samples), gives the same bytes.

// seedRow is one run's headline figures: what the summary's spreads are
// computed from, and how merge knows which seeds a file holds.
type seedRow struct {
	Seed   uint64 `json:"seed"`
	Events uint64 `json:"events"`
	// Failed is the run's connections not served.
	Failed int64 `json:"failed"`
	// EndpointP50, EndpointP99 and DNSP99 are the run's programming
	// latency quantiles, in seconds.
	EndpointP50 float64 `json:"endpointP50Seconds"`
	EndpointP99 float64 `json:"endpointP99Seconds"`
	DNSP99      float64 `json:"dnsP99Seconds"`
	// MaxOverMean is the run's backend imbalance, its flows' max/mean
	// weighted by their connections; absent when no flow had any.
	MaxOverMean *float64 `json:"maxOverMean,omitempty"`
	// PerChurnEvent is the run's disrupted connections per churn event.
	PerChurnEvent float64 `json:"disruptedPerChurnEvent"`
	// FlowMaxOverMean is each flow's max/mean, in the scenario's order.
	FlowMaxOverMean []float64 `json:"flowMaxOverMean"`
	// AllFailedFlows are the flows, by index in the scenario's order,
	// that had connections and served none in the run (resultWarnings).
	AllFailedFlows []int `json:"allFailedFlows,omitempty"`
	// Violation is the invariant that stopped the run, if any.
	Violation *sim.Violation `json:"violation,omitempty"`
}

// worstLatency is the highest of the runs' endpoint and DNS programming
// latency quantiles, each on its own.
type worstLatency struct {
	Endpoint quantiles `json:"endpoint"`
	DNS      quantiles `json:"dns"`
}

// quantiles are a latency's p50, p90 and p99.
type quantiles struct {
	P50 sim.Duration `json:"p50"`
	P90 sim.Duration `json:"p90"`
	P99 sim.Duration `json:"p99"`
}

// raise makes q the greatest of q and o, quantile by quantile.
func (q *quantiles) raise(o quantiles) {
	q.P50, q.P90, q.P99 = max(q.P50, o.P50), max(q.P90, o.P90), max(q.P99, o.P99)
}

func quantilesOf(l sim.Latency) quantiles { return quantiles{P50: l.P50, P90: l.P90, P99: l.P99} }

// add folds one run into the summary's sums and returns its row. The
// spreads and shares are left for derive.
func (s *summary) add(r sim.Result) seedRow {
	row := seedRow{
		Seed: r.Seed, Events: r.Events, Failed: r.Connections.Failed(),
		EndpointP50:     r.EndpointLatency.P50.D().Seconds(),
		EndpointP99:     r.EndpointLatency.P99.D().Seconds(),
		DNSP99:          r.DNSLatency.P99.D().Seconds(),
		FlowMaxOverMean: []float64{},
		Violation:       r.Violation,
	}
	s.Runs++
	if r.Violation != nil {
		s.Violations++
	}
	s.Events += r.Events
	addOutcomes(&s.Connections, r.Connections)
	// The bounds are sim.LatencyBounds in every Result (merge checks
	// those it reads), so these merges cannot fail.
	_ = s.EndpointLatency.Merge(r.EndpointLatency.Histogram)
	_ = s.DNSLatency.Merge(r.DNSLatency.Histogram)
	var w, conns float64
	for i, f := range r.Flows {
		if i == len(s.Flows) {
			s.Flows = append(s.Flows, flowSummary{Name: f.Name, Service: f.Service, Algorithm: f.Algorithm})
		}
		fs := &s.Flows[i]
		addOutcomes(&fs.Connections, f.Connections)
		fs.Backends = max(fs.Backends, f.Backends)
		if f.Connections.Total > 0 && f.Connections.Served == 0 {
			row.AllFailedFlows = append(row.AllFailedFlows, i)
			fs.addAllFailed(f.Connections)
		}
		row.FlowMaxOverMean = append(row.FlowMaxOverMean, f.MaxOverMean)
		w += f.MaxOverMean * float64(f.Connections.Total)
		conns += float64(f.Connections.Total)
	}
	if conns > 0 {
		imb := w / conns
		row.MaxOverMean = &imb
	}
	var dis, ev int64
	for _, a := range r.Algorithms {
		dis += a.Disrupted
		ev += a.ChurnEvents
		s.addAlgorithm(a)
	}
	row.PerChurnEvent = ratio(dis, ev)
	s.CrossZone.Served += r.CrossZone.Served
	s.CrossZone.CrossZone += r.CrossZone.CrossZone
	s.Worst.Endpoint.raise(quantilesOf(r.EndpointLatency))
	s.Worst.DNS.raise(quantilesOf(r.DNSLatency))
	return row
}

// addAllFailed adds a run's connections of the flow, none served.
func (f *flowSummary) addAllFailed(o sim.Outcomes) {
	if f.AllFailed == nil {
		f.AllFailed = &sim.Outcomes{}
	}
	addOutcomes(f.AllFailed, o)
}

// addAlgorithm adds one algorithm's disruption to its total, keeping the
// totals in order of algorithm name.
func (s *summary) addAlgorithm(a sim.AlgorithmResult) {
	i, found := slices.BinarySearchFunc(s.Algorithms, a.Algorithm, func(t sim.AlgorithmResult, name string) int { return cmp.Compare(t.Algorithm, name) })
	if !found {
		s.Algorithms = slices.Insert(s.Algorithms, i, sim.AlgorithmResult{Algorithm: a.Algorithm})
	}
	t := &s.Algorithms[i]
	t.Connections += a.Connections
	t.Disrupted += a.Disrupted
	t.ChurnEvents += a.ChurnEvents
}

// merge adds o's sums to s's, as if o's runs had been folded into s.
func (s *summary) merge(o summary) error {
	s.Runs += o.Runs
	s.Violations += o.Violations
	s.Events += o.Events
	addOutcomes(&s.Connections, o.Connections)
	if err := s.EndpointLatency.Merge(o.EndpointLatency); err != nil {
		return err
	}
	if err := s.DNSLatency.Merge(o.DNSLatency); err != nil {
		return err
	}
	for i, f := range o.Flows {
		if i == len(s.Flows) {
			s.Flows = append(s.Flows, flowSummary{Name: f.Name, Service: f.Service, Algorithm: f.Algorithm})
		}
		fs := &s.Flows[i]
		if fs.Name != f.Name || fs.Service != f.Service {
			return fmt.Errorf("flow %d is %q to %s in one part, %q to %s in another", i, fs.Name, fs.Service, f.Name, f.Service)
		}
		addOutcomes(&fs.Connections, f.Connections)
		fs.Backends = max(fs.Backends, f.Backends)
		if f.AllFailed != nil {
			fs.addAllFailed(*f.AllFailed)
		}
	}
	for _, a := range o.Algorithms {
		s.addAlgorithm(a)
	}
	s.CrossZone.Served += o.CrossZone.Served
	s.CrossZone.CrossZone += o.CrossZone.CrossZone
	s.Worst.Endpoint.raise(o.Worst.Endpoint)
	s.Worst.DNS.raise(o.Worst.DNS)
	return nil
}

// derive computes the figures that are not sums from the sums and the
// rows, which must be in seed order: the spreads, the shares and each
// algorithm's disruption per churn event.
func (s *summary) derive(rows []seedRow) {
	var failed, ep50, ep99, dns99, imb, churn []float64
	flowImb := make([][]float64, len(s.Flows))
	for _, r := range rows {
		failed = append(failed, float64(r.Failed))
		ep50 = append(ep50, r.EndpointP50)
		ep99 = append(ep99, r.EndpointP99)
		dns99 = append(dns99, r.DNSP99)
		if r.MaxOverMean != nil {
			imb = append(imb, *r.MaxOverMean)
		}
		churn = append(churn, r.PerChurnEvent)
		for i, v := range r.FlowMaxOverMean {
			if i < len(flowImb) {
				flowImb[i] = append(flowImb[i], v)
			}
		}
	}
	for i := range s.Algorithms {
		a := &s.Algorithms[i]
		a.PerChurnEvent = ratio(a.Disrupted, a.ChurnEvents)
	}
	for i := range s.Flows {
		s.Flows[i].MaxOverMean = spreadOf(flowImb[i])
	}
	s.FailedShare = ratio(s.Connections.Failed(), s.Connections.Total)
	s.Failed = spreadOf(failed)
	s.EndpointP50, s.EndpointP99, s.DNSP99 = spreadOf(ep50), spreadOf(ep99), spreadOf(dns99)
	s.MaxOverMean = spreadOf(imb)
	s.PerChurnEvent = spreadOf(churn)
	s.CrossZone.Share = ratio(s.CrossZone.CrossZone, s.CrossZone.Served)
	s.CrossZoneShare = s.CrossZone.Share
}

func newSummary() summary {
	return summary{Algorithms: []sim.AlgorithmResult{}, Flows: []flowSummary{}}
}

// summarize aggregates runs, as a sweep folds them.
func summarize(runs []sim.Result) summary {
	s := newSummary()
	rows := make([]seedRow, 0, len(runs))
	for _, r := range runs {
		rows = append(rows, s.add(r))
	}
	slices.SortStableFunc(rows, func(a, b seedRow) int { return cmp.Compare(a.Seed, b.Seed) })
	s.derive(rows)
	return s
}

// sweep folds the outcomes of a sweep (or a shard) into its report as
// they come, from any number of goroutines.
type sweep struct {
	mu       sync.Mutex
	r        report
	keepRuns bool
}

// newSweep starts the report of a sweep of s over seeds (one shard of
// it, when sh is not nil). keepRuns keeps every run's Result for the
// report (svcsim run -runs); without it a Result is dropped once folded.
func newSweep(s sim.Scenario, seeds seedRange, sh *shard, keepRuns bool) *sweep {
	w := &sweep{r: report{Scenario: s, Seeds: seeds, Shard: sh}, keepRuns: keepRuns}
	vs := variants(s)
	w.r.Variants = make([]variantReport, len(vs))
	for i, v := range vs {
		w.r.Variants[i] = variantReport{Variant: v, Summary: newSummary(), PerSeed: []seedRow{}, Sample: []sim.Result{}}
		if keepRuns {
			w.r.Variants[i].Runs = []sim.Result{}
		}
	}
	return w
}

// add folds one outcome in; an outcome without a Result (an error other
// than a violation) adds nothing.
func (w *sweep) add(o outcome) {
	if o.err != nil && o.res.Violation == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	vr := &w.r.Variants[o.job.variant]
	res := o.res
	res.Variant = vr.Variant.Name
	vr.PerSeed = append(vr.PerSeed, vr.Summary.add(res))
	vr.Sample = keepSample(vr.Sample, res)
	if w.keepRuns {
		vr.Runs = append(vr.Runs, res)
	}
}

// report ends the fold: rows (and kept Results) in seed order, and the
// figures derived from them.
func (w *sweep) report() report {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.r.Variants {
		vr := &w.r.Variants[i]
		vr.finish()
	}
	return w.r
}

// finish sorts the variant's rows and Results by seed and derives its
// summary's figures from them.
func (vr *variantReport) finish() {
	slices.SortStableFunc(vr.PerSeed, func(a, b seedRow) int { return cmp.Compare(a.Seed, b.Seed) })
	slices.SortStableFunc(vr.Runs, func(a, b sim.Result) int { return cmp.Compare(a.Seed, b.Seed) })
	vr.Summary.derive(vr.PerSeed)
}

// assemble builds the report of a sweep (or shard) from its outcomes,
// as a sweep folds them; keepRuns keeps their Results.
func assemble(s sim.Scenario, seeds seedRange, sh *shard, outs []outcome, keepRuns bool) report {
	w := newSweep(s, seeds, sh, keepRuns)
	for _, o := range outs {
		w.add(o)
	}
	return w.report()
}

// errMerge is wrapped by the errors of merge that say the parts do not
// make one sweep.
var errMerge = errors.New("cannot merge")
