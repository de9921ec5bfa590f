package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/sim"
)

// TestRealReport: the -real report draws, per variant, the measured
// timeline over the predicted one: each line is its Result's Timeline
// per second (the measured failed line has the measured failures, not
// the predicted ones), and the page is strict SVG with the four lines
// named in the legend, the table's measured row and the timeline marked.
func TestRealReport(t *testing.T) {
	pred := constructed(1, 10) // 10 refused in [1s, 2s)
	meas := constructed(1, 4)  // 4
	meas.Timeline[3].Outcomes = sim.Outcomes{Total: 20, Served: 18, Reset: 2}
	meas.Connections = sim.Outcomes{Total: 100, Served: 94, Refused: 4, Reset: 2}
	run := realRun{Variant: "v <1>", Predicted: pred, Measured: meas}

	lines := overlayLines(run)
	require.Len(t, lines, 4)
	want := map[string][]float64{
		"predicted served": {25, 15, 25, 25},
		"measured served":  {25, 21, 25, 18},
		"predicted failed": {0, 10, 0, 0},
		"measured failed":  {0, 4, 0, 2},
	}
	for _, l := range lines {
		require.Equal(t, want[l.name], l.s.v, l.name)
		require.Equal(t, time.Second, l.s.width, l.name)
	}
	require.NotEqual(t, lines[0].style.Dashes, lines[1].style.Dashes, "measured is drawn unlike predicted")

	s := sim.Scenario{Metadata: sim.Metadata{Name: "hand <made>"}, Seed: 1, Duration: sim.Duration(4 * time.Second),
		Timeline: []sim.TimelineEvent{{At: sim.Duration(time.Second), Action: sim.ActionKillNode, Target: "node-1"}}}
	h, err := overlayPlot(&s, run)
	require.NoError(t, err)
	doc := strictSVG(t, string(h))
	texts := strings.Join(doc.texts, "\n")
	for name := range want {
		require.Contains(t, texts, name)
	}
	require.Contains(t, texts, "v <1>: connections per second, predicted (solid) and measured (dashed)")
	require.Contains(t, texts, "killNode node-1")
}

// TestRealReportPage: report.html of a -real run is the usual report of
// the prediction (every section, checked as checkReportHTML checks any
// report, the summary and flows of the predicted run) with the section
// "Measured on a real kernel" right after the summary: the predicted and
// measured rows of each variant (the measured row the measurement's) and
// one overlay plot per variant.
func TestRealReportPage(t *testing.T) {
	s, err := sim.ReadScenarioFiles(filepath.Join("..", "..", "examples", "scenarios", "node-failure.yaml"))
	require.NoError(t, err)
	require.Empty(t, s.Variants)
	pred, err := sim.Run(s)
	require.NoError(t, err)
	require.Positive(t, pred.Connections.Failed(), "the prediction fails connections: the page has its why section")
	meas := pred
	meas.Connections = sim.Outcomes{Total: pred.Connections.Total + 7, Served: pred.Connections.Total - 30, Refused: 12, Reset: 5, Unreachable: 20}
	runs := []realRun{{Variant: baseline, Predicted: pred, Measured: meas}}
	b, err := renderRealHTML(&s, 0.5, runs)
	require.NoError(t, err)
	page := string(b)

	r := predictedReport(s, runs)
	require.Len(t, r.Variants, 1)
	require.Equal(t, 1, r.Variants[0].Summary.Runs)
	require.Equal(t, pred.Connections, r.Variants[0].Summary.Connections, "the report is of the prediction")
	checkReportHTML(t, page, r)
	plain, err := renderHTML(&r)
	require.NoError(t, err)
	require.NotContains(t, string(plain), `<section id="measured">`, "a simulated run's report has no measured section")

	ids := regexp.MustCompile(`<section id="([a-z-]+)">`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, m := range ids {
		got = append(got, m[1])
	}
	want := append([]string{reportSections[0], "measured"}, reportSections[1:]...)
	require.Equal(t, want, got, "the measured section comes after the summary")
	m := meas.Connections
	require.Contains(t, page, fmt.Sprintf("<td>baseline</td><td>measured</td><td>%d</td><td>%d</td><td>%d</td>", m.Total, m.Served, m.Failed()))
	p := pred.Connections
	require.Contains(t, page, fmt.Sprintf("<td>baseline</td><td>predicted</td><td>%d</td><td>%d</td><td>%d</td>", p.Total, p.Served, p.Failed()))
	var overlays int
	for _, svg := range splitSVGs(page) {
		if strings.Contains(svg, "predicted (solid) and measured (dashed)") {
			overlays++
		}
	}
	require.Equal(t, 1, overlays, "one overlay per variant")
	require.Contains(t, page, "time scale 0.5, on a real kernel")
}
