package main

import (
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
	b, err := renderRealHTML(&s, 0.5, []realRun{run})
	require.NoError(t, err)
	page := string(b)
	require.Contains(t, page, "<title>hand &lt;made&gt; · svcsim -real</title>", "user text is escaped")
	require.Contains(t, page, "<td>measured</td><td>100</td><td>94</td><td>6</td>", "the measured row: total, served, failed")
	svgs := splitSVGs(page)
	require.Len(t, svgs, 1, "one overlay per variant")
	doc := strictSVG(t, svgs[0])
	texts := strings.Join(doc.texts, "\n")
	for name := range want {
		require.Contains(t, texts, name)
	}
	require.Contains(t, texts, "v <1>: connections per second, predicted (solid) and measured (dashed)")
	require.Contains(t, texts, "killNode node-1")
}
