// Package scenarios holds svcsim's shipped scenarios (the YAML files
// here) and the test that runs each of them and checks its headline
// numbers against known answers.
package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// load decodes a shipped scenario.
func load(t *testing.T, name string) sim.Scenario {
	t.Helper()
	s, err := sim.ReadScenarioFiles(name)
	require.NoError(t, err)
	return s
}

// run runs a scenario (every variant, or the scenario itself) and
// requires that no invariant broke.
func run(t *testing.T, s sim.Scenario) []sim.Result {
	t.Helper()
	rs, err := sim.Compare(s)
	require.NoError(t, err)
	for _, r := range rs {
		require.Nil(t, r.Violation)
	}
	return rs
}

// failureWindow returns the first and last bucket in which connections
// that failed started, and how many failed.
func failureWindow(r sim.Result) (first, last time.Duration, failed int64) {
	first = -1
	for _, b := range r.Timeline {
		if f := b.Failed(); f > 0 {
			if first < 0 {
				first = b.At.D()
			}
			last = b.At.D()
			failed += f
		}
	}
	return first, last, failed
}

// TestEveryScenarioHasATest keeps the list below complete: a scenario
// added to the directory must say what it shows.
func TestEveryScenarioHasATest(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{
		"control-plane-crash.yaml", "kubernetes-scale.yaml", "node-failure.yaml", "rolling-update.yaml",
		"rolling-update-prestop.yaml", "scale-to-zero.yaml", "topology-aware.yaml", "zone-outage.yaml",
		"statefulset-rollout.yaml", "daemonset-rollout.yaml", "rolling-update-real.yaml", "gke-scale.yaml",
	}, files)
	for _, f := range files {
		s := load(t, f)
		require.NotEmpty(t, s.Metadata.Name, f)
		require.NotEmpty(t, s.Metadata.Description, f)
	}
}

// TestRollingUpdate: without a preStop sleep, a rolling update refuses
// and resets connections for as long as it replaces pods (each old pod
// exits before the nodes stop sending to it); with a 5 s sleep it loses
// none.
func TestRollingUpdate(t *testing.T) {
	t.Parallel()
	without := run(t, load(t, "rolling-update.yaml"))[0]
	with := run(t, load(t, "rolling-update-prestop.yaml"))[0]
	t.Logf("without preStop: %+v", without.Connections)
	t.Logf("with preStop:    %+v", with.Connections)

	require.Equal(t, int64(6), without.Cluster.PodsCreated, "one new pod per replica")
	require.Equal(t, int64(6), with.Cluster.PodsCreated)
	require.Greater(t, without.Connections.Refused, int64(50))
	require.Greater(t, without.Connections.Reset, int64(50))
	first, last, _ := failureWindow(without)
	require.GreaterOrEqual(t, first, 28*time.Second, "nothing fails before the rollout at 30s (connections last ~1s)")
	require.Less(t, last, 60*time.Second, "nor after the last old pod is gone")

	require.Zero(t, with.Connections.Failed(), "the preStop sleep outlasts the programming delay")
	require.InDelta(t, without.Connections.Total, with.Connections.Total, float64(without.Connections.Total)/50, "the same load")
}

// TestRollingUpdateReal: the reduced rolling update that svcsim run
// -real (package testbed) runs on a real kernel shows the same as the
// full one: failures without preStop, none with it, and its rollout is
// over by 30 s, so that the testbed's tests can cut it to 40 s.
func TestRollingUpdateReal(t *testing.T) {
	t.Parallel()
	rs := run(t, load(t, "rolling-update-real.yaml"))
	without, with := rs[0], rs[1]
	require.Equal(t, "no-prestop", without.Variant)
	require.Equal(t, int64(6), without.Cluster.PodsCreated)
	require.Greater(t, without.Connections.Refused, int64(50))
	require.Greater(t, without.Connections.Reset, int64(50))
	first, last, _ := failureWindow(without)
	require.GreaterOrEqual(t, first, 13*time.Second, "nothing fails before the rollout at 15s")
	require.Less(t, last, 30*time.Second, "the rollout is over by 30s")
	require.Zero(t, with.Connections.Failed())
}

