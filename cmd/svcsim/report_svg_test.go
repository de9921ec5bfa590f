package main

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// reportOf runs a scenario's sweep (every variant, seeds from its own)
// in-process and assembles its report, as svcsim run does.
func reportOf(t *testing.T, s sim.Scenario, seeds int) report {
	t.Helper()
	sr := seedRange{First: s.Seed, Count: seeds}
	w := newSweep(s, sr, nil, false)
	outs := runJobs(jobs(s, sr, nil), 2, nil, nil, w.add)
	for _, o := range outs {
		require.NoError(t, o.err)
	}
	return w.report()
}

// reportSections are the sections every report has, by id.
var reportSections = []string{"summary", "why", "overview", "flows", "backends", "latency", "comparison", "timeline", "scenario"}

// badNumber matches a coordinate that is not a finite number.
var badNumber = regexp.MustCompile(`(?i)nan|[+-]?inf`)

// svgDoc is what strictSVG reads of one <svg>.
type svgDoc struct {
	texts []string
	// titles are the tooltips (<title> elements).
	titles []string
	// shapes counts the paths, rects, lines and circles.
	shapes int
}

// strictSVG decodes an SVG strictly with encoding/xml: one svg root in
// the SVG namespace, every element closed, and every attribute that is
// not text free of NaN and Inf.
func strictSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var doc svgDoc
	depth := 0
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				require.Equal(t, "svg", tok.Name.Local)
				require.Equal(t, "http://www.w3.org/2000/svg", tok.Name.Space)
			}
			depth++
			stack = append(stack, tok.Name.Local)
			switch tok.Name.Local {
			case "path", "rect", "line", "circle":
				doc.shapes++
			}
			for _, a := range tok.Attr {
				if a.Name.Local == "font-family" {
					continue
				}
				require.NotRegexp(t, badNumber, a.Value, "<%s %s>", tok.Name.Local, a.Name.Local)
			}
		case xml.EndElement:
			depth--
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch stack[len(stack)-1] {
			case "text":
				doc.texts = append(doc.texts, string(tok))
			case "title":
				doc.titles = append(doc.titles, string(tok))
			}
		}
	}
	require.Zero(t, depth, "every element closed")
	return doc
}

