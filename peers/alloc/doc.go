// Package alloc compares svcnet's ipam and portalloc with Kubernetes' own
// allocators, k8s.io/kubernetes/pkg/registry/core/service/ipallocator and
// .../portallocator (v1.37), in one run.
//
// The tests check that both sides agree on the number of usable addresses
// and ports and on the KEP-3070 and KEP-3668 band sizes, observed through
// the allocators' behaviour. The benchmarks have the same shape on both
// sides and are named so that the two sit together:
//
//	BenchmarkIPChurn/prefix=16/use=99/impl=svcnet
//	BenchmarkIPChurn/prefix=16/use=99/impl=kubernetes
//
// Run them with
//
//	go test -run '^$' -bench . -benchmem ./alloc/
package alloc
