package sim

import (
	"encoding/json"
	"fmt"
	"time"

	"testing"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// genScenario draws a small random cluster, workload, traffic and fault
// timeline, with every invariant checked every simulated second.
func genScenario(t *rapid.T) Scenario {
	dur := func(label string, lo, hi time.Duration) *Duration {
		return D(time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, label)).Round(time.Millisecond))
	}
	zones := []string{"z0", "z1", "z2"}[:rapid.IntRange(1, 3).Draw(t, "zones")]
	nodes := rapid.IntRange(1, 6).Draw(t, "nodes")
	svcType := rapid.SampledFrom([]service.ServiceType{service.ServiceTypeClusterIP, service.ServiceTypeNodePort, service.ServiceTypeLoadBalancer}).Draw(t, "type")
	s := Scenario{
		Seed:     rapid.Uint64().Draw(t, "seed"),
		Duration: *dur("duration", time.Minute, 3*time.Minute),
		Cluster: ClusterSpec{
			Nodes: nodes, Zones: zones,
			Algorithm: rapid.SampledFrom(lb.Algorithms()).Draw(t, "algorithm"),
			Dataplane: rapid.SampledFrom([]string{DataplaneConntrack, DataplaneStateless}).Draw(t, "dataplane"),
			Delays: Delays{
				WatchLatency:             dur("watch", 0, 500*time.Millisecond),
				WatchJitter:              dur("jitter", 0, 500*time.Millisecond),
				EndpointSliceBatchPeriod: dur("batch", 0, time.Second),
				MinSyncPeriod:            dur("minSync", 0, 2*time.Second),
				SyncPeriod:               dur("syncPeriod", 5*time.Second, 30*time.Second),
				ContainerStart:           dur("containerStart", 0, 3*time.Second),
				AppStart:                 dur("appStart", 0, 3*time.Second),
				NodeMonitorGracePeriod:   dur("grace", 5*time.Second, 40*time.Second),
				EvictionToleration:       dur("eviction", 5*time.Second, 120*time.Second),
				RestartBackoff:           dur("backoff", time.Second, 10*time.Second),
			},
		},
		Workload: WorkloadSpec{
			Services:   rapid.IntRange(1, 3).Draw(t, "services"),
			Replicas:   int32(rapid.IntRange(1, 5).Draw(t, "replicas")),
			Namespaces: rapid.IntRange(0, 2).Draw(t, "namespaces"),
			Type:       svcType,
		},
		Checks: CheckSpec{Interval: D(time.Second)},
	}
	if rapid.Bool().Draw(t, "preStop") {
		s.Workload.PreStopSleep = dur("preStopSleep", time.Second, 6*time.Second)
	}
	if rapid.Bool().Draw(t, "probe") {
		s.Workload.ReadinessProbe = &service.Probe{PeriodSeconds: int32(rapid.IntRange(1, 10).Draw(t, "period")),
			InitialDelaySeconds: int32(rapid.IntRange(0, 5).Draw(t, "initialDelay"))}
	}
	if rapid.Bool().Draw(t, "everyEvents") {
		s.Checks.EveryEvents = rapid.IntRange(1, 200).Draw(t, "every")
	}
	svcName := func(label string) string {
		i := rapid.IntRange(0, s.Workload.Services-1).Draw(t, label)
		ns := "default"
		if s.Workload.Namespaces > 1 {
			ns = fmt.Sprintf("default-%d", i%s.Workload.Namespaces)
		}
		return fmt.Sprintf("%s/svc-%d", ns, i)
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "flows") {
		f := TrafficSpec{Service: svcName(fmt.Sprint("flow", i)), Rate: rapid.Float64Range(1, 30).Draw(t, fmt.Sprint("rate", i)),
			Clients: rapid.IntRange(1, 5).Draw(t, fmt.Sprint("clients", i)),
			Length: Distribution{Kind: rapid.SampledFrom([]string{DistExponential, DistLogNormal, DistPareto, DistConstant}).Draw(t, fmt.Sprint("dist", i)),
				Mean: *dur(fmt.Sprint("mean", i), 100*time.Millisecond, 5*time.Second)}}
		if svcType != service.ServiceTypeClusterIP && rapid.Bool().Draw(t, fmt.Sprint("external", i)) {
			f.From = FromExternal
			if svcType == service.ServiceTypeLoadBalancer && rapid.Bool().Draw(t, fmt.Sprint("viaNodePort", i)) {
				f.Via = ViaNodePort
			}
		} else if rapid.Bool().Draw(t, fmt.Sprint("viaIP", i)) {
			f.Via = ViaClusterIP
		}
		s.Traffic = append(s.Traffic, f)
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "churns") {
		s.Churn = append(s.Churn, ChurnSpec{Action: rapid.SampledFrom([]string{ActionDeletePod, ActionCrashPod, ActionRollout}).Draw(t, fmt.Sprint("churn", i)),
			Rate: rapid.Float64Range(0.01, 0.3).Draw(t, fmt.Sprint("churnRate", i))})
	}
	actions := []string{ActionRollout, ActionScale, ActionDeletePod, ActionCrashPod, ActionKillNode, ActionRestartNode,
		ActionCutNode, ActionHealNode, ActionZoneDown, ActionZoneUp, ActionCrashControlPlane, ActionDeleteService, ActionCreateService}
	for i := range rapid.IntRange(0, 6).Draw(t, "events") {
		e := TimelineEvent{At: *dur(fmt.Sprint("at", i), 0, s.Duration.D()), Action: rapid.SampledFrom(actions).Draw(t, fmt.Sprint("action", i))}
		switch e.Action {
		case ActionKillNode, ActionRestartNode, ActionCutNode, ActionHealNode:
			e.Target = fmt.Sprintf("node-%d", rapid.IntRange(0, nodes-1).Draw(t, fmt.Sprint("node", i)))
		case ActionZoneDown, ActionZoneUp:
			e.Target = zones[rapid.IntRange(0, min(len(zones), nodes)-1).Draw(t, fmt.Sprint("zone", i))]
		case ActionCrashControlPlane:
		default:
			e.Target = svcName(fmt.Sprint("target", i))
		}
		if e.Action == ActionScale {
			e.Replicas = ptr(int32(rapid.IntRange(0, 6).Draw(t, fmt.Sprint("scale", i))))
		}
		if e.Action == ActionDeletePod || e.Action == ActionCrashPod {
			e.Count = rapid.IntRange(0, 3).Draw(t, fmt.Sprint("count", i))
		}
		if rapid.Bool().Draw(t, fmt.Sprint("for", i)) {
			e.For = dur(fmt.Sprint("forDur", i), 5*time.Second, 2*time.Minute)
		}
		s.Timeline = append(s.Timeline, e)
	}
	return s
}

