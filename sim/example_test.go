package sim_test

import (
	"fmt"
	"time"

	"github.com/svcnet/svcnet/sim"
)

// A rolling update of six pods under traffic, with and without a preStop
// sleep longer than the time a change takes to reach every node.
func ExampleCompare() {
	s := sim.Scenario{
		Seed:     1,
		Duration: sim.Duration(3 * time.Minute),
		Cluster:  sim.ClusterSpec{Nodes: 6},
		Workload: sim.WorkloadSpec{Services: 1, Replicas: 6},
		Traffic: []sim.TrafficSpec{{Service: "svc-0", Rate: 50,
			Length: sim.Distribution{Kind: sim.DistConstant, Mean: sim.Duration(time.Second)}}},
		Timeline: []sim.TimelineEvent{{At: sim.Duration(time.Minute), Action: sim.ActionRollout, Target: "svc-0"}},
		Variants: []sim.Variant{
			{Name: "no preStop", PreStopSleep: sim.D(0)},
			{Name: "5s preStop", PreStopSleep: sim.D(5 * time.Second)},
		},
	}
	results, err := sim.Compare(s)
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		c := r.Connections
		fmt.Printf("%s: %d pods replaced, connections lost: %t\n", r.Variant, r.Cluster.PodsCreated, c.Failed() > 0)
	}
	// Output:
	// no preStop: 6 pods replaced, connections lost: true
	// 5s preStop: 6 pods replaced, connections lost: false
}

// A Violation says which invariant broke, and where to replay it.
func ExampleRun_violation() {
	s := sim.Scenario{
		Seed:     9,
		Duration: sim.Duration(time.Minute),
		Cluster:  sim.ClusterSpec{Nodes: 3},
		Workload: sim.WorkloadSpec{Services: 1, Replicas: 3},
		Timeline: []sim.TimelineEvent{{At: sim.Duration(10 * time.Second), Action: sim.ActionDeletePod, Target: "svc-0"}},
		// No kube-proxy programs a change within 10ms.
		Checks: sim.CheckSpec{Interval: sim.D(time.Second), ConvergenceBound: sim.D(10 * time.Millisecond)},
	}
	r, err := sim.Run(s)
	fmt.Println(err != nil, r.Violation.Invariant, r.Violation.Seed)
	// Output:
	// true node-convergence 9
}
