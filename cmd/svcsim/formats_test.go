package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// TestCL2Files: every variant gets ClusterLoader2's
// NetworkProgrammingLatency file and a summary in the same shape, named
// as CL2 names them, holding the worst run's percentiles in ms.
func TestCL2Files(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := svcsim(t, nil, "run", "-out", dir, "-seeds", "3", "-runs", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	r := readReport(t, filepath.Join(dir, "result.json"))
	for _, vr := range r.Variants {
		for _, summary := range []string{"NetworkProgrammingLatency", "SvcsimSummary"} {
			name := summary + "_small_" + vr.Variant.Name + "_2025-01-01T00:00:40Z.json"
			b, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err, "%s (the files: %v)", name, ls(t, dir))
			require.True(t, strings.HasPrefix(string(b), "{\n  \"version\": \"v1\",\n  \"dataItems\": [\n"), "CL2's PrettyPrintJSON layout")
			require.True(t, strings.HasSuffix(string(b), "}\n"))
			var pd cl2PerfData
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&pd))
			item := pd.DataItems[0]
			require.Equal(t, "ms", item.Unit)
			require.Equal(t, map[string]string{"Metric": "NetworkProgrammingLatency"}, item.Labels)
			require.Len(t, item.Data, 3)
			for key, of := range map[string]func(sim.Latency) sim.Duration{
				"Perc50": func(l sim.Latency) sim.Duration { return l.P50 },
				"Perc90": func(l sim.Latency) sim.Duration { return l.P90 },
				"Perc99": func(l sim.Latency) sim.Duration { return l.P99 },
			} {
				worst := time.Duration(0)
				for _, run := range vr.Runs {
					worst = max(worst, of(run.EndpointLatency).D())
				}
				require.Positive(t, worst)
				require.InDelta(t, float64(worst)/1e6, item.Data[key], 1e-9, key)
			}
			if summary == "SvcsimSummary" {
				require.Equal(t, "10..12", pd.Labels["Seeds"])
				require.Equal(t, vr.Variant.Name, pd.Labels["Variant"])
				var conns *cl2DataItem
				for i := range pd.DataItems {
					if pd.DataItems[i].Labels["Metric"] == "Connections" {
						conns = &pd.DataItems[i]
					}
				}
				require.NotNil(t, conns)
				require.Equal(t, float64(vr.Summary.Connections.Total), conns.Data["Total"])
				require.Equal(t, float64(vr.Summary.Connections.Refused), conns.Data["Refused"])
			} else {
				require.Len(t, pd.DataItems, 1)
				require.Empty(t, pd.Labels)
			}
		}
	}
	require.Len(t, ls(t, dir), 2+2*len(r.Variants), "result.json, report.html and two files per variant")
}

func ls(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestMetricsFile parses -metrics with prometheus/common's decoder and
// checks every run's series against result.json: kube-proxy's and
// CoreDNS's names and buckets where they exist.
func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.txt")
	code, _, stderr := svcsim(t, nil, "run", "-out", dir, "-seeds", "2", "-runs", "-metrics", path, "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	r := readReport(t, filepath.Join(dir, "result.json"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(b)
	require.True(t, strings.HasSuffix(text, "\n# EOF\n"), "OpenMetrics ends with # EOF")
	for _, l := range []string{"# TYPE kubeproxy_network_programming_duration_seconds histogram", "# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram",
		"# TYPE coredns_dns_requests counter", "# TYPE svcnet_connections counter"} {
		require.Contains(t, text, l+"\n")
	}

	fams := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(bytes.NewReader(b), expfmt.NewFormat(expfmt.TypeOpenMetrics))
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		fams[mf.GetName()] = &mf
	}
	// series finds the metric of a run (and more labels).
	series := func(name string, vr variantReport, run sim.Result, more ...string) *dto.Metric {
		t.Helper()
		mf := fams[name]
		require.NotNil(t, mf, name)
		want := map[string]string{"scenario": "small", "variant": vr.Variant.Name, "seed": uintStrings([]uint64{run.Seed})[0]}
		for i := 0; i+1 < len(more); i += 2 {
			want[more[i]] = more[i+1]
		}
		for _, m := range mf.Metric {
			got := map[string]string{}
			for _, l := range m.Label {
				if _, ok := want[l.GetName()]; ok {
					got[l.GetName()] = l.GetValue()
				}
			}
			if len(got) == len(want) && equalMaps(got, want) {
				return m
			}
		}
		t.Fatalf("%s: no series %v", name, want)
		return nil
	}
	value := func(m *dto.Metric) float64 {
		if m.Untyped != nil {
			return m.Untyped.GetValue() // the decoder reads OpenMetrics counters' _total samples as untyped
		}
		return m.Counter.GetValue()
	}
	kubeProxySync := []float64{0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384}
	n := 0
	for _, vr := range r.Variants {
		for _, run := range vr.Runs {
			n++
			h := series("kubeproxy_network_programming_duration_seconds", vr, run).Histogram
			require.Equal(t, uint64(run.EndpointLatency.Count), h.GetSampleCount())
			require.InDelta(t, run.EndpointLatency.Mean.D().Seconds()*float64(run.EndpointLatency.Count), h.GetSampleSum(), 1e-6)
			require.Len(t, h.Bucket, len(sim.LatencyBounds())+1, "the bounds and +Inf")
			require.True(t, math.IsInf(h.Bucket[len(h.Bucket)-1].GetUpperBound(), 1))

			s := series("kubeproxy_sync_proxy_rules_duration_seconds", vr, run).Histogram
			require.Equal(t, uint64(run.Cluster.NodeSyncs), s.GetSampleCount())
			require.Positive(t, s.GetSampleCount())
			for i, bound := range kubeProxySync {
				require.InDelta(t, bound, s.Bucket[i].GetUpperBound(), 1e-12, "kube-proxy's ExponentialBuckets(0.001, 2, 15)")
			}

			dns := series("coredns_dns_requests_total", vr, run, "proto", "udp", "type", "A", "server", "dns://:53", "zone", ".", "family", "1")
			require.Equal(t, float64(run.Cluster.DNSQueries), value(dns))
			require.Positive(t, run.Cluster.DNSQueries)

			var total float64
			for _, outcome := range []string{"served", "refused", "reset", "rejected", "dnsFailure", "dropped", "unreachable"} {
				total += value(series("svcnet_connections_total", vr, run, "flow", run.Flows[0].Name, "outcome", outcome))
			}
			require.Equal(t, float64(run.Connections.Total), total)
			require.Equal(t, float64(run.Connections.Refused), value(series("svcnet_connections_total", vr, run, "outcome", "refused")))
			require.Equal(t, float64(run.Flows[0].BackendLoad[0].Connections),
				value(series("svcnet_backend_connections_total", vr, run, "pod", run.Flows[0].BackendLoad[0].Pod)))
		}
	}
	require.Equal(t, 4, n)
	require.Len(t, fams["kubeproxy_network_programming_duration_seconds"].Metric, 4, "one series per run")
}

