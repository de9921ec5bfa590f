package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// summary aggregates a variant's runs (one per seed). Counts are summed
// over the runs; per-run figures are given as a spread over the runs
// (mean, min, max), so that one seed or a hundred read the same way.
type summary struct {
	// Runs is the number of runs; Violations how many broke an invariant.
	Runs       int `json:"runs"`
	Violations int `json:"violations"`
	// Connections sums the runs' outcomes; FailedShare is the share of
	// them not served.
	Connections sim.Outcomes `json:"connections"`
	FailedShare float64      `json:"failedShare"`
	// Failed is the failed connections of a run.
	Failed spread `json:"failed"`
	// EndpointP50, EndpointP99 and DNSP99 are a run's endpoint and DNS
	// programming latency quantiles, in seconds.
	EndpointP50 spread `json:"endpointP50Seconds"`
	EndpointP99 spread `json:"endpointP99Seconds"`
	DNSP99      spread `json:"dnsP99Seconds"`
	// EndpointLatency and DNSLatency are the runs' endpoint and DNS
	// programming latency histograms merged: exactly those of every
	// sample of every run, however the sweep was sharded.
	EndpointLatency sim.Histogram `json:"endpointProgrammingLatency"`
	DNSLatency      sim.Histogram `json:"dnsProgrammingLatency"`
	// MaxOverMean is a run's backend imbalance: the flows' max/mean
	// backend load, weighted by their connections.
	MaxOverMean spread `json:"maxOverMean"`
	// PerChurnEvent is a run's disrupted connections per backend churn
	// event, over every algorithm in use.
	PerChurnEvent spread `json:"disruptedPerChurnEvent"`
	// CrossZoneShare is the share of served connections that crossed
	// zones, over all runs.
	CrossZoneShare float64 `json:"crossZoneShare"`
	// Algorithms sums the runs' disruption per load-balancing algorithm,
	// by algorithm name.
	Algorithms []sim.AlgorithmResult `json:"algorithms"`
	// Flows sums each traffic flow's outcomes over the runs, in the
	// scenario's order.
	Flows []flowSummary `json:"flows"`
	// Events sums the runs' engine events.
	Events uint64 `json:"events"`
	// CrossZone sums the runs' served and cross-zone connections; its
	// Share is CrossZoneShare.
	CrossZone sim.CrossZone `json:"crossZone"`
	// Worst is the highest of the runs' programming latency quantiles,
	// each on its own (ClusterLoader2's files give them).
	Worst worstLatency `json:"worst"`
}

// flowSummary is one traffic flow over a variant's runs.
type flowSummary struct {
	Name        string       `json:"name"`
	Service     string       `json:"service"`
	Algorithm   string       `json:"algorithm"`
	Connections sim.Outcomes `json:"connections"`
	// Backends is the most backends a run's flow reached.
	Backends int `json:"backends"`
	// MaxOverMean is a run's max/mean backend load for the flow.
	MaxOverMean spread `json:"maxOverMean"`
	// AllFailed sums the flow's connections over the runs in which not
	// one was served (the seed rows' AllFailedFlows say which); absent
	// when there is no such run.
	AllFailed *sim.Outcomes `json:"allFailed,omitempty"`
}

// spread is a per-run figure over the runs: its mean, least and
// greatest value. All are 0 without runs.
type spread struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func spreadOf(vs []float64) spread {
	if len(vs) == 0 {
		return spread{}
	}
	s := spread{Min: math.Inf(1), Max: math.Inf(-1)}
	sum := 0.0
	for _, v := range vs {
		sum += v
		s.Min = min(s.Min, v)
		s.Max = max(s.Max, v)
	}
	s.Mean = sum / float64(len(vs))
	return s
}

