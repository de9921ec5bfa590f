package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// exitGate is the exit code of a run that completed, every invariant
// held, but a variant exceeded a threshold (-max-failed, ...) or, with
// -strict, the scenario or its results gave a warning.
const exitGate = 4

// errGate is returned when the reports were written but a variant
// exceeded a threshold, or a warning was made an error by -strict.
var errGate = errors.New("the run did not pass its checks")

// gates are the thresholds of run and merge: a rollout policy for CI.
// A nil threshold is not checked.
type gates struct {
	maxFailed   *float64 // share of the variant's connections, 0 to 1
	maxProgP99  *time.Duration
	maxDNSP99   *time.Duration
	maxPerChurn *float64
	// strict makes warnings errors.
	strict bool
}

// share is a flag.Value: "0.1%" or 0.001.
type share struct{ v **float64 }

func (s share) String() string {
	if s.v == nil || *s.v == nil {
		return ""
	}
	return strconv.FormatFloat(**s.v, 'g', -1, 64)
}

func (s share) Set(text string) error {
	v, err := parseShare(text)
	if err != nil {
		return err
	}
	*s.v = &v
	return nil
}

// parseShare reads a share of connections: a percentage ("0.1%") or a
// fraction ("0.001"), from 0 to 1.
func parseShare(text string) (float64, error) {
	t := strings.TrimSpace(text)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if pct {
		v /= 100
	}
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fmt.Errorf("%q: want a share of connections, 0.1%% or 0.001 (0 to 100%%)", text)
	}
	return v, nil
}

// positiveFloat is a flag.Value: a number at least 0.
type positiveFloat struct{ v **float64 }

func (p positiveFloat) String() string { return share(p).String() }

func (p positiveFloat) Set(text string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsNaN(v) || v < 0 {
		return fmt.Errorf("%q: want a number, 0 or more", text)
	}
	*p.v = &v
	return nil
}

// duration is a flag.Value: a positive duration (sim.ParseDuration).
type duration struct{ v **time.Duration }

func (d duration) String() string {
	if d.v == nil || *d.v == nil {
		return ""
	}
	return (**d.v).String()
}

func (d duration) Set(text string) error {
	v, err := sim.ParseDuration(strings.TrimSpace(text))
	if err != nil || v < 0 {
		return fmt.Errorf("%q: want a duration such as 2s or 500ms", text)
	}
	dv := v.D()
	*d.v = &dv
	return nil
}

// register adds the gate flags to fs.
func (g *gates) register(fs *flag.FlagSet) {
	fs.Var(share{&g.maxFailed}, "max-failed", "fail when a variant's failed connections exceed this share (0.1% or 0.001)")
	fs.Var(duration{&g.maxProgP99}, "max-programming-p99", "fail when a run's endpoint programming p99 exceeds this")
	fs.Var(duration{&g.maxDNSP99}, "max-dns-p99", "fail when a run's DNS programming p99 exceeds this")
	fs.Var(positiveFloat{&g.maxPerChurn}, "max-disrupted-per-churn", "fail when a run's disrupted connections per churn event exceed this")
	fs.BoolVar(&g.strict, "strict", false, "warnings are errors")
}

