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
created ingress-nginx: ingress [192.0.2.128], healthCheckNodePort 30302
created cloud-lb: ingress [], healthCheckNodePort 0

$ kubectl get services -o wide
NAME            TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)                      AGE   SELECTOR
cloud-lb        LoadBalancer   10.0.159.75    <pending>     8080/TCP                     30s   app.kubernetes.io/name=MyApp
ingress-nginx   LoadBalancer   10.0.110.45    192.0.2.128   80:30973/TCP,443:31553/TCP   60s   app.kubernetes.io/name=ingress-nginx
my-service      LoadBalancer   10.0.171.239   192.0.2.127   80:30339/TCP                 90s   app.kubernetes.io/name=MyApp

service: invalid Service "default/my-service": status.loadBalancer.ingress: invalid value ["192.0.2.200"]: may only be set by the load-balancer provider that handles this Service
service: forbidden Service "default/my-service": spec.externalIPs[0]: invalid value "198.51.100.7": use of external IPs is denied by policy (DenyServiceExternalIPs, CVE-2020-8554)
pool after deleting ingress-nginx: [192.0.2.127]

$ kubectl get services -o wide
NAME         TYPE           CLUSTER-IP     EXTERNAL-IP    PORT(S)        AGE     SELECTOR
cloud-lb     LoadBalancer   10.0.159.75    203.0.113.10   8080/TCP       90s     app.kubernetes.io/name=MyApp
my-service   LoadBalancer   10.0.171.239   192.0.2.127    80:30339/TCP   2m30s   app.kubernetes.io/name=MyApp
`, out.String())
}
