// Package endpointslice compares svcnet's endpoints.Controller with
// Kubernetes' EndpointSlice controller: the k8s.io/endpointslice
// Reconciler writing through client-go's fake clientset, behind
// kube-controller-manager's pod-to-Service membership lookup
// (GetPodUpdateProjectionKey, GetServicesToUpdate) and its syncService.
//
// TestDifferential feeds both random event sequences — Services that
// lose and regain their selector, pods on nodes that do not exist yet,
// nodes created late and deleted early, single-family pods under
// dual-stack Services, empty port sets, publishNotReadyAddresses — and
// checks at every step that every Service's endpoints (address, ports,
// conditions, hostname, zone, hints), slice labels, port groups and
// placeholders are the same on both sides; a second Kubernetes measures
// how far its random packing drifts from itself in slice counts and
// writes. TestDifferentialLockstep starts Kubernetes from svcnet's slices
// at every step: then slice counts and sizes agree too, and svcnet
// writes no more slices than Kubernetes in any step. TestPodEventWrites
// (in lockstep) and TestRollingUpdateWrites check the writes of pod
// events against Kubernetes' event-driven controller, on random pod
// events and on a rolling update of a 250-pod Service, which also ends
// with as many slices on both sides.
//
// BenchmarkReadinessFlip and BenchmarkRollingUpdate time the same events
// on both sides, in sub-benchmarks .../impl=svcnet and .../impl=kubernetes
// that sit together in one run:
//
//	go test -run '^$' -bench . -benchmem ./endpointslice/
package endpointslice
