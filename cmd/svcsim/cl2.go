package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// ClusterLoader2's measurement output, so that a simulated run reads as
// a real cluster's: CL2 writes each measurement's summary as PerfData
// (clusterloader2/pkg/measurement/util/perftype.go: a version and data
// items, each a map of figures, a unit and labels), indented by two
// spaces (util.PrettyPrintJSON), to
// <ReportDir>/<SummaryName>_<test name>[_<scenario identifier>]_<time, RFC 3339>.json
// (pkg/test/simple_test_executor.go). Its NetworkProgrammingLatency
// (pkg/measurement/common/slos/network_programming.go) is one data item:
// Perc50, Perc90 and Perc99 in ms, labelled Metric:
// NetworkProgrammingLatency, version v1.

// cl2PerfData is CL2's PerfData.
type cl2PerfData struct {
	Version   string            `json:"version"`
	DataItems []cl2DataItem     `json:"dataItems"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// cl2DataItem is CL2's DataItem.
type cl2DataItem struct {
	Data   map[string]float64 `json:"data"`
	Unit   string             `json:"unit"`
	Labels map[string]string  `json:"labels,omitempty"`
}

// The summaries svcsim writes in CL2's format.
const (
	cl2NetProg = "NetworkProgrammingLatency"
	// cl2Summary is svcsim's own per-variant summary, in the same shape.
	cl2Summary = "SvcsimSummary"
)

// cl2Files returns the CL2 measurement files of a report, by name: for
// every variant its NetworkProgrammingLatency and its SvcsimSummary. The
// test name is the scenario's, the scenario identifier the variant's
// (made safe for a file name), the time the end of the simulated run
// (sim.Epoch plus the duration), so the names and bytes are
// reproducible.
//
// A variant of several seeds is several clusters: its percentiles are
// the worst run's, each percentile on its own, as CL2's
// quantile_over_time(0.99, ...) over one test keeps the high end.
func cl2Files(r *report) (map[string][]byte, error) {
	test := fileSafe(r.Scenario.Metadata.Name)
	if test == "" {
		test = "svcsim"
	}
	stamp := sim.Epoch().Add(r.Scenario.Duration.D()).UTC().Format(time.RFC3339)
	out := map[string][]byte{}
	for i, vr := range r.Variants {
		id := fileSafe(vr.Variant.Name)
		name := func(summary string) string {
			return strings.Join([]string{summary, test + "_" + id, stamp}, "_") + ".json"
		}
		if _, dup := out[name(cl2NetProg)]; dup {
			id += "-" + strconv.Itoa(i)
		}
		files := map[string]cl2PerfData{
			name(cl2NetProg): {Version: "v1", DataItems: []cl2DataItem{
				percentiles(vr.Summary.Worst.Endpoint, cl2NetProg)}},
			name(cl2Summary): summaryPerfData(r, vr),
		}
		for n, pd := range files {
			b, err := prettyJSON(pd)
			if err != nil {
				return nil, err
			}
			out[n] = b
		}
	}
	return out, nil
}

// percentiles is the worst run's Perc50, Perc90 and Perc99 of a latency
// (each the highest over the runs, as the sweep folds them), in ms, as
// CL2's LatencyMetric.ToPerfData gives them.
func percentiles(worst quantiles, metric string) cl2DataItem {
	ms := func(d sim.Duration) float64 { return float64(d.D()) / float64(time.Millisecond) }
	return cl2DataItem{Data: map[string]float64{"Perc50": ms(worst.P50), "Perc90": ms(worst.P90), "Perc99": ms(worst.P99)}, Unit: "ms",
		Labels: map[string]string{"Metric": metric}}
}

// summaryPerfData is a variant's summary as PerfData: the programming
// latencies (endpoints, DNS), the connections by outcome (all, and per
// flow), the failed and cross-zone shares, and the disruption.
func summaryPerfData(r *report, vr variantReport) cl2PerfData {
	m := vr.Summary
	outcomes := func(o sim.Outcomes) map[string]float64 {
		return map[string]float64{"Total": float64(o.Total), "Served": float64(o.Served), "Refused": float64(o.Refused),
			"Reset": float64(o.Reset), "Rejected": float64(o.Rejected), "DNSFailure": float64(o.DNSFailure),
			"Dropped": float64(o.Dropped), "Unreachable": float64(o.Unreachable)}
	}
	items := []cl2DataItem{
		percentiles(vr.Summary.Worst.Endpoint, cl2NetProg),
		percentiles(vr.Summary.Worst.DNS, "DNSProgrammingLatency"),
		{Data: outcomes(m.Connections), Unit: "connections", Labels: map[string]string{"Metric": "Connections"}},
		{Data: map[string]float64{"Failed": 100 * m.FailedShare, "CrossZone": 100 * m.CrossZoneShare}, Unit: "%",
			Labels: map[string]string{"Metric": "ConnectionShares"}},
		{Data: map[string]float64{"Mean": m.PerChurnEvent.Mean, "Min": m.PerChurnEvent.Min, "Max": m.PerChurnEvent.Max},
			Unit: "connections", Labels: map[string]string{"Metric": "DisruptedPerChurnEvent"}},
	}
	for _, f := range m.Flows {
		items = append(items, cl2DataItem{Data: outcomes(f.Connections), Unit: "connections",
			Labels: map[string]string{"Metric": "FlowConnections", "Flow": f.Name, "Service": f.Service, "Algorithm": f.Algorithm}})
	}
	seeds := strconv.FormatUint(r.Seeds.First, 10)
	if r.Seeds.Count > 1 {
		seeds += ".." + strconv.FormatUint(r.Seeds.First+uint64(r.Seeds.Count)-1, 10)
	}
	return cl2PerfData{Version: "v1", DataItems: items, Labels: map[string]string{
		"Scenario": r.Scenario.Metadata.Name, "Variant": vr.Variant.Name, "Seeds": seeds, "Runs": strconv.Itoa(m.Runs),
		"Duration": r.Scenario.Duration.String()}}
}

// prettyJSON is v as CL2's util.PrettyPrintJSON writes it: encoded, then
// indented by two spaces, with the encoder's final newline.
func prettyJSON(v any) ([]byte, error) {
	var raw, out bytes.Buffer
	if err := json.NewEncoder(&raw).Encode(v); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// fileSafe keeps the letters, digits and ._+- of a name, and turns the
// rest into "-", for a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._+-", r):
			return r
		}
		return '-'
	}, s)
}

// writeCL2 writes a report's CL2 measurement files to dir and says so on
// the log.
func (c cli) writeCL2(r *report, dir string) error {
	files, err := cl2Files(r)
	if err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
	}
	fmt.Fprintf(c.stderr, "wrote %d ClusterLoader2 measurement files to %s (%s_*, %s_*)\n", len(files), dir, cl2NetProg, cl2Summary)
	return nil
}
