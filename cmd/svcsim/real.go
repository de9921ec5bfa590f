package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/svcnet/svcnet/sim"
	"github.com/svcnet/svcnet/testbed"
)

// realRun is one variant run on the testbed: the simulator's prediction
// for the seed and what the real kernel's sockets measured.
type realRun struct {
	Variant   string     `json:"variant"`
	Predicted sim.Result `json:"predicted"`
	Measured  sim.Result `json:"measured"`
	// Wall is how long the variant took, set-up and teardown included.
	Wall string `json:"wallTime"`
	// Stats say how closely the testbed kept to the simulated timeline.
	Stats testbed.Stats `json:"stats"`
	// Band is the simulator's spread of the failed share over
	// testbed.BandSeeds seeds from the scenario's (testbed.PredictBand):
	// what the measured share is held against.
	Band testbed.Band `json:"failedShareBand"`
}

// runReal runs every variant of s on the testbed (svcsim run -real),
// one after the other, and prints predicted beside measured.
func (c cli) runReal(s sim.Scenario, f runFlags, set map[string]bool) error {
	for _, fl := range []string{"seeds", "shard", "metrics", "events", "runs", "parallel"} {
		if set[fl] {
			return badInput("-%s does not go with -real: the testbed runs one seed of each variant on this machine", fl)
		}
	}
	if !(f.timescale > 0 && f.timescale <= 10) {
		return badInput("-timescale %v: want a value in (0, 10] (wall-clock seconds per simulated second)", f.timescale)
	}
	var runs []realRun
	for _, v := range variants(s) {
		var st testbed.Stats
		opts := testbed.Options{TimeScale: f.timescale, Stop: c.stop, Stats: &st}
		vs := v.Apply(s)
		d := time.Duration(float64(vs.Duration.D()) * f.timescale)
		fmt.Fprintf(c.stderr, "variant %s: running on the real kernel for %v of wall clock...\n", v.Name, d.Round(time.Second))
		start := c.now()
		pred, meas, err := testbed.Compare(vs, opts)
		switch {
		case errors.Is(err, testbed.ErrInterrupted):
			return fmt.Errorf("%w: the testbed was torn down", errInterrupted)
		case errors.Is(err, testbed.ErrTooLarge), errors.Is(err, testbed.ErrInvalid):
			return badInput("%w", err)
		case errors.Is(err, testbed.ErrUnsupported):
			return badInput("%w (svcsim run -real needs Linux, root, and the apt packages nftables iproute2 conntrack)", err)
		case err != nil:
			return fmt.Errorf("variant %s: %w", v.Name, err)
		}
		pred.Variant, meas.Variant = v.Name, v.Name
		// After the real run: Compare refuses a scenario too large
		// before anything runs, the simulator's 20 seeds of it included.
		band, _, err := testbed.PredictBand(vs, testbed.BandSeeds, func(r sim.Result) float64 { return testbed.FailedShare(r.Connections) })
		if err != nil {
			return fmt.Errorf("variant %s: %w", v.Name, err)
		}
		runs = append(runs, realRun{Variant: v.Name, Predicted: pred, Measured: meas, Wall: c.now().Sub(start).Round(time.Millisecond).String(), Stats: st, Band: band})
	}
	printReal(c, s, f.timescale, runs)
	if f.out == "" {
		return nil
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	b, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	path := filepath.Join(f.out, "real.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	fmt.Fprintln(c.stderr, "wrote", path)
	page, err := renderRealHTML(&s, f.timescale, runs)
	if err != nil {
		return fmt.Errorf("%w: report: %w", errInternal, err)
	}
	path = filepath.Join(f.out, "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return fmt.Errorf("%w: %w", errInternal, err)
	}
	fmt.Fprintln(c.stderr, "wrote", path)
	return nil
}

// printReal prints a row per variant and source: the prediction, then
// what was measured.
func printReal(c cli, s sim.Scenario, scale float64, runs []realRun) {
	fmt.Fprintf(c.stdout, "scenario %s: seed %d, %v simulated, time scale %g, on a real kernel\n", s.Metadata.Name, s.Seed, s.Duration.D(), scale)
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  variant\t\tconnections\tfailed\tfailed%\trefused\treset\tunreachable\tdns failure\tprog p50\tprog p99")
	row := func(name, src string, r sim.Result) {
		o := r.Connections
		share := 0.0
		if o.Total > 0 {
			share = 100 * float64(o.Failed()) / float64(o.Total)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%.3f\t%d\t%d\t%d\t%d\t%v\t%v\n", name, src, o.Total, o.Failed(), share,
			o.Refused+o.Rejected, o.Reset, o.Unreachable+o.Dropped, o.DNSFailure, r.EndpointLatency.P50.D().Round(time.Millisecond), r.EndpointLatency.P99.D().Round(time.Millisecond))
	}
	for _, r := range runs {
		row(r.Variant, "predicted", r.Predicted)
		row("", "measured", r.Measured)
	}
	tw.Flush()
	fmt.Fprintln(c.stdout, "  (measured refused includes rejected, unreachable includes timed out: a socket cannot tell them apart)")
	for _, r := range runs {
		st := r.Stats
		fmt.Fprintf(c.stdout, "  %s: nodes applied their syncs %v late on average (at most %v, simulated time); %d connections timed out, %d unreachable; %s of wall clock\n",
			r.Variant, st.MeanApplyLag.Round(time.Millisecond), st.MaxApplyLag.Round(time.Millisecond), st.TimedOut, st.Unreachable, r.Wall)
		if b := r.Band; b.Seeds > 0 {
			got := testbed.FailedShare(r.Measured.Connections)
			lo, hi := b.Limits(0)
			verdict := "within them"
			if !b.Admits(got, 0) {
				verdict = "outside them"
			}
			fmt.Fprintf(c.stdout, "  %s: failed share measured %.2f %%; the simulator's 5-95 %% band over seeds %d-%d is %.2f-%.2f %% (median %.2f %%), doubled about its middle %.2f-%.2f %%: %s\n",
				r.Variant, 100*got, r.Predicted.Seed, r.Predicted.Seed+uint64(b.Seeds)-1, 100*b.Lo, 100*b.Hi, 100*b.Median, 100*max(lo, 0), 100*min(hi, 1), verdict)
		}
		if st.DNSLookups > 0 {
			fmt.Fprintf(c.stdout, "  %s: %d DNS lookups (%d predicted), %d queries answered by the nodes' DNS servers\n",
				r.Variant, st.DNSLookups, r.Predicted.Cluster.DNSQueries, st.DNSAnswered)
		}
	}
}
