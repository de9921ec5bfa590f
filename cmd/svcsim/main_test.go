package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/default.golden.json")

// svcsim runs the command in-process and returns its exit code, stdout
// and stderr.
func svcsim(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }, now: time.Now}
	code := c.main(args)
	return code, out.String(), errb.String()
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var r report
	require.NoError(t, json.Unmarshal(b, &r))
	return r
}

// TestDefaultGolden runs the built-in scenario, as `go run ./cmd/svcsim`
// does, and compares its result.json with the golden file byte for byte:
// the simulation, the aggregation and the JSON are all reproducible.
// Regenerate with go test ./cmd/svcsim -run Golden -update.
func TestDefaultGolden(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := svcsim(t, nil, "-out", dir, "-parallel", "2")
	require.Equal(t, exitOK, code, stderr)
	got, err := os.ReadFile(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	golden := filepath.Join("testdata", "default.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	if d := firstDiff(string(want), string(got)); d != "" {
		t.Fatalf("result.json differs from %s; if the simulator changed on purpose, regenerate it with\n\tgo test ./cmd/svcsim -run Golden -update\n%s", golden, d)
	}

	// The summary names every variant; the headline: a preStop sleep
	// removes (nearly) every failed connection of the rolling update.
	r := readReport(t, filepath.Join(dir, "result.json"))
	require.Len(t, r.Variants, 8)
	for _, vr := range r.Variants {
		require.Contains(t, stdout, vr.Variant.Name)
		require.Len(t, vr.PerSeed, 1)
		require.Empty(t, vr.Runs, "whole Results only with -runs")
		require.Zero(t, vr.Summary.Violations)
	}
	for i := range 4 {
		without, with := r.Variants[i].Summary.Connections, r.Variants[i+4].Summary.Connections
		require.Equal(t, r.Variants[i].Variant.Algorithm, r.Variants[i+4].Variant.Algorithm)
		require.Greater(t, without.Failed(), int64(300), r.Variants[i].Variant.Name)
		require.LessOrEqual(t, with.Failed()*100, without.Failed(), "%s: preStop keeps failures under 1%% of those without", r.Variants[i+4].Variant.Name)
	}
	checkHTML(t, filepath.Join(dir, "report.html"), r)
}

// firstDiff describes where two texts first differ, line by line, and
// how many lines differ; "" when they are equal.
func firstDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	first, n := -1, 0
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d lines differ (of %d golden, %d got); the first at line %d:\n", n, len(w), len(g), first+1)
	for i := max(0, first-3); i < min(first+4, max(len(w), len(g))); i++ {
		switch {
		case i < len(w) && i < len(g) && w[i] == g[i]:
			fmt.Fprintf(&out, " %5d %s\n", i+1, w[i])
		default:
			if i < len(w) {
				fmt.Fprintf(&out, "-%5d %s\n", i+1, w[i])
			}
			if i < len(g) {
				fmt.Fprintf(&out, "+%5d %s\n", i+1, g[i])
			}
		}
	}
	return out.String()
}

// checkHTML parses report.html's SVG plots with encoding/xml: each is
// well-formed and has its title, axes and lines.
func checkHTML(t *testing.T, path string, r report) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(b)
	require.True(t, strings.HasPrefix(html, "<!DOCTYPE html>"))
	require.NotContains(t, html, "<script", "self-contained and static")
	require.NotRegexp(t, regexp.MustCompile(`(src|href)="(https?:)?//`), html, "no external resource")
	require.Contains(t, html, "<h2>Flows</h2>")
	svgs := splitSVGs(html)
	checkReportHTML(t, html, r)
	var titles []string
	for i, s := range svgs {
		texts, paths := parseSVG(t, s)
		require.NotEmpty(t, texts, "svg %d has text", i)
		require.Greater(t, paths, 3, "svg %d draws axes and data", i)
		titles = append(titles, texts...)
	}
	joined := strings.Join(titles, "\n")
	for _, want := range []string{"Failed connections over time", "Per-backend load", "Endpoint programming latency",
		"DNS programming latency", "Backend imbalance", "Disruption", "simulated time (s)"} {
		require.Contains(t, joined, want)
	}
	for _, e := range r.Scenario.Timeline {
		require.Contains(t, joined, e.Action+" "+e.Target, "the timeline is marked")
	}
	for _, vr := range r.Variants {
		require.Contains(t, joined, vr.Variant.Name, "legends and bars name the variants")
	}
}

