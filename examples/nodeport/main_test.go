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
dns          NodePort    10.96.159.75   <none>        53:30339/UDP,53:30339/TCP   2m    app=dns
my-service   NodePort    10.96.110.45   <none>        80:30007/TCP                3m    app.kubernetes.io/name=MyApp
web          ClusterIP   10.96.70.130   <none>        80/TCP,443/TCP              60s   app=web

service: invalid Service "default/taken": spec.ports[0].nodePort: invalid value 30007: provided port is already allocated
service: invalid Service "default/out-of-range": spec.ports[0].nodePort: invalid value 40000: provided port is not in the valid range. The range of valid ports is 30000-32767

web ClusterIP -> NodePort: nodePorts 30973, 31553
web NodePort -> ClusterIP: nodePorts 0, 0

$ kubectl get services -o wide
NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)                     AGE    SELECTOR
dns          NodePort    10.96.159.75   <none>        53:30339/UDP,53:30339/TCP   122m   app=dns
my-service   NodePort    10.96.110.45   <none>        80:30007/TCP                123m   app.kubernetes.io/name=MyApp
web          ClusterIP   10.96.70.130   <none>        80/TCP,443/TCP              121m   app=web

`, out.String())
}
