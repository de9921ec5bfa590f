package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/netns"
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
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "prestop-5s: connections per second, predicted (solid) and measured (dashed)")
}
