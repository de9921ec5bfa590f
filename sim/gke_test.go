package sim

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	gke         = flag.Bool("sim.gke", false, "run TestGKEScale: examples/scenarios/gke-scale.yaml (65 000 nodes, 250 000 pods, one simulated hour)")
	gkeDuration = flag.Duration("sim.gke.duration", time.Hour, "the simulated duration of TestGKEScale")
)

// loadGKE decodes examples/scenarios/gke-scale.yaml.
func loadGKE(t *testing.T) Scenario {
	t.Helper()
	b, err := os.ReadFile("../examples/scenarios/gke-scale.yaml")
	require.NoError(t, err)
	s, err := DecodeScenario(b)
	require.NoError(t, err)
	return s
}

// cutTimeline drops the timeline events at or after d.
func cutTimeline(s *Scenario, d time.Duration) {
	var tl []TimelineEvent
	for _, e := range s.Timeline {
		if e.At.D() < d {
			tl = append(tl, e)
		}
	}
	s.Timeline = tl
}

// TestGKEScale runs gke-scale.yaml and reports its wall time, events and
// peak memory. It runs only with -sim.gke:
//
//	go test -c -o /tmp/sim.test ./sim && (cd sim && /usr/bin/time -v /tmp/sim.test -test.run TestGKEScale -sim.gke -test.v)
func TestGKEScale(t *testing.T) {
	if !*gke {
		t.Skip("run with -sim.gke")
	}
	stop := peakMemory()
	start := time.Now()
	s := loadGKE(t)
	s.Duration = Duration(*gkeDuration)
	cutTimeline(&s, s.Duration.D())
	w, err := newWorld(s)
	require.NoError(t, err)
	setup := time.Since(start)
	r, err := w.run(RunOptions{})
	wall := time.Since(start)
	heap, sys := stop()
	require.NoError(t, err)
	t.Logf("setup %v, run %v, wall %v; %d events, %.0f events/s; peak heap in use %d MiB, peak Sys %d MiB",
		setup.Round(time.Millisecond), (wall - setup).Round(time.Millisecond), wall.Round(time.Millisecond),
		r.Events, float64(r.Events)/(wall-setup).Seconds(), heap>>20, sys>>20)
	t.Logf("cluster %+v", r.Cluster)
	t.Logf("connections %+v", r.Connections)
	t.Logf("endpoint programming latency %+v", r.EndpointLatency)
	t.Logf("checks %+v", r.Checks)
}

// reducedGKE is gke-scale.yaml at a size go test runs (under -race too):
// 60 nodes, 200 Services (150 small of 3 pods, 50 big of 8, 10 of them
// headless), churn of 1 deletion a second, three simulated minutes, its
// timeline moved in proportion and its node failure on node-12.
func reducedGKE(t *testing.T) Scenario {
	s := loadGKE(t)
	scale := func(d Duration) Duration { return Duration(d.D() * 3 / 60) }
	s.Cluster.Nodes = 60
	s.Workload.Services, s.Workload.Replicas, s.Workload.Namespaces = 150, 3, 15
	for _, d := range s.Deployments {
		d.Spec.Replicas = ptr(int32(8))
	}
	s.Duration = scale(s.Duration)
	s.Churn[0].Rate = 1
	s.Checks.Interval = D(time.Minute)
	s.Metrics.BucketWidth = Duration(10 * time.Second)
	for i := range s.Timeline {
		s.Timeline[i].At = scale(s.Timeline[i].At)
		if s.Timeline[i].Action == ActionKillNode {
			s.Timeline[i].Target = "node-12"
		}
	}
	for i := range s.Traffic {
		if tr := &s.Traffic[i]; tr.Service[:4] != "big/" {
			j := i * 13
			tr.Service = "default-" + itoa(j%15) + "/svc-" + itoa(j)
		}
	}
	return s
}

// TestGKEScaleReduced runs gke-scale.yaml reduced (reducedGKE) with every
// invariant checked each minute, and checks its figures: the mix of
// Services and pods it was built with, the churn replaced, endpoint
// programming within the convergence bound, the big Services' rolling
// updates and the node failure served with few failures, and the nodes'
// syncs run in cohorts (eight jitter levels over 60 nodes) with the
// same Result as node by node.
func TestGKEScaleReduced(t *testing.T) {
	s := reducedGKE(t)
	w, err := newWorld(s)
	require.NoError(t, err)
	r, err := w.run(RunOptions{})
	require.NoError(t, err)
	t.Logf("%d events; cluster %+v; connections %+v; endpoint latency %+v", r.Events, r.Cluster, r.Connections, r.EndpointLatency)
	require.Equal(t, 60, r.Cluster.Nodes)
	require.Equal(t, 200, r.Cluster.Services)
	// 150×3 small, 50×8 big, 15 flows of 10 client pods.
	require.InDelta(t, 150*3+50*8+15*10, r.Cluster.Pods, 5)
	require.InDelta(t, 180, float64(r.Cluster.PodsDeleted), 60, "about one deletion a second")
	require.Positive(t, r.EndpointLatency.Count)
	require.Less(t, r.EndpointLatency.Max.D(), 4*time.Second, "batch 1s + watch + jitter + min sync")
	require.Less(t, float64(r.Connections.Failed()), 0.05*float64(r.Connections.Total))
	require.Positive(t, r.Checks.Full)
	// Every node syncs every table but the killed one while it is down.
	require.Greater(t, r.Cluster.NodeSyncs, int64(50*r.Cluster.TableVersions))
	largest := 0
	for _, c := range w.cohorts {
		largest = max(largest, cap(c.args))
	}
	require.GreaterOrEqual(t, largest, 4, "nodes of one jitter level sync as one event")

	// The same bytes node by node.
	one := runModel(t, s, true, true)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.Equal(t, string(one.result), string(b))
}
