package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, bundled))
	require.Equal(t, `$ kubectl apply -f manifests.yaml
node/node-1 created
node/node-2 created
node/node-3 created
service/my-service created
pod/myapp-1 created
pod/myapp-2 created
pod/myapp-3 created
pod/myapp-staging created
pod/db-0 created
pod/client created

$ kubectl get services -o wide
NAME         TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE   SELECTOR
my-service   ClusterIP   10.99.198.239   <none>        80/TCP    60s   app.kubernetes.io/name=MyApp

$ kubectl get pods -A -o wide
NAMESPACE   NAME            READY   STATUS    RESTARTS   AGE   IP            NODE     NOMINATED NODE   READINESS GATES
default     client          1/1     Running   0          60s   10.244.1.20   node-1   <none>           <none>
default     db-0            1/1     Running   0          60s   10.244.2.8    node-2   <none>           <none>
default     myapp-1         1/1     Running   0          60s   10.244.1.7    node-1   <none>           <none>
default     myapp-2         1/1     Running   0          60s   10.244.2.3    node-2   <none>           <none>
default     myapp-3         1/1     Running   0          60s   10.244.3.4    node-3   <none>           <none>
staging     myapp-staging   1/1     Running   0          60s   10.244.1.9    node-1   <none>           <none>

$ kubectl get endpointslices
NAME               ADDRESSTYPE   PORTS   ENDPOINTS               AGE
my-service-v9nnl   IPv4          9376    10.244.1.7,10.244.2.3   60s
my-service-xpnh6   IPv4          8080    10.244.3.4              60s

From pod default/client, "my-service" resolves through the pod's search path:
  my-service.default.svc.cluster.local. A: NOERROR, 1 answer
  my-service.default.svc.cluster.local. 5 IN A 10.99.198.239

10000 connections from default/client to my-service:80 (kube-proxy's random choice, as its iptables mode):
  one of them:
    DNS: my-service → my-service.default.svc.cluster.local. 10.99.198.239 (1 query)
    client pod default/client (10.244.1.20:32769) on node node-1
    node node-1 kube-proxy: ClusterIP 10.99.198.239:80 (Service default/my-service, port http) → 10.244.1.7:9376
    backend pod default/myapp-1 on node node-1
  myapp-1        10.244.1.7:9376    node-1    3338  33.4%
  myapp-2        10.244.2.3:9376    node-2    3294  32.9%
  myapp-3        10.244.3.4:8080    node-3    3368  33.7%

$ kubectl delete pod myapp-2
endpointslice/my-service-v9nnl updated: 10.244.1.7

$ kubectl get endpointslices
NAME               ADDRESSTYPE   PORTS   ENDPOINTS    AGE
my-service-v9nnl   IPv4          9376    10.244.1.7   2m
my-service-xpnh6   IPv4          8080    10.244.3.4   2m

The DNS has 2 changes to apply; until it does, myapp-2's endpoint name still answers:
  10-244-2-3.my-service.default.svc.cluster.local. 5 IN A 10.244.2.3
after the DNS syncs:
  10-244-2-3.my-service.default.svc.cluster.local. A: NXDOMAIN

The nodes have not synced either:
  node-1 is 1 table version behind
  node-2 is 1 table version behind
  node-3 is 1 table version behind
so 306 of 1000 connections from default/client still go to myapp-2's address, which answers no more.

After every node syncs, 10000 connections:
  myapp-1        10.244.1.7:9376    node-1    4996  50.0%
  myapp-3        10.244.3.4:8080    node-3    5004  50.0%
`, out.String())
}

// Other manifests work too: here a kind cluster's, with pod addresses
// outside any node podCIDR, and one pod only, which is its own client.
func TestQuickstartOtherManifests(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, []byte(`
apiVersion: v1
kind: Node
metadata: {name: kind-worker}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: demo}
spec: {selector: {app: echo}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-0, namespace: demo, labels: {app: echo}}
spec: {nodeName: kind-worker, containers: [{name: echo}]}
status: {phase: Running, podIP: 10.1.0.5, podIPs: [{ip: 10.1.0.5}], conditions: [{type: Ready, status: "True"}]}
`)))
	require.Contains(t, out.String(), "echo-0         10.1.0.5:8080      kind-worker 10000  100.0%")
	require.Contains(t, out.String(), "no backend pod to kill")
}

func TestQuickstartRejectsInvalid(t *testing.T) {
	var out bytes.Buffer
	err := run(&out, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 80}]}\n"))
	require.ErrorContains(t, err, `metadata.name: invalid value "Bad_Name"`)
	err = run(&out, []byte("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"))
	require.ErrorContains(t, err, "no Service")
}
