// Package kubeproxy compares svcnet's proxy/nftables renderer with
// kube-proxy's own nftables proxier (k8s.io/kubernetes/pkg/proxy/nftables)
// on the same Services and EndpointSlices. See kubeproxy_test.go.
package kubeproxy