// TestPropertyNoViolation runs random scenarios with every invariant
// checked as they go: none may break, and each run must replay to the
// same bytes.
func TestPropertyNoViolation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t)
		r1, err := Run(s)
		if err != nil {
			b, _ := json.Marshal(s)
			if r1.Violation != nil {
				t.Fatalf("%v\nlast events:\n%v\nscenario: %s", err, r1.Violation.LastEvents, b)
			}
			t.Fatalf("%v\nscenario: %s", err, b)
		}
		r2, _ := Run(s)
		j1, _ := json.Marshal(r1)
		j2, _ := json.Marshal(r2)
		if string(j1) != string(j2) {
			t.Fatalf("the same scenario gave two results")
		}
	})
}

// TestVersionCount checks versionCount against a map.
func TestVersionCount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c versionCount
		model := map[uint64]int32{}
		for i := range rapid.IntRange(0, 200).Draw(t, "n") {
			v := rapid.Uint64Range(1000, 1020).Draw(t, fmt.Sprint("v", i))
			if model[v] > 0 && rapid.Bool().Draw(t, fmt.Sprint("dec", i)) {
				c.add(v, -1)
				model[v]--
			} else {
				c.add(v, 1)
				model[v]++
			}
			for u := uint64(995); u <= 1025; u++ {
				if c.get(u) != model[u] {
					t.Fatalf("count of %d: %d, want %d", u, c.get(u), model[u])
				}
			}
		}
	})
}
