package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExternalName(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `added prod/my-service (resourceVersion 1): type ExternalName, clusterIPs []
$ kubectl get services -n prod -o wide
NAME         TYPE           CLUSTER-IP   EXTERNAL-IP               PORT(S)   AGE   SELECTOR
my-service   ExternalName   <none>       my.database.example.com   <none>    0s    <none>

billing-0 asks the cluster DNS for my-service (A), through its search path:
  ;; NOERROR
  my-service.prod.svc.cluster.local. 5 IN CNAME my.database.example.com.
billing-0 → my-service:5432:
  DNS: my-service did not resolve to a cluster address (NOERROR after 1 query)
    it is a CNAME to my.database.example.com., outside the cluster: the client's upstream resolver takes it from here

modified prod/my-service (resourceVersion 2): type NodePort, clusterIPs [10.96.61.38]
$ kubectl get services -n prod -o wide
NAME         TYPE       CLUSTER-IP    EXTERNAL-IP   PORT(S)          AGE   SELECTOR
my-service   NodePort   10.96.61.38   <none>        5432:32719/TCP   24h   app.kubernetes.io/name=my-database

billing-0 asks the cluster DNS for my-service (A), through its search path:
  ;; NOERROR
  my-service.prod.svc.cluster.local. 5 IN A 10.96.61.38
billing-0 → my-service:5432:
  DNS: my-service → my-service.prod.svc.cluster.local. 10.96.61.38 (1 query)
  client pod prod/billing-0 (10.244.1.4:32769) on node node-1
  node node-1 kube-proxy: ClusterIP 10.96.61.38:5432 (Service prod/my-service, port postgres) → 10.244.1.9:5432
  backend pod prod/postgres-0 on node node-1

from outside, node-1's nodePort 32719:
  client 203.0.113.7:32770 outside the cluster
  node node-1 kube-proxy: NodePort 192.168.1.11:32719 (Service prod/my-service, port postgres) → 10.244.1.9:5432
  backend pod prod/postgres-0 on node node-1

released clusterIP 10.96.61.38 and nodePort 32719
modified prod/my-service (resourceVersion 3): type ExternalName, clusterIPs []
$ kubectl get services -n prod -o wide
NAME         TYPE           CLUSTER-IP   EXTERNAL-IP               PORT(S)    AGE   SELECTOR
my-service   ExternalName   <none>       my.database.example.com   5432/TCP   27h   <none>

billing-0 asks the cluster DNS for my-service (A), through its search path:
  ;; NOERROR
  my-service.prod.svc.cluster.local. 5 IN CNAME my.database.example.com.
billing-0 → my-service:5432:
  DNS: my-service did not resolve to a cluster address (NOERROR after 1 query)
    it is a CNAME to my.database.example.com., outside the cluster: the client's upstream resolver takes it from here

`, out.String())
}
