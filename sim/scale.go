package sim

import "time"

// ScaleScenario returns a scenario at Kubernetes' published scalability
// limits (kubernetes.io/docs/setup/best-practices/cluster-large): 5 000
// nodes in 3 zones, 10 000 Services in 500 namespaces, each backed by a Deployment
// of 15 pods (150 000 pods), churn of 20 pod deletions a second (each pod is
// replaced, so about 80 pod writes a second reach the endpoints
// controller), and 100 connections a second from 200 client pods, for
// one simulated hour. The endpoints controller batches writes for 1 s
// (--endpointslice-updates-batch-period), as large clusters configure it.
// Full invariant checks run every 5 simulated minutes.
func ScaleScenario() Scenario {
	s := Scenario{
		APIVersion: APIVersion, Kind: KindScenario,
		Metadata: Metadata{Name: "kubernetes-scale-limits"},
		Seed:     1,
		Duration: Duration(time.Hour),
		Cluster: ClusterSpec{
			Nodes:  5000,
			Delays: Delays{EndpointSliceBatchPeriod: D(time.Second)},
		},
		// Kubernetes allows 5 000 Services per namespace; 500 tenants
		// of 20 Services each.
		Workload: WorkloadSpec{Services: 10000, Replicas: 15, Namespaces: 500},
		Churn:    []ChurnSpec{{Action: ActionDeletePod, Rate: 20}},
		Checks:   CheckSpec{Interval: D(5 * time.Minute)},
		Metrics:  MetricsSpec{BucketWidth: Duration(time.Minute)},
	}
	for i := range 20 {
		j := i * 499
		s.Traffic = append(s.Traffic, TrafficSpec{Service: "default-" + itoa(j%500) + "/svc-" + itoa(j), Rate: 5, Clients: 10,
			Length: Distribution{Kind: DistLogNormal, Mean: Duration(2 * time.Second)}})
	}
	return s
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
