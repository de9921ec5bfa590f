package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadBalancer(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `created my-service: ingress [192.0.2.127], healthCheckNodePort 0
created ingress-nginx: ingress [192.0.2.128], healthCheckNodePort 30954
created cloud-lb: ingress [], healthCheckNodePort 0

$ kubectl get services -o wide
NAME            TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)                      AGE   SELECTOR
cloud-lb        LoadBalancer   10.0.51.202    <pending>     8080/TCP                     30s   app.kubernetes.io/name=MyApp
ingress-nginx   LoadBalancer   10.0.61.38     192.0.2.128   80:31073/TCP,443:31236/TCP   60s   app.kubernetes.io/name=ingress-nginx
my-service      LoadBalancer   10.0.171.239   192.0.2.127   80:32719/TCP                 90s   app.kubernetes.io/name=MyApp

From outside the cluster:
  client 203.0.113.6:32769 outside the cluster
  load balancer skips node node-1: no local endpoint (health check fails)
  node node-2 kube-proxy: LoadBalancer 192.0.2.128:443 (Service default/ingress-nginx, port https) → 10.244.2.5:443
  backend pod default/ingress-nginx-controller-0 on node node-2
  192.0.2.127:80    4× node-1→myapp-2, 1× node-1→myapp-1, 1× node-2→myapp-2
  192.0.2.128:80    6× node-2→ingress-nginx-controller-0
  192.0.2.128:443   6× node-2→ingress-nginx-controller-0
  (cloud-lb is <pending>: no address answers for it yet)

example.com/cloud-lb reports 203.0.113.10:
  203.0.113.10:8080 4× node-1→myapp-1, 1× node-2→myapp-1, 1× node-1→myapp-2

service: invalid Service "default/my-service": status.loadBalancer.ingress: invalid value ["192.0.2.200"]: may only be set by the load-balancer provider that handles this Service
service: forbidden Service "default/my-service": spec.externalIPs[0]: invalid value "198.51.100.7": use of external IPs is denied by policy (DenyServiceExternalIPs, CVE-2020-8554)
pool after deleting ingress-nginx: [192.0.2.127]
  192.0.2.128:80    6× not a service address

$ kubectl get services -o wide
NAME         TYPE           CLUSTER-IP     EXTERNAL-IP    PORT(S)        AGE     SELECTOR
cloud-lb     LoadBalancer   10.0.51.202    203.0.113.10   8080/TCP       90s     app.kubernetes.io/name=MyApp
my-service   LoadBalancer   10.0.171.239   192.0.2.127    80:32719/TCP   2m30s   app.kubernetes.io/name=MyApp
`, out.String())
}
