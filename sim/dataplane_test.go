package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// TestRunDataPlane: a DataPlane sees the world at time 0 (every node,
// flow, running pod and node table), then pods start before their
// application comes up, applications go down before their pod is gone,
// syncs name a node's new generation, all in time order; and the Result
// is byte for byte Run's.
func TestRunDataPlane(t *testing.T) {
	s := small(3)
	s.Timeline = []TimelineEvent{{At: Duration(20 * time.Second), Action: ActionRollout, Target: "svc-0"}}
	want, err := Run(s)
	require.NoError(t, err)
	var evs []DataPlaneEvent
	got, err := RunWithOptions(s, RunOptions{DataPlane: func(e DataPlaneEvent) { evs = append(evs, e) }})
	require.NoError(t, err)
	require.Equal(t, string(mustJSON(t, want)), string(mustJSON(t, got)))

	nodes := map[string]uint64{}
	started := map[service.NamespacedName]bool{}
	up := map[service.NamespacedName]bool{}
	client := map[service.NamespacedName]bool{}
	counts := map[string]int{}
	var last time.Duration
	for i, e := range evs {
		require.GreaterOrEqual(t, e.At, last, "event %d %s goes back in time", i, e.Kind)
		last = e.At
		counts[e.Kind]++
		switch e.Kind {
		case DataPlaneNode:
			require.Zero(t, e.At)
			require.True(t, e.NodeAddr.IsValid() && e.PodCIDR.IsValid(), "%+v", e)
			nodes[e.Node] = 0
		case DataPlaneFlow:
			require.Zero(t, e.At)
			require.True(t, e.Target.IsValid(), "%+v", e)
		case DataPlanePodStart:
			_, ok := nodes[e.Node]
			require.True(t, ok, "pod %s on unknown node %q", e.Pod, e.Node)
			require.True(t, e.PodAddr.IsValid())
			started[e.Pod] = true
			client[e.Pod] = e.Flow >= 0
		case DataPlaneAppUp:
			require.True(t, started[e.Pod], "%s up before it started", e.Pod)
			require.Equal(t, client[e.Pod], len(e.Ports) == 0, "%s: ports %v", e.Pod, e.Ports)
			up[e.Pod] = true
		case DataPlaneAppDown:
			require.True(t, up[e.Pod], "%s down while not up", e.Pod)
			up[e.Pod] = false
		case DataPlanePodGone:
			require.False(t, up[e.Pod], "%s gone while its app is up", e.Pod)
			delete(started, e.Pod)
		case DataPlaneSync:
			g, ok := nodes[e.Node]
			require.True(t, ok)
			require.NotNil(t, e.Table)
			require.Greater(t, e.Generation, g, "node %s synced back", e.Node)
			nodes[e.Node] = e.Generation
		}
	}
	require.Equal(t, s.Cluster.Nodes, counts[DataPlaneNode])
	require.Equal(t, len(s.Traffic), counts[DataPlaneFlow])
	require.Positive(t, counts[DataPlaneAppDown], "the rollout stopped no application")
	require.Positive(t, counts[DataPlaneChange])
	require.Contains(t, client, service.NamespacedName{Namespace: "default", Name: clientPodName(0, 0)})
	// Every node synced beyond time 0, to the newest generation the run
	// reached.
	require.Greater(t, counts[DataPlaneSync], s.Cluster.Nodes)
}
