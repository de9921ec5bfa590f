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

modified prod/my-service (resourceVersion 2): type NodePort, clusterIPs [10.96.110.45]
$ kubectl get services -n prod -o wide
NAME         TYPE       CLUSTER-IP     EXTERNAL-IP   PORT(S)          AGE   SELECTOR
my-service   NodePort   10.96.110.45   <none>        5432:30339/TCP   24h   app.kubernetes.io/name=my-database

released clusterIP 10.96.110.45 and nodePort 30339
modified prod/my-service (resourceVersion 3): type ExternalName, clusterIPs []
$ kubectl get services -n prod -o wide
NAME         TYPE           CLUSTER-IP   EXTERNAL-IP               PORT(S)    AGE   SELECTOR
my-service   ExternalName   <none>       my.database.example.com   5432/TCP   27h   <none>

`, out.String())
}