// TestNodeFailure: a dead node's pods are sent connections (refused)
// until the node controller marks it NotReady, 40 s later; then nothing
// fails, and after the 300 s toleration its pods are replaced.
// TestStatefulSetRollout: the StatefulSet replaces web-3, web-2, web-1
// (partition 1 keeps web-0) and then adds web-4 and web-5: five pods in
// all, each after the one before was ready. The flow to web-0's stable
// DNS name reaches web-0 only, and never fails; the flow to the headless
// Service fails only from the rollout on (a client's cached address of
// a replaced pod).
func TestStatefulSetRollout(t *testing.T) {
	t.Parallel()
	s := load(t, "statefulset-rollout.yaml")
	var events bytes.Buffer
	r, err := sim.RunWithOptions(s, sim.RunOptions{Events: &events})
	require.NoError(t, err)
	require.Nil(t, r.Violation)
	require.Equal(t, int64(5), r.Cluster.PodsCreated)
	byName := map[string]sim.FlowResult{}
	for _, f := range r.Flows {
		byName[f.Name] = f
	}
	web0 := byName["web-0"]
	require.Greater(t, web0.Connections.Served, int64(1000))
	require.Zero(t, web0.Connections.Failed(), "web-0 is below the partition: never replaced")
	require.Equal(t, 1, web0.Backends, "the stable name reaches one pod")
	web := byName["web"]
	require.Equal(t, 9, web.Backends, "the headless Service's name reaches every pod object: the first 4, their 3 replacements, web-4 and web-5")
	// The order of replacement, from the event log: highest ordinal first.
	var order []string
	for line := range strings.Lines(events.String()) {
		var e sim.Event
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Kind == sim.EventPodDeleted {
			order = append(order, e.Pod)
		}
		if e.Kind == sim.EventConnectionFailed {
			require.GreaterOrEqual(t, e.At, 30.0, "nothing fails before the rollout")
		}
	}
	require.Equal(t, []string{"default/web-3", "default/web-2", "default/web-1"}, order)
}

// TestDaemonSetRollout: the DaemonSet runs on the five nodes that should
// run it (the cordoned one too, not the tainted one), replaces their
// pods one node at a time, loses node-3's pod with the node and makes
// one when it joins again: six pods created.
func TestDaemonSetRollout(t *testing.T) {
	t.Parallel()
	s := load(t, "daemonset-rollout.yaml")
	var events bytes.Buffer
	r, err := sim.RunWithOptions(s, sim.RunOptions{Events: &events})
	require.NoError(t, err)
	require.Nil(t, r.Violation)
	require.Equal(t, int64(6), r.Cluster.PodsCreated)
	nodes := map[string]int{}
	down, maxDown := map[string]bool{}, 0
	for line := range strings.Lines(events.String()) {
		var e sim.Event
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Kind != sim.EventPod || !strings.HasPrefix(e.Pod, "kube-system/agent-") {
			continue
		}
		require.NotEqual(t, "tainted", e.Node, "the taint is not tolerated")
		switch e.State {
		case "terminating":
			down[e.Node] = true
		case "ready":
			nodes[e.Node]++
			delete(down, e.Node)
		}
		maxDown = max(maxDown, len(down))
	}
	require.Equal(t, map[string]int{"cordoned": 1, "node-0": 1, "node-1": 1, "node-2": 1, "node-3": 2}, nodes,
		"one new pod per node, node-3 twice (the rollout, then joining again)")
	require.Equal(t, 1, maxDown, "maxUnavailable 1: one node at a time")
}

func TestNodeFailure(t *testing.T) {
	t.Parallel()
	r := run(t, load(t, "node-failure.yaml"))[0]
	first, last, failed := failureWindow(r)
	t.Logf("failed %d, from %v to %v: %+v", failed, first, last, r.Connections)
	require.Greater(t, r.Connections.Refused, int64(300))
	require.GreaterOrEqual(t, first, 55*time.Second, "open connections die with the node at 1m")
	require.GreaterOrEqual(t, last, 95*time.Second, "refused until the grace period ends")
	require.LessOrEqual(t, last, 102*time.Second, "and no longer: 1m + 40s + programming")
	require.Positive(t, r.Cluster.PodsCreated, "evicted pods are replaced")
	require.GreaterOrEqual(t, r.Cluster.PodsDeleted, r.Cluster.PodsCreated, "the node's client pods are evicted too, and not replaced")
}