// titled returns the SVGs of a page whose texts include title.
func titled(t *testing.T, docs []svgDoc, title string) []svgDoc {
	var out []svgDoc
	for _, d := range docs {
		for _, s := range d.texts {
			if strings.Contains(s, title) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// durationTick reports whether an axis label is a duration (1ms, 2s,
// 5min, 1h).
func durationTick(s string) bool {
	_, err := time.ParseDuration(strings.Replace(s, "min", "m", 1))
	return err == nil
}

// checkReportHTML checks report.html of a report strictly: the sections
// and panels it must have, every SVG well-formed with finite
// coordinates, latency CDFs with at least three tick labels, the
// scenario as YAML.
func checkReportHTML(t *testing.T, page string, r report) {
	t.Helper()
	text := html.UnescapeString(page)
	has := func(needle, why string) {
		t.Helper()
		if !strings.Contains(text, needle) {
			t.Fatalf("report.html lacks %q: %s", needle, why)
		}
	}
	for _, id := range reportSections {
		has(`<section id="`+id+`">`, "every section")
	}
	var docs []svgDoc
	for _, s := range splitSVGs(page) {
		docs = append(docs, strictSVG(t, s))
	}
	require.NotEmpty(t, docs)
	a := axisFor(r.Scenario.Duration.D())
	var failing, clean []string
	for _, vr := range r.Variants {
		if vr.Summary.Connections.Failed() == 0 || len(viewRuns(&vr)) == 0 {
			clean = append(clean, vr.Variant.Name)
			continue
		}
		failing = append(failing, vr.Variant.Name)
		v := vr.Variant.Name
		require.Len(t, titled(t, docs, v+": served connections"), 1, v)
		require.Len(t, titled(t, docs, v+": failed connections by kind"), 1, v)
		require.Len(t, titled(t, docs, v+": endpoints by condition, and pods by revision"), 1, v)
		heat := titled(t, docs, v+": proxy programming per node")
		require.Len(t, heat, 1, v)
		sample := viewRuns(&vr)
		rep := sample[medianRun(sample)]
		rows := rep.Trace.Nodes.Rows
		for _, row := range rows {
			require.Contains(t, strings.Join(heat[0].texts, "\n"), row.First, "every row is labelled")
		}
		nodes := 0
		for _, row := range rows {
			nodes += row.Nodes
		}
		if nodes > sim.TraceRows {
			has(fmt.Sprintf("%d nodes in %d rows", nodes, len(rows)), "grouped nodes are said so")
		}
		tips := strings.Join(heat[0].titles, "\n")
		if len(rep.Trace.NotReady) > 0 {
			require.Contains(t, tips, "NotReady", "NotReady nodes are drawn")
		}
		if len(rep.Trace.ControlPlaneDown) > 0 {
			require.Contains(t, tips, "control plane down")
		}
		if rep.Connections.Refused+rep.Connections.Reset > 0 {
			has("Failures by the backend pod that refused or reset them", "refusals and resets are blamed on pods")
		}
		has("Failures by the node that routed them", "failures are blamed on nodes")
		zones := 0
		for _, z := range rep.Trace.Zones {
			if z.Connections.Failed() > 0 {
				zones++
			}
		}
		if zones > 1 {
			require.Len(t, titled(t, docs, v+": failed connections by zone of the routing node"), 1, v)
		}
		if len(rep.Flows) > 1 {
			require.Len(t, titled(t, docs, v+": failed connections by flow"), 1, v)
		}
	}
	for _, d := range docs {
		for _, s := range d.texts {
			if strings.HasPrefix(s, "simulated time (") {
				require.Equal(t, a.label, s, "one time unit for the run")
			}
		}
	}
	if len(clean) > 0 {
		has("No failed connections in "+strings.Join(clean, ", ")+".", "variants without failures are one sentence")
	}
	if len(failing) > 0 {
		require.Len(t, titled(t, docs, "Failed connections over time"), 1)
	}
	for _, title := range []string{"Endpoint programming latency", "DNS programming latency"} {
		for _, d := range titled(t, docs, title) {
			ticks := 0
			for _, s := range d.texts {
				if durationTick(s) {
					ticks++
				}
			}
			// The legend's p50/p99 are in "name: p50 …" texts, not ticks.
			require.GreaterOrEqual(t, ticks, 3, "%s: tick labels %q", title, d.texts)
		}
	}
	for _, title := range []string{"Failed connections", "Backend imbalance", "Disruption", "Cross-zone traffic"} {
		bars := titled(t, docs, title)
		require.NotEmpty(t, bars, title)
		for _, vr := range r.Variants {
			require.Contains(t, strings.Join(bars[len(bars)-1].texts, "\n"), vr.Variant.Name, "%s: a bar for every variant", title)
		}
	}
	scen := regexp.MustCompile(`(?s)<summary>The scenario as run \(YAML\)</summary>\s*<pre>(.*?)</pre>`).FindStringSubmatch(text)
	require.Len(t, scen, 2, "the scenario is embedded")
	require.Contains(t, scen[1], "kind: Scenario")
	require.Contains(t, scen[1], "apiVersion: sim.svcnet.dev/v1alpha1")
	require.NotContains(t, scen[1], `"kind":`, "YAML, not JSON")
}

// TestReportShippedScenarios renders the report of every shipped
// scenario (the Kubernetes-scale one shortened, as its own test does,
// but with more nodes than rows) and checks it strictly; node-failure
// runs three seeds, for the bands.
func TestReportShippedScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 8)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := sim.ReadScenarioFiles(f)
			require.NoError(t, err)
			seeds := 1
			switch filepath.Base(f) {
			case "kubernetes-scale.yaml":
				s.Cluster.Nodes, s.Workload.Services, s.Workload.Replicas, s.Workload.Namespaces = 60, 60, 5, 10
				s.Duration = sim.Duration(2 * time.Minute)
				s.Churn[0].Rate = 1
				s.Metrics.BucketWidth = sim.Duration(10 * time.Second)
				for i := range s.Traffic {
					j := i * s.Workload.Services / len(s.Traffic)
					s.Traffic[i].Service = "default-" + strconv.Itoa(j%s.Workload.Namespaces) + "/svc-" + strconv.Itoa(j)
				}
			case "gke-scale.yaml":
				// 60 nodes, 150 small Services of 3 pods and the big ones
				// at 8 pods, in 3 simulated minutes: the timeline scaled
				// with it, the node it kills one that exists.
				s.Cluster.Nodes = 60
				s.Workload.Services, s.Workload.Replicas, s.Workload.Namespaces = 150, 3, 15
				for _, d := range s.Deployments {
					r := int32(8)
					d.Spec.Replicas = &r
				}
				scale := func(d sim.Duration) sim.Duration { return sim.Duration(d.D() * 3 / 60) }
				s.Duration = scale(s.Duration)
				s.Churn[0].Rate = 1
				s.Metrics.BucketWidth = sim.Duration(10 * time.Second)
				for i := range s.Timeline {
					s.Timeline[i].At = scale(s.Timeline[i].At)
					if s.Timeline[i].Action == sim.ActionKillNode {
						s.Timeline[i].Target = "node-12"
					}
				}
				for i := range s.Traffic {
					if tr := &s.Traffic[i]; !strings.HasPrefix(tr.Service, "big/") {
						tr.Service = "default-" + strconv.Itoa(i%15) + "/svc-" + strconv.Itoa(i)
					}
				}
			case "node-failure.yaml":
				seeds = 3
			}
			r := reportOf(t, s, seeds)
			b, err := renderHTML(&r)
			require.NoError(t, err)
			checkReportHTML(t, string(b), r)
			if seeds > 1 {
				require.Contains(t, string(b), fmt.Sprintf("median of %d runs, 5–95 %% shaded", seeds))
			}
		})
	}
}

