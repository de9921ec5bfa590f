package main

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/svcnet/svcnet/sim"
)

// The plots of report.html, drawn with gonum.org/v1/plot into SVG.

// palette gives each variant its colour, the same in every plot: the
// Okabe–Ito colours (Okabe & Ito, "Color Universal Design", 2008), which
// readers with any common colour-vision deficiency tell apart, without
// its yellow (too pale on white).
var palette = [...]color.NRGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
}

// dashes are the line patterns that tell lines apart without colour:
// solid, dashed, dotted, dash-dotted.
var dashes = [...][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

// variantStyle is line i's style: a colour of the palette and a pattern
// of dashes, so that no two of the first 28 lines look alike, in colour
// or in grey.
func variantStyle(i int) draw.LineStyle {
	return draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.5), Dashes: dashes[i%len(dashes)]}
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
	p.Y.Tick.Marker = numberTicks{}
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	sans(p)
	p.Add(plotter.NewGrid())
	return p
}

// legendEntry is one line of a legend drawn beside a plot: a line in
// style, or, when fill is set, a filled box (a band or a span).
type legendEntry struct {
	name  string
	style draw.LineStyle
	fill  color.Color
}

// box is a legend thumbnail filled with one colour.
type box struct{ c color.Color }

// Thumbnail implements plot.Thumbnailer.
func (b box) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(b.c, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// legendWidth is the width of the legend column of the time plots: the
// same for all of them, so that their time axes line up.
const legendWidth = 1.7 * vg.Inch

// svg draws p into an SVG of w × h, with the legend, if any, in a column
// on the right (legendW wide, or as wide as its names when 0), and
// returns the <svg> element.
func svg(p *plot.Plot, w, h vg.Length, legend []legendEntry, legendW vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	area := dc
	if len(legend) > 0 || legendW > 0 {
		l := plot.NewLegend()
		l.TextStyle.Font.Variant = "Sans"
		l.TextStyle.Font.Size = vg.Points(8)
		l.Top = true
		l.Left = true
		l.ThumbnailWidth = vg.Points(20)
		for _, e := range legend {
			if e.fill != nil {
				l.Add(e.name, box{e.fill})
				continue
			}
			line, err := plotter.NewLine(plotter.XYs{})
			if err != nil {
				return "", err
			}
			line.LineStyle = e.style
			l.Add(e.name, line)
		}
		width := legendW
		if width == 0 {
			for _, e := range legend {
				width = max(width, l.TextStyle.Width(e.name))
			}
			width += l.ThumbnailWidth + vg.Points(16)
		}
		area = draw.Crop(dc, 0, -width, 0, 0)
		l.YOffs = -vg.Points(24)
		if len(legend) > 0 {
			l.Draw(draw.Crop(dc, w-width+vg.Points(4), 0, 0, 0))
		}
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

// span is a shaded stretch of a time plot, [from, to) in the axis' unit.
type span struct{ from, to float64 }

// spans shade stretches of a time plot, the whole height, in one colour.
type spans struct {
	s []span
	c color.Color
}

// Plot implements plot.Plotter.
func (s spans) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, e := range s.s {
		lo, hi := max(e.from, p.X.Min), min(e.to, p.X.Max)
		if hi <= lo {
			continue
		}
		x0, x1 := trX(lo), trX(hi)
		c.FillPolygon(s.c, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// The colours of the fault spans: any node NotReady (Okabe–Ito orange)
// and the control plane down (sky blue), translucent.
var (
	notReadyFill = color.NRGBA{0xe6, 0x9f, 0x00, 0x40}
	cpDownFill   = color.NRGBA{0x56, 0xb4, 0xe9, 0x50}
)

// faultSpans are the stretches of a run in which a node was NotReady
// (the union over the nodes) and the control plane was down.
func faultSpans(t *sim.Trace, a timeAxis) (notReady, cpDown []span) {
	if t == nil {
		return nil, nil
	}
	ivs := slices.Clone(t.NotReady)
	slices.SortFunc(ivs, func(x, y sim.NodeInterval) int { return cmp.Compare(x.From, y.From) })
	for _, iv := range ivs {
		from, to := a.x(iv.From.D()), a.x(iv.To.D())
		if k := len(notReady); k > 0 && from <= notReady[k-1].to {
			notReady[k-1].to = max(notReady[k-1].to, to)
			continue
		}
		notReady = append(notReady, span{from, to})
	}
	for _, iv := range t.ControlPlaneDown {
		cpDown = append(cpDown, span{a.x(iv.From.D()), a.x(iv.To.D())})
	}
	return notReady, cpDown
}

// addFaults shades a time plot with a run's faults and returns their
// legend entries.
func addFaults(p *plot.Plot, t *sim.Trace, a timeAxis) []legendEntry {
	nr, cp := faultSpans(t, a)
	var legend []legendEntry
	if len(nr) > 0 {
		p.Add(spans{nr, notReadyFill})
		legend = append(legend, legendEntry{name: "a node NotReady", fill: notReadyFill})
	}
	if len(cp) > 0 {
		p.Add(spans{cp, cpDownFill})
		legend = append(legend, legendEntry{name: "control plane down", fill: cpDownFill})
	}
	return legend
}

// series is a per-bucket figure of a run, per second of bucket.
type series struct {
	width time.Duration
	v     []float64
}

// rebin sums a run's outcome buckets into at most sim.TraceBuckets
// buckets (as its Trace does) and returns what get counts per second.
func rebin(r sim.Result, get func(sim.Outcomes) int64) series {
	width := r.BucketWidth.D()
	if width <= 0 || len(r.Timeline) == 0 {
		return series{}
	}
	k := (len(r.Timeline) + sim.TraceBuckets - 1) / sim.TraceBuckets
	s := series{width: width * time.Duration(k), v: make([]float64, (len(r.Timeline)+k-1)/k)}
	for i, b := range r.Timeline {
		s.v[i/k] += float64(get(b.Outcomes))
	}
	for i := range s.v {
		s.v[i] /= s.width.Seconds()
	}
	return s
}

// band is a figure over the runs, per bucket: the median and the 5th
// and 95th percentiles (R-7, as the Result's latencies).
type band struct {
	width         time.Duration
	lo, mid, hi   []float64
	runs, buckets int
}

// bandOf is the spread over runs of a per-bucket series.
func bandOf(ss []series) band {
	var b band
	for _, s := range ss {
		if len(s.v) > b.buckets {
			b.buckets, b.width = len(s.v), s.width
		}
	}
	b.runs = len(ss)
	b.lo, b.mid, b.hi = make([]float64, b.buckets), make([]float64, b.buckets), make([]float64, b.buckets)
	col := make([]float64, 0, len(ss))
	for i := range b.buckets {
		col = col[:0]
		for _, s := range ss {
			if i < len(s.v) {
				col = append(col, s.v[i])
			}
		}
		if len(col) == 0 {
			continue
		}
		slices.Sort(col)
		q := stats.Quantiles(col, 0.05, 0.5, 0.95)
		b.lo[i], b.mid[i], b.hi[i] = q[0], q[1], q[2]
	}
	return b
}

// steps is a per-bucket series as the points of a step line.
func steps(a timeAxis, width time.Duration, v []float64) plotter.XYs {
	out := make(plotter.XYs, 0, 2*len(v))
	for i, y := range v {
		out = append(out, plotter.XY{X: a.x(time.Duration(i) * width), Y: y}, plotter.XY{X: a.x(time.Duration(i+1) * width), Y: y})
	}
	return out
}

// addBand draws a band: its median as a step line in style, and, with
// more than one run, its 5–95 % spread shaded in the line's colour.
func addBand(p *plot.Plot, a timeAxis, b band, style draw.LineStyle) error {
	if b.buckets == 0 {
		return nil
	}
	if b.runs > 1 {
		up, down := steps(a, b.width, b.hi), steps(a, b.width, b.lo)
		slices.Reverse(down)
		poly, err := plotter.NewPolygon(append(up, down...))
		if err != nil {
			return err
		}
		c := color.NRGBAModel.Convert(style.Color).(color.NRGBA)
		c.A = 0x38
		poly.Color = c
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, err := plotter.NewLine(steps(a, b.width, b.mid))
	if err != nil {
		return err
	}
	l.LineStyle = style
	p.Add(l)
	return nil
}

func failedOf(o sim.Outcomes) int64 { return o.Failed() }
func servedOf(o sim.Outcomes) int64 { return o.Served }

// failuresPlot is failed connections per second over time, one line per
// variant with failures (the median over its runs, with the 5–95 % band
// when there are several), with the timeline marked.
func failuresPlot(r *report) (template.HTML, error) {
	a := axisFor(r.Scenario.Duration.D())
	title := "Failed connections over time"
	if n := min(r.Seeds.Count, maxViewRuns); n > 1 {
		title += fmt.Sprintf(" (median of %d seeds, 5–95 %% shaded)", n)
		if r.Seeds.Count > n {
			title = fmt.Sprintf("Failed connections over time (median of the %d lowest of %d seeds, 5–95 %% shaded)", n, r.Seeds.Count)
		}
	}
	p := newPlot(title, a.label, "failed connections / s")
	var legend []legendEntry
	for i, vr := range r.Variants {
		if vr.Summary.Connections.Failed() == 0 {
			continue
		}
		var ss []series
		for _, run := range viewRuns(&vr) {
			ss = append(ss, rebin(run, failedOf))
		}
		st := variantStyle(i)
		if err := addBand(p, a, bandOf(ss), st); err != nil {
			return "", err
		}
		legend = append(legend, legendEntry{name: vr.Variant.Name, style: st})
	}
	if len(legend) == 0 {
		return "", nil
	}
	p.X.Min, p.X.Max = 0, a.x(r.Scenario.Duration.D())
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, 1)
	p.Add(timelineMarks(&r.Scenario, a))
	return svg(p, 10*vg.Inch, 3.6*vg.Inch, legend, legendWidth)
}

// backendPlots are the per-backend load of each flow that lists its
// backends (metrics.backends), at most maxBackendFlows of them: one
// point per backend pod, named with its node and zone, sorted by the
// first variant's load, one line per variant, each point the mean over
// the variant's runs of the pod's connections over the mean backend's
// (1 is a perfect balance; a run in which the pod did not exist counts
// 0). At most maxBackends pods, the most loaded; the note says what was
// left out.
func backendPlots(r *report) ([]template.HTML, string, error) {
	const maxBackendFlows, maxBackends = 4, 40
	var flows []string
	for _, vr := range r.Variants {
		for _, run := range viewRuns(&vr) {
			for _, f := range run.Flows {
				if len(f.BackendLoad) > 0 && !slices.Contains(flows, f.Name) {
					flows = append(flows, f.Name)
				}
			}
		}
	}
	var out []template.HTML
	var notes []string
	if len(flows) > maxBackendFlows {
		notes = append(notes, fmt.Sprintf("%d flows list their backends; the first %d are drawn.", len(flows), maxBackendFlows))
		flows = flows[:maxBackendFlows]
	}
	for _, flow := range flows {
		type pod struct {
			name, where string
			share       []float64 // per variant: sum over runs of load / mean
		}
		var pods []*pod
		byName := map[string]*pod{}
		runs := make([]int, len(r.Variants))
		service := ""
		for vi, vr := range r.Variants {
			for _, run := range viewRuns(&vr) {
				fi := slices.IndexFunc(run.Flows, func(f sim.FlowResult) bool { return f.Name == flow })
				if fi < 0 || len(run.Flows[fi].BackendLoad) == 0 {
					continue
				}
				f := run.Flows[fi]
				service = f.Service
				runs[vi]++
				sum := 0.0
				for _, b := range f.BackendLoad {
					sum += float64(b.Connections)
				}
				mean := sum / float64(len(f.BackendLoad))
				for _, b := range f.BackendLoad {
					pd := byName[b.Pod]
					if pd == nil {
						pd = &pod{name: b.Pod, where: b.Node + ", " + b.Zone, share: make([]float64, len(r.Variants))}
						byName[b.Pod] = pd
						pods = append(pods, pd)
					}
					pd.share[vi] += float64(b.Connections) / math.Max(mean, 1e-9)
				}
			}
		}
		first := slices.IndexFunc(runs, func(n int) bool { return n > 0 })
		if first < 0 {
			continue
		}
		slices.SortStableFunc(pods, func(a, b *pod) int {
			return cmp.Or(cmp.Compare(b.share[first], a.share[first]), cmp.Compare(a.name, b.name))
		})
		if len(pods) > maxBackends {
			notes = append(notes, fmt.Sprintf("Flow %q: %d backend pods got connections; the %d most loaded are drawn.", flow, len(pods), maxBackends))
			pods = pods[:maxBackends]
		}
		p := newPlot(fmt.Sprintf("Per-backend load: flow %q to %s", flow, service), "", "connections / mean backend's")
		names := make([]string, len(pods))
		for i, pd := range pods {
			names[i] = shortPod(pd.name) + " (" + pd.where + ")"
		}
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		var legend []legendEntry
		for vi, vr := range r.Variants {
			if runs[vi] == 0 {
				continue
			}
			pts := make(plotter.XYs, len(pods))
			for i, pd := range pods {
				pts[i] = plotter.XY{X: float64(i), Y: pd.share[vi] / float64(runs[vi])}
			}
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, "", err
			}
			l.LineStyle = variantStyle(vi)
			s.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(2), Shape: glyphs[vi%len(glyphs)]}
			p.Add(l, s)
			name := vr.Variant.Name
			if runs[vi] > 1 {
				name += fmt.Sprintf(" (mean of %d runs)", runs[vi])
			}
			legend = append(legend, legendEntry{name: name, style: l.LineStyle})
		}
		p.Y.Min = 0
		h, err := svg(p, 10*vg.Inch, 4.6*vg.Inch, legend, 0)
		if err != nil {
			return nil, "", err
		}
		out = append(out, h)
	}
	return out, strings.Join(notes, " "), nil
}

// glyphs tell the variants' points apart without colour.
var glyphs = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

// shortPod drops a pod name's namespace when it is "default".
func shortPod(name string) string { return strings.TrimPrefix(name, "default/") }

// latencyPlot is a programming latency's distribution per variant, as
// the step CDF of the histogram of every sample of the variant's runs
// (summary's, merged exactly across seeds and shards), on a log axis of
// whole decades labelled at 1, 2 and 5. Each curve runs across the whole
// axis (0 before its least sample, 1 after its greatest), so that a
// distribution in one bucket reads as a step, not a lone vertical line,
// and its legend gives its p50 and p99.
func latencyPlot(r *report, title string, get func(*summary) sim.Histogram) (template.HTML, bool, error) {
	p := newPlot(title, "latency", "fraction of changes")
	type curve struct {
		pts   plotter.XYs
		style draw.LineStyle
		name  string
	}
	var curves []curve
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, vr := range r.Variants {
		h := get(&vr.Summary)
		pts := stepCDF(h)
		if len(pts) == 0 {
			continue
		}
		lo, hi = min(lo, pts[0].X), max(hi, pts[len(pts)-1].X)
		name := fmt.Sprintf("%s: p50 %s, p99 %s", vr.Variant.Name, histQuantile(h, 0.5), histQuantile(h, 0.99))
		curves = append(curves, curve{pts, variantStyle(i), name})
	}
	if len(curves) == 0 {
		return "", false, nil
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = latencyTicks{}
	p.X.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.X.Max = math.Pow(10, max(math.Ceil(math.Log10(hi)), math.Log10(p.X.Min)+1))
	if p.X.Max <= hi*(1+1e-9) {
		p.X.Max *= 10 // room after the last step
	}
	var legend []legendEntry
	for _, c := range curves {
		pts := append(plotter.XYs{{X: p.X.Min, Y: 0}}, c.pts...)
		pts = append(pts, plotter.XY{X: p.X.Max, Y: 1})
		l, err := plotter.NewLine(pts)
		if err != nil {
			return "", false, err
		}
		l.LineStyle = c.style
		p.Add(l)
		legend = append(legend, legendEntry{name: c.name, style: c.style})
	}
	p.Y.Min, p.Y.Max = 0, 1
	h, err := svg(p, 10*vg.Inch, 3.2*vg.Inch, legend, 3*vg.Inch)
	return h, true, err
}

// histQuantile is the upper bound of the bucket that holds quantile q of
// a histogram (what the step CDF shows), clamped to its greatest sample.
func histQuantile(h sim.Histogram, q float64) string {
	if h.Count == 0 {
		return "–"
	}
	need := int64(math.Ceil(q * float64(h.Count)))
	var cum int64
	for i, c := range h.Counts {
		cum += c
		if cum >= need && c > 0 {
			at := h.Max
			if i < len(h.Bounds) {
				at = min(h.Bounds[i], h.Max)
			}
			return durationLabel(at.D().Seconds())
		}
	}
	return durationLabel(h.Max.D().Seconds())
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
// variant on top, every bar labelled with its value (a variant at 0
// reads "0", not a missing bar); with several runs the bar is the
// median over the runs and a whisker spans their 5th to 95th percentile
// as the time plots' bands do.
func comparisonPlot(r *report, title, unit string, get func(sim.Result) (float64, bool), format string) (template.HTML, error) {
	p := newPlot(title, unit, "")
	n := len(r.Variants)
	names := make([]string, n)
	vals := make(plotter.Values, n)
	var whiskers plotter.XYs
	var lows, highs []float64
	labels := make([]string, n)
	for i, vr := range r.Variants {
		y := n - 1 - i
		names[y] = vr.Variant.Name
		var vs []float64
		for _, run := range viewRuns(&vr) {
			if v, ok := get(run); ok {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			labels[y] = "–"
			continue
		}
		slices.Sort(vs)
		q := stats.Quantiles(vs, 0.05, 0.5, 0.95)
		vals[y] = q[1]
		labels[y] = fmt.Sprintf(format, q[1])
		if len(vs) > 1 {
			whiskers = append(whiskers, plotter.XY{X: q[1], Y: float64(y)})
			lows, highs = append(lows, q[1]-q[0]), append(highs, q[2]-q[1])
			labels[y] += fmt.Sprintf(" [%s–%s]", fmt.Sprintf(format, q[0]), fmt.Sprintf(format, q[2]))
		}
	}
	// One bar chart per variant, so that each has its colour.
	for i := range r.Variants {
		y := n - 1 - i
		one := make(plotter.Values, n)
		one[y] = vals[y]
		b, err := plotter.NewBarChart(one, vg.Points(12))
		if err != nil {
			return "", err
		}
		b.Horizontal = true
		b.Color = palette[i%len(palette)]
		b.LineStyle.Width = 0
		p.Add(b)
	}
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	for i, w := range whiskers {
		top = max(top, w.X+highs[i])
	}
	if len(whiskers) > 0 {
		e := &plotter.XErrorBars{XYs: whiskers, XErrors: make(plotter.XErrors, len(whiskers))}
		for i := range whiskers {
			e.XErrors[i] = struct{ Low, High float64 }{lows[i], highs[i]}
		}
		e.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
		e.CapWidth = vg.Points(6)
		p.Add(e)
	}
	// A bar's label goes after its whisker, if it has one.
	lbl := make([]plotter.XY, n)
	for y := range n {
		lbl[y] = plotter.XY{X: vals[y], Y: float64(y)}
	}
	for i, w := range whiskers {
		lbl[int(w.Y)].X = w.X + highs[i]
	}
	pl, err := plotter.NewLabels(plotter.XYLabels{XYs: lbl, Labels: labels})
	if err != nil {
		return "", err
	}
	for i := range pl.TextStyle {
		pl.TextStyle[i].Font.Variant = "Sans"
		pl.TextStyle[i].Font.Size = vg.Points(7)
		pl.TextStyle[i].YAlign = draw.YCenter
	}
	pl.Offset = vg.Point{X: vg.Points(3)}
	p.Add(pl)
	p.NominalY(names...)
	p.X.Min = 0
	p.X.Max = max(top*1.45, 1e-9)
	return svg(p, 5.5*vg.Inch, vg.Points(float64(60+18*n)), nil, 0)
}
