package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunDataPlaneNodeReady: a DataPlane is told when a node's Ready
// condition changes, at the times the node lifecycle controller's rule
// gives (a node silent for NodeMonitorGracePeriod turns NotReady, and
// Ready again when its kubelet is back: killNode and cutNode alike; a
// node deleted from the API is NotReady at once, and Ready when it is
// added back), and not for a node back within the grace period.
func TestRunDataPlaneNodeReady(t *testing.T) {
	s := small(4)
	s.Duration = Duration(60 * time.Second)
	s.Cluster.Delays.NodeMonitorGracePeriod = D(6 * time.Second)
	s.Timeline = []TimelineEvent{
		{At: Duration(10 * time.Second), Action: ActionKillNode, Target: "node-1", For: D(14 * time.Second)},
		{At: Duration(30 * time.Second), Action: ActionCutNode, Target: "node-2", For: D(10 * time.Second)},
		// Back before the grace period ends: never NotReady.
		{At: Duration(45 * time.Second), Action: ActionKillNode, Target: "node-3", For: D(4 * time.Second)},
		{At: Duration(50 * time.Second), Action: ActionDeleteNode, Target: "node-0"},
		{At: Duration(55 * time.Second), Action: ActionAddNode, Target: "node-0"},
	}
	type change struct {
		at    time.Duration
		node  string
		ready bool
	}
	var got []change
	_, err := RunWithOptions(s, RunOptions{DataPlane: func(e DataPlaneEvent) {
		if e.Kind == DataPlaneNodeReady {
			got = append(got, change{e.At, e.Node, e.Ready})
		}
	}})
	require.NoError(t, err)
	require.Equal(t, []change{
		{16 * time.Second, "node-1", false}, // killed at 10 s, silent for 6 s
		{24 * time.Second, "node-1", true},  // rebooted: its kubelet reports Ready
		{36 * time.Second, "node-2", false}, // cut off at 30 s
		{40 * time.Second, "node-2", true},  // reconnected
		{50 * time.Second, "node-0", false}, // deleted
		{55 * time.Second, "node-0", true},  // added back
	}, got)
}