func TestAxisFor(t *testing.T) {
	require.Equal(t, "simulated time (s)", axisFor(2*time.Minute).label)
	require.Equal(t, "simulated time (s)", axisFor(5*time.Minute).label)
	require.Equal(t, "simulated time (min)", axisFor(10*time.Minute).label)
	require.Equal(t, "simulated time (min)", axisFor(5*time.Hour).label)
	require.Equal(t, "simulated time (h)", axisFor(24*time.Hour).label)
	require.Equal(t, 1.5, axisFor(24*time.Hour).x(90*time.Minute))
	require.Equal(t, 90.0, axisFor(2*time.Hour).x(90*time.Minute))
}

func TestLatencyTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range (latencyTicks{}).Ticks(lo, hi) {
			require.GreaterOrEqual(t, tk.Value, lo*(1-1e-9))
			require.LessOrEqual(t, tk.Value, hi*(1+1e-9))
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	require.Equal(t, []string{"100ms", "200ms", "500ms", "1s"}, labels(0.1, 1), "one decade: four labels")
	require.Equal(t, []string{"1ms", "2ms", "5ms", "10ms", "20ms", "50ms", "100ms", "200ms", "500ms", "1s", "2s", "5s", "10s"}, labels(0.001, 10))
	require.Equal(t, []string{"10s", "20s", "50s", "100s", "200s", "500s", "1000s"}, labels(10, 1000))
	require.Equal(t, "1min", durationLabel(60))
	require.Equal(t, "2h", durationLabel(7200))
	require.Equal(t, "1.292s", durationLabel(1.291640495), "rounded to the millisecond")
	require.Empty(t, (latencyTicks{}).Ticks(0, 1), "no log ticks from 0")
}

