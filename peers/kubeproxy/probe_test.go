package kubeproxy

import (
	_ "k8s.io/kubernetes/pkg/proxy/nftables"
)
