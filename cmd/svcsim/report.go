package main

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/svcnet/svcnet/sim"
)

// report.html: one self-contained file (no script, no external
// resource) with the summary table, SVG plots drawn by gonum/plot, the
// timeline and the scenario as run. Like result.json it holds nothing
// from the host, so the same sweep gives the same bytes.

// page is what the report template shows.
type page struct {
	Title, Description string
	Facts              []string
	Violations         []sim.Violation
	ViolationVariants  []string
	Head               []string
	Rows               [][]string
	FlowHead           []string
	FlowRows           [][]string
	Why                []why
	NoFailures         []string
	Failures           template.HTML
	Backends           []template.HTML
	BackendsNote       string
	EndpointCDF        template.HTML
	DNSCDF             template.HTML
	LatencyNote        string
	Compare            []template.HTML
	Timeline           []sim.TimelineEvent
	Scenario           string
	// Measured, for svcsim run -real, is what the real kernel measured
	// beside the prediction the rest of the page shows.
	Measured *measuredSection
}

// renderHTML renders the report.
func renderHTML(r *report) ([]byte, error) { return renderReport(r, nil) }

// renderReport renders the report, with the measured section m of a
// -real run when it is not nil.
func renderReport(r *report, m *measuredSection) ([]byte, error) {
	s := &r.Scenario
	pg := page{Title: s.Metadata.Name, Description: s.Metadata.Description, Timeline: s.Timeline, Measured: m}
	if pg.Title == "" {
		pg.Title = "svcsim scenario"
	}
	pg.Facts = facts(r)
	for _, vr := range r.Variants {
		for _, run := range vr.PerSeed {
			if run.Violation != nil {
				pg.Violations = append(pg.Violations, *run.Violation)
				pg.ViolationVariants = append(pg.ViolationVariants, vr.Variant.Name)
			}
		}
	}
	pg.Head, pg.Rows = summaryTable(r)
	pg.FlowHead = []string{"variant", "flow", "service", "algorithm", "connections", "failed", "failed%", "refused", "reset", "rejected",
		"unreachable", "dropped", "dns failure", "backends", "max/mean"}
	for _, vr := range r.Variants {
		for _, f := range vr.Summary.Flows {
			o := f.Connections
			pg.FlowRows = append(pg.FlowRows, []string{vr.Variant.Name, f.Name, f.Service, f.Algorithm,
				strconv.FormatInt(o.Total, 10), strconv.FormatInt(o.Failed(), 10),
				fmt.Sprintf("%.3f", 100*ratio(o.Failed(), o.Total)),
				strconv.FormatInt(o.Refused, 10), strconv.FormatInt(o.Reset, 10), strconv.FormatInt(o.Rejected, 10),
				strconv.FormatInt(o.Unreachable, 10), strconv.FormatInt(o.Dropped, 10), strconv.FormatInt(o.DNSFailure, 10),
				strconv.Itoa(f.Backends), fmt.Sprintf("%.3f", f.MaxOverMean.Mean)})
		}
	}
	var err error
	if pg.Why, pg.NoFailures, err = whySections(r); err != nil {
		return nil, err
	}
	if pg.Failures, err = failuresPlot(r); err != nil {
		return nil, err
	}
	if pg.Backends, pg.BackendsNote, err = backendPlots(r); err != nil {
		return nil, err
	} else if len(pg.Backends) == 0 {
		pg.BackendsNote = "No per-backend load recorded: set metrics.backends: true in the scenario."
	}
	var ok [2]bool
	if pg.EndpointCDF, ok[0], err = latencyPlot(r, "Endpoint programming latency", func(s *summary) sim.Histogram { return s.EndpointLatency }); err != nil {
		return nil, err
	}
	if pg.DNSCDF, ok[1], err = latencyPlot(r, "DNS programming latency", func(s *summary) sim.Histogram { return s.DNSLatency }); err != nil {
		return nil, err
	}
	switch {
	case !ok[0] && !ok[1]:
		pg.LatencyNote = "No change was programmed: no endpoint or DNS programming latency to draw."
	case !ok[0]:
		pg.LatencyNote = "No endpoint change was programmed: no endpoint programming latency to draw."
	case !ok[1]:
		pg.LatencyNote = "No DNS change was programmed: no DNS programming latency to draw."
	}
	for _, c := range []struct {
		title, unit, format string
		get                 func(sim.Result) (float64, bool)
	}{
		{"Failed connections", "% of connections", "%.3g", func(r sim.Result) (float64, bool) {
			return 100 * ratio(r.Connections.Failed(), r.Connections.Total), r.Connections.Total > 0
		}},
		{"Backend imbalance", "max / mean backend load", "%.3f", runImbalance},
		{"Disruption", "connections disrupted per churn event", "%.3g", runDisruption},
		{"Cross-zone traffic", "% of served connections", "%.3g", func(r sim.Result) (float64, bool) {
			return 100 * r.CrossZone.Share, r.CrossZone.Served > 0
		}},
	} {
		h, err := comparisonPlot(r, c.title, c.unit, c.get, c.format)
		if err != nil {
			return nil, err
		}
		pg.Compare = append(pg.Compare, h)
	}
	sy, err := yaml.Marshal(s)
	if err != nil {
		return nil, err
	}
	pg.Scenario = string(sy)
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, pg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// runImbalance is a run's backend imbalance: its flows' max/mean backend
// load, weighted by their connections (as summary's MaxOverMean).
func runImbalance(r sim.Result) (float64, bool) {
	var w, n float64
	for _, f := range r.Flows {
		w += f.MaxOverMean * float64(f.Connections.Total)
		n += float64(f.Connections.Total)
	}
	return w / max(n, 1), n > 0
}

// runDisruption is a run's disrupted connections per backend churn
// event, over every algorithm in use (as summary's PerChurnEvent).
func runDisruption(r sim.Result) (float64, bool) {
	var dis, ev int64
	for _, a := range r.Algorithms {
		dis += a.Disrupted
		ev += a.ChurnEvents
	}
	return ratio(dis, ev), true
}

// facts are the report's one-line facts about the sweep.
func facts(r *report) []string {
	s := &r.Scenario
	seeds := fmt.Sprintf("seed %d", r.Seeds.First)
	if r.Seeds.Count > 1 {
		seeds = fmt.Sprintf("%d seeds from %d", r.Seeds.Count, r.Seeds.First)
	}
	runs := 0
	var events uint64
	for _, vr := range r.Variants {
		runs += vr.Summary.Runs
		events += vr.Summary.Events
	}
	zones := s.Cluster.ZoneNames()
	out := []string{
		fmt.Sprintf("%v simulated, %s, %s, %s, %d events", s.Duration, seeds, plural(len(r.Variants), "variant"), plural(runs, "run"), events),
		fmt.Sprintf("%s in zones %s; %s and %s defined, %d of each generated",
			plural(len(s.Nodes)+s.Cluster.Nodes, "node"), strings.Join(zones, ", "), plural(len(s.Services), "Service"),
			workloadCounts(s), s.Workload.Services),
	}
	for i, f := range s.Traffic {
		if i == 5 && len(s.Traffic) > 6 {
			out = append(out, fmt.Sprintf("and %d more flows (see Flows)", len(s.Traffic)-5))
			break
		}
		from := f.From
		if from == "" {
			from = sim.FromPods
		}
		out = append(out, fmt.Sprintf("traffic: %g connections/s from %s to %s", f.Rate, from, f.Service))
	}
	return out
}

// plural is "1 run", "2 runs".
// workloadCounts is "2 Deployments", or with the other kinds the
// scenario has, "1 Deployment, 1 StatefulSet, 2 DaemonSets".
func workloadCounts(s *sim.Scenario) string {
	out := plural(len(s.Deployments), "Deployment")
	for _, k := range []struct {
		n    int
		name string
	}{{len(s.StatefulSets), "StatefulSet"}, {len(s.DaemonSets), "DaemonSet"}, {len(s.ReplicaSets), "ReplicaSet"}} {
		if k.n > 0 {
			out += ", " + plural(k.n, k.name)
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.Title}} · svcsim</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
h4 { font-size: 0.9em; margin: 1em 0 0.3em; }
p.desc { color: #444; }
ul.facts { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.violation { background: #fde8e8; border: 1px solid #d55e00; padding: 0.6em 1em; margin: 1em 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; }
.tables { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; overflow-x: auto; }
svg { max-width: 100%; height: auto; display: block; }
.wide { overflow-x: auto; }
.note { color: #666; font-size: 0.85em; }
pre { background: #f8f8f8; padding: 0.8em; font-size: 0.75em; overflow: auto; max-height: 30em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
<ul class="facts">{{range .Facts}}<li>{{.}}</li>{{end}}</ul>
{{range $i, $v := .Violations}}<div class="violation"><strong>Invariant violated</strong> in {{index $.ViolationVariants $i}}: {{$v.Invariant}}: {{$v.Message}}<br/>
Replay: seed {{$v.Seed}}, event {{$v.Event}}, at {{$v.At}}.{{if $v.LastEvents}} Last events:
<pre>{{range $v.LastEvents}}{{.}}
{{end}}</pre>{{end}}</div>
{{end}}
<section id="summary">
<h2>Summary</h2>
<div class="wide"><table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{with .Measured}}<p class="note">The simulator's prediction for the seed; what the real kernel measured is in <a href="#measured">Measured on a real kernel</a>.</p>{{end}}
<p class="note">failed: connections not served — refused (the proxy picked a pod that was gone or not listening), reset (an open connection's pod stopped), rejected (no endpoints in the node's view), unreachable (no frontend for the address, or no node to take it), dropped (a traffic policy), dns failure (the name did not resolve).
prog: endpoint programming latency, from a change in the API to every node's proxy applying it; dns: the same for cluster DNS; – where no change was programmed.
max/mean: the most loaded backend over the mean. disrupt/churn: connections disrupted per backend that went away. Per-run figures are means over the runs.</p>
</section>
{{with .Measured}}<section id="measured">
<h2>Measured on a real kernel</h2>
<p class="note">{{.Facts}}. Measured refused includes rejected, unreachable includes timed out and dropped: a socket cannot tell them apart.</p>
<div class="wide"><table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{range .Plots}}{{.}}
{{end}}<p class="note">Connections per second by start time: the prediction solid, the measurement dashed; dashed verticals mark the timeline's events. The rest of this page is the simulator's prediction.</p>
</section>
{{end}}<section id="why">
<h2>Why did they fail?</h2>
{{range .Why}}<div class="why">
<h3>{{.Variant}}</h3>
<p class="note">Rates are over the variant's runs (those of its 20 lowest seeds at most); the endpoints and the node timeline are of {{.Run}}. Shaded: a node NotReady in the API (orange), the control plane down (blue); dashed lines mark the timeline's events.</p>
{{range .Panels}}{{.}}
{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}<div class="tables">
{{if .Pods}}<div><h4>Failures by the backend pod that refused or reset them</h4><table>
<thead><tr>{{range .PodHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Pods}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}
{{if .Nodes}}<div><h4>Failures by the node that routed them</h4><table>
<thead><tr>{{range .NodeHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Nodes}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}
{{if .Zones}}<div><h4>Connections by zone</h4><table>
<thead><tr>{{range .ZoneHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Zones}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{end}}
</div>
</div>
{{end}}{{if .NoFailures}}<p class="note" id="no-failures">No failed connections in {{range $i, $n := .NoFailures}}{{if $i}}, {{end}}{{$n}}{{end}}.</p>{{end}}
</section>
<section id="overview">
<h2>Failed connections over time</h2>
{{if .Failures}}{{.Failures}}{{else}}<p class="note">No variant failed a connection.</p>{{end}}
</section>
<section id="flows">
<h2>Flows</h2>
<div class="wide"><table>
<thead><tr>{{range .FlowHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .FlowRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
</section>
<section id="backends">
<h2>Per-backend load</h2>
{{range .Backends}}{{.}}
{{end}}{{if .BackendsNote}}<p class="note">{{.BackendsNote}}</p>{{end}}
</section>
<section id="latency">
<h2>Programming latency</h2>
{{if .EndpointCDF}}{{.EndpointCDF}}{{end}}{{if .DNSCDF}}{{.DNSCDF}}{{end}}
{{if .LatencyNote}}<p class="note">{{.LatencyNote}}</p>{{end}}
<p class="note">Each curve is the step CDF of every change of every run of the variant, from histograms of buckets ten a decade (1 ms to 10 min): it rises at a bucket's upper bound; the legend's p50 and p99 are those bounds.</p>
</section>
<section id="comparison">
<h2>Variant comparison</h2>
<div class="grid">{{range .Compare}}<div>{{.}}</div>{{end}}</div>
<p class="note">With several runs, a bar is the median over the variant's runs, and the whisker and the bracket span their 5th to 95th percentile.</p>
</section>
<section id="timeline">
<h2>Timeline</h2>
{{if .Timeline}}<table>
<thead><tr><th>at</th><th>action</th><th>target</th><th>for</th></tr></thead>
<tbody>{{range .Timeline}}<tr><td>{{.At}}</td><td>{{.Action}}</td><td>{{.Target}}{{if .Replicas}} → {{.Replicas}} replicas{{end}}{{if .Count}} ×{{.Count}}{{end}}</td><td>{{if .For}}{{.For}}{{end}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No timeline events.</p>{{end}}
</section>
<section id="scenario">
<h2>Scenario</h2>
<details><summary>The scenario as run (YAML)</summary>
<pre>{{.Scenario}}</pre>
</details>
</section>
<p class="note">Generated by svcsim. Every figure is from a deterministic simulation: the same scenario and seeds give the same report.</p>
</body>
</html>
`))