func TestIntTicks(t *testing.T) {
	for _, c := range []struct{ lo, hi float64 }{{0, 1}, {0, 3.5}, {0, 9}, {0, 18}, {0, 150}, {2, 10_000}} {
		ticks := (intTicks{}).Ticks(c.lo, c.hi)
		require.GreaterOrEqual(t, len(ticks), 2, "%v", c)
		require.LessOrEqual(t, len(ticks), 11, "%v", c)
		for _, tk := range ticks {
			require.Equal(t, tk.Value, float64(int64(tk.Value)), "whole numbers only: %v", c)
			require.Equal(t, strconv.FormatInt(int64(tk.Value), 10), tk.Label)
		}
	}
}

func TestNumberTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range (numberTicks{}).Ticks(lo, hi) {
			out = append(out, tk.Label)
		}
		return out
	}
	require.Equal(t, []string{"0", "10", "20", "30", "40", "50", "60"}, labels(0, 60))
	require.Equal(t, []string{"0.0", "0.5", "1.0", "1.5"}, labels(0, 1.6))
	require.Equal(t, []string{"0.00", "0.02", "0.04", "0.06", "0.08", "0.10"}, labels(0, 0.1))
	require.Len(t, labels(1, 1), 1, "a flat axis has its one value")
}

func TestSummaryTableSplitsOther(t *testing.T) {
	res := constructed(1, 0)
	res.Connections = sim.Outcomes{Total: 10, Served: 4, Unreachable: 3, Dropped: 2, DNSFailure: 1}
	res.EndpointLatency = sim.Latency{Histogram: sim.Histogram{}}
	r := report{Seeds: seedRange{First: 1, Count: 1}, Variants: []variantReport{{Variant: sim.Variant{Name: "v"}, Runs: []sim.Result{res}}}}
	r.Variants[0].Summary = summarize(r.Variants[0].Runs)
	head, rows := summaryTable(&r)
	col := func(name string) string {
		for i, h := range head {
			if h == name {
				return rows[0][i]
			}
		}
		t.Fatalf("no column %q in %q", name, head)
		return ""
	}
	require.NotContains(t, head, "other")
	require.Equal(t, "3", col("unreachable"))
	require.Equal(t, "2", col("dropped"))
	require.Equal(t, "1", col("dns fail"))
	require.Equal(t, "–", col("prog p50"), "no endpoint change: no latency, not 0s")
	require.Equal(t, "–", col("prog p99"))
	require.Equal(t, "300ms", col("dns p99"), "the DNS latency has samples")
}

// TestKeepSample: the sample is the runs of the lowest seeds, at most
// maxViewRuns, the same whatever order the runs come in, each seed once.
func TestKeepSample(t *testing.T) {
	const n = 3 * maxViewRuns
	runs := make([]sim.Result, n)
	for i := range runs {
		runs[i] = sim.Result{Seed: uint64(100 + i), Events: uint64(i)}
	}
	want := runs[:maxViewRuns]
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		perm := rng.Perm(n)
		var s []sim.Result
		for _, i := range perm {
			s = keepSample(s, runs[i])
			s = keepSample(s, runs[perm[0]]) // given twice: kept once
			require.LessOrEqual(t, len(s), maxViewRuns)
		}
		require.Equal(t, want, s)
	}
}

// TestReportManySeeds: a sweep of more seeds than maxViewRuns says that
// its views read the lowest ones.
func TestReportManySeeds(t *testing.T) {
	s, err := sim.ReadScenarioFiles(filepath.Join("..", "..", "examples", "scenarios", "node-failure.yaml"))
	require.NoError(t, err)
	s.Duration = sim.Duration(2 * time.Minute)
	s.Traffic[0].Rate = 10
	r := reportOf(t, s, maxViewRuns+2)
	b, err := renderHTML(&r)
	require.NoError(t, err)
	checkReportHTML(t, string(b), r)
	require.Contains(t, string(b), fmt.Sprintf("read the runs of the variant&#39;s %d lowest seeds, of %d.", maxViewRuns, maxViewRuns+2))
	require.Contains(t, string(b), fmt.Sprintf("median of the %d lowest of %d seeds", maxViewRuns, maxViewRuns+2))
}
