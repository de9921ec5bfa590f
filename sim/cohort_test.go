package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// tb is what both *testing.T and *rapid.T give.
type tb interface {
	require.TestingT
	Helper()
}

// modelRun is one run of a scenario in one model: its Result as JSON,
// its event log, the data plane's events as text, and the largest cohort
// of node syncs it ran as one engine event.
type modelRun struct {
	result, events, dataPlane []byte
	err                       string
	largest                   int
}

// runModel runs s node by node (byNode) or in cohorts, with a DataPlane
// watching (withDP; without one a run in cohorts is also lazy).
func runModel(t tb, s Scenario, byNode, withDP bool) modelRun {
	t.Helper()
	w, err := newWorldOpts(s, worldOptions{byNode: byNode})
	require.NoError(t, err)
	var ev, dp bytes.Buffer
	largest := 0
	opts := RunOptions{Events: &ev}
	if withDP {
		opts.DataPlane = func(e DataPlaneEvent) {
			// The Table is a pointer: its generation and size stand for it.
			fmt.Fprintf(&dp, "%s %s gen=%d frontends=%d flow=%d\n", e.Kind, e.Node, e.Generation, tableFrontends(e), e.Flow)
		}
	}
	r, err := w.run(opts)
	for _, c := range w.cohorts {
		largest = max(largest, cap(c.args))
	}
	m := modelRun{events: ev.Bytes(), dataPlane: dp.Bytes(), largest: largest}
	if err != nil {
		m.err = err.Error()
	}
	m.result, err = json.Marshal(r)
	require.NoError(t, err)
	return m
}

func tableFrontends(e DataPlaneEvent) int {
	if e.Table == nil {
		return -1
	}
	return e.Table.Frontends()
}

// requireSameRuns runs s both ways and requires the same bytes.
func requireSameRuns(t tb, s Scenario) modelRun {
	t.Helper()
	one, all, lazy := runModel(t, s, true, true), runModel(t, s, false, true), runModel(t, s, false, false)
	require.Equal(t, one.err, all.err)
	require.Equal(t, string(one.result), string(all.result), "result.json")
	require.Equal(t, string(one.events), string(all.events), "event log")
	require.Equal(t, string(one.dataPlane), string(all.dataPlane), "data plane events")
	require.Zero(t, one.largest, "node by node ran cohorts")
	require.Equal(t, one.err, lazy.err)
	require.Equal(t, string(one.result), string(lazy.result), "result.json, lazy")
	require.Equal(t, string(one.events), string(lazy.events), "event log, lazy")
	return lazy
}

// cohortScenario is a cluster whose nodes all have the same watch
// latency, so that their syncs form cohorts, with the faults that take
// nodes out of them: a crash, a cut-off, a zone outage, a node deleted
// and added again, the control plane crashing, and NodePort traffic
// under externalTrafficPolicy Local (whose answer depends on the entry
// node's own view).
func cohortScenario() Scenario {
	two := int32(2)
	labels := service.Labels{"app": "web"}
	return Scenario{
		Seed: 7, Duration: Duration(4 * time.Minute),
		Cluster: ClusterSpec{Nodes: 12, Zones: []string{"z0", "z1", "z2"},
			Delays: Delays{WatchJitter: D(0), EndpointSliceBatchPeriod: D(500 * time.Millisecond)}},
		Workload: WorkloadSpec{Services: 6, Replicas: 4},
		Services: []*service.Service{{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: service.ServiceSpec{Type: service.ServiceTypeNodePort, Selector: labels, ExternalTrafficPolicy: service.TrafficPolicyLocal,
				Ports: []service.ServicePort{{Port: 80, TargetPort: service.FromInt(8080)}}}}},
		Deployments: []*Deployment{{ObjectMeta: service.ObjectMeta{Name: "web"},
			Spec: DeploymentSpec{Replicas: &two, Selector: &service.LabelSelector{MatchLabels: labels},
				Template: PodTemplateSpec{ObjectMeta: service.ObjectMeta{Labels: labels},
					Spec: service.PodSpec{Containers: []service.Container{{Name: "web"}}}}}}},
		Churn: []ChurnSpec{{Action: ActionDeletePod, Rate: 0.5}},
		Traffic: []TrafficSpec{{Service: "web", From: FromExternal, Rate: 20},
			{Service: "svc-1", Rate: 20, Clients: 4}},
		Timeline: []TimelineEvent{
			{At: Duration(20 * time.Second), Action: ActionRollout, Target: "svc-0"},
			{At: Duration(30 * time.Second), Action: ActionKillNode, Target: "node-1", For: D(70 * time.Second)},
			{At: Duration(40 * time.Second), Action: ActionCutNode, Target: "node-2", For: D(50 * time.Second)},
			{At: Duration(90 * time.Second), Action: ActionZoneDown, Target: "z2", For: D(40 * time.Second)},
			{At: Duration(150 * time.Second), Action: ActionDeleteNode, Target: "node-4", For: D(30 * time.Second)},
			{At: Duration(200 * time.Second), Action: ActionCrashControlPlane, For: D(10 * time.Second)},
		},
		Checks: CheckSpec{Interval: D(time.Second)},
	}
}

