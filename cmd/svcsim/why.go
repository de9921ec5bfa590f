package main

import (
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/svcnet/svcnet/sim"
)

// The report's "Why did they fail?" section: for each variant with
// failed connections, the served and failed rates, the endpoints and the
// rollout, and every node's proxy programming on one time axis, with
// the faults shaded; then who refused, reset and routed the failures.
// The rates are over the variant's runs (median and 5–95 % band; the
// runs of its maxViewRuns lowest seeds); the endpoints and the node
// timeline are of one run, the median one by failed connections, named
// in the text.

// why is one variant's section.
type why struct {
	Variant string
	// Run says which run the single-run panels show.
	Run    string
	Panels []template.HTML
	// Notes say what a panel leaves out.
	Notes []string
	// Pods, Nodes and Zones are the blame tables, summed over the runs.
	PodHead, NodeHead, ZoneHead []string
	Pods, Nodes, Zones          [][]string
}

// whySections builds the section of each variant with failures, and
// names those without.
func whySections(r *report) ([]why, []string, error) {
	var out []why
	var clean []string
	for vi, vr := range r.Variants {
		if vr.Summary.Connections.Failed() == 0 || len(viewRuns(&vr)) == 0 {
			clean = append(clean, vr.Variant.Name)
			continue
		}
		w, err := whyOf(r, vi)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, w)
	}
	return out, clean, nil
}

// medianRun is the run with the median failed connections (the lower
// median; ties to the lower seed).
func medianRun(runs []sim.Result) int {
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(runs[a].Connections.Failed(), runs[b].Connections.Failed()), cmp.Compare(runs[a].Seed, runs[b].Seed))
	})
	return idx[(len(idx)-1)/2]
}

func whyOf(r *report, vi int) (why, error) {
	vr := &r.Variants[vi]
	a := axisFor(r.Scenario.Duration.D())
	end := a.x(r.Scenario.Duration.D())
	runs := viewRuns(vr)
	rep := runs[medianRun(runs)]
	w := why{Variant: vr.Variant.Name, Run: fmt.Sprintf("seed %d", rep.Seed)}
	if len(runs) > 1 {
		w.Run += fmt.Sprintf(", the median of the variant's %d runs by failed connections", len(runs))
	}
	if n := vr.Summary.Runs; n > len(runs) {
		w.Notes = append(w.Notes, fmt.Sprintf("The rates, the node timeline and the tables read the runs of the variant's %d lowest seeds, of %d.", len(runs), n))
	}
	multi := len(runs) > 1
	of := ""
	if multi {
		of = fmt.Sprintf(" (median of %d runs, 5–95 %% shaded)", len(runs))
	}
	tr := rep.Trace
	finish := func(p *plot.Plot, legend []legendEntry, h vg.Length) error {
		legend = append(legend, addFaults(p, tr, a)...)
		p.Add(timelineMarks(&r.Scenario, a))
		p.X.Min, p.X.Max = 0, end
		p.Y.Min = 0
		p.Y.Max = max(p.Y.Max, 1)
		s, err := svg(p, 10*vg.Inch, h, legend, legendWidth)
		if err == nil {
			w.Panels = append(w.Panels, s)
		}
		return err
	}
	bandOver := func(get func(sim.Outcomes) int64) band {
		ss := make([]series, len(runs))
		for i, run := range runs {
			ss[i] = rebin(run, get)
		}
		return bandOf(ss)
	}

	// Served and failed on the same time axis.
	p := newPlot(vr.Variant.Name+": served connections"+of, a.label, "served / s")
	st := draw.LineStyle{Color: color.Black, Width: vg.Points(1.2)}
	if err := addBand(p, a, bandOver(servedOf), st); err != nil {
		return w, err
	}
	if err := finish(p, []legendEntry{{name: "served", style: st}}, 2*vg.Inch); err != nil {
		return w, err
	}
	p = newPlot(vr.Variant.Name+": failed connections by kind"+of, a.label, "failed / s")
	var legend []legendEntry
	if multi {
		st := draw.LineStyle{Color: color.NRGBA{0x55, 0x55, 0x55, 0xff}, Width: vg.Points(0.8)}
		if err := addBand(p, a, bandOver(failedOf), st); err != nil {
			return w, err
		}
		legend = append(legend, legendEntry{name: "all failed", style: st})
	}
	for k, kind := range outcomeKinds {
		if kind.get(vr.Summary.Connections) == 0 {
			continue
		}
		b := bandOver(kind.get)
		b.runs = 1 // the kinds' medians only; the band is the total's
		st := variantStyle(k + 3)
		st.Width = vg.Points(1.3)
		if err := addBand(p, a, b, st); err != nil {
			return w, err
		}
		legend = append(legend, legendEntry{name: kind.name, style: st})
	}
	if err := finish(p, legend, 2.6*vg.Inch); err != nil {
		return w, err
	}
	if len(rep.Flows) > 1 {
		if err := w.flowPanel(vr, runs, a, finish); err != nil {
			return w, err
		}
	}
	if err := w.zonePanel(vr, runs, a, finish); err != nil {
		return w, err
	}
	if tr == nil {
		w.Notes = append(w.Notes, "This result has no trace (written by an older svcsim): no endpoint or node timeline.")
	} else {
		if err := w.endpointPanel(vr.Variant.Name, tr, a, finish); err != nil {
			return w, err
		}
		h, note := nodeHeatmap(vr.Variant.Name, vi, tr, a, end)
		w.Panels = append(w.Panels, h)
		if note != "" {
			w.Notes = append(w.Notes, note)
		}
	}
	w.blame(runs)
	return w, nil
}

