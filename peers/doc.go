// Package peers holds differential tests and side-by-side benchmarks of
// svcnet against Kubernetes' own code. It is its own Go module so that the
// heavy k8s.io/* dependency graph never reaches svcnet's users.
//
// Each subdirectory compares one svcnet package with its Kubernetes
// counterpart; benchmarks of the same shape carry the same name on both
// sides (BenchmarkX/svcnet and BenchmarkX/kubernetes) so that one run of
//
//	go test -run '^$' -bench . -benchmem ./...
//
// measures both on the same machine.
package peers
