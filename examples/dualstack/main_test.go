package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDualStack(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `created my-service: SingleStack [IPv4], clusterIPs [10.96.61.38]
created my-service-dual: PreferDualStack [IPv4 IPv6], clusterIPs [10.96.51.202 fd00:10:96::fb5b]
created my-service-v6-first: RequireDualStack [IPv6 IPv4], clusterIPs [fd00:10:96::5ee7 10.96.185.5]
created my-service-v6: SingleStack [IPv6], clusterIPs [fd00:10:96::6e57]

$ kubectl get services -o wide
NAME                  TYPE        CLUSTER-IP         EXTERNAL-IP   PORT(S)   AGE   SELECTOR
my-service            ClusterIP   10.96.61.38        <none>        80/TCP    60s   app.kubernetes.io/name=MyApp
my-service-dual       ClusterIP   10.96.51.202       <none>        80/TCP    60s   app.kubernetes.io/name=MyApp
my-service-v6         ClusterIP   fd00:10:96::6e57   <none>        80/TCP    60s   app.kubernetes.io/name=MyApp
my-service-v6-first   ClusterIP   fd00:10:96::5ee7   <none>        80/TCP    60s   app.kubernetes.io/name=MyApp

$ kubectl get endpointslices   # one slice per family; myapp-legacy has no IPv6 address
NAME                        ADDRESSTYPE   PORTS   ENDPOINTS                           AGE
my-service-v9nnl            IPv4          80      10.244.1.7,10.244.2.3,10.244.2.9    60s
my-service-dual-m7xz2       IPv4          80      10.244.1.7,10.244.2.3,10.244.2.9    60s
my-service-dual-4b6vq       IPv6          80      fd00:10:244:1::7,fd00:10:244:2::3   60s
my-service-v6-5zv4m         IPv6          80      fd00:10:244:1::7,fd00:10:244:2::3   60s
my-service-v6-first-q6m9t   IPv6          80      fd00:10:244:1::7,fd00:10:244:2::3   60s
my-service-v6-first-88n7v   IPv4          80      10.244.1.7,10.244.2.3,10.244.2.9    60s

DNS:
  my-service.default.svc.cluster.local. 5 IN A 10.96.61.38
  my-service.default.svc.cluster.local. AAAA: no records (NODATA)
  my-service-dual.default.svc.cluster.local. 5 IN A 10.96.51.202
  my-service-dual.default.svc.cluster.local. 5 IN AAAA fd00:10:96::fb5b
  my-service-v6.default.svc.cluster.local. A: no records (NODATA)
  my-service-v6.default.svc.cluster.local. 5 IN AAAA fd00:10:96::6e57
  my-service-v6-first.default.svc.cluster.local. 5 IN A 10.96.185.5
  my-service-v6-first.default.svc.cluster.local. 5 IN AAAA fd00:10:96::5ee7

From the dual-stack pod client, 12 connections each:
  my-service-dual:80 (10.96.51.202:80): 3× 10.244.1.7:80, 4× 10.244.2.3:80, 5× 10.244.2.9:80
  [fd00:10:96::fb5b]:80: 8× [fd00:10:244:1::7]:80, 4× [fd00:10:244:2::3]:80
  my-service-v6-first:80 (10.96.185.5:80): 4× 10.244.1.7:80, 5× 10.244.2.9:80, 3× 10.244.2.3:80
  my-service-v6:80 ([fd00:10:96::6e57]:80): 5× [fd00:10:244:2::3]:80, 7× [fd00:10:244:1::7]:80

From the IPv6-only pod client-v6, which asks for AAAA records only:
  my-service-dual:80 ([fd00:10:96::fb5b]:80): 4× [fd00:10:244:2::3]:80, 8× [fd00:10:244:1::7]:80
  my-service-v6-first:80 ([fd00:10:96::5ee7]:80): 6× [fd00:10:244:1::7]:80, 6× [fd00:10:244:2::3]:80
  my-service:80: 12× DNS: no address
  DNS: my-service did not resolve to a cluster address (REFUSED after 4 queries)
`, out.String())
}