// TestZoneOutage: a third of the connections fail for the 40 s it takes
// to mark the zone's nodes NotReady; then the other zones serve all.
func TestZoneOutage(t *testing.T) {
	t.Parallel()
	r := run(t, load(t, "zone-outage.yaml"))[0]
	first, last, failed := failureWindow(r)
	t.Logf("failed %d, from %v to %v: %+v", failed, first, last, r.Connections)
	require.Greater(t, r.Connections.Refused, int64(1000))
	require.GreaterOrEqual(t, first, 55*time.Second)
	require.LessOrEqual(t, last, 102*time.Second, "nothing fails once the zone's pods leave the slices")
	// In the 40 s window, with 100 connections a second, about a third
	// from the surviving zones go to the dead one.
	require.InDelta(t, 40*100*2.0/3/3*1.0, float64(r.Connections.Refused), 1000)
	require.Zero(t, r.Cluster.PodsCreated, "the zone is back before the eviction toleration")
}

// TestScaleToZero: while the Deployment has no pod every connection is
// rejected; the proxies first fall back to the terminating pods while
// they serve (KEP-1669), and connections come back once the new pods
// are ready.
func TestScaleToZero(t *testing.T) {
	t.Parallel()
	r := run(t, load(t, "scale-to-zero.yaml"))[0]
	first, last, _ := failureWindow(r)
	t.Logf("failed from %v to %v: %+v", first, last, r.Connections)
	require.GreaterOrEqual(t, first, time.Minute)
	require.LessOrEqual(t, last, 2*time.Minute+5*time.Second, "served again seconds after scaling up")
	var rejected int64
	for _, b := range r.Timeline {
		if b.Rejected > 0 {
			require.GreaterOrEqual(t, b.At.D(), time.Minute+3*time.Second, "not while the terminating pods still serve")
		}
		rejected += b.Rejected
	}
	// About 57 s with no endpoint at 50 connections a second.
	require.InDelta(t, 57*50, float64(rejected), 300)
	require.Equal(t, int64(4), r.Cluster.PodsCreated)
	require.Equal(t, int64(4), r.Cluster.PodsDeleted)
}

// TestControlPlaneCrash: a node that dies while the control plane is
// down is not marked NotReady until it is back: its pods are sent
// connections for the outage plus the grace period, not the grace
// period alone.
func TestControlPlaneCrash(t *testing.T) {
	t.Parallel()
	r := run(t, load(t, "control-plane-crash.yaml"))[0]
	first, last, failed := failureWindow(r)
	t.Logf("failed %d, from %v to %v: %+v", failed, first, last, r.Connections)
	require.GreaterOrEqual(t, first, 65*time.Second, "nothing fails before the node dies at 70s")
	require.GreaterOrEqual(t, last, 150*time.Second, "the node's pods are refused past the 40 s grace period")
	require.LessOrEqual(t, last, 165*time.Second, "until recovery at 2m plus the grace period")
	require.Greater(t, r.Connections.Refused, int64(1000))
}

// TestTopologyAware: PreferClose keeps the connections in their zone
// (all but those of the moments when a zone has no ready endpoint of its
// own: there the proxies fall back to every zone, as kube-proxy does),
// default routing sends two in three across; and when a zone fails,
// PreferClose clients in the other zones lose nothing.
func TestTopologyAware(t *testing.T) {
	t.Parallel()
	s := load(t, "topology-aware.yaml")
	both := run(t, s)[0]
	def, close := both.Flows[0], both.Flows[1]
	require.Equal(t, "default", def.Name)
	require.Equal(t, "prefer-close", close.Name)
	t.Logf("default: %+v", def.Connections)
	t.Logf("prefer-close: %+v", close.Connections)
	require.Greater(t, def.Connections.Refused, int64(400), "default routing sends to the dead zone")
	require.Zero(t, close.Connections.Refused, "PreferClose never does")

	// Cross-zone shares are per run: run each flow alone.
	for i, want := range []struct{ lo, hi float64 }{{0.55, 0.75}, {0, 0.001}} {
		one := s
		one.Traffic = []sim.TrafficSpec{s.Traffic[i]}
		r := run(t, one)[0]
		t.Logf("%s alone: cross-zone %+v", s.Traffic[i].Name, r.CrossZone)
		require.GreaterOrEqual(t, r.CrossZone.Share, want.lo, s.Traffic[i].Name)
		require.LessOrEqual(t, r.CrossZone.Share, want.hi, s.Traffic[i].Name)
	}
}

