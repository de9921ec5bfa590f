package sim

import (
	"cmp"
	"iter"
	"maps"
	"math"
	"slices"
	"time"

	"golang.org/x/exp/stats"
)

// metrics are the counters a run keeps.
type metrics struct {
	total           Outcomes
	buckets         []Outcomes
	endpointLatency []time.Duration
	dnsLatency      []time.Duration
	podsCreated     int64
	podsDeleted     int64
	tableVersions   uint64
	skippedPods     int64
	nodeSyncs       int64
	dnsSyncs        int64
	dnsQueries      int64
	picks           int64
	fullChecks      int64
	servedZone      int64
	crossZone       int64
	restores        int
}

// LatencyOf summarises durations as a Result does (package testbed
// summarises what it measured with it).
func LatencyOf(ds []time.Duration) Latency { return latency(ds) }

// latency summarises durations: R-7 quantiles from x/exp/stats, mean and
// standard deviation from stats.MeanAndStdDev, in seconds then rounded
// to the nanosecond; and their histogram.
func latency(ds []time.Duration) Latency {
	h := newLatencyHistogram()
	for _, d := range ds {
		h.Record(d)
	}
	if len(ds) == 0 {
		return Latency{Histogram: h}
	}
	v := make([]float64, len(ds))
	for i, d := range ds {
		v[i] = d.Seconds()
	}
	slices.Sort(v)
	q := stats.Quantiles(v, 0.5, 0.9, 0.99)
	mean, sd := stats.MeanAndStdDev(v)
	if math.IsNaN(sd) {
		sd = 0
	}
	sec := func(f float64) Duration { return Duration(math.Round(f * 1e9)) }
	return Latency{Count: len(v), Mean: sec(mean), StdDev: sec(sd), P50: sec(q[0]), P90: sec(q[1]), P99: sec(q[2]), Max: sec(v[len(v)-1]), Histogram: h}
}

// result assembles the Result.
func (w *world) result() Result {
	s := w.cfg.s
	r := Result{
		Scenario:    s.Metadata.Name,
		Seed:        s.Seed,
		Duration:    Duration(w.now()),
		Events:      w.eng.Events(),
		Connections: w.m.total,
		BucketWidth: Duration(w.cfg.bucket),
		Violation:   w.stopped,
	}
	pods := 0
	for _, p := range w.pods {
		if p.phase != phGone {
			pods++
		}
	}
	svcs := 0
	for _, sv := range w.svcList {
		if !sv.deleted {
			svcs++
		}
	}
	r.Cluster = ClusterSummary{
		Nodes: len(w.nodes), Pods: pods, Services: svcs,
		PodsCreated: w.m.podsCreated, PodsDeleted: w.m.podsDeleted,
		TableVersions: w.m.tableVersions, NodeSyncs: w.m.nodeSyncs, DNSSyncs: w.m.dnsSyncs, DNSQueries: w.m.dnsQueries,
		PodsSkippedNodeNotFound: w.m.skippedPods,
	}
	n := int((w.now() + w.cfg.bucket - 1) / w.cfg.bucket)
	n = max(1, min(n, len(w.m.buckets)))
	r.Timeline = make([]Bucket, n)
	for i := range n {
		r.Timeline[i] = Bucket{At: Duration(time.Duration(i) * w.cfg.bucket), Outcomes: w.m.buckets[i]}
	}
	algs := map[string]*AlgorithmResult{}
	for _, f := range w.flows {
		fr := FlowResult{Name: f.name, Service: f.svc.key.String(), Algorithm: f.svc.alg, Connections: f.counts}
		loads := make([]float64, 0, len(f.load))
		var max float64
		for _, c := range f.load {
			loads = append(loads, float64(c))
			if float64(c) > max {
				max = float64(c)
			}
		}
		slices.Sort(loads)
		fr.Backends = len(loads)
		if len(loads) > 0 {
			mean, sd := stats.MeanAndStdDev(loads)
			if mean > 0 {
				fr.MaxOverMean = max / mean
				if !math.IsNaN(sd) {
					fr.RSD = sd / mean
				}
			}
		}
		if s.Metrics.Backends {
			for p, c := range f.load {
				z := ""
				node := ""
				if p.node != nil {
					node, z = p.node.name, p.node.zone
				}
				fr.BackendLoad = append(fr.BackendLoad, BackendLoad{Pod: p.key.String(), Node: node, Zone: z, Connections: c})
			}
			// Every field decides: a StatefulSet's pods reuse their names.
			slices.SortFunc(fr.BackendLoad, func(a, b BackendLoad) int {
				return cmp.Or(cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Node, b.Node), cmp.Compare(a.Zone, b.Zone), cmp.Compare(a.Connections, b.Connections))
			})
		}
		r.Flows = append(r.Flows, fr)
		a := algs[f.svc.alg]
		if a == nil {
			a = &AlgorithmResult{Algorithm: f.svc.alg}
			algs[f.svc.alg] = a
		}
		a.Connections += f.counts.Total
		a.Disrupted += f.counts.Refused + f.counts.Reset + f.counts.Rejected
	}
	for _, sv := range w.watched {
		if a := algs[sv.alg]; a != nil {
			a.ChurnEvents += sv.churn
		}
	}
	for _, name := range slices.Sorted(maps.Keys(algs)) {
		a := algs[name]
		if a.ChurnEvents > 0 {
			a.PerChurnEvent = float64(a.Disrupted) / float64(a.ChurnEvents)
		}
		r.Algorithms = append(r.Algorithms, *a)
	}
	r.EndpointLatency = latency(w.m.endpointLatency)
	r.DNSLatency = latency(w.m.dnsLatency)
	r.CrossZone = CrossZone{Served: w.m.servedZone, CrossZone: w.m.crossZone}
	if w.m.servedZone > 0 {
		r.CrossZone.Share = float64(w.m.crossZone) / float64(w.m.servedZone)
	}
	r.Checks = CheckCounts{Picks: w.m.picks, Full: w.m.fullChecks}
	r.Trace = w.trace()
	if r.Flows == nil {
		r.Flows = []FlowResult{}
	}
	if r.Algorithms == nil {
		r.Algorithms = []AlgorithmResult{}
	}
	return r
}

func mapKeys[K comparable, V any](m map[K]V) iter.Seq[K] { return maps.Keys(m) }
