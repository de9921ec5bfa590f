package main

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/svcnet/svcnet/sim"
)

// The report of svcsim run -real (DIR/report.html) is the usual report
// of the simulator's predictions (one run per variant, the seed's) with
// a section "Measured on a real kernel" after the summary: per variant,
// the prediction's and the measurement's totals, and one plot that
// draws the measured timeline over the predicted one: served and failed
// connections per second, the prediction solid, the measurement dashed,
// the scenario's timeline marked.

// overlayLine is one line of a variant's overlay plot.
type overlayLine struct {
	name  string
	style draw.LineStyle
	s     series
}

// overlayLines are the four lines of run's overlay: predicted served,
// measured served, predicted failed, measured failed, each per second of
// its Timeline's buckets (rebinned as the sweep report's plots are).
func overlayLines(run realRun) []overlayLine {
	served, failed := variantStyle(0), variantStyle(1)
	served.Dashes, failed.Dashes = nil, nil
	mServed, mFailed := served, failed
	mServed.Dashes, mFailed.Dashes = dashes[1], dashes[1]
	return []overlayLine{
		{"predicted served", served, rebin(run.Predicted, servedOf)},
		{"measured served", mServed, rebin(run.Measured, servedOf)},
		{"predicted failed", failed, rebin(run.Predicted, failedOf)},
		{"measured failed", mFailed, rebin(run.Measured, failedOf)},
	}
}

// overlayPlot draws run's overlay lines with s's timeline marked.
func overlayPlot(s *sim.Scenario, run realRun) (template.HTML, error) {
	d := run.Predicted.Duration.D()
	if d <= 0 {
		d = s.Duration.D()
	}
	a := axisFor(d)
	p := newPlot(run.Variant+": connections per second, predicted (solid) and measured (dashed)", a.label, "connections / s")
	var legend []legendEntry
	for _, l := range overlayLines(run) {
		if len(l.s.v) == 0 {
			continue
		}
		line, err := plotter.NewLine(steps(a, l.s.width, l.s.v))
		if err != nil {
			return "", err
		}
		line.LineStyle = l.style
		p.Add(line)
		legend = append(legend, legendEntry{name: l.name, style: l.style})
	}
	p.X.Min, p.X.Max = 0, a.x(d)
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, 1)
	p.Add(timelineMarks(s, a))
	return svg(p, 10*vg.Inch, 3.6*vg.Inch, legend, legendWidth)
}

// measuredSection is the section of report.html a -real run adds: per
// variant, the prediction's and the measurement's totals, and the
// overlay plot.
type measuredSection struct {
	Facts string
	Head  []string
	Rows  [][]string
	Plots []template.HTML
}

// realSection builds the measured section of a -real run of s at time
// scale scale.
func realSection(s *sim.Scenario, scale float64, runs []realRun) (*measuredSection, error) {
	m := &measuredSection{Facts: fmt.Sprintf("Seed %d, %v simulated, time scale %g, on a real kernel (package testbed)", s.Seed, s.Duration.D(), scale)}
	m.Head = []string{"variant", "", "connections", "served", "failed", "failed%", "refused", "reset", "unreachable", "dns failure", "prog p50", "prog p99"}
	for _, r := range runs {
		for _, src := range []struct {
			name string
			r    sim.Result
		}{{"predicted", r.Predicted}, {"measured", r.Measured}} {
			o := src.r.Connections
			m.Rows = append(m.Rows, []string{r.Variant, src.name, strconv.FormatInt(o.Total, 10), strconv.FormatInt(o.Served, 10),
				strconv.FormatInt(o.Failed(), 10), fmt.Sprintf("%.3f", 100*ratio(o.Failed(), o.Total)),
				strconv.FormatInt(o.Refused+o.Rejected, 10), strconv.FormatInt(o.Reset, 10), strconv.FormatInt(o.Unreachable+o.Dropped, 10),
				strconv.FormatInt(o.DNSFailure, 10),
				src.r.EndpointLatency.P50.D().Round(time.Millisecond).String(), src.r.EndpointLatency.P99.D().Round(time.Millisecond).String()})
		}
		h, err := overlayPlot(s, r)
		if err != nil {
			return nil, err
		}
		m.Plots = append(m.Plots, h)
	}
	return m, nil
}

// predictedReport is the usual report of the predictions of a -real
// run: one run per variant, the seed's, as svcsim run would fold it.
func predictedReport(s sim.Scenario, runs []realRun) report {
	var outs []outcome
	for i, r := range runs {
		outs = append(outs, outcome{job: job{index: i, variant: i, seed: r.Predicted.Seed}, res: r.Predicted})
	}
	return assemble(s, seedRange{First: s.Seed, Count: 1}, nil, outs, false)
}

// renderRealHTML renders report.html of a -real run: the usual report
// of the predictions, with the measured section after the summary.
func renderRealHTML(s *sim.Scenario, scale float64, runs []realRun) ([]byte, error) {
	m, err := realSection(s, scale, runs)
	if err != nil {
		return nil, err
	}
	r := predictedReport(*s, runs)
	return renderReport(&r, m)
}