func equalMaps(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// eventLine is a line of -events: the run and its sim.Event.
type eventLine struct {
	Variant string `json:"variant"`
	Seed    uint64 `json:"seed"`
	sim.Event
}

// TestEventsFile: -events is the same bytes with one worker or four;
// every line decodes; within a run the times never go back; the runs
// come in the sweep's order; the failed connections are the result's;
// no part file is left.
func TestEventsFile(t *testing.T) {
	dir := t.TempDir()
	one, four := filepath.Join(dir, "one.jsonl"), filepath.Join(dir, "four.jsonl")
	args := []string{"run", "-out", "", "-seeds", "2", "-duration", "30s", "testdata/small.yaml"}
	code, _, stderr := svcsim(t, nil, append(args, "-parallel", "1", "-events", one)...)
	require.Equal(t, exitOK, code, stderr)
	out := t.TempDir()
	code, _, stderr = svcsim(t, nil, append(args, "-parallel", "4", "-events", four, "-out", out, "-runs")...)
	require.Equal(t, exitOK, code, stderr)
	a, err := os.ReadFile(one)
	require.NoError(t, err)
	b, err := os.ReadFile(four)
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	require.Equal(t, []string{"four.jsonl", "one.jsonl"}, ls(t, dir), "no part file left")

	r := readReport(t, filepath.Join(out, "result.json"))
	type run struct {
		variant string
		seed    uint64
	}
	var order []run
	kinds := map[string]int{}
	failed := map[run]int64{}
	last := map[run]float64{}
	sc := bufio.NewScanner(bytes.NewReader(a))
	for sc.Scan() {
		var e eventLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&e), sc.Text())
		k := run{e.Variant, e.Seed}
		if len(order) == 0 || order[len(order)-1] != k {
			require.NotContains(t, order, k, "a run's events are together")
			order = append(order, k)
		}
		require.GreaterOrEqual(t, e.At, last[k], sc.Text())
		last[k] = e.At
		kinds[e.Kind]++
		if e.Kind == sim.EventConnectionFailed {
			failed[k]++
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, []run{{"random", 10}, {"random", 11}, {"maglev", 10}, {"maglev", 11}}, order)
	for _, kind := range []string{sim.EventFault, sim.EventPod, sim.EventPodDeleted, sim.EventTable, sim.EventSync, sim.EventDNSSync, sim.EventConnectionFailed} {
		require.Positive(t, kinds[kind], kind)
	}
	for _, vr := range r.Variants {
		for _, res := range vr.Runs {
			require.Equal(t, res.Connections.Failed(), failed[run{vr.Variant.Name, res.Seed}])
		}
	}

	code, _, stderr = svcsim(t, nil, "run", "-out", "", "-events", filepath.Join(dir, "no", "such", "dir"), "testdata/small.yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "-events")
	code, _, stderr = svcsim(t, nil, "run", "-out", "", "-metrics", filepath.Join(dir, "no", "such", "dir"), "testdata/small.yaml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "-metrics")
}
