package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/svcnet/svcnet/sim"
)

// -metrics FILE: every run's figures as Prometheus metrics in the
// OpenMetrics 1.0 text format (written by prometheus/common's expfmt),
// one series per run (labels scenario, variant, seed), so that a
// dashboard or a promtool query built for a cluster reads a simulation.
// Names are kube-proxy's (pkg/proxy/metrics/metrics.go) and CoreDNS's
// (plugin/metrics/vars) where the simulator measures the same thing, and
// svcnet_* for the rest. The values are the run's totals at its end: the
// series carry no timestamps (Prometheus stamps them at import).
//
// Where the simulator differs from the real component, the HELP says so:
// the network programming histogram has the simulator's buckets (ten a
// decade from 1 ms, sim.LatencyBounds), not kube-proxy's (0.25 s, 0.5 s,
// then every second to 59 s, ...), which its samples cannot be re-bucketed
// into; a simulated sync takes no simulated time, so the sync duration
// histogram has kube-proxy's buckets (1 ms doubling, 15 buckets) and
// every sample in the first.

// metricsFile renders the report's runs as OpenMetrics text: its
// Results, so every run's only when the report holds them all (-runs).
func metricsFile(r *report) ([]byte, error) {
	var runs []*families
	for _, vr := range r.Variants {
		for _, run := range vr.Runs {
			runs = append(runs, runFamilies(r.Scenario.Metadata.Name, vr.Variant.Name, run))
		}
	}
	return metricsText(runs)
}

// runFamilies are one run's series.
func runFamilies(scenario, variant string, run sim.Result) *families {
	fams := newFamilies()
	addRun(fams, []string{"scenario", scenario, "variant", variant, "seed", strconv.FormatUint(run.Seed, 10)}, run)
	return fams
}

