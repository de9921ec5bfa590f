// Package selector compares svcnet's label selectors and name validation
// with k8s.io/apimachinery's: the same verdicts on generated inputs, and
// benchmarks of the same shapes.
package selector
