package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

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
	FlowRows           [][]string
	Failures           template.HTML
	Outcomes           []template.HTML
	Backends           template.HTML
	BackendsNote       string
	EndpointCDF        template.HTML
	DNSCDF             template.HTML
	Compare            []template.HTML
	Timeline           []sim.TimelineEvent
	Scenario           string
}

// renderHTML renders the report.
func renderHTML(r *report) ([]byte, error) {
	s := &r.Scenario
	pg := page{Title: s.Metadata.Name, Description: s.Metadata.Description, Timeline: s.Timeline}
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
	for _, vr := range r.Variants {
		for _, f := range vr.Summary.Flows {
			o := f.Connections
			pg.FlowRows = append(pg.FlowRows, []string{vr.Variant.Name, f.Name, f.Service, f.Algorithm,
				strconv.FormatInt(o.Total, 10), strconv.FormatInt(o.Failed(), 10),
				fmt.Sprintf("%.3f", 100*ratio(o.Failed(), o.Total)),
				strconv.FormatInt(o.Refused, 10), strconv.FormatInt(o.Reset, 10), strconv.FormatInt(o.Rejected, 10),
				strconv.FormatInt(o.DNSFailure+o.Dropped+o.Unreachable, 10),
				strconv.Itoa(f.Backends), fmt.Sprintf("%.3f", f.MaxOverMean.Mean)})
		}
	}
	var err error
	if pg.Failures, err = failuresPlot(r); err != nil {
		return nil, err
	}
	for i := range r.Variants {
		h, err := outcomesPlot(r, i)
		if err != nil {
			return nil, err
		}
		pg.Outcomes = append(pg.Outcomes, h)
	}
	var ok bool
	if pg.Backends, pg.BackendsNote, ok, err = backendPlot(r); err != nil {
		return nil, err
	} else if !ok {
		pg.BackendsNote = "No per-backend load recorded: set metrics.backends: true in the scenario."
	}
	if pg.EndpointCDF, _, err = latencyPlot(r, "Endpoint programming latency", func(s *summary) sim.Histogram { return s.EndpointLatency }); err != nil {
		return nil, err
	}
	if pg.DNSCDF, _, err = latencyPlot(r, "DNS programming latency", func(s *summary) sim.Histogram { return s.DNSLatency }); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		title, unit string
		get         func(*summary) float64
	}{
		{"Failed connections", "% of connections", func(m *summary) float64 { return 100 * m.FailedShare }},
		{"Backend imbalance", "max / mean backend load", func(m *summary) float64 { return m.MaxOverMean.Mean }},
		{"Disruption", "connections disrupted per churn event", func(m *summary) float64 { return m.PerChurnEvent.Mean }},
		{"Cross-zone traffic", "% of served connections", func(m *summary) float64 { return 100 * m.CrossZoneShare }},
	} {
		h, err := comparisonPlot(r, c.title, c.unit, c.get)
		if err != nil {
			return nil, err
		}
		pg.Compare = append(pg.Compare, h)
	}
	sj, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	pg.Scenario = string(sj)
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, pg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
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
			plural(len(s.Deployments), "Deployment"), s.Workload.Services),
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
p.desc { color: #444; }
ul.facts { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.violation { background: #fde8e8; border: 1px solid #e15759; padding: 0.6em 1em; margin: 1em 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; }
svg { max-width: 100%; height: auto; display: block; }
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
<h2>Summary</h2>
<table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p class="note">failed: connections not served (refused by a pod that was gone, reset by a pod that stopped, rejected for want of endpoints, other: DNS failures, drops, unreachable).
prog: endpoint programming latency, from a change in the API to every node's proxy applying it; dns: the same for cluster DNS.
max/mean: the most loaded backend over the mean. disrupt/churn: connections disrupted per backend that went away. Per-run figures are means over the runs.</p>
<h2>Flows</h2>
<table>
<thead><tr><th>variant</th><th>flow</th><th>service</th><th>algorithm</th><th>connections</th><th>failed</th><th>failed%</th><th>refused</th><th>reset</th><th>rejected</th><th>other</th><th>backends</th><th>max/mean</th></tr></thead>
<tbody>{{range .FlowRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<h2>Outcomes over time</h2>
{{.Failures}}
<div class="grid">{{range .Outcomes}}<div>{{.}}</div>{{end}}</div>
<h2>Per-backend load</h2>
{{if .Backends}}{{.Backends}}{{end}}
<p class="note">{{.BackendsNote}}</p>
<h2>Programming latency</h2>
<div class="grid"><div>{{.EndpointCDF}}</div><div>{{.DNSCDF}}</div></div>
<p class="note">Each curve is the step CDF of every change of every run of the variant, from histograms of buckets ten a decade (1 ms to 10 min): it rises at a bucket's upper bound.</p>
<h2>Algorithm comparison</h2>
<div class="grid">{{range .Compare}}<div>{{.}}</div>{{end}}</div>
<h2>Timeline</h2>
{{if .Timeline}}<table>
<thead><tr><th>at</th><th>action</th><th>target</th><th>for</th></tr></thead>
<tbody>{{range .Timeline}}<tr><td>{{.At}}</td><td>{{.Action}}</td><td>{{.Target}}{{if .Replicas}} → {{.Replicas}} replicas{{end}}{{if .Count}} ×{{.Count}}{{end}}</td><td>{{if .For}}{{.For}}{{end}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No timeline events.</p>{{end}}
<h2>Scenario</h2>
<details><summary>The scenario as run (JSON)</summary>
<pre>{{.Scenario}}</pre>
</details>
<p class="note">Generated by svcsim. Every figure is from a deterministic simulation: the same scenario and seeds give the same report.</p>
</body>
</html>
`))