// TestKubernetesScale checks that the Kubernetes-scale file is
// sim.ScaleScenario and runs it shortened to a fiftieth of its nodes and
// Services or less, three minutes instead of an hour, churn scaled down
// with it; the full one is for `svcsim run` (and sim's TestScale). Every
// invariant holds, churned pods are replaced, and programming stays
// within the batch period plus a sync.
func TestKubernetesScale(t *testing.T) {
	t.Parallel()
	s := load(t, "kubernetes-scale.yaml")
	// The file is sim.ScaleScenario, written out.
	want := sim.ScaleScenario()
	got := s
	got.Metadata.Description = ""
	require.Equal(t, mustJSON(t, want), mustJSON(t, got))

	if testing.Short() || raceEnabled {
		s.Cluster.Nodes, s.Workload.Services, s.Workload.Replicas = 50, 100, 5
	} else {
		s.Cluster.Nodes, s.Workload.Services = 100, 200
	}
	s.Workload.Namespaces = 10
	s.Duration = sim.Duration(3 * time.Minute)
	s.Churn[0].Rate = 1
	s.Checks.Interval = sim.D(time.Minute)
	s.Metrics.BucketWidth = sim.Duration(10 * time.Second)
	for i := range s.Traffic {
		j := i * s.Workload.Services / len(s.Traffic)
		s.Traffic[i].Service = "default-" + strconv.Itoa(j%s.Workload.Namespaces) + "/svc-" + strconv.Itoa(j)
	}
	r := run(t, s)[0]
	t.Logf("%d events; cluster %+v; connections %+v; endpoint latency %+v", r.Events, r.Cluster, r.Connections, r.EndpointLatency)
	require.InDelta(t, 180, float64(r.Cluster.PodsDeleted), 60, "about one deletion a second")
	require.InDelta(t, float64(r.Cluster.PodsDeleted), float64(r.Cluster.PodsCreated), 5, "each replaced")
	require.Positive(t, r.EndpointLatency.Count)
	require.Less(t, r.EndpointLatency.Max.D(), 4*time.Second, "batch 1s + watch + min sync + jitter")
	require.Less(t, float64(r.Connections.Failed()), 0.02*float64(r.Connections.Total))
	require.Positive(t, r.Checks.Full)
	idx := slices.IndexFunc(r.Algorithms, func(a sim.AlgorithmResult) bool { return a.Algorithm == "random" })
	require.GreaterOrEqual(t, idx, 0)
}

// TestGKEScale: gke-scale.yaml is the cluster it says — 65 000 nodes in
// three zones, 20 000 Services of which 50 big (1 000 pods) and 10 of
// those headless, about 250 000 pods, 20 deletions a second, a node
// failure and two rolling updates. Package sim runs it reduced
// (TestGKEScaleReduced) and whole behind -sim.gke.
func TestGKEScale(t *testing.T) {
	s := load(t, "gke-scale.yaml")
	require.Equal(t, 65000, s.Cluster.Nodes)
	require.Len(t, s.Cluster.Zones, 3)
	require.Equal(t, 19950, s.Workload.Services)
	require.Len(t, s.Services, 50)
	pods, headless := s.Workload.Services*int(s.Workload.Replicas), 0
	for _, d := range s.Deployments {
		pods += int(*d.Spec.Replicas)
	}
	for _, svc := range s.Services {
		if svc.Spec.ClusterIP == "None" {
			headless++
		}
	}
	require.Equal(t, 10, headless)
	require.InDelta(t, 250000, pods, 1000)
	require.Equal(t, 20.0, s.Churn[0].Rate)
	var kills, rollouts int
	for _, e := range s.Timeline {
		switch e.Action {
		case sim.ActionKillNode:
			kills++
		case sim.ActionRollout:
			rollouts++
		}
	}
	require.Equal(t, 1, kills)
	require.Equal(t, 2, rollouts)
	require.Equal(t, time.Hour, s.Duration.D())
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestScenariosDecodeFromOneStream: each file is one self-contained
// stream; no file needs another.
func TestScenariosDecodeFromOneStream(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = sim.DecodeScenario(b)
		require.NoError(t, err, f)
	}
}
