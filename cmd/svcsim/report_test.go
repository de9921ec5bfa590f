package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
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
		EndpointLatency: sim.Latency{Count: 4, P50: ms(500), P90: ms(900), P99: ms(990), Max: ms(1000)},
		DNSLatency:      sim.Latency{Count: 4, P50: ms(100), P90: ms(200), P99: ms(300), Max: ms(400)},
		Algorithms:      []sim.AlgorithmResult{{Algorithm: "maglev", Connections: 100, Disrupted: failed, ChurnEvents: 2, PerChurnEvent: float64(failed) / 2}},
		CrossZone:       sim.CrossZone{Served: 100 - failed, CrossZone: 10, Share: 10 / float64(100-failed)},
	}
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
		r.Variants[i].Summary = summarize(r.Variants[i].Runs)
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
	require.Contains(t, texts, "none: no failed connections")

	var out strings.Builder
	require.NoError(t, writeSummary(&out, &r))
	require.Contains(t, out.String(), "scenario hand <made>: seeds 1..2, 4s simulated")
	require.Contains(t, out.String(), "one (VIOLATION)")
	require.Contains(t, out.String(), "7.5 [5-10]", "failed per run: mean [min-max]")
	require.Contains(t, out.String(), "VIOLATION in one, seed 2, event 77 at 3s: node-convergence: node-1 <late>")
}
