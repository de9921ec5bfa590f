package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseShare(t *testing.T) {
	for in, want := range map[string]float64{"0.1%": 0.001, "0.001": 0.001, "0": 0, "100%": 1, " 5 % ": 0.05, "1": 1} {
		got, err := parseShare(in)
		require.NoError(t, err, in)
		require.InDelta(t, want, got, 1e-15, in)
	}
	for _, in := range []string{"", "%", "2", "101%", "-1%", "NaN", "a lot"} {
		_, err := parseShare(in)
		require.Error(t, err, in)
	}
}

// TestGates: thresholds a variant exceeds exit 4, naming the variant and
// the figure; thresholds it meets exit 0; the reports are written
// either way. small.yaml's random variant fails 66 of 1609 connections
// (4.1%) with a programming p99 of 1.28s.
func TestGates(t *testing.T) {
	for _, c := range []struct {
		name   string
		flags  []string
		code   int
		stderr []string
	}{
		{"met", []string{"-max-failed", "5%", "-max-programming-p99", "2s", "-max-dns-p99", "1s", "-max-disrupted-per-churn", "50"}, exitOK, nil},
		{"failed share", []string{"-max-failed", "0.1%"}, exitGate, []string{
			`threshold exceeded: variant "random": 66 of 1609 connections failed (4.102%), above -max-failed 0.1%`}},
		{"failed as a fraction", []string{"-max-failed", "0.04"}, exitGate, []string{`variant "random"`, "above -max-failed 4%"}},
		{"programming p99", []string{"-max-programming-p99", "1s"}, exitGate, []string{
			`variant "random": endpoint programming p99 1.28s, above -max-programming-p99 1s`,
			`variant "maglev": endpoint programming p99 1.28s, above -max-programming-p99 1s`}},
		{"dns p99", []string{"-max-dns-p99", "100ms"}, exitGate, []string{`variant "random": DNS programming p99 200ms, above -max-dns-p99 100ms`}},
		{"disruption", []string{"-max-disrupted-per-churn", "1"}, exitGate, []string{`variant "random": 22.00 connections disrupted per churn event`}},
		{"bad share", []string{"-max-failed", "7"}, exitUsage, []string{`"7": want a share of connections`}},
		{"bad duration", []string{"-max-programming-p99", "soon"}, exitUsage, []string{`want a duration`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"run", "-out", dir, "testdata/small.yaml"}, c.flags...)
			code, _, stderr := svcsim(t, nil, args...)
			require.Equal(t, c.code, code, stderr)
			for _, s := range c.stderr {
				require.Contains(t, stderr, s)
			}
			if c.code == exitOK {
				require.NotContains(t, stderr, "threshold")
			}
			if c.code == exitGate {
				require.FileExists(t, dir+"/result.json", "the reports are written")
			}
		})
	}
}

// TestGatesOnMerge: merge checks the merged sweep's thresholds.
func TestGatesOnMerge(t *testing.T) {
	shards := t.TempDir()
	for _, sh := range []string{"0/2", "1/2"} {
		code, _, stderr := svcsim(t, nil, "run", "-out", shards, "-shard", sh, "testdata/small.yaml")
		require.Equal(t, exitOK, code, stderr)
	}
	code, _, stderr := svcsim(t, nil, "merge", "-out", "", "-max-failed", "1%", shards)
	require.Equal(t, exitGate, code, stderr)
	require.Contains(t, stderr, `variant "random": 66 of 1609 connections failed`)
}

// TestWarnings: a named targetPort no pod has is warned of before the
// run, and the flow whose every connection failed after it; -strict
// makes the first a usage error (exit 2, nothing run), and a flow's
// total failure a failed check (exit 4).
func TestWarnings(t *testing.T) {
	code, stdout, stderr := svcsim(t, nil, "run", "-out", "", "testdata/named-port.yaml")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "baseline")
	require.Contains(t, stderr, `svcsim: warning: Service "default/web": spec.ports[0].targetPort: "http" matches no TCP container port`)
	require.Contains(t, stderr, `svcsim: warning: variant "baseline": flow "default/web" to default/web: every connection failed in seed 1: 392 rejected`)

	code, stdout, stderr = svcsim(t, nil, "run", "-out", "", "-strict", "testdata/named-port.yaml")
	require.Equal(t, exitUsage, code, stderr)
	require.Empty(t, stdout, "nothing ran")
	require.Contains(t, stderr, `svcsim: error (-strict): Service "default/web"`)

	// A Service that selects no pod: no warning before the run, the
	// flow's failure after it, exit 4 with -strict, the reports written.
	b, err := os.ReadFile("testdata/named-port.yaml")
	require.NoError(t, err)
	none := filepath.Join(t.TempDir(), "none.yaml")
	require.NoError(t, os.WriteFile(none, []byte(strings.Replace(string(b), "selector: {app: web}", "selector: {app: nobody}", 1)), 0o644))
	dir := t.TempDir()
	code, _, stderr = svcsim(t, nil, "run", "-out", dir, "-strict", none)
	require.Equal(t, exitGate, code, stderr)
	require.NotContains(t, stderr, "targetPort")
	require.Contains(t, stderr, `svcsim: error (-strict): variant "baseline": flow "default/web" to default/web: every connection failed in seed 1`)
	require.FileExists(t, filepath.Join(dir, "result.json"))

	// -strict and no warning: exit 0.
	code, _, stderr = svcsim(t, nil, "run", "-out", "", "-strict", "testdata/small.yaml")
	require.Equal(t, exitOK, code, stderr)
	require.NotContains(t, stderr, "warning")
}

func TestResultWarnings(t *testing.T) {
	r := report{Variants: []variantReport{{}}}
	r.Variants[0].Variant.Name = "v"
	for _, seed := range []uint64{1, 2, 3} {
		res := constructed(seed, 0)
		res.Flows[0].Connections.Served = 0
		res.Flows[0].Connections.Refused = res.Flows[0].Connections.Total
		if seed == 2 {
			res.Flows[0].Connections.Served = 1
		}
		r.Variants[0].Runs = append(r.Variants[0].Runs, res)
	}
	r.Variants[0] = folded(r.Variants[0])
	got := resultWarnings(&r)
	require.Len(t, got, 1)
	require.Contains(t, got[0], `variant "v": flow "`)
	require.Contains(t, got[0], "every connection failed in 2 of 3 runs (seeds 1, 3)")
	require.Contains(t, got[0], " refused")
}