// splitSVGs returns the <svg> elements of an HTML page.
func splitSVGs(html string) []string {
	return regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(html, -1)
}

// allTexts returns the texts of every SVG of an HTML page.
func allTexts(t *testing.T, html string) []string {
	var out []string
	for _, s := range splitSVGs(html) {
		texts, _ := parseSVG(t, s)
		out = append(out, texts...)
	}
	return out
}

// parseSVG decodes an SVG document strictly (strictSVG) and returns its
// texts and the number of shapes (paths, rects, lines, circles) it draws.
func parseSVG(t *testing.T, s string) (texts []string, paths int) {
	t.Helper()
	d := strictSVG(t, s)
	return d.texts, d.shapes
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"help"}, exitOK, ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"run", "-frob", "testdata/small.yaml"}, exitUsage, "flag provided but not defined"},
		{"no file", []string{"run"}, exitUsage, "run needs a scenario file"},
		{"missing file", []string{"run", "testdata/nope.yaml"}, exitUsage, "nope.yaml"},
		{"invalid object", []string{"run", "-out", dir, "testdata/bad-replicas.yaml"}, exitUsage,
			`testdata/bad-replicas.yaml: document 2 (line 6): Deployment "default/web": spec.replicas: invalid value -2`},
		{"bad duration", []string{"-duration", "soon"}, exitUsage, `-duration "soon"`},
		{"bad shard", []string{"run", "-shard", "3/3", "testdata/small.yaml"}, exitUsage, "-shard"},
		{"shard index from env missing", []string{"run", "-shard", "/3", "testdata/small.yaml"}, exitUsage, "JOB_COMPLETION_INDEX"},
		{"unknown variant", []string{"-variants", "best"}, exitUsage, `no variant "best"`},
		{"baseline of a scenario without variants", []string{"run", "-out", "", "-variants", "baseline", "testdata/scenario-only.yaml", "testdata/app.yaml"}, exitOK, ""},
		{"unknown variant of a scenario without variants", []string{"run", "-variants", "x", "testdata/scenario-only.yaml", "testdata/app.yaml"}, exitUsage, "(the scenario has: baseline)"},
		{"violation", []string{"run", "-out", dir, "testdata/violation.yaml"}, exitViolation, "an invariant was violated"},
		{"unwritable output", []string{"run", "-out", "testdata/small.yaml/x", "testdata/small.yaml"}, exitUsage, `-out "testdata/small.yaml/x"`},
		{"overflowing duration", []string{"-duration", "3000000h"}, exitUsage, "too long"},
		{"too many seeds", []string{"run", "-seeds", "1000000", "testdata/small.yaml"}, exitUsage, "-seeds 1000000: want 1 to 10000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := svcsim(t, nil, c.args...)
			require.Equal(t, c.code, code, stderr)
			require.Contains(t, stderr, c.stderr)
		})
	}
}

// TestViolationReported: the run stops at the violation and the reports
// say how to replay it.
func TestViolationReported(t *testing.T) {
	dir := t.TempDir()
	code, stdout, _ := svcsim(t, nil, "run", "-out", dir, "testdata/violation.yaml")
	require.Equal(t, exitViolation, code)
	require.Contains(t, stdout, "VIOLATION in baseline, seed 9")
	r := readReport(t, filepath.Join(dir, "result.json"))
	v := r.Variants[0].PerSeed[0].Violation
	require.NotNil(t, v)
	require.Equal(t, sim.InvNodeConvergence, v.Invariant)
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(html), "Invariant violated")
}

// TestManifestFiles: the Scenario document in one file, the manifests
// the user already has in another.
func TestManifestFiles(t *testing.T) {
	code, stdout, stderr := svcsim(t, nil, "run", "-out", "", "testdata/scenario-only.yaml", "testdata/app.yaml")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "scenario split")
	require.Contains(t, stdout, "baseline")
}

