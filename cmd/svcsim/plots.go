package main

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/svcnet/svcnet/sim"
)

// The plots of report.html, drawn with gonum.org/v1/plot into SVG.

// palette gives each variant its colour, the same in every plot
// (Tableau 10).
var palette = [...]color.NRGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
}

// variantStyle is variant i's line: its colour, dashed after the first
// ten.
func variantStyle(i int) draw.LineStyle {
	s := draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.5)}
	if i >= len(palette) {
		s.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	return s
}

// outcomeKinds are the ways a connection fails, in the order plots show them.
var outcomeKinds = [...]struct {
	name string
	get  func(sim.Outcomes) int64
}{
	{"refused", func(o sim.Outcomes) int64 { return o.Refused }},
	{"reset", func(o sim.Outcomes) int64 { return o.Reset }},
	{"rejected", func(o sim.Outcomes) int64 { return o.Rejected }},
	{"dns failure", func(o sim.Outcomes) int64 { return o.DNSFailure }},
	{"dropped", func(o sim.Outcomes) int64 { return o.Dropped }},
	{"unreachable", func(o sim.Outcomes) int64 { return o.Unreachable }},
}

// sans sets every text of p in Liberation Sans (gonum's default is the
// serif).
func sans(p *plot.Plot) {
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	p.Y.Label.TextStyle.Font.Size = vg.Points(9)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	sans(p)
	p.Add(plotter.NewGrid())
	return p
}

// legendEntry is one line of a legend drawn beside a plot.
type legendEntry struct {
	name  string
	style draw.LineStyle
}

// svg draws p into an SVG of w × h, with the legend, if any, in a column
// on the right, and returns the <svg> element.
func svg(p *plot.Plot, w, h vg.Length, legend []legendEntry) (template.HTML, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	area := dc
	if len(legend) > 0 {
		l := plot.NewLegend()
		l.TextStyle.Font.Variant = "Sans"
		l.TextStyle.Font.Size = vg.Points(8)
		l.Top = true
		l.Left = true
		l.ThumbnailWidth = vg.Points(14)
		for _, e := range legend {
			line, err := plotter.NewLine(plotter.XYs{})
			if err != nil {
				return "", err
			}
			line.LineStyle = e.style
			l.Add(e.name, line)
		}
		width := vg.Points(0)
		for _, e := range legend {
			width = max(width, l.TextStyle.Width(e.name))
		}
		width += l.ThumbnailWidth + vg.Points(16)
		area = draw.Crop(dc, 0, -width, 0, 0)
		l.YOffs = -vg.Points(24)
		l.Draw(draw.Crop(dc, w-width+vg.Points(4), 0, 0, 0))
	}
	p.Draw(area)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	out := b.Bytes()
	if i := bytes.Index(out, []byte("<svg")); i >= 0 {
		out = out[i:] // drop the XML declaration and comment: inline SVG in HTML has none
	}
	return template.HTML(out), nil // gonum escapes the text it writes (html.EscapeString)
}

// timeAxis is how a plot's x axis shows simulated time.
type timeAxis struct {
	unit  time.Duration
	label string
}

func axisFor(d time.Duration) timeAxis {
	if d > 20*time.Minute {
		return timeAxis{time.Minute, "simulated time (min)"}
	}
	return timeAxis{time.Second, "simulated time (s)"}
}

func (a timeAxis) x(d time.Duration) float64 { return float64(d) / float64(a.unit) }

// mark is a timeline event on a time plot: a line at At, and a shaded
// span to End when the event lasts.
type mark struct {
	at, end float64
	label   string
}

// marks are the timeline's events, drawn over a time plot.
type marks []mark