// splitPanel is the failed connections over time split by a part (a
// flow, a zone): the median over the runs, at most six parts by
// failures, the rest as one "other" line. names and failed name the
// parts and their failures over the runs; get returns a run's failures
// of part i per bucket, nil when the run has no trace.
func (w *why) splitPanel(title, other string, names []string, failed []int64, runs []sim.Result, a timeAxis,
	get func(t *sim.Trace, i int) []sim.BucketCount, finish func(*plot.Plot, []legendEntry, vg.Length) error) error {
	const maxParts = 6
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(failed[y], failed[x]) })
	type group struct {
		name string
		idx  []int
	}
	var groups []group
	for k, i := range order {
		if failed[i] == 0 {
			break
		}
		if k == maxParts {
			groups = append(groups, group{name: other})
		}
		if k >= maxParts {
			groups[maxParts].idx = append(groups[maxParts].idx, i)
			continue
		}
		groups = append(groups, group{name: names[i], idx: []int{i}})
	}
	p := newPlot(title, a.label, "failed / s")
	var legend []legendEntry
	for gi, g := range groups {
		var ss []series
		for _, run := range runs {
			t := run.Trace
			if t == nil {
				continue
			}
			s := series{width: t.BucketWidth.D(), v: make([]float64, t.Buckets)}
			for _, i := range g.idx {
				for _, c := range get(t, i) {
					if c.Bucket >= 0 && c.Bucket < len(s.v) {
						s.v[c.Bucket] += float64(c.N) / s.width.Seconds()
					}
				}
			}
			ss = append(ss, s)
		}
		if len(ss) == 0 {
			return nil
		}
		b := bandOf(ss)
		b.runs = 1
		st := variantStyle(gi)
		if err := addBand(p, a, b, st); err != nil {
			return err
		}
		legend = append(legend, legendEntry{name: g.name, style: st})
	}
	return finish(p, legend, 2.4*vg.Inch)
}

// flowPanel is the failed connections of each flow over time.
func (w *why) flowPanel(vr *variantReport, runs []sim.Result, a timeAxis, finish func(*plot.Plot, []legendEntry, vg.Length) error) error {
	var names []string
	var failed []int64
	for _, f := range vr.Summary.Flows {
		names = append(names, f.Name)
		failed = append(failed, f.Connections.Failed())
	}
	return w.splitPanel(vr.Variant.Name+": failed connections by flow", "other flows", names, failed, runs, a,
		func(t *sim.Trace, i int) []sim.BucketCount {
			if i < len(t.Flows) {
				return t.Flows[i].Failed
			}
			return nil
		}, finish)
}

