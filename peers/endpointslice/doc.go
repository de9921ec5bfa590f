// Package endpointslice compares svcnet's endpoints.Controller with
// Kubernetes' EndpointSlice controller: the k8s.io/endpointslice
// Reconciler writing through client-go's fake clientset, behind
// kube-controller-manager's pod-to-Service membership lookup
// (GetPodUpdateProjectionKey, GetServicesToUpdate) and its syncService.
//
// TestDifferential feeds both random event sequences and checks that
// every Service's endpoints (address, ports, conditions, hostname, zone,
// hints) and slice labels are the same on both sides. TestPodEventWrites
// and TestRollingUpdateWrites check that svcnet writes no more slices than
// Kubernetes, on random pod events and on a rolling update of a 250-pod
// Service, which also ends with as many slices on both sides.
//
// BenchmarkReadinessFlip and BenchmarkRollingUpdate time the same events
// on both sides, in sub-benchmarks .../impl=svcnet and .../impl=kubernetes
// that sit together in one run:
//
//	go test -run '^$' -bench . -benchmem ./endpointslice/
package endpointslice
