// Package endpointslice compares svcnet's endpoints.Controller with
// Kubernetes' EndpointSlice controller: the k8s.io/endpointslice
// Reconciler writing through client-go's fake clientset, behind
// kube-controller-manager's pod-to-Service membership lookup
// (GetPodUpdateProjectionKey, GetServicesToUpdate) and its syncService.
//
//   - TestDifferential: on random event sequences, every Service's
//     endpoints (address, ports, conditions, hostname, zone, hints) are
//     the same on both sides.
//
//   - TestRollingUpdateWrites: a rolling update of a 250-pod Service
//     costs svcnet no more slice writes than Kubernetes, and ends with as
//     many slices.
//
//   - BenchmarkReadinessFlip and BenchmarkRollingUpdate time the same
//     events on both sides, sub-benchmarks .../impl=svcnet and
//     .../impl=kubernetes side by side:
//
//     go test -run '^$' -bench . -benchmem ./endpointslice/
package endpointslice