func addOutcomes(a *sim.Outcomes, b sim.Outcomes) { a.Add(b) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// canonicalJSON is v's JSON, for comparing values that round-trip.
func canonicalJSON(v any) ([]byte, error) { return json.Marshal(v) }

// writeSummary prints the summary table: one row per variant.
func writeSummary(w io.Writer, r *report) error {
	s := &r.Scenario
	name := s.Metadata.Name
	if name == "" {
		name = "(unnamed)"
	}
	seeds := fmt.Sprintf("seed %d", r.Seeds.First)
	if r.Seeds.Count > 1 {
		seeds = fmt.Sprintf("seeds %d..%d", r.Seeds.First, r.Seeds.First+uint64(r.Seeds.Count)-1)
	}
	fmt.Fprintf(w, "scenario %s: %s, %v simulated", name, seeds, s.Duration)
	if r.Shard != nil {
		fmt.Fprintf(w, ", shard %v", *r.Shard)
	}
	fmt.Fprintln(w)
	head, rows := summaryTable(r)
	// Left-align the variant names (padded to one width) and right-align
	// the numbers.
	width := len(head[0])
	for _, row := range rows {
		width = max(width, len(row[0]))
	}
	head[0] = fmt.Sprintf("%-*s", width, head[0])
	for _, row := range rows {
		row[0] = fmt.Sprintf("%-*s", width, row[0])
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, vr := range r.Variants {
		for _, run := range vr.PerSeed {
			if v := run.Violation; v != nil {
				fmt.Fprintf(w, "VIOLATION in %s, seed %d, event %d at %v: %s: %s\n", vr.Variant.Name, v.Seed, v.Event, v.At, v.Invariant, v.Message)
			}
		}
	}
	return nil
}

// summaryTable is the summary as a table: a header and a row per variant.
func summaryTable(r *report) (head []string, rows [][]string) {
	multi := r.Seeds.Count > 1
	head = []string{"variant", "runs", "connections", "failed", "failed%", "refused", "reset", "rejected", "unreachable", "dropped", "dns fail",
		"prog p50", "prog p99", "dns p99", "max/mean", "disrupt/churn", "cross-zone"}
	if multi {
		head[3] = "failed/run [min-max]"
	}
	for _, vr := range r.Variants {
		m := vr.Summary
		o := m.Connections
		failed := strconv.FormatInt(o.Failed(), 10)
		if multi {
			failed = fmt.Sprintf("%.1f [%g-%g]", m.Failed.Mean, m.Failed.Min, m.Failed.Max)
		}
		name := vr.Variant.Name
		if m.Violations > 0 {
			name += " (VIOLATION)"
		}
		rows = append(rows, []string{name, strconv.Itoa(m.Runs), strconv.FormatInt(o.Total, 10), failed,
			fmt.Sprintf("%.3f", 100*m.FailedShare),
			strconv.FormatInt(o.Refused, 10), strconv.FormatInt(o.Reset, 10), strconv.FormatInt(o.Rejected, 10),
			strconv.FormatInt(o.Unreachable, 10), strconv.FormatInt(o.Dropped, 10), strconv.FormatInt(o.DNSFailure, 10),
			sampled(m.EndpointLatency, m.EndpointP50.Mean), sampled(m.EndpointLatency, m.EndpointP99.Mean), sampled(m.DNSLatency, m.DNSP99.Mean),
			fmt.Sprintf("%.3f", m.MaxOverMean.Mean), fmt.Sprintf("%.2f", m.PerChurnEvent.Mean),
			fmt.Sprintf("%.1f%%", 100*m.CrossZoneShare)})
	}
	return head, rows
}

// sampled formats a latency of seconds, or "–" when its histogram has
// no sample (no change was programmed: there is no latency, not one of 0).
func sampled(h sim.Histogram, s float64) string {
	if h.Count == 0 {
		return "–"
	}
	return seconds(s)
}

// seconds formats seconds as a duration rounded to the millisecond.
func seconds(s float64) string {
	d := time.Duration(s * 1e9)
	if d >= time.Millisecond {
		d = d.Round(time.Millisecond)
	}
	return d.String()
}
