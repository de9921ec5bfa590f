package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/netns"
	"github.com/svcnet/svcnet/sim"
	"github.com/svcnet/svcnet/testbed"
)

const realScenario = "../../examples/scenarios/rolling-update-real.yaml"

// TestRealUsage: -real's flag errors and a scenario beyond the
// testbed's bound are bad input (exit 2), found before anything runs.
func TestRealUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-timescale", "0.5", realScenario}, "-timescale goes with -real"},
		{[]string{"run", "-real", "-seeds", "2", realScenario}, "-seeds does not go with -real"},
		{[]string{"run", "-real", "-timescale", "0", realScenario}, "-timescale 0: want a value in (0, 10]"},
		{[]string{"run", "-real", "../../examples/scenarios/kubernetes-scale.yaml"}, "testbed:"},
	} {
		code, _, stderr := svcsim(t, nil, tc.args...)
		require.Equal(t, exitUsage, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

// TestReal runs the reduced rolling update's preStop variant for 20
// simulated seconds at half speed on the real kernel (root only) and
// checks that svcsim prints and writes the prediction beside the
// measurement.
func TestReal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the testbed needs Linux")
	}
	netns.New(t, "nft", "sysctl") // skips without root (fails under SVCNET_REQUIRE_NETNS=1)
	out := t.TempDir()
	code, stdout, stderr := svcsim(t, nil, "run", "-real", "-timescale", "0.5", "-duration", "20s", "-variants", "prestop-5s", "-out", out, realScenario)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "prestop-5s  predicted")
	require.Contains(t, stdout, "measured")
	b, err := os.ReadFile(filepath.Join(out, "real.json"))
	require.NoError(t, err)
	var runs []realRun
	require.NoError(t, json.Unmarshal(b, &runs))
	require.Len(t, runs, 1)
	require.Equal(t, "prestop-5s", runs[0].Variant)
	require.Positive(t, runs[0].Measured.Connections.Total)
	require.Positive(t, runs[0].Predicted.Connections.Total)
	require.Equal(t, testbed.Band{Seeds: testbed.BandSeeds}, runs[0].Band, "with preStop no seed fails")
	require.Contains(t, stdout, "prestop-5s: failed share measured 0.00 %; the simulator's 5-95 % band over seeds 1-20 is 0.00-0.00 %")
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "prestop-5s: connections per second, predicted (solid) and measured (dashed)")
}

// TestRealBand: svcsim run -real prints each variant's measured failed
// share beside the simulator's band over seeds, and says whether it is
// within the band doubled about its middle (testbed.Band.Limits).
func TestRealBand(t *testing.T) {
	band := testbed.BandOf([]float64{0.04, 0.05, 0.06})
	in := realRun{Variant: "in", Band: band, Predicted: sim.Result{Seed: 3},
		Measured: sim.Result{Connections: sim.Outcomes{Total: 100, Served: 94, Refused: 6}}}
	out := in
	out.Variant = "out"
	out.Measured.Connections = sim.Outcomes{Total: 100, Served: 90, Refused: 10}
	var stdout, stderr strings.Builder
	printReal(cli{stdout: &stdout, stderr: &stderr}, sim.Scenario{Seed: 3}, 0.5, []realRun{in, out})
	lo, hi := band.Limits(0)
	require.InDelta(t, 0.032, lo, 1e-9) // R-7 over 3: 0.041 and 0.059, half-width 0.009
	require.InDelta(t, 0.068, hi, 1e-9)
	require.Contains(t, stdout.String(), "in: failed share measured 6.00 %; the simulator's 5-95 % band over seeds 3-5 is 4.10-5.90 % (median 5.00 %), doubled about its middle 3.20-6.80 %: within them\n")
	require.Contains(t, stdout.String(), "out: failed share measured 10.00 %; ")
	require.Contains(t, stdout.String(), "6.80 %: outside them\n")
}
