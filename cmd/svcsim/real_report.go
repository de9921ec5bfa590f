package main

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/svcnet/svcnet/sim"
)

// The report of svcsim run -real (DIR/report.html): per variant, the
// prediction's and the measurement's totals, and one plot that draws
// the measured timeline over the predicted one: served and failed
// connections per second, the prediction solid, the measurement dashed,
// the scenario's timeline marked. Self-contained like report.html.

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

// realPage is what the -real report template shows.
type realPage struct {
	Title string
	Facts string
	Head  []string
	Rows  [][]string
	Plots []template.HTML
}

// renderRealHTML renders the report of a -real run.
func renderRealHTML(s *sim.Scenario, scale float64, runs []realRun) ([]byte, error) {
	pg := realPage{Title: s.Metadata.Name, Facts: fmt.Sprintf("seed %d, %v simulated, time scale %g, on a real kernel", s.Seed, s.Duration.D(), scale)}
	if pg.Title == "" {
		pg.Title = "svcsim scenario"
	}
	pg.Head = []string{"variant", "", "connections", "served", "failed", "failed%", "refused", "reset", "unreachable", "dns failure", "prog p50", "prog p99"}
	for _, r := range runs {
		for _, src := range []struct {
			name string
			r    sim.Result
		}{{"predicted", r.Predicted}, {"measured", r.Measured}} {
			o := src.r.Connections
			pg.Rows = append(pg.Rows, []string{r.Variant, src.name, strconv.FormatInt(o.Total, 10), strconv.FormatInt(o.Served, 10),
				strconv.FormatInt(o.Failed(), 10), fmt.Sprintf("%.3f", 100*ratio(o.Failed(), o.Total)),
				strconv.FormatInt(o.Refused+o.Rejected, 10), strconv.FormatInt(o.Reset, 10), strconv.FormatInt(o.Unreachable+o.Dropped, 10),
				strconv.FormatInt(o.DNSFailure, 10),
				src.r.EndpointLatency.P50.D().Round(time.Millisecond).String(), src.r.EndpointLatency.P99.D().Round(time.Millisecond).String()})
		}
		h, err := overlayPlot(s, r)
		if err != nil {
			return nil, err
		}
		pg.Plots = append(pg.Plots, h)
	}
	var b bytes.Buffer
	if err := realTemplate.Execute(&b, pg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var realTemplate = template.Must(template.New("real").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · svcsim -real</title>
<style>body{font-family:sans-serif;margin:2em;max-width:78em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#eee}</style>
</head><body>
<h1>{{.Title}}: predicted against measured</h1>
<p>{{.Facts}}. Measured refused includes rejected, unreachable includes timed out: a socket cannot tell them apart.</p>
<section id="summary"><table><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table></section>
<section id="overlay"><h2>Over time</h2>
{{range .Plots}}<figure>{{.}}</figure>{{end}}</section>
</body></html>
`))
