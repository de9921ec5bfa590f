package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrafficPolicy(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `$ kubectl get pods -o wide
NAME        READY   STATUS    RESTARTS   AGE   IP            NODE      NOMINATED NODE   READINESS GATES
client-a1   1/1     Running   0          0s    10.244.1.20   node-a1   <none>           <none>
client-a2   1/1     Running   0          0s    10.244.2.20   node-a2   <none>           <none>
client-b1   1/1     Running   0          0s    10.244.3.20   node-b1   <none>           <none>
client-c1   1/1     Running   0          0s    10.244.4.20   node-c1   <none>           <none>
web-1       1/1     Running   0          0s    10.244.1.5    node-a1   <none>           <none>
web-2       1/1     Running   0          0s    10.244.1.6    node-a1   <none>           <none>
web-3       1/1     Running   0          0s    10.244.3.5    node-b1   <none>           <none>

web-1 and web-2 run on node-a1 (zone-a), web-3 on node-b1 (zone-b); zone-c has none.
Each row counts 300 connections.

externalTrafficPolicy: Cluster (Service web), from outside to each node's nodePort 30080:
                                                      web-1   web-2   web-3 dropped
  node-a1 (zone-a)             192.168.1.11:30080       104     101      95       0
  node-a2 (zone-a)             192.168.1.12:30080        92      99     109       0
  node-b1 (zone-b)             192.168.1.21:30080       101      99     100       0
  node-c1 (zone-c)             192.168.1.31:30080       105      89     106       0

externalTrafficPolicy: Local (Service web-local), nodePort 30081: a node answers with its own
backends, or drops (a cloud load balancer's health check would skip it):
                                                      web-1   web-2   web-3 dropped
  node-a1 (zone-a)             192.168.1.11:30081       150     150       0       0
  node-a2 (zone-a)             192.168.1.12:30081         0       0       0     300
  node-b1 (zone-b)             192.168.1.21:30081         0       0     300       0
  node-c1 (zone-c)             192.168.1.31:30081         0       0       0     300

internalTrafficPolicy: Cluster (Service web), from each client pod:
                                                      web-1   web-2   web-3 dropped
  client-a1 on node-a1 (zone-a) web:80                   101     108      91       0
  client-a2 on node-a2 (zone-a) web:80                    90      98     112       0
  client-b1 on node-b1 (zone-b) web:80                    92     103     105       0
  client-c1 on node-c1 (zone-c) web:80                   106      97      97       0

internalTrafficPolicy: Local (Service web-node-local): the client's own node only:
                                                      web-1   web-2   web-3 dropped
  client-a1 on node-a1 (zone-a) web-node-local:80        154     146       0       0
  client-a2 on node-a2 (zone-a) web-node-local:80          0       0       0     300
  client-b1 on node-b1 (zone-b) web-node-local:80          0       0     300       0
  client-c1 on node-c1 (zone-c) web-node-local:80          0       0       0     300

trafficDistribution: PreferClose (Service web-close): the endpoints carry zone hints,
  web-close-z7rxb 10.244.1.5 (web-1): hint zone-a
  web-close-z7rxb 10.244.1.6 (web-2): hint zone-a
  web-close-z7rxb 10.244.3.5 (web-3): hint zone-b
and each node's kube-proxy keeps to its zone's endpoints, if its zone has any:
                                                      web-1   web-2   web-3 dropped
  client-a1 on node-a1 (zone-a) web-close:80             139     161       0       0
  client-a2 on node-a2 (zone-a) web-close:80             156     144       0       0
  client-b1 on node-b1 (zone-b) web-close:80               0       0     300       0
  client-c1 on node-c1 (zone-c) web-close:80              84     112     104       0
`, out.String())
}
