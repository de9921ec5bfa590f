package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNodePort(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `$ kubectl get services -o wide
NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)                     AGE   SELECTOR
dns          NodePort    10.96.51.202   <none>        53:32719/UDP,53:32719/TCP   2m    app=dns
my-service   NodePort    10.96.61.38    <none>        80:30007/TCP                3m    app.kubernetes.io/name=MyApp
web          ClusterIP   10.96.185.5    <none>        80/TCP,443/TCP              60s   app=web

service: invalid Service "default/taken": spec.ports[0].nodePort: invalid value 30007: provided port is already allocated
service: invalid Service "default/out-of-range": spec.ports[0].nodePort: invalid value 40000: provided port is not in the valid range. The range of valid ports is 30000-32767

web ClusterIP -> NodePort: nodePorts 31073, 31236
web NodePort -> ClusterIP: nodePorts 0, 0

$ kubectl get services -o wide
NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)                     AGE    SELECTOR
dns          NodePort    10.96.51.202   <none>        53:32719/UDP,53:32719/TCP   122m   app=dns
my-service   NodePort    10.96.61.38    <none>        80:30007/TCP                123m   app.kubernetes.io/name=MyApp
web          ClusterIP   10.96.185.5    <none>        80/TCP,443/TCP              121m   app=web

From 203.0.113.7, outside the cluster:
  client 203.0.113.7:32769 outside the cluster
  node node-1 kube-proxy: NodePort 192.168.1.11:30007 (Service default/my-service, port (unnamed)) → 10.244.1.7:80
  backend pod default/myapp-1 on node node-1
  192.168.1.11:30007 (node-1): 3× myapp-2 on node-2, 3× myapp-1 on node-1
  192.168.1.12:30007 (node-2): 3× myapp-2 on node-2, 3× myapp-1 on node-1
  192.168.1.13:30007 (node-3): 3× myapp-1 on node-1, 3× myapp-2 on node-2
  10.96.61.38:80 (the ClusterIP): unreachable

From pod coredns-0, inside:
  DNS: my-service → my-service.default.svc.cluster.local. 10.96.61.38 (1 query)
  client pod default/coredns-0 (10.244.3.2:32789) on node node-3
  node node-3 kube-proxy: ClusterIP 10.96.61.38:80 (Service default/my-service, port (unnamed)) → 10.244.2.3:80
  backend pod default/myapp-2 on node node-2

With externalTrafficPolicy: Local, from 203.0.113.7:
  192.168.1.11:30007 (node-1): 6× myapp-1 on node-1
  192.168.1.12:30007 (node-2): 6× myapp-2 on node-2
  192.168.1.13:30007 (node-3): 6× dropped by policy
`, out.String())
}