// zonePanel is the failed connections over time by the zone of the
// node that routed them, when failures came from more than one zone.
func (w *why) zonePanel(vr *variantReport, runs []sim.Result, a timeAxis, finish func(*plot.Plot, []legendEntry, vg.Length) error) error {
	var names []string
	var failed []int64
	for _, run := range runs {
		if run.Trace == nil {
			continue
		}
		for _, z := range run.Trace.Zones {
			i := slices.Index(names, z.Zone)
			if i < 0 {
				i = len(names)
				names, failed = append(names, z.Zone), append(failed, 0)
			}
			failed[i] += z.Connections.Failed()
		}
	}
	zones := 0
	for _, n := range failed {
		if n > 0 {
			zones++
		}
	}
	if zones < 2 {
		return nil
	}
	return w.splitPanel(vr.Variant.Name+": failed connections by zone of the routing node", "other zones", names, failed, runs, a,
		func(t *sim.Trace, i int) []sim.BucketCount {
			for _, z := range t.Zones {
				if z.Zone == names[i] {
					return z.Failed
				}
			}
			return nil
		}, finish)
}

// endpointPanel is the endpoints of the traffic's Services by condition
// next to the rollout's old and new pods, at the start of each bucket.
func (w *why) endpointPanel(variant string, t *sim.Trace, a timeAxis, finish func(*plot.Plot, []legendEntry, vg.Length) error) error {
	p := newPlot(variant+": endpoints by condition, and pods by revision", a.label, "endpoints / pods")
	p.Y.Tick.Marker = intTicks{}
	// The samples hold until the next one.
	at := make([]sim.EndpointSample, t.Buckets)
	for i, e := range t.Endpoints {
		next := t.Buckets
		if i+1 < len(t.Endpoints) {
			next = min(next, t.Endpoints[i+1].Bucket)
		}
		for b := max(e.Bucket, 0); b < next; b++ {
			at[b] = e
		}
	}
	lines := []struct {
		name string
		get  func(sim.EndpointSample) int32
	}{
		{"ready endpoints", func(e sim.EndpointSample) int32 { return e.Ready }},
		{"serving endpoints", func(e sim.EndpointSample) int32 { return e.Serving }},
		{"terminating endpoints", func(e sim.EndpointSample) int32 { return e.Terminating }},
		{"pods, old revisions", func(e sim.EndpointSample) int32 { return e.Old }},
		{"pods, newest revision", func(e sim.EndpointSample) int32 { return e.New }},
	}
	var legend []legendEntry
	for i, l := range lines {
		st := variantStyle(i)
		if i == 0 {
			st.Width = vg.Points(3) // under the serving line, which is the same but for terminating endpoints
		}
		v := make([]float64, t.Buckets)
		for b := range v {
			v[b] = float64(l.get(at[b]))
		}
		line, err := plotter.NewLine(steps(a, t.BucketWidth.D(), v))
		if err != nil {
			return err
		}
		line.LineStyle = st
		p.Add(line)
		legend = append(legend, legendEntry{name: l.name, style: st})
	}
	return finish(p, legend, 2.4*vg.Inch)
}