// Plot draws the marks: a dashed line and a label at the top for each,
// labels staggered so that close events stay readable.
func (m marks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	line := draw.LineStyle{Color: color.NRGBA{0x55, 0x55, 0x55, 0xff}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	ts := draw.TextStyle{Color: color.NRGBA{0x33, 0x33, 0x33, 0xff}, Font: font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(7)},
		Handler: p.TextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
	for i, e := range m {
		if e.at < p.X.Min || e.at > p.X.Max {
			continue
		}
		x := trX(e.at)
		if e.end > e.at {
			x1 := trX(min(e.end, p.X.Max))
			c.FillPolygon(color.NRGBA{0x99, 0x99, 0x99, 0x30}, []vg.Point{{X: x, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x, Y: c.Max.Y}})
		}
		c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
		c.FillText(ts, vg.Point{X: x + vg.Points(2), Y: c.Max.Y - vg.Points(2) - vg.Points(9)*vg.Length(i%4)}, e.label)
	}
}

// timelineMarks turns the scenario's timeline into marks.
func timelineMarks(s *sim.Scenario, a timeAxis) marks {
	var m marks
	for _, e := range s.Timeline {
		k := mark{at: a.x(e.At.D()), label: e.Action}
		if e.Target != "" {
			k.label += " " + e.Target
		}
		if e.For != nil {
			k.end = a.x(e.At.D() + e.For.D())
		} else if e.Action == sim.ActionCrashControlPlane {
			k.end = a.x(e.At.D() + 30*time.Second)
		}
		m = append(m, k)
	}
	return m
}

// meanBuckets returns, per bucket, the mean over the summary's runs of
// what f counts, per second of bucket: the summed timeline over Runs.
func meanBuckets(m *summary, f func(sim.Outcomes) int64) (at []time.Duration, rate []float64) {
	n := len(m.Timeline)
	if n == 0 || m.Runs == 0 {
		return nil, nil
	}
	at, rate = make([]time.Duration, n), make([]float64, n)
	width := m.BucketWidth.D()
	for i, b := range m.Timeline {
		at[i] = b.At.D()
		rate[i] = float64(f(b.Outcomes)) / (float64(m.Runs) * width.Seconds())
	}
	return at, rate
}

func failedOf(o sim.Outcomes) int64 { return o.Failed() }

func xys(a timeAxis, at []time.Duration, v []float64) plotter.XYs {
	out := make(plotter.XYs, len(at))
	for i := range at {
		out[i] = plotter.XY{X: a.x(at[i]), Y: v[i]}
	}
	return out
}

// failuresPlot is failed connections per second over time, one line per
// variant, with the timeline marked.
func failuresPlot(r *report) (template.HTML, error) {
	a := axisFor(r.Scenario.Duration.D())
	p := newPlot("Failed connections over time", a.label, "failed connections / s")
	var legend []legendEntry
	for i, vr := range r.Variants {
		at, rate := meanBuckets(&vr.Summary, failedOf)
		if len(at) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys(a, at, rate))
		if err != nil {
			return "", err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = variantStyle(i)
		p.Add(l)
		legend = append(legend, legendEntry{vr.Variant.Name, l.LineStyle})
	}
	p.X.Min, p.X.Max = 0, a.x(r.Scenario.Duration.D())
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, 1)
	p.Add(timelineMarks(&r.Scenario, a))
	return svg(p, 10*vg.Inch, 3.6*vg.Inch, legend)
}

// outcomesPlot is one variant's connections over time by outcome:
// failures by kind, with the timeline marked.
func outcomesPlot(r *report, vi int) (template.HTML, error) {
	vr := &r.Variants[vi]
	a := axisFor(r.Scenario.Duration.D())
	title := vr.Variant.Name
	if vr.Summary.Connections.Failed() == 0 {
		title += ": no failed connections"
	}
	p := newPlot(title, a.label, "connections / s")
	var legend []legendEntry
	for k, kind := range outcomeKinds {
		if kind.get(vr.Summary.Connections) == 0 {
			continue
		}
		at, rate := meanBuckets(&vr.Summary, kind.get)
		l, err := plotter.NewLine(xys(a, at, rate))
		if err != nil {
			return "", err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: palette[(k+2)%len(palette)], Width: vg.Points(1.2)}
		p.Add(l)
		legend = append(legend, legendEntry{kind.name, l.LineStyle})
	}
	p.X.Min, p.X.Max = 0, a.x(r.Scenario.Duration.D())
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, 1)
	p.Add(timelineMarks(&r.Scenario, a))
	return svg(p, 5*vg.Inch, 2.6*vg.Inch, legend)
}