// TestCohortsMatchNodeByNode runs scenarios in cohorts and node by node
// and requires the same Result, event log and data-plane events, byte
// for byte: a small cluster with every kind of node fault and Local
// traffic, with and without watch jitter, and the example scenarios.
func TestCohortsMatchNodeByNode(t *testing.T) {
	t.Run("faults", func(t *testing.T) {
		s := cohortScenario()
		all := requireSameRuns(t, s)
		require.Greater(t, all.largest, 4, "the nodes' syncs formed cohorts")
	})
	t.Run("jitter", func(t *testing.T) {
		s := cohortScenario()
		s.Cluster.Delays.WatchJitter = D(200 * time.Millisecond)
		requireSameRuns(t, s)
	})
	t.Run("levels", func(t *testing.T) {
		s := cohortScenario()
		s.Cluster.Delays.WatchJitter = D(200 * time.Millisecond)
		s.Cluster.Delays.WatchJitterLevels = 3
		all := requireSameRuns(t, s)
		require.Greater(t, all.largest, 1, "the nodes' syncs formed cohorts")
	})
	files, err := filepath.Glob("../examples/scenarios/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			s, err := DecodeScenario(b)
			require.NoError(t, err)
			shrinkScale(&s)
			if !raceEnabled {
				requireSameRuns(t, s)
			}
			// And with the nodes in step.
			s.Cluster.Delays.WatchJitter = D(0)
			requireSameRuns(t, s)
		})
	}
}

// shrinkScale cuts a scale scenario to a size a unit test runs both ways.
func shrinkScale(s *Scenario) {
	if s.Cluster.Nodes > 100 {
		s.Cluster.Nodes = 60
		s.Workload.Services = min(s.Workload.Services, 60)
		s.Workload.Namespaces = min(s.Workload.Namespaces, 6)
		s.Duration = Duration(time.Minute)
		s.Traffic = s.Traffic[:0]
		s.Timeline = s.Timeline[:0]
		for _, d := range s.Deployments {
			if d.Spec.Replicas != nil && *d.Spec.Replicas > 20 {
				d.Spec.Replicas = ptr(int32(20))
			}
		}
	}
}

// TestPropertyCohortsMatchNodeByNode: random small scenarios (faults,
// churn, traffic, every delay drawn, jitter often zero so that cohorts
// form) give the same bytes in cohorts as node by node.
func TestPropertyCohortsMatchNodeByNode(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := genScenario(rt)
		if rapid.Bool().Draw(rt, "inStep") {
			s.Cluster.Delays.WatchJitter = D(0)
		}
		if raceEnabled {
			// Node by node against lazy cohorts only, over less time.
			s.Duration = Duration(min(s.Duration.D(), time.Minute))
			cutTimeline(&s, s.Duration.D())
			one, lazy := runModel(rt, s, true, false), runModel(rt, s, false, false)
			require.Equal(rt, one.err, lazy.err)
			require.Equal(rt, string(one.result), string(lazy.result))
			require.Equal(rt, string(one.events), string(lazy.events))
			return
		}
		requireSameRuns(rt, s)
	})
}
