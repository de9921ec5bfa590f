package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
	"gonum.org/v1/plot/plotter"
)

// constructed returns a Result built by hand: two flows, a timeline of
// four buckets, latencies, one algorithm.
func constructed(seed uint64, failed int64) sim.Result {
	o := sim.Outcomes{Total: 100, Served: 100 - failed, Refused: failed}
	ms := func(n int) sim.Duration { return sim.Duration(time.Duration(n) * time.Millisecond) }
	return sim.Result{
		Seed: seed, Duration: sim.Duration(4 * time.Second), Events: 1000, BucketWidth: sim.Duration(time.Second),
		Connections: o,
		Timeline: []sim.Bucket{{At: 0, Outcomes: sim.Outcomes{Total: 25, Served: 25}},
			{At: sim.Duration(time.Second), Outcomes: sim.Outcomes{Total: 25, Served: 25 - failed, Refused: failed}},
			{At: sim.Duration(2 * time.Second), Outcomes: sim.Outcomes{Total: 25, Served: 25}},
			{At: sim.Duration(3 * time.Second), Outcomes: sim.Outcomes{Total: 25, Served: 25}}},
		Flows: []sim.FlowResult{
			{Name: "a", Service: "default/a", Algorithm: "maglev", Connections: sim.Outcomes{Total: 75, Served: 75 - failed, Refused: failed}, Backends: 3, MaxOverMean: 1.5,
				BackendLoad: []sim.BackendLoad{{Pod: "a-1", Connections: 40}, {Pod: "a-2", Connections: 20}, {Pod: "a-3", Connections: 15}}},
			{Name: "b", Service: "default/b", Algorithm: "maglev", Connections: sim.Outcomes{Total: 25, Served: 25}, Backends: 2, MaxOverMean: 1},
		},
		EndpointLatency: sim.Latency{Count: 4, P50: ms(500), P90: ms(900), P99: ms(990), Max: ms(1000), Histogram: histogram(500, 900, 990, 1000)},
		DNSLatency:      sim.Latency{Count: 4, P50: ms(100), P90: ms(200), P99: ms(300), Max: ms(400), Histogram: histogram(100, 200, 300, 400)},
		Algorithms:      []sim.AlgorithmResult{{Algorithm: "maglev", Connections: 100, Disrupted: failed, ChurnEvents: 2, PerChurnEvent: float64(failed) / 2}},
		CrossZone:       sim.CrossZone{Served: 100 - failed, CrossZone: 10, Share: 10 / float64(100-failed)},
	}
}

// histogram records samples of so many milliseconds.
func histogram(ms ...int) sim.Histogram {
	var h sim.Histogram
	for _, n := range ms {
		h.Record(time.Duration(n) * time.Millisecond)
	}
	return h
}

func TestSummarize(t *testing.T) {
	s := summarize([]sim.Result{constructed(1, 10), constructed(2, 0), constructed(3, 20)})
	require.Equal(t, 3, s.Runs)
	require.Equal(t, sim.Outcomes{Total: 300, Served: 270, Refused: 30}, s.Connections)
	require.InDelta(t, 0.1, s.FailedShare, 1e-12)
	require.Equal(t, spread{Mean: 10, Min: 0, Max: 20}, s.Failed)
	require.InDelta(t, 0.99, s.EndpointP99.Mean, 1e-12)
	require.Equal(t, 0.99, s.EndpointP99.Max)
	require.InDelta(t, (1.5*75+1*25)/100, s.MaxOverMean.Mean, 1e-12, "weighted by the flows' connections")
	require.Equal(t, []sim.AlgorithmResult{{Algorithm: "maglev", Connections: 300, Disrupted: 30, ChurnEvents: 6, PerChurnEvent: 5}}, s.Algorithms)
	require.InDelta(t, 30.0/270, s.CrossZoneShare, 1e-12)
	require.Len(t, s.Flows, 2)
	require.Equal(t, int64(225), s.Flows[0].Connections.Total)
	require.Equal(t, int64(30), s.Flows[0].Connections.Refused)
	require.Equal(t, spread{Mean: 1.5, Min: 1.5, Max: 1.5}, s.Flows[0].MaxOverMean)
	require.Equal(t, histogram(500, 900, 990, 1000, 500, 900, 990, 1000, 500, 900, 990, 1000), s.EndpointLatency,
		"the runs' histograms merged are those of all their samples")
	require.Equal(t, int64(12), s.DNSLatency.Count)

	empty := summarize(nil)
	require.Zero(t, empty.Runs)
	require.Equal(t, spread{}, empty.Failed)
}