// TestSeedsDeterministic: a sweep of seeds gives the same bytes whatever
// the number of workers, and runs each seed once per variant, in order.
func TestSeedsDeterministic(t *testing.T) {
	one, four := t.TempDir(), t.TempDir()
	args := []string{"-seeds", "3", "-duration", "20s", "testdata/small.yaml"}
	code, _, stderr := svcsim(t, nil, append([]string{"run", "-parallel", "1", "-out", one}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = svcsim(t, nil, append([]string{"run", "-parallel", "4", "-out", four}, args...)...)
	require.Equal(t, exitOK, code, stderr)
	a, err := os.ReadFile(filepath.Join(one, "result.json"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(four, "result.json"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	r := readReport(t, filepath.Join(one, "result.json"))
	require.Equal(t, seedRange{First: 10, Count: 3}, r.Seeds)
	for _, vr := range r.Variants {
		require.Len(t, vr.PerSeed, 3)
		for k, run := range vr.PerSeed {
			require.Equal(t, uint64(10+k), run.Seed)
		}
		require.Equal(t, 3, vr.Summary.Runs)
		require.LessOrEqual(t, vr.Summary.Failed.Min, vr.Summary.Failed.Mean)
		require.LessOrEqual(t, vr.Summary.Failed.Mean, vr.Summary.Failed.Max)
	}
}

// TestShardMerge: three shards, one of them indexed from
// $JOB_COMPLETION_INDEX as in a Kubernetes Indexed Job, merge into the
// same result.json as the unsharded sweep.
func TestShardMerge(t *testing.T) {
	whole, shards, merged := t.TempDir(), t.TempDir(), t.TempDir()
	sweep := []string{"-seeds", "2", "-duration", "20s", "testdata/small.yaml"}
	code, _, stderr := svcsim(t, nil, append([]string{"run", "-out", whole}, sweep...)...)
	require.Equal(t, exitOK, code, stderr)
	for i, shardFlag := range []string{"0/3", "/3", "2/3"} {
		env := map[string]string{"JOB_COMPLETION_INDEX": "1"}
		code, stdout, stderr := svcsim(t, env, append([]string{"run", "-out", shards, "-shard", shardFlag}, sweep...)...)
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, stdout, "shard "+[]string{"0/3", "1/3", "2/3"}[i])
	}
	files, err := filepath.Glob(filepath.Join(shards, "*"))
	require.NoError(t, err)
	require.Equal(t, []string{"shard-0000-of-0003.json", "shard-0001-of-0003.json", "shard-0002-of-0003.json"},
		[]string{filepath.Base(files[0]), filepath.Base(files[1]), filepath.Base(files[2])})
	require.Len(t, files, 3)

	code, _, stderr = svcsim(t, nil, "merge", "-out", merged, shards)
	require.Equal(t, exitOK, code, stderr)
	a, err := os.ReadFile(filepath.Join(whole, "result.json"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(merged, "result.json"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	a, err = os.ReadFile(filepath.Join(whole, "report.html"))
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(merged, "report.html"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	cl2, err := filepath.Glob(filepath.Join(whole, cl2NetProg+"_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, cl2)
	for _, f := range cl2 {
		a, err := os.ReadFile(f)
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(merged, filepath.Base(f)))
		require.NoError(t, err)
		require.Equal(t, string(a), string(b), "the CL2 files read the aggregate: the worst run over every shard")
	}

	// merge -metrics needs every run's Result: shards written with -runs,
	// whose merge is the unsharded sweep's -metrics.
	code, _, stderr = svcsim(t, nil, "merge", "-out", "", "-metrics", filepath.Join(merged, "m.txt"), shards)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "write them with svcsim run -runs")
	wholeMetrics, runsShards := filepath.Join(whole, "m.txt"), t.TempDir()
	code, _, stderr = svcsim(t, nil, append([]string{"run", "-out", "", "-metrics", wholeMetrics}, sweep...)...)
	require.Equal(t, exitOK, code, stderr)
	for _, shardFlag := range []string{"0/3", "1/3", "2/3"} {
		code, _, stderr := svcsim(t, nil, append([]string{"run", "-out", runsShards, "-runs", "-shard", shardFlag}, sweep...)...)
		require.Equal(t, exitOK, code, stderr)
	}
	code, _, stderr = svcsim(t, nil, "merge", "-out", "", "-metrics", filepath.Join(merged, "m.txt"), runsShards)
	require.Equal(t, exitOK, code, stderr)
	a, err = os.ReadFile(wholeMetrics)
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(merged, "m.txt"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	// A missing shard is an error, unless -partial.
	code, _, stderr = svcsim(t, nil, "merge", "-out", "", files[0], files[2])
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "1 of the sweep's runs are missing: random seed 11")
	code, stdout, stderr := svcsim(t, nil, "merge", "-out", "", "-partial", files[0], files[2])
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "random")

	// Shards of another sweep do not mix.
	other := t.TempDir()
	code, _, stderr = svcsim(t, nil, "run", "-out", other, "-shard", "1/3", "-seeds", "2", "-duration", "21s", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = svcsim(t, nil, "merge", "-out", "", files[0], files[2], filepath.Join(other, "shard-0001-of-0003.json"))
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "another sweep")
}

func TestParseShard(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	s, err := parseShard("2/5", env(""))
	require.NoError(t, err)
	require.Equal(t, shard{2, 5}, s)
	s, err = parseShard("/5", env("4"))
	require.NoError(t, err)
	require.Equal(t, shard{4, 5}, s)
	for _, bad := range []string{"5/5", "-1/5", "1", "a/b", "1/0", "/5"} {
		_, err := parseShard(bad, env(""))
		require.Error(t, err, bad)
	}
	_, err = parseShard("/5", env("7"))
	require.Error(t, err, "the index must be below the count")
}

func TestJobsShardsPartitionTheSweep(t *testing.T) {
	s, err := sim.DecodeScenario(defaultScenario)
	require.NoError(t, err)
	seeds := seedRange{First: 5, Count: 3}
	all := jobs(s, seeds, nil)
	require.Len(t, all, 8*3)
	seen := map[int]bool{}
	for i := range 5 {
		for _, j := range jobs(s, seeds, &shard{i, 5}) {
			require.False(t, seen[j.index])
			seen[j.index] = true
			require.Equal(t, all[j.index].seed, j.seed)
			require.Equal(t, all[j.index].variant, j.variant)
		}
	}
	require.Len(t, seen, len(all))
	require.Equal(t, uint64(7), all[2].seed)
	require.Equal(t, 1, all[3].variant)
}

// TestProgress draws the bar on a fake terminal with a fake clock.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progress{w: &b, now: func() time.Time { return clock }, start: clock, runs: 4, total: 4 * time.Minute}
	// Two runs under way: the bar advances within them.
	clock = clock.Add(time.Second)
	p.update(0, sim.Progress{Now: 20 * time.Second, Duration: time.Minute, Events: 30_000})
	p.update(1, sim.Progress{Now: 10 * time.Second, Duration: time.Minute, Events: 10_000})
	require.Contains(t, b.String(), "0/4 runs")
	require.Contains(t, b.String(), "sim 20s/4m0s", "redrawn at most ten times a second")
	b.Reset()
	clock = clock.Add(time.Second)
	p.update(0, sim.Progress{Now: 40 * time.Second, Duration: time.Minute, Events: 60_000})
	require.Contains(t, b.String(), "sim 50s/4m0s", "both runs count")
	require.Contains(t, b.String(), "35.0k ev/s")
	b.Reset()
	clock = clock.Add(time.Second)
	p.add(0, sim.Result{Events: 90_000}, time.Minute)
	require.Contains(t, b.String(), "1/4 runs")
	require.Contains(t, b.String(), "sim 1m10s/4m0s", "the finished run and the one under way")
	require.Contains(t, b.String(), "33.3k ev/s")
	require.Contains(t, b.String(), "ETA 7s")
	b.Reset()
	clock = clock.Add(10 * time.Millisecond)
	p.add(1, sim.Result{Events: 1}, time.Minute)
	require.Empty(t, b.String(), "at most ten redraws a second")
	p.finish()
	require.Equal(t, "\r\x1b[K", b.String())
	var nilBar *progress
	nilBar.update(0, sim.Progress{}) // a nil bar draws nothing
	nilBar.add(0, sim.Result{}, time.Second)
	nilBar.finish()
	require.Nil(t, newProgress(&b, nil, time.Now), "not a terminal")
}

func TestScenarioCommand(t *testing.T) {
	code, stdout, _ := svcsim(t, nil, "scenario")
	require.Equal(t, exitOK, code)
	require.Equal(t, string(defaultScenario), stdout)
	s, err := sim.DecodeScenario([]byte(stdout))
	require.NoError(t, err)
	require.Len(t, s.Variants, 8)
}

// TestRunJobsProgress: the runs report their progress as they go, in
// simulated time going forward, and give the same results, byte for
// byte, as without.
func TestRunJobsProgress(t *testing.T) {
	s, err := sim.DecodeScenario(defaultScenario)
	require.NoError(t, err)
	s.Duration = sim.Duration(30 * time.Second)
	js := jobs(s, seedRange{First: 1, Count: 2}, &shard{Index: 0, Count: 4})
	var mu sync.Mutex
	seen := map[int][]sim.Progress{}
	// runJobs hands each Result to done and keeps none.
	results := func(m map[int]sim.Result) func(outcome) {
		return func(o outcome) {
			mu.Lock()
			defer mu.Unlock()
			m[o.job.index] = o.res
		}
	}
	withRes, withoutRes := map[int]sim.Result{}, map[int]sim.Result{}
	with := runJobs(js, 2, nil, func(j job, p sim.Progress) {
		mu.Lock()
		defer mu.Unlock()
		seen[j.index] = append(seen[j.index], p)
	}, results(withRes))
	runJobs(js, 2, nil, nil, results(withoutRes))
	require.Len(t, seen, len(js))
	for i, j := range js {
		require.NoError(t, with[i].err)
		a, _ := canonicalJSON(withRes[j.index])
		b, _ := canonicalJSON(withoutRes[j.index])
		require.Equal(t, string(b), string(a))
		ps := seen[j.index]
		require.Len(t, ps, 30, "every simulated second")
		for k := 1; k < len(ps); k++ {
			require.Greater(t, ps[k].Now, ps[k-1].Now)
		}
		require.Equal(t, withRes[j.index].Events, ps[len(ps)-1].Events)
	}
}

// TestInterrupted: an interrupt before the sweep starts runs nothing new,
// writes a partial result.json and exits 130; merge -partial takes it.
func TestInterrupted(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	close(stop)
	var out, errb bytes.Buffer
	c := cli{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: time.Now, stop: stop}
	code := c.main([]string{"run", "-q", "-seeds", "3", "-out", dir, "testdata/small.yaml"})
	require.Equal(t, exitInterrupted, code, errb.String())
	s, err := sim.ReadScenarioFiles("testdata/small.yaml")
	require.NoError(t, err)
	n := len(jobs(s, seedRange{Count: 3}, nil)) // 3 seeds of each variant
	require.Contains(t, errb.String(), fmt.Sprintf("%d of %d runs not run", n, n))
	r := readReport(t, filepath.Join(dir, "result.json"))
	require.NotNil(t, r.Partial)
	require.Equal(t, n, r.Partial.NotRun)
	for _, v := range r.Variants {
		require.Empty(t, v.PerSeed)
		require.Zero(t, v.Summary.Runs)
	}
}

// TestRunJobsStops: once stop is closed no job starts; the ones before
// it ran, and every other outcome says it was interrupted.
func TestRunJobsStops(t *testing.T) {
	s, err := sim.ReadScenarioFiles("testdata/small.yaml")
	require.NoError(t, err)
	js := jobs(s, seedRange{First: 1, Count: 4}, nil)
	stop := make(chan struct{})
	outs := runJobs(js, 1, stop, nil, func(o outcome) {
		if o.job.index == 1 {
			close(stop)
		}
	})
	require.Len(t, outs, len(js))
	ran := 0
	for i, o := range outs {
		if errors.Is(o.err, errInterrupted) {
			require.GreaterOrEqual(t, i, 2, "job %d interrupted before the stop", i)
			continue
		}
		require.NoError(t, o.err)
		ran++
	}
	require.GreaterOrEqual(t, ran, 2)
	require.Less(t, ran, len(js), "nothing was stopped")
}