// check returns a line for every threshold a variant of r exceeds, in
// the variants' order. The per-run figures (the p99s, disruption per
// churn event) are checked on the worst run of the variant; the failed
// share on the variant's connections over all its runs.
func (g *gates) check(r *report) []string {
	var out []string
	for _, vr := range r.Variants {
		m := vr.Summary
		name := strconv.Quote(vr.Variant.Name)
		if g.maxFailed != nil && m.Connections.Total > 0 && m.FailedShare > *g.maxFailed {
			out = append(out, fmt.Sprintf("variant %s: %d of %d connections failed (%s), above -max-failed %s",
				name, m.Connections.Failed(), m.Connections.Total, percent(m.FailedShare), percent(*g.maxFailed)))
		}
		worst := func(flagName string, limit *time.Duration, what string, s spread) {
			if limit == nil || m.Runs == 0 {
				return
			}
			if got := time.Duration(math.Round(s.Max * 1e9)); got > *limit {
				if got >= time.Millisecond {
					got = got.Round(time.Millisecond)
				}
				out = append(out, fmt.Sprintf("variant %s: %s p99 %v%s, above -%s %v", name, what, got, worstOf(m.Runs), flagName, *limit))
			}
		}
		worst("max-programming-p99", g.maxProgP99, "endpoint programming", m.EndpointP99)
		worst("max-dns-p99", g.maxDNSP99, "DNS programming", m.DNSP99)
		if g.maxPerChurn != nil && m.Runs > 0 && m.PerChurnEvent.Max > *g.maxPerChurn {
			out = append(out, fmt.Sprintf("variant %s: %.2f connections disrupted per churn event%s, above -max-disrupted-per-churn %g",
				name, m.PerChurnEvent.Max, worstOf(m.Runs), *g.maxPerChurn))
		}
	}
	return out
}

// worstOf says which run a per-run figure is from, when there are more.
func worstOf(runs int) string {
	if runs > 1 {
		return fmt.Sprintf(" (the worst of %d runs)", runs)
	}
	return ""
}

// percent formats a share as a percentage with the digits it needs.
func percent(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) + "%" }

// resultWarnings warns of every flow that failed every one of its
// connections in a run: the Service had no endpoints, a name that
// matches no port, a policy that drops all: rarely what a scenario
// means. One line per variant and flow, however many runs.
func resultWarnings(r *report) []string {
	var out []string
	for _, vr := range r.Variants {
		for i, f := range vr.Summary.Flows {
			if f.AllFailed == nil {
				continue
			}
			var runs []uint64
			for _, row := range vr.PerSeed {
				if slices.Contains(row.AllFailedFlows, i) {
					runs = append(runs, row.Seed)
				}
			}
			if len(runs) == 0 {
				continue
			}
			seeds := fmt.Sprintf("seed %d", runs[0])
			if len(runs) > 1 {
				seeds = fmt.Sprintf("%d of %d runs (seeds %s)", len(runs), len(vr.PerSeed), strings.Join(firstN(uintStrings(runs), 5), ", "))
			}
			out = append(out, fmt.Sprintf("variant %q: flow %q to %s: every connection failed in %s: %s",
				vr.Variant.Name, f.Name, f.Service, seeds, failedKinds(*f.AllFailed)))
		}
	}
	return out
}

func uintStrings(vs []uint64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatUint(v, 10)
	}
	return out
}

// failedKinds lists the failed outcomes that occurred: "277 rejected".
func failedKinds(o sim.Outcomes) string {
	var parts []string
	for _, k := range outcomeKinds {
		if n := k.get(o); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k.name))
		}
	}
	return strings.Join(parts, ", ")
}

// apply checks a written report: the results' warnings, then the
// thresholds. It prints a line for each and returns errGate when a
// threshold is exceeded, or with -strict a warning made.
func (g *gates) apply(w io.Writer, r *report) error {
	err := warn(w, g.strict, resultWarnings(r))
	over := g.check(r)
	for _, l := range over {
		fmt.Fprintln(w, "svcsim: threshold exceeded:", l)
	}
	if len(over) > 0 {
		return fmt.Errorf("%w: %d of the variants' figures are over their thresholds", errGate, len(over))
	}
	return err
}

// warn prints warnings on w; with strict, they are errors: it returns
// errGate then.
func warn(w io.Writer, strict bool, lines []string) error {
	for _, l := range lines {
		if strict {
			fmt.Fprintln(w, "svcsim: error (-strict):", l)
		} else {
			fmt.Fprintln(w, "svcsim: warning:", l)
		}
	}
	if strict && len(lines) > 0 {
		return fmt.Errorf("%w: %d warnings, errors with -strict", errGate, len(lines))
	}
	return nil
}
