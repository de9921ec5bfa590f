package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHeadless(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `$ kubectl get service nginx
NAME    TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE   SELECTOR
nginx   ClusterIP   None         <none>        80/TCP    2m    app=nginx

$ kubectl get endpointslices
NAME          ADDRESSTYPE   PORTS   ENDPOINTS               AGE
nginx-f2cdc   IPv4          80      10.244.1.5,10.244.2.6   2m

web-1 is not ready yet, so only web-0 answers:
  nginx.default.svc.cluster.local. 5 IN A 10.244.1.5
  web-0.nginx.default.svc.cluster.local. 5 IN A 10.244.1.5
  web-1.nginx.default.svc.cluster.local. A: NXDOMAIN
  _web._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 100 80 web-0.nginx.default.svc.cluster.local.

web-1 is ready:
  nginx.default.svc.cluster.local. 5 IN A 10.244.1.5
  nginx.default.svc.cluster.local. 5 IN A 10.244.2.6
  web-1.nginx.default.svc.cluster.local. 5 IN A 10.244.2.6
  _web._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 50 80 web-0.nginx.default.svc.cluster.local.
  _web._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 50 80 web-1.nginx.default.svc.cluster.local.

dnsutils → web-1.nginx:80:
  DNS: web-1.nginx → web-1.nginx.default.svc.cluster.local. 10.244.2.6 (1 query)
  client pod default/dnsutils (10.244.1.9:32769) on node node-1
  node node-1 kube-proxy: 10.244.2.6:80 is not a Service address; the pod network delivers it
  pod default/web-1 on node node-2, directly
dnsutils → nginx:80:
  DNS: nginx → nginx.default.svc.cluster.local. 10.244.1.5 (1 query)
  client pod default/dnsutils (10.244.1.9:32770) on node node-1
  node node-1 kube-proxy: 10.244.1.5:80 is not a Service address; the pod network delivers it
  pod default/web-0 on node node-1, directly

$ kubectl delete pod web-0   # the StatefulSet makes it again on node-2
  web-0.nginx.default.svc.cluster.local. A: NXDOMAIN
  web-0.nginx.default.svc.cluster.local. 5 IN A 10.244.2.7

$ kubectl get pods -o wide
NAME       READY   STATUS    RESTARTS   AGE     IP           NODE     NOMINATED NODE   READINESS GATES
dnsutils   1/1     Running   0          3m15s   10.244.1.9   node-1   <none>           <none>
web-0      1/1     Running   0          0s      10.244.2.7   node-2   <none>           <none>
web-1      1/1     Running   0          3m15s   10.244.2.6   node-2   <none>           <none>
`, out.String())
}