// blame fills the blame tables: the pods, nodes and zones of the
// failures, summed over the runs.
func (w *why) blame(runs []sim.Result) {
	const maxRows = 10
	pods := map[string]*sim.PodBlame{}
	var podOrder []string
	nodes := map[string]*sim.NodeBlame{}
	var nodeOrder []string
	zones := map[string]*sim.ZoneOutcomes{}
	var zoneOrder []string
	var otherPods sim.PodBlame
	var otherNodes sim.Outcomes
	for _, run := range runs {
		t := run.Trace
		if t == nil {
			continue
		}
		for _, b := range t.FailedPods {
			// A pod of the same name may run on another node in another
			// run: one row per pod and node.
			k := b.Pod + "\x00" + b.Node
			s := pods[k]
			if s == nil {
				s = &sim.PodBlame{Pod: b.Pod, Node: b.Node, Zone: b.Zone}
				pods[k] = s
				podOrder = append(podOrder, k)
			}
			s.Refused += b.Refused
			s.Reset += b.Reset
		}
		otherPods.Refused += t.OtherPods.Refused
		otherPods.Reset += t.OtherPods.Reset
		for _, b := range t.FailedNodes {
			s := nodes[b.Node]
			if s == nil {
				s = &sim.NodeBlame{Node: b.Node, Zone: b.Zone}
				nodes[b.Node] = s
				nodeOrder = append(nodeOrder, b.Node)
			}
			s.Connections.Add(b.Connections)
		}
		otherNodes.Add(t.OtherNodes.Connections)
		for _, z := range t.Zones {
			s := zones[z.Zone]
			if s == nil {
				s = &sim.ZoneOutcomes{Zone: z.Zone}
				zones[z.Zone] = s
				zoneOrder = append(zoneOrder, z.Zone)
			}
			s.Connections.Add(z.Connections)
		}
	}
	slices.SortStableFunc(podOrder, func(a, b string) int {
		x, y := pods[a], pods[b]
		return cmp.Or(cmp.Compare(y.Refused+y.Reset, x.Refused+x.Reset), cmp.Compare(a, b))
	})
	w.PodHead = []string{"backend pod", "node", "zone", "refused", "reset"}
	for i, name := range podOrder {
		b := pods[name]
		if i >= maxRows {
			otherPods.Refused += b.Refused
			otherPods.Reset += b.Reset
			continue
		}
		w.Pods = append(w.Pods, []string{shortPod(b.Pod), dash(b.Node), dash(b.Zone), itoa(b.Refused), itoa(b.Reset)})
	}
	if otherPods.Refused+otherPods.Reset > 0 {
		w.Pods = append(w.Pods, []string{"all other pods", "", "", itoa(otherPods.Refused), itoa(otherPods.Reset)})
	}
	slices.SortStableFunc(nodeOrder, func(a, b string) int {
		return cmp.Or(cmp.Compare(nodes[b].Connections.Failed(), nodes[a].Connections.Failed()), cmp.Compare(a, b))
	})
	w.NodeHead = []string{"routing node", "zone", "connections", "failed", "failed%", "refused", "reset", "rejected", "unreachable", "dropped", "dns failure"}
	for i, name := range nodeOrder {
		b := nodes[name]
		if i >= maxRows {
			otherNodes.Add(b.Connections)
			continue
		}
		w.Nodes = append(w.Nodes, append([]string{b.Node, b.Zone}, outcomeCells(b.Connections)...))
	}
	if otherNodes.Failed() > 0 {
		w.Nodes = append(w.Nodes, append([]string{"all other nodes", ""}, outcomeCells(otherNodes)...))
	}
	w.ZoneHead = append([]string{"zone of the routing node"}, w.NodeHead[2:]...)
	for _, z := range zoneOrder {
		w.Zones = append(w.Zones, append([]string{z}, outcomeCells(zones[z].Connections)...))
	}
}