// backendPlot is each variant's per-backend load: the backends of the
// first flow that lists them, by rank, as a multiple of the mean (1 is a
// perfect balance), for the variant's first run.
func backendPlot(r *report) (template.HTML, string, bool, error) {
	p := newPlot("Per-backend load", "backend, most loaded first", "connections / mean")
	var legend []legendEntry
	flow := ""
	for i, vr := range r.Variants {
		bs := vr.Summary.BackendSample
		if bs == nil || bs.Flow == nil {
			continue
		}
		run := sim.Result{Seed: bs.Seed, Flows: []sim.FlowResult{*bs.Flow}}
		fi := slices.IndexFunc(run.Flows, func(f sim.FlowResult) bool { return len(f.BackendLoad) > 0 })
		if fi < 0 {
			continue
		}
		f := run.Flows[fi]
		flow = fmt.Sprintf("flow %q to %s, seed %d", f.Name, f.Service, run.Seed)
		loads := make([]float64, len(f.BackendLoad))
		sum := 0.0
		for j, b := range f.BackendLoad {
			loads[j] = float64(b.Connections)
			sum += loads[j]
		}
		slices.SortFunc(loads, func(a, b float64) int { return cmp.Compare(b, a) })
		mean := sum / float64(len(loads))
		pts := make(plotter.XYs, len(loads))
		for j, v := range loads {
			pts[j] = plotter.XY{X: float64(j + 1), Y: v / math.Max(mean, 1e-9)}
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return "", "", false, err
		}
		l.LineStyle = variantStyle(i)
		s.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		p.Add(l, s)
		legend = append(legend, legendEntry{vr.Variant.Name, l.LineStyle})
	}
	if len(legend) == 0 {
		return "", "", false, nil
	}
	p.Y.Min = 0
	h, err := svg(p, 10*vg.Inch, 3.4*vg.Inch, legend)
	return h, flow, true, err
}

// latencyPlot is a programming latency's distribution per variant, as
// the step CDF of the histogram of every sample of the variant's runs
// (summary's, merged exactly across seeds and shards). The x axis is
// logarithmic, as the buckets are, spanning whole decades.
func latencyPlot(r *report, title string, get func(*summary) sim.Histogram) (template.HTML, bool, error) {
	p := newPlot(title, "latency (s)", "fraction of changes")
	var legend []legendEntry
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, vr := range r.Variants {
		pts := stepCDF(get(&vr.Summary))
		if len(pts) == 0 {
			continue
		}
		lo, hi = min(lo, pts[0].X), max(hi, pts[len(pts)-1].X)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return "", false, err
		}
		l.LineStyle = variantStyle(i)
		p.Add(l)
		legend = append(legend, legendEntry{vr.Variant.Name, l.LineStyle})
	}
	if len(legend) == 0 {
		return "", false, nil
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.X.Max = math.Pow(10, max(math.Ceil(math.Log10(hi)), math.Log10(p.X.Min)+1))
	p.Y.Min, p.Y.Max = 0, 1
	h, err := svg(p, 5*vg.Inch, 3*vg.Inch, legend)
	return h, true, err
}

// stepCDF is a histogram's cumulative distribution as a step line in
// seconds: it rises at each non-empty bucket's upper bound (the samples
// are known only to lie at or below it) by the bucket's share, from 0 at
// the least sample to 1 at the greatest. Bounds beyond the samples are
// clamped to them, and x to at least the first bound, so that it can be
// drawn on a log axis. Without samples it is empty.
func stepCDF(h sim.Histogram) plotter.XYs {
	if h.Count == 0 || len(h.Bounds) == 0 {
		return nil
	}
	floor := h.Bounds[0].D().Seconds()
	x := func(d sim.Duration) float64 { return max(d.D().Seconds(), floor) }
	pts := plotter.XYs{{X: x(h.Min), Y: 0}}
	var cum int64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		at := h.Max
		if i < len(h.Bounds) {
			at = min(max(h.Bounds[i], h.Min), h.Max)
		}
		prev := float64(cum) / float64(h.Count)
		cum += c
		pts = append(pts, plotter.XY{X: x(at), Y: prev}, plotter.XY{X: x(at), Y: float64(cum) / float64(h.Count)})
	}
	return pts
}

// comparisonPlot is one figure per variant as horizontal bars, the first
// variant on top.
func comparisonPlot(r *report, title, unit string, get func(*summary) float64) (template.HTML, error) {
	p := newPlot(title, unit, "")
	n := len(r.Variants)
	names := make([]string, n)
	for i, vr := range r.Variants {
		names[n-1-i] = vr.Variant.Name
		vals := make(plotter.Values, n)
		vals[n-1-i] = get(&r.Variants[i].Summary)
		b, err := plotter.NewBarChart(vals, vg.Points(12))
		if err != nil {
			return "", err
		}
		b.Horizontal = true
		b.Color = palette[i%len(palette)]
		b.LineStyle.Width = 0
		p.Add(b)
	}
	p.NominalY(names...)
	p.X.Min = 0
	p.X.Max = max(p.X.Max*1.08, 1e-9)
	return svg(p, 5*vg.Inch, vg.Points(float64(60+18*n)), nil)
}
