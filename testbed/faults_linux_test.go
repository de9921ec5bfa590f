//go:build linux

package testbed

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/sim"
)

// cutNodeSeed is a seed of the reduced rolling update on which two of
// the three client pods run on node-1, the node cut off: so that much
// of the traffic goes through the frozen rules (on about half the seeds
// no client runs there, or the rollout stalls on a new pod bound to the
// cut node, whose kubelet never starts it, before an old pod is gone,
// and nothing fails).
const cutNodeSeed = 2

// TestCutNode: a node cut off from the control plane (cutNode) keeps
// forwarding with the rules it had. During the reduced rolling update
// with a 5 s preStop sleep, which fails nothing on a connected cluster
// (the simulator says so for the same seed without the cut, and
// TestRollingUpdate measures it), node-1 is cut off at 10 s, before the
// rollout at 15 s: its agent applies nothing more, so its clients'
// connections still go to the old pods after they are gone (the
// simulator refuses them; on the kernel their sandboxes are gone and the
// SYNs time out), and those open on an old pod at its SIGTERM are reset
// (the preStop sleep only helps a node whose rules dropped the pod).
// The measured failures agree with the prediction within 4σ of the
// Poisson noise on the difference (√(2F) for F predicted: about 28 % of
// 400); the stale window is the rest of the run, so the nft apply lag,
// a fraction of a second, does not count.
//
// The node's own pods keep serving (its kubelet does not see their
// deletion), and the other nodes fail nothing.
func TestCutNode(t *testing.T) {
	t.Parallel()
	prefix := needKernel(t)
	var pred, meas sim.Result
	var st Stats
	var s sim.Scenario
	for attempt := range 3 {
		var opts Options
		s, opts = reduced(t, 1, 0.5)
		s.Seed = cutNodeSeed
		s.Timeline = append(s.Timeline, sim.TimelineEvent{At: sim.Duration(10 * time.Second), Action: sim.ActionCutNode, Target: "node-1", For: sim.D(30 * time.Second)})
		opts.Prefix = fmt.Sprintf("%s%d-", prefix, attempt)
		opts.Log = t.Logf
		opts.Stats = &st
		var err error
		pred, meas, err = Compare(s, opts)
		require.NoError(t, err)
		require.Empty(t, leftovers(t, opts.Prefix), "namespaces left behind")
		t.Logf("predicted %+v; measured %+v (%+v)", pred.Connections, meas.Connections, st)
		if keptUp(st) {
			break
		}
		t.Logf("attempt %d: the testbed did not keep up with the simulated timeline (%+v)", attempt+1, st)
	}
	require.True(t, keptUp(st), "the machine was too loaded for the testbed to keep up in three runs: %+v", st)

	connected := s
	connected.Timeline = s.Timeline[:len(s.Timeline)-1]
	whole, err := sim.Run(connected)
	require.NoError(t, err)
	require.Zero(t, whole.Connections.Failed(), "without the cut the simulator predicts failures: %+v", whole.Connections)

	p, m := pred.Connections, meas.Connections
	require.Positive(t, p.Refused, "the simulator sends nothing to a pod that is gone through the cut node")
	require.Positive(t, p.Reset)
	require.Positive(t, m.Refused+m.Unreachable, "no connection went through node-1's frozen rules to a pod that is gone")
	require.Positive(t, m.Reset, "no connection open through node-1 was reset at its pod's SIGTERM")
	tol := 4 * math.Sqrt(2*float64(p.Failed()))
	t.Logf("failed: predicted %d of %d (refused %d, reset %d); measured %d of %d (refused %d, reset %d, unreachable or timed out %d); tolerance ±%.0f",
		p.Failed(), p.Total, p.Refused, p.Reset, m.Failed(), m.Total, m.Refused, m.Reset, m.Unreachable, tol)
	require.InDelta(t, float64(p.Failed()), float64(m.Failed()), tol, "measured %d failed, predicted %d", m.Failed(), p.Failed())
	require.InDelta(t, float64(p.Total), float64(m.Total), 5*math.Sqrt(float64(p.Total)))
}