// outcomeCells are a routed count's cells: connections, failed, failed%,
// then each kind of failure.
func outcomeCells(o sim.Outcomes) []string {
	return []string{itoa(o.Total), itoa(o.Failed()), fmt.Sprintf("%.3f", 100*ratio(o.Failed(), o.Total)),
		itoa(o.Refused), itoa(o.Reset), itoa(o.Rejected), itoa(o.Unreachable), itoa(o.Dropped), itoa(o.DNSFailure)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// dash is s, or "–" when it is empty.
func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// viridis are stops of the viridis colour map (van der Walt & Smith,
// matplotlib), a sequential scale that stays readable for colour-blind
// readers and in grey, from its light end to its dark end.
var viridis = [...]color.NRGBA{
	{0xfd, 0xe7, 0x25, 0xff}, {0x90, 0xd7, 0x43, 0xff}, {0x35, 0xb7, 0x79, 0xff}, {0x21, 0x91, 0x8c, 0xff},
	{0x31, 0x68, 0x8e, 0xff}, {0x44, 0x39, 0x83, 0xff}, {0x44, 0x01, 0x54, 0xff},
}

// staleColour is the colour of a staleness: light for a fraction of a
// second, dark for the worst of the run, on a log scale.
func staleColour(ms, worst int64) string {
	lo, hi := math.Log10(100), math.Log10(float64(max(worst, 1000)))
	f := (math.Log10(float64(max(ms, 100))) - lo) / (hi - lo)
	f = min(max(f, 0), 1) * float64(len(viridis)-1)
	i := min(int(f), len(viridis)-2)
	t := f - float64(i)
	a, b := viridis[i], viridis[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return fmt.Sprintf("#%02x%02x%02x", mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B))
}

// nodeHeatmap draws the node timeline: a row per node (or group of
// nodes), a column per bucket, each cell coloured by how stale the
// row's proxies were at worst, hatched where a node was down or cut off,
// a dot where a proxy applied a new table (when cells are wide enough),
// a bar under the rows NotReady
// in the API, and a strip on top while the control plane was down. Each
// cell that is not in sync has a tooltip (an SVG <title>). It is written
// by hand, as strict XML, with every number finite.
func nodeHeatmap(variant string, vi int, t *sim.Trace, a timeAxis, end float64) (template.HTML, string) {
	// The grid spans the x range of the gonum time plots above it (their
	// y axis on the left, the legend column on the right), so that the
	// times line up; the row labels go in the legend column.
	const (
		width, left, top = 960.0, 52.0, 44.0
		right            = float64(legendWidth)*96/72 + 4
	)
	rows := len(t.Nodes.Rows)
	rh := min(16, max(6, 360/float64(max(rows, 1))))
	gridH := rh * float64(rows)
	axisY := top + gridH
	height := axisY + 78
	plotW := width - left - right
	x := func(v float64) float64 {
		if end <= 0 {
			return left
		}
		return left + plotW*min(max(v, 0), end)/end
	}
	bw := t.BucketWidth.D()
	var worst int64
	for _, c := range t.Nodes.Cells {
		worst = max(worst, c.StaleMillis)
	}
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="Liberation Sans, Arial, sans-serif" font-size="10">`,
		f(width), f(height), f(width), f(height))
	hatch := "hatch-" + strconv.Itoa(vi)
	fmt.Fprintf(&b, `<defs><pattern id="%s" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#bbbbbb"/><line x1="0" y1="0" x2="0" y2="4" stroke="#333333" stroke-width="1.5"/></pattern></defs>`, hatch)
	fmt.Fprintf(&b, `<text x="%s" y="14" font-size="13" text-anchor="middle">%s</text>`, f(width/2), template.HTMLEscapeString(variant+": proxy programming per node (how stale each node's rules were)"))
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#f4f4f4" stroke="#999999" stroke-width="0.5"/>`, f(left), f(top), f(plotW), f(gridH))
	// Control plane down: a strip over the grid.
	for _, iv := range t.ControlPlaneDown {
		x0, x1 := x(a.x(iv.From.D())), x(a.x(iv.To.D()))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="8" fill="#56b4e9"><title>control plane down %s–%s</title></rect>`,
			f(x0), f(top-10), f(max(x1-x0, 1)), iv.From, iv.To)
	}
	// Dots only where cells are big enough to hold one apart from the
	// next; the tooltips always count the syncs.
	dots := plotW/float64(max(t.Buckets, 1)) >= 6 && rh >= 8
	labels := make([]string, rows)
	for r, row := range t.Nodes.Rows {
		y := top + float64(r)*rh
		labels[r] = row.First
		if row.Nodes > 1 {
			labels[r] = fmt.Sprintf("%s … %s (%d)", row.First, row.Last, row.Nodes)
		}
		if rh >= 8 || r%2 == 0 {
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s">%s</text>`, f(left+plotW+5), f(y+rh*0.75), f(min(10, rh)), template.HTMLEscapeString(labels[r]))
		}
	}
	for _, c := range t.Nodes.Cells {
		r, k := c.Row, c.Bucket
		if r < 0 || r >= rows || k < 0 || k >= t.Buckets {
			continue
		}
		row, label, y := t.Nodes.Rows[r], labels[r], top+float64(r)*rh
		stale, syncs, down := c.StaleMillis, int64(c.Syncs), int64(c.Down)
		from := time.Duration(k) * bw
		x0, x1 := x(a.x(from)), x(a.x(from+bw))
		fill := "#f4f4f4"
		switch {
		case down > 0 && int(down) >= row.Nodes:
			fill = "url(#" + hatch + ")"
		case stale > 0:
			fill = staleColour(stale, worst)
		}
		tip := fmt.Sprintf("%s, %s–%s: ", label, sim.Duration(from), sim.Duration(from+bw))
		var parts []string
		if stale > 0 {
			parts = append(parts, fmt.Sprintf("%s stale at worst", sim.Duration(time.Duration(stale)*time.Millisecond)))
		}
		if syncs > 0 {
			parts = append(parts, plural(int(syncs), "sync")+" applying a new table")
		}
		if down > 0 {
			parts = append(parts, plural(int(down), "node")+" down or cut off")
		}
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
			f(x0), f(y), f(max(x1-x0, 0.5)), f(rh), fill, template.HTMLEscapeString(tip+strings.Join(parts, ", ")))
		if down > 0 && int(down) < row.Nodes {
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="url(#%s)"/>`, f(x0), f(y+rh*0.6), f(max(x1-x0, 0.5)), f(rh*0.4), hatch)
		}
		if syncs > 0 && dots {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s" fill="#000000" stroke="#ffffff" stroke-width="0.4"/>`, f((x0+x1)/2), f(y+rh/2), f(min(1.6, rh/5)))
		}
	}
	for _, iv := range t.NotReady {
		if iv.Row < 0 || iv.Row >= rows {
			continue
		}
		y := top + float64(iv.Row+1)*rh - 2.5
		x0, x1 := x(a.x(iv.From.D())), x(a.x(iv.To.D()))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="2.5" fill="#d55e00"><title>%s NotReady %s–%s</title></rect>`,
			f(x0), f(y), f(max(x1-x0, 1)), template.HTMLEscapeString(iv.Node), iv.From, iv.To)
	}
	// The time axis.
	step := niceStep(end, 10)
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="0.8"/>`, f(left), f(axisY), f(left+plotW), f(axisY))
	for v := 0.0; v <= end*(1+1e-9); v += step {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-width="0.8"/><text x="%s" y="%s" text-anchor="middle">%s</text>`,
			f(x(v)), f(axisY), f(x(v)), f(axisY+4), f(x(v)), f(axisY+14), strconv.FormatFloat(v, 'f', -1, 64))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f(left+plotW/2), f(axisY+28), a.label)
	// The legend: the colour scale, then the other marks.
	ly := axisY + 44
	fmt.Fprintf(&b, `<text x="%s" y="%s">in sync</text><rect x="%s" y="%s" width="14" height="10" fill="#f4f4f4" stroke="#999999" stroke-width="0.5"/>`, f(left), f(ly+9), f(left+38), f(ly))
	sx := left + 70
	ticks := []int64{100, 1000, 10_000, 100_000, 1_000_000}
	scaleTop := max(worst, 1000)
	for i := range 60 {
		ms := int64(math.Round(math.Pow(10, 2+float64(i)/59*(math.Log10(float64(scaleTop))-2))))
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="2.6" height="10" fill="%s"/>`, f(sx+float64(i)*2.5), f(ly), staleColour(ms, worst))
	}
	for _, ms := range ticks {
		if ms > scaleTop {
			break
		}
		tx := sx + 147.5*(math.Log10(float64(ms))-2)/(math.Log10(float64(scaleTop))-2)
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" font-size="9">%s</text>`, f(tx), f(ly+21), durationLabel(float64(ms)/1000))
	}
	lx := sx + 170
	fmt.Fprintf(&b, `<text x="%s" y="%s">stale (oldest change not applied)</text>`, f(lx), f(ly+9))
	lx += 185
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="14" height="10" fill="url(#%s)"/><text x="%s" y="%s">down or cut off</text>`, f(lx), f(ly), hatch, f(lx+18), f(ly+9))
	lx += 100
	if dots {
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2" fill="#000000"/><text x="%s" y="%s">applied a new table</text>`, f(lx+7), f(ly+5), f(lx+18), f(ly+9))
		lx += 115
	}
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="14" height="3" fill="#d55e00"/><text x="%s" y="%s">NotReady</text>`, f(lx), f(ly+4), f(lx+18), f(ly+9))
	lx += 65
	if len(t.ControlPlaneDown) > 0 {
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="14" height="8" fill="#56b4e9"/><text x="%s" y="%s">control plane down</text>`, f(lx), f(ly+1), f(lx+18), f(ly+9))
	}
	b.WriteString(`</svg>`)
	var note string
	nodes := 0
	for _, row := range t.Nodes.Rows {
		nodes += row.Nodes
	}
	if rows < nodes {
		note = fmt.Sprintf("%d nodes in %d rows of about %d consecutive nodes each: a cell is the worst of its row's nodes.", nodes, rows, (nodes+rows-1)/rows)
	}
	if t.NotReadyDropped > 0 {
		note += fmt.Sprintf(" %d more NotReady intervals were not recorded (at most %d are).", t.NotReadyDropped, sim.TraceIntervals)
	}
	return template.HTML(b.String()), strings.TrimSpace(note)
}