// metricsText writes runs' series as OpenMetrics text, each family's in
// the runs' order.
func metricsText(runs []*families) ([]byte, error) {
	all := newFamilies()
	for _, f := range runs {
		if f == nil {
			continue
		}
		for i, mf := range f.list {
			all.list[i].Metric = append(all.list[i].Metric, mf.Metric...)
		}
	}
	var b bytes.Buffer
	for _, mf := range all.list {
		if len(mf.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, mf); err != nil {
			return nil, err
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// runMetrics collects a sweep's series for -metrics as its runs finish,
// from any number of workers, in the sweep's order however they finish.
// It keeps each run's series (a few dozen numbers per flow), not its
// Result: the one output of a sweep whose memory grows with its runs,
// and only when asked for. A nil *runMetrics collects nothing.
type runMetrics struct {
	scenario string
	mu       sync.Mutex
	// runs[i] are the series of the sweep's i-th job, by position.
	runs []*families
	pos  map[int]int
}

// newRunMetrics collects the series of the jobs js.
func newRunMetrics(scenario string, js []job) *runMetrics {
	m := &runMetrics{scenario: scenario, runs: make([]*families, len(js)), pos: make(map[int]int, len(js))}
	for i, j := range js {
		m.pos[j.index] = i
	}
	return m
}

// add collects the series of a run that gave a Result (or a violation).
func (m *runMetrics) add(o outcome, variant string) {
	if m == nil || (o.err != nil && o.res.Violation == nil) {
		return
	}
	f := runFamilies(m.scenario, variant, o.res)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[m.pos[o.job.index]] = f
}

// text is the collected series as OpenMetrics text.
func (m *runMetrics) text() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return metricsText(m.runs)
}

// families are the metric families, in the order they are written.
type families struct {
	list   []*dto.MetricFamily
	byName map[string]*dto.MetricFamily
}

// The metrics written, with their type and help.
var metricDefs = []struct {
	name string
	typ  dto.MetricType
	help string
}{
	{"kubeproxy_network_programming_duration_seconds", dto.MetricType_HISTOGRAM,
		"In Cluster Network Programming Latency in seconds: from a pod or Service change to the last node's proxy applying it (svcsim: the simulator's buckets, ten a decade from 1ms)"},
	{"kubeproxy_sync_proxy_rules_duration_seconds", dto.MetricType_HISTOGRAM,
		"SyncProxyRules latency in seconds (svcsim: the syncs that applied a new table, over all nodes; a simulated sync takes no simulated time)"},
	{"coredns_dns_requests_total", dto.MetricType_COUNTER,
		"Counter of DNS requests made per zone, protocol and family (svcsim: the clients' A queries to the cluster DNS)"},
	{"svcnet_connections_total", dto.MetricType_COUNTER,
		"Connections by traffic flow and outcome (served, refused, reset, rejected, dnsFailure, dropped, unreachable)"},
	{"svcnet_dns_programming_duration_seconds", dto.MetricType_HISTOGRAM,
		"From a pod or Service change to the cluster DNS answering with it, in seconds"},
	{"svcnet_backend_connections_total", dto.MetricType_COUNTER,
		"Connections a backend pod got, by flow (when the scenario sets metrics.backends)"},
	{"svcnet_disrupted_connections_total", dto.MetricType_COUNTER,
		"Connections refused, reset or rejected, by load-balancing algorithm"},
	{"svcnet_churn_events_total", dto.MetricType_COUNTER,
		"Backend pods that stopped (deleted, evicted, crashed, on a killed node), by load-balancing algorithm"},
	{"svcnet_cross_zone_connections_total", dto.MetricType_COUNTER,
		"Served connections whose client (or entry node) and backend are in different zones"},
	{"svcnet_proxy_tables_published_total", dto.MetricType_COUNTER, "Proxy tables the control plane published"},
	{"svcnet_dns_syncs_total", dto.MetricType_COUNTER, "Updates of the cluster DNS"},
	{"svcnet_pods_created_total", dto.MetricType_COUNTER, "Pod objects created"},
	{"svcnet_pods_deleted_total", dto.MetricType_COUNTER, "Pod objects deleted"},
	{"svcnet_invariant_violations_total", dto.MetricType_COUNTER, "Invariants that broke (a violation stops the run)"},
	{"svcnet_simulated_seconds", dto.MetricType_GAUGE, "Simulated time run"},
	{"svcnet_simulator_events_total", dto.MetricType_COUNTER, "Events the simulator's engine ran"},
}

func newFamilies() *families {
	f := &families{byName: map[string]*dto.MetricFamily{}}
	for _, d := range metricDefs {
		mf := &dto.MetricFamily{Name: new(d.name), Help: new(d.help), Type: d.typ.Enum()}
		f.list = append(f.list, mf)
		f.byName[d.name] = mf
	}
	return f
}

// add appends a metric to the family name, labelled by pairs of name and
// value.
func (f *families) add(name string, m *dto.Metric, labels ...string) {
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: new(labels[i]), Value: new(labels[i+1])})
	}
	mf := f.byName[name]
	mf.Metric = append(mf.Metric, m)
}

func counter(v int64) *dto.Metric {
	return &dto.Metric{Counter: &dto.Counter{Value: new(float64(v))}}
}

func with(labels []string, more ...string) []string {
	return append(append([]string(nil), labels...), more...)
}