// TestRenderConstructed renders a report from hand-built Results,
// including a variant without runs, a violation and a timeline, and
// checks every plot parses.
func TestRenderConstructed(t *testing.T) {
	withViolation := constructed(2, 5)
	withViolation.Violation = &sim.Violation{Invariant: "node-convergence", Message: "node-1 <late>", Seed: 2, Event: 77,
		At: sim.Duration(3 * time.Second), LastEvents: []string{"#76 t=2.9s node-sync node-1"}}
	r := report{
		Scenario: sim.Scenario{Metadata: sim.Metadata{Name: "hand <made>", Description: "A & B"}, Duration: sim.Duration(4 * time.Second),
			Timeline: []sim.TimelineEvent{{At: sim.Duration(time.Second), Action: sim.ActionKillNode, Target: "node-1", For: sim.D(2 * time.Second)},
				{At: sim.Duration(2 * time.Second), Action: sim.ActionCrashControlPlane}}},
		Seeds: seedRange{First: 1, Count: 2},
		Variants: []variantReport{
			{Variant: sim.Variant{Name: "one"}, Runs: []sim.Result{constructed(1, 10), withViolation}},
			{Variant: sim.Variant{Name: "none"}, Runs: []sim.Result{}},
		},
	}
	for i := range r.Variants {
		r.Variants[i] = folded(r.Variants[i])
	}
	b, err := renderHTML(&r)
	require.NoError(t, err)
	html := string(b)
	require.Contains(t, html, "<title>hand &lt;made&gt; · svcsim</title>", "user text is escaped")
	require.Contains(t, html, "A &amp; B")
	require.Contains(t, html, "node-1 &lt;late&gt;")
	require.Contains(t, html, "Replay: seed 2, event 77, at 3s.")
	require.Contains(t, html, "<td>killNode</td>")
	require.Equal(t, 2, strings.Count(html, "<td>maglev</td>"), "one flow row per flow")
	for _, s := range splitSVGs(html) {
		parseSVG(t, s)
	}
	texts := strings.Join(allTexts(t, html), "\n")
	require.Contains(t, texts, "killNode node-1")
	require.Contains(t, texts, "crashControlPlane")
	require.Contains(t, texts, "7.5 [5.25–9.75]", "failed%: the median of the two runs and their 5–95 %")
	require.Contains(t, texts, "one: served connections (median of 2 runs, 5–95 % shaded)")
	require.Contains(t, html, `No failed connections in none.`, "a variant without failures is one sentence, not an empty panel")

	var out strings.Builder
	require.NoError(t, writeSummary(&out, &r))
	require.Contains(t, out.String(), "scenario hand <made>: seeds 1..2, 4s simulated")
	require.Contains(t, out.String(), "one (VIOLATION)")
	require.Contains(t, out.String(), "7.5 [5-10]", "failed per run: mean [min-max]")
	require.Contains(t, out.String(), "VIOLATION in one, seed 2, event 77 at 3s: node-convergence: node-1 <late>")
}

func TestStepCDF(t *testing.T) {
	require.Empty(t, stepCDF(sim.Histogram{}))
	h := histogram(0, 100, 101, 2000, 2000, 900_000)
	pts := stepCDF(h)
	require.Equal(t, plotter.XY{X: 0.001, Y: 0}, pts[0], "from the least sample, at least the first bound")
	require.Equal(t, plotter.XY{X: 900, Y: 1}, pts[len(pts)-1], "to the greatest sample")
	// 0 ms in the first bucket, 100 ms, 101 ms (the bucket up to 125 ms),
	// 2 s, and 15 min above every bound: five steps.
	require.Len(t, pts, 1+2*5)
	require.Equal(t, []plotter.XY{{X: 0.125, Y: 2.0 / 6}, {X: 0.125, Y: 3.0 / 6}}, []plotter.XY(pts[5:7]))
	for i := 1; i < len(pts); i++ {
		require.GreaterOrEqual(t, pts[i].X, pts[i-1].X)
		require.GreaterOrEqual(t, pts[i].Y, pts[i-1].Y)
	}
}

// TestLatencyCDF draws the latency CDFs from the merged histograms: a
// step line per variant with runs, in a well-formed SVG.
func TestLatencyCDF(t *testing.T) {
	r := report{Variants: []variantReport{
		{Variant: sim.Variant{Name: "one"}, Runs: []sim.Result{constructed(1, 10), constructed(2, 0)}},
		{Variant: sim.Variant{Name: "two"}, Runs: []sim.Result{constructed(3, 0)}},
		{Variant: sim.Variant{Name: "none"}, Runs: []sim.Result{}},
	}}
	for i := range r.Variants {
		r.Variants[i] = folded(r.Variants[i])
	}
	h, ok, err := latencyPlot(&r, "Endpoint programming latency", func(s *summary) sim.Histogram { return s.EndpointLatency })
	require.NoError(t, err)
	require.True(t, ok)
	texts, _ := parseSVG(t, string(h))
	joined := strings.Join(texts, "\n")
	for _, want := range []string{"Endpoint programming latency", "latency", "fraction of changes", "one: p50 1s, p99 1s", "two"} {
		require.Contains(t, joined, want)
	}
	require.NotContains(t, joined, "none", "no line without runs")
	// Each variant's CDF is one path of 1+2*2 points (two buckets hold
	// samples: up to 500 ms and up to 1 s), from the axis' left end at 0
	// to its right end at 1 (two more points), in the variant's colour.
	steps := regexp.MustCompile(`<path d="M[^"]*"[^>]*>`).FindAllString(string(h), -1)
	n := 0
	for _, p := range steps {
		if strings.Count(p, "L") == 2*2+2 && (strings.Contains(p, "#0072B2") || strings.Contains(p, "#E69F00")) {
			n++
		}
	}
	require.Equal(t, 2, n, "two step CDFs in %s", h)

	_, ok, err = latencyPlot(&report{Variants: r.Variants[2:]}, "x", func(s *summary) sim.Histogram { return s.DNSLatency })
	require.NoError(t, err)
	require.False(t, ok, "nothing to draw")
}
