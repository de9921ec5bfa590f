package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// faulty is small with a rollout, a node killed for a while and a
// control-plane crash, so that every part of a Trace has something to
// record.
func faulty(seed uint64) Scenario {
	s := small(seed)
	s.Duration = Duration(4 * time.Minute)
	s.Checks = CheckSpec{Interval: D(10 * time.Second)}
	s.Timeline = []TimelineEvent{
		{At: Duration(30 * time.Second), Action: ActionRollout, Target: "svc-0"},
		{At: Duration(90 * time.Second), Action: ActionKillNode, Target: "node-1", For: D(90 * time.Second)},
		{At: Duration(200 * time.Second), Action: ActionCrashControlPlane, For: D(20 * time.Second)},
	}
	return s
}

// TestTraceAccounts checks a Trace against the Result it explains: every
// refused and reset connection is blamed on a pod, every connection on
// the zone and every failure on the node that routed it, every failure
// on its flow; the endpoints start at the Deployment's replicas, ready;
// nothing is stale before the first change; the node killed is down and
// NotReady when it should be, and the control-plane outage is where the
// timeline put it.
func TestTraceAccounts(t *testing.T) {
	r, err := Run(faulty(1))
	require.NoError(t, err)
	tr := r.Trace
	require.NotNil(t, tr)
	require.Positive(t, r.Connections.Refused+r.Connections.Reset, "the scenario fails connections")

	require.LessOrEqual(t, tr.Buckets, TraceBuckets)
	require.GreaterOrEqual(t, time.Duration(tr.Buckets)*tr.BucketWidth.D(), r.Duration.D(), "the buckets cover the run")
	require.Len(t, tr.Nodes.Rows, 6, "one row a node")

	var refused, reset int64
	for _, b := range append(tr.FailedPods, tr.OtherPods) {
		refused += b.Refused
		reset += b.Reset
	}
	require.Equal(t, r.Connections.Refused, refused, "every refusal is blamed on a pod or an address")
	require.Equal(t, r.Connections.Reset, reset, "every reset on a pod")

	var zones Outcomes
	for _, z := range tr.Zones {
		zones.Add(z.Connections)
	}
	require.Equal(t, r.Connections, zones, "every connection from a pod is routed by its node, in a zone")
	var zoneFailed int64
	for _, z := range tr.Zones {
		var n int64
		for _, c := range z.Failed {
			n += c.N
		}
		require.Equal(t, z.Connections.Failed(), n, "zone %s: its failures over time add up", z.Zone)
		zoneFailed += n
	}
	require.Equal(t, r.Connections.Failed(), zoneFailed)
	var nodes Outcomes
	for _, n := range append(tr.FailedNodes, tr.OtherNodes) {
		nodes.Add(n.Connections)
	}
	require.Equal(t, r.Connections.Failed(), nodes.Failed(), "every failure is blamed on a node")

	var flows int64
	for _, f := range tr.Flows {
		for _, c := range f.Failed {
			require.Positive(t, c.N)
			flows += c.N
		}
	}
	require.Equal(t, r.Connections.Failed(), flows)

	require.Equal(t, EndpointSample{Bucket: 0, Ready: 6, Serving: 6, New: 6}, tr.Endpoints[0], "steady state at 0")
	for i := 1; i < len(tr.Endpoints); i++ {
		a, b := tr.Endpoints[i-1], tr.Endpoints[i]
		require.Greater(t, b.Bucket, a.Bucket)
		a.Bucket = b.Bucket
		require.NotEqual(t, a, b, "a sample only where a count changed")
	}
	sawOld := false
	for _, e := range tr.Endpoints {
		require.LessOrEqual(t, e.Ready, e.Serving, "ready endpoints are serving")
		sawOld = sawOld || e.Old > 0
	}
	require.True(t, sawOld, "the rollout has old pods")

	bucketOf := func(d time.Duration) int { return int(d / tr.BucketWidth.D()) }
	stale, down := false, false
	for _, c := range tr.Nodes.Cells {
		require.True(t, c.StaleMillis > 0 || c.Syncs > 0 || c.Down > 0, "only cells with something to show")
		if c.Bucket < bucketOf(30*time.Second) {
			require.Zero(t, c.StaleMillis, "in sync before the rollout: %+v", c)
		}
		stale = stale || c.StaleMillis > 0
		if c.Down > 0 {
			require.Equal(t, 1, c.Row, "only node-1 goes down: %+v", c)
			require.GreaterOrEqual(t, c.Bucket, bucketOf(90*time.Second))
			require.LessOrEqual(t, c.Bucket, bucketOf(180*time.Second))
			down = true
		}
	}
	require.True(t, stale, "the rollout's changes take time to reach the nodes")
	require.True(t, down)

	require.Len(t, tr.NotReady, 1)
	nr := tr.NotReady[0]
	require.Equal(t, "node-1", nr.Node)
	require.Equal(t, 1, nr.Row)
	require.Equal(t, Duration(90*time.Second+40*time.Second), nr.From, "NotReady after the node-monitor grace period")
	require.Equal(t, Duration(180*time.Second), nr.To, "Ready again as soon as it is back")
	require.Equal(t, []Interval{{From: Duration(200 * time.Second), To: Duration(220 * time.Second)}}, tr.ControlPlaneDown)
}

// TestTraceDeterministic: the same scenario gives the same Trace, and
// recording it does not change the run (the same events).
func TestTraceDeterministic(t *testing.T) {
	a, err := Run(faulty(2))
	require.NoError(t, err)
	b, err := Run(faulty(2))
	require.NoError(t, err)
	require.Equal(t, mustJSON(t, a.Trace), mustJSON(t, b.Trace))
	require.Equal(t, a.Events, b.Events)
}

// TestTraceBounded: a run of more nodes than TraceRows and more buckets
// than TraceBuckets keeps its Trace within both: nodes in contiguous
// groups covering every node once, buckets widened by a whole factor.
func TestTraceBounded(t *testing.T) {
	s := Scenario{
		Seed: 1, Duration: Duration(3 * time.Hour),
		Cluster:  ClusterSpec{Nodes: 101},
		Workload: WorkloadSpec{Services: 1, Replicas: 3},
		Traffic:  []TrafficSpec{{Service: "svc-0", Rate: 0.05}},
		Timeline: []TimelineEvent{{At: Duration(time.Hour), Action: ActionRollout, Target: "svc-0"}},
	}
	r, err := Run(s)
	require.NoError(t, err)
	tr := r.Trace
	require.Equal(t, TraceBuckets, tr.Buckets)
	require.Equal(t, 90*time.Second, tr.BucketWidth.D(), "1 s buckets, 90 to a trace bucket")
	require.Len(t, tr.Nodes.Rows, TraceRows)
	total := 0
	for i, row := range tr.Nodes.Rows {
		require.Positive(t, row.Nodes)
		require.Equal(t, nodeName(total), row.First, "row %d starts after the last", i)
		total += row.Nodes
		require.Equal(t, nodeName(total-1), row.Last)
	}
	require.Equal(t, 101, total)
	for _, c := range tr.Nodes.Cells {
		require.Less(t, c.Row, TraceRows)
		require.Less(t, c.Bucket, TraceBuckets)
	}
	require.LessOrEqual(t, len(tr.FailedPods), TraceTop)
	require.LessOrEqual(t, len(tr.FailedNodes), TraceTop)
	b, err := json.Marshal(tr)
	require.NoError(t, err)
	require.Less(t, len(b), 64<<10, "a trace of a quiet run is small")
}
