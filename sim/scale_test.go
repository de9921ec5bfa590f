package sim

import (
	"encoding/json"
	"flag"
	"runtime"
	"sync"
	"testing"
	"time"
)

var (
	scale         = flag.Bool("sim.scale", false, "run TestScale: the Kubernetes-scale scenario (5 000 nodes, 150 000 pods, one simulated hour)")
	scaleDuration = flag.Duration("sim.scale.duration", time.Hour, "the simulated duration of TestScale")
)

// peakMemory samples the heap until stop is called, and returns the
// largest heap in use and the largest memory obtained from the OS.
func peakMemory() (stop func() (heap, sys uint64)) {
	var mu sync.Mutex
	var heap, sys uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			heap, sys = max(heap, ms.HeapInuse), max(sys, ms.Sys)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return heap, sys
	}
}

// TestScale runs ScaleScenario once and reports its wall time, events per
// second and peak memory. It runs only with -sim.scale:
//
//	go test ./sim -run TestScale -sim.scale -v -timeout 30m
func TestScale(t *testing.T) {
	if !*scale {
		t.Skip("run with -sim.scale")
	}
	stop := peakMemory()
	start := time.Now()
	s := ScaleScenario()
	s.Duration = Duration(*scaleDuration)
	w, err := newWorld(s)
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)
	r, err := w.run(RunOptions{})
	wall := time.Since(start)
	heap, sys := stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("setup %v, run %v, wall %v; %d events, %.0f events/s; peak heap in use %d MiB, peak Sys %d MiB",
		setup.Round(time.Millisecond), (wall - setup).Round(time.Millisecond), wall.Round(time.Millisecond),
		r.Events, float64(r.Events)/(wall-setup).Seconds(), heap>>20, sys>>20)
	t.Logf("cluster %+v", r.Cluster)
	t.Logf("connections %+v", r.Connections)
	t.Logf("endpoint programming latency %+v", r.EndpointLatency)
	t.Logf("DNS programming latency %+v", r.DNSLatency)
	t.Logf("checks %+v", r.Checks)
	tb, _ := json.Marshal(r.Trace)
	t.Logf("trace: %d buckets of %v, %d node rows, %d cells, %d blamed pods, %d bytes of JSON",
		r.Trace.Buckets, r.Trace.BucketWidth, len(r.Trace.Nodes.Rows), len(r.Trace.Nodes.Cells), len(r.Trace.FailedPods), len(tb))
}

// BenchmarkRun runs a small scenario — 30 nodes, 100 Services, churn,
// traffic and a rolling update, ten simulated minutes — and reports
// simulated events per second of wall time.
func BenchmarkRun(b *testing.B) {
	s := Scenario{
		Seed: 1, Duration: Duration(10 * time.Minute),
		Cluster:  ClusterSpec{Nodes: 30},
		Workload: WorkloadSpec{Services: 100, Replicas: 5},
		Churn:    []ChurnSpec{{Rate: 2}},
		Traffic:  []TrafficSpec{{Service: "svc-0", Rate: 50}, {Service: "svc-1", Rate: 50}},
		Timeline: []TimelineEvent{{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"}},
	}
	b.ReportAllocs()
	var events uint64
	for b.Loop() {
		r, err := Run(s)
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
