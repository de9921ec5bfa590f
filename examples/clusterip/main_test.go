package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClusterIP(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, `created default/my-service: clusterIPs [10.96.110.45], SingleStack [IPv4]
created default/my-db: clusterIPs [None], SingleStack [IPv4]
created kube-system/kube-dns: clusterIPs [10.96.0.10], SingleStack [IPv4]
created default/my-dual: clusterIPs [10.96.159.75 fd00:10:96::1917], PreferDualStack [IPv4 IPv6]
service: invalid Service "kube-system/dns-copy": spec.clusterIPs[0]: invalid value "10.96.0.10": provided IP is already allocated

$ kubectl get services -A -o wide
NAMESPACE     NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)         AGE   SELECTOR
default       my-db        ClusterIP   None           <none>        5432/TCP        14m   app.kubernetes.io/name=MyDB
default       my-dual      ClusterIP   10.96.159.75   <none>        443/TCP         11m   app.kubernetes.io/name=MyApp
default       my-service   ClusterIP   10.96.110.45   <none>        80/TCP          16m   app.kubernetes.io/name=MyApp
kube-system   kube-dns     ClusterIP   10.96.0.10     <none>        53/UDP,53/TCP   13m   k8s-app=kube-dns
`, out.String())
}