// addRun adds one run's series.
func addRun(f *families, labels []string, run sim.Result) {
	f.add("kubeproxy_network_programming_duration_seconds", latencyHistogram(run.EndpointLatency), labels...)
	f.add("kubeproxy_sync_proxy_rules_duration_seconds", instantSyncs(run.Cluster.NodeSyncs), labels...)
	f.add("coredns_dns_requests_total", counter(run.Cluster.DNSQueries),
		with(labels, "server", "dns://:53", "zone", ".", "view", "", "proto", "udp", "family", "1", "type", "A")...)
	for _, fl := range run.Flows {
		o := fl.Connections
		for _, k := range []struct {
			name string
			n    int64
		}{{"served", o.Served}, {"refused", o.Refused}, {"reset", o.Reset}, {"rejected", o.Rejected},
			{"dnsFailure", o.DNSFailure}, {"dropped", o.Dropped}, {"unreachable", o.Unreachable}} {
			f.add("svcnet_connections_total", counter(k.n), with(labels, "flow", fl.Name, "service", fl.Service, "outcome", k.name)...)
		}
		for _, bl := range fl.BackendLoad {
			f.add("svcnet_backend_connections_total", counter(bl.Connections),
				with(labels, "flow", fl.Name, "pod", bl.Pod, "node", bl.Node, "zone", bl.Zone)...)
		}
	}
	f.add("svcnet_dns_programming_duration_seconds", latencyHistogram(run.DNSLatency), labels...)
	for _, a := range run.Algorithms {
		f.add("svcnet_disrupted_connections_total", counter(a.Disrupted), with(labels, "algorithm", a.Algorithm)...)
		f.add("svcnet_churn_events_total", counter(a.ChurnEvents), with(labels, "algorithm", a.Algorithm)...)
	}
	f.add("svcnet_cross_zone_connections_total", counter(run.CrossZone.CrossZone), labels...)
	f.add("svcnet_proxy_tables_published_total", counter(int64(run.Cluster.TableVersions)), labels...)
	f.add("svcnet_dns_syncs_total", counter(run.Cluster.DNSSyncs), labels...)
	f.add("svcnet_pods_created_total", counter(run.Cluster.PodsCreated), labels...)
	f.add("svcnet_pods_deleted_total", counter(run.Cluster.PodsDeleted), labels...)
	if v := run.Violation; v != nil {
		f.add("svcnet_invariant_violations_total", counter(1), with(labels, "invariant", v.Invariant)...)
	}
	f.add("svcnet_simulated_seconds", &dto.Metric{Gauge: &dto.Gauge{Value: new(run.Duration.D().Seconds())}}, labels...)
	f.add("svcnet_simulator_events_total", counter(int64(run.Events)), labels...)
}

// latencyHistogram is a Latency as a Prometheus histogram: its buckets
// cumulated, the sum its mean times its count (the mean is to the
// nanosecond).
func latencyHistogram(l sim.Latency) *dto.Metric {
	h := l.Histogram
	var cum uint64
	var buckets []*dto.Bucket
	for i, b := range h.Bounds {
		cum += uint64(h.Counts[i])
		buckets = append(buckets, &dto.Bucket{UpperBound: new(b.D().Seconds()), CumulativeCount: new(cum)})
	}
	return &dto.Metric{Histogram: &dto.Histogram{SampleCount: new(uint64(h.Count)),
		SampleSum: new(l.Mean.D().Seconds() * float64(l.Count)), Bucket: buckets}}
}

// syncBuckets are kube-proxy's SyncProxyRulesLatency buckets:
// prometheus.ExponentialBuckets(0.001, 2, 15).
var syncBuckets = func() []float64 {
	b := make([]float64, 15)
	for i, v := 0, 0.001; i < len(b); i, v = i+1, v*2 {
		b[i] = v
	}
	return b
}()

// instantSyncs is n syncs of no duration in kube-proxy's sync buckets.
func instantSyncs(n int64) *dto.Metric {
	var buckets []*dto.Bucket
	for _, b := range syncBuckets {
		buckets = append(buckets, &dto.Bucket{UpperBound: new(b), CumulativeCount: new(uint64(n))})
	}
	return &dto.Metric{Histogram: &dto.Histogram{SampleCount: new(uint64(n)), SampleSum: new(0.0), Bucket: buckets}}
}

// writeMetrics writes the metrics text gives to path.
func (c cli) writeMetrics(text func() ([]byte, error), path string) error {
	b, err := text()
	if err != nil {
		return fmt.Errorf("%w: -metrics: %w", errInternal, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("%w: -metrics: %w", errInternal, err)
	}
	fmt.Fprintln(c.stderr, "wrote", path)
	return nil
}
