package svcnet

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

// printCluster has pods in every state kubectl distinguishes, in two
// namespaces, and Services of three types, made over 40 minutes.
func printCluster(t *testing.T, now *time.Time) *Cluster {
	t.Helper()
	c := lbCluster(t, true, now)
	for i := range 5 {
		apply(t, c, testPod("web-"+itoa(i), "node-"+itoa(i%3), "10.244."+itoa(i%3)+"."+itoa(10+i), i != 1))
		*now = now.Add(5 * time.Minute)
	}
	term, err := c.Pod(nn("default", "web-2"))
	require.NoError(t, err)
	ts := *now
	term.DeletionTimestamp = &ts
	apply(t, c, term)
	pending := testPod("web-5", "", "", false)
	pending.Status = service.PodStatus{Phase: service.PodPending}
	apply(t, c, pending)
	other := clientPod("client", "node-1", "10.244.1.99")
	other.Namespace = "shop"
	other.Spec.Containers = append(other.Spec.Containers, service.Container{Name: "sidecar"})
	apply(t, c, other)
	*now = now.Add(10 * time.Minute)
	create(t, c, webService("web", ""))
	*now = now.Add(5 * time.Minute)
	np := webService("web-np", service.ServiceTypeNodePort)
	np.Spec.Ports[0].NodePort = 30080
	create(t, c, np)
	lbs := webService("web-lb", service.ServiceTypeLoadBalancer)
	lbs.Namespace = "shop"
	create(t, c, lbs)
	*now = now.Add(90 * time.Second)
	return c
}

func TestPrintServices(t *testing.T) {
	now := epoch
	c := printCluster(t, &now)
	var out strings.Builder
	require.NoError(t, c.PrintServices(&out, "default"))
	require.Equal(t, `NAME     TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE     SELECTOR
web      ClusterIP   10.96.148.177   <none>        80/TCP         6m30s   app=web
web-np   NodePort    10.96.67.17     <none>        80:30080/TCP   90s     app=web
`, out.String())
	out.Reset()
	require.NoError(t, c.PrintServices(&out, ""))
	require.Equal(t, `NAMESPACE   NAME     TYPE           CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE     SELECTOR
default     web      ClusterIP      10.96.148.177   <none>        80/TCP         6m30s   app=web
default     web-np   NodePort       10.96.67.17     <none>        80:30080/TCP   90s     app=web
shop        web-lb   LoadBalancer   10.96.72.64     192.0.2.100   80:32744/TCP   90s     app=web
`, out.String())
}

func TestPrintEndpointSlices(t *testing.T) {
	now := epoch
	c := printCluster(t, &now)
	var out strings.Builder
	require.NoError(t, c.PrintEndpointSlices(&out, "default"))
	require.Equal(t, `NAME           ADDRESSTYPE   PORTS   ENDPOINTS                                         AGE
web-8p6m9      IPv4          9376    10.244.0.10,10.244.1.11,10.244.2.12 + 2 more...   6m30s
web-np-jkj8g   IPv4          9376    10.244.0.10,10.244.1.11,10.244.2.12 + 2 more...   90s
`, out.String())
	out.Reset()
	require.NoError(t, c.PrintEndpointSlices(&out, ""))
	require.Equal(t, `NAMESPACE   NAME           ADDRESSTYPE   PORTS     ENDPOINTS                                         AGE
default     web-8p6m9      IPv4          9376      10.244.0.10,10.244.1.11,10.244.2.12 + 2 more...   6m30s
default     web-np-jkj8g   IPv4          9376      10.244.0.10,10.244.1.11,10.244.2.12 + 2 more...   90s
shop        web-lb-lvxzt   IPv4          <unset>   <unset>                                           90s
`, out.String())

	// A slice keeps its age through updates, and a new one starts at 0s.
	now = now.Add(time.Hour)
	apply(t, c, testPod("web-9", "node-0", "10.244.0.30", true))
	out.Reset()
	require.NoError(t, c.PrintEndpointSlices(&out, "default"))
	require.Equal(t, `NAME           ADDRESSTYPE   PORTS   ENDPOINTS                                         AGE
web-8p6m9      IPv4          9376    10.244.0.10,10.244.1.11,10.244.2.12 + 3 more...   66m
web-np-jkj8g   IPv4          9376    10.244.0.10,10.244.1.11,10.244.2.12 + 3 more...   61m
`, out.String())
}

func TestPrintPods(t *testing.T) {
	now := epoch
	c := printCluster(t, &now)
	var out strings.Builder
	require.NoError(t, c.PrintPods(&out, "default"))
	require.Equal(t, `NAME    READY   STATUS        RESTARTS   AGE   IP            NODE     NOMINATED NODE   READINESS GATES
web-0   1/1     Running       0          41m   10.244.0.10   node-0   <none>           <none>
web-1   0/1     Running       0          36m   10.244.1.11   node-1   <none>           <none>
web-2   1/1     Terminating   0          31m   10.244.2.12   node-2   <none>           <none>
web-3   1/1     Running       0          26m   10.244.0.13   node-0   <none>           <none>
web-4   1/1     Running       0          21m   10.244.1.14   node-1   <none>           <none>
web-5   0/1     Pending       0          16m   <none>        <none>   <none>           <none>
`, out.String())
	out.Reset()
	require.NoError(t, c.PrintPods(&out, "shop"))
	require.Equal(t, `NAME     READY   STATUS    RESTARTS   AGE   IP            NODE     NOMINATED NODE   READINESS GATES
client   2/2     Running   0          16m   10.244.1.99   node-1   <none>           <none>
`, out.String())
	out.Reset()
	require.NoError(t, c.PrintPods(&out, ""))
	require.Equal(t, 8, strings.Count(out.String(), "\n"))
	require.True(t, strings.HasPrefix(out.String(), "NAMESPACE   NAME     READY"), out.String())
}

// TestPrintServiceList prints a list of Services of every type as
// kubectl does, without a Cluster.
func TestPrintServiceList(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	created := t0.Add(-90 * time.Minute)
	svcs := []*service.Service{
		{ObjectMeta: service.ObjectMeta{Name: "kubernetes", Namespace: "default", CreationTimestamp: t0.Add(-400 * 24 * time.Hour)},
			Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.1"}, Ports: []service.ServicePort{{Port: 443, Protocol: service.ProtocolTCP}}}},
		{ObjectMeta: service.ObjectMeta{Name: "dns", Namespace: "kube-system", CreationTimestamp: created},
			Spec: service.ServiceSpec{Type: service.ServiceTypeNodePort, ClusterIPs: []string{"10.96.0.10", "fd00::a"}, Selector: service.Labels{"k8s-app": "kube-dns", "a": "b"},
				Ports: []service.ServicePort{{Port: 53, NodePort: 30053, Protocol: service.ProtocolUDP}, {Port: 53, NodePort: 30053, Protocol: service.ProtocolTCP}}}},
		{ObjectMeta: service.ObjectMeta{Name: "headless", Namespace: "default", CreationTimestamp: t0.Add(-5 * time.Second)},
			Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIPs: []string{service.ClusterIPNone}, Selector: service.Labels{"app": "db"}}},
		{ObjectMeta: service.ObjectMeta{Name: "pending", Namespace: "default", CreationTimestamp: t0.Add(-3*time.Minute - 7*time.Second)},
			Spec: service.ServiceSpec{Type: service.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.3.4"}, Ports: []service.ServicePort{{Port: 80, NodePort: 31080, Protocol: service.ProtocolTCP}}}},
		{ObjectMeta: service.ObjectMeta{Name: "lb", Namespace: "default", CreationTimestamp: t0.Add(-50 * time.Hour)},
			Spec: service.ServiceSpec{Type: service.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.3.5"}, ExternalIPs: []string{"198.51.100.1"},
				Ports: []service.ServicePort{{Port: 80, NodePort: 31081, Protocol: service.ProtocolTCP}}},
			Status: service.ServiceStatus{LoadBalancer: service.LoadBalancerStatus{Ingress: []service.LoadBalancerIngress{{IP: "203.0.113.20"}, {Hostname: "lb.example.com"}, {IP: "203.0.113.20"}}}}},
		{ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "prod"},
			Spec: service.ServiceSpec{Type: service.ServiceTypeExternalName, ExternalName: "my.database.example.com"}},
	}
	var b strings.Builder
	require.NoError(t, PrintServices(&b, svcs, t0, PrintOptions{}))
	// kubectl cuts the ingress list to 16 characters before it appends the
	// externalIPs: "203.0.113.20,lb.example.com" becomes "203.0.113.20,...".
	require.Equal(t, `NAME         TYPE           CLUSTER-IP   EXTERNAL-IP                     PORT(S)                     AGE
kubernetes   ClusterIP      10.96.0.1    <none>                          443/TCP                     400d
dns          NodePort       10.96.0.10   <none>                          53:30053/UDP,53:30053/TCP   90m
headless     ClusterIP      None         <none>                          <none>                      5s
pending      LoadBalancer   10.96.3.4    <pending>                       80:31080/TCP                3m7s
lb           LoadBalancer   10.96.3.5    203.0.113.20,...,198.51.100.1   80:31081/TCP                2d2h
db           ExternalName   <none>       my.database.example.com         <none>                      <unknown>
`, b.String())

	b.Reset()
	require.NoError(t, PrintServices(&b, svcs[1:2], t0, PrintOptions{Wide: true, AllNamespaces: true}))
	require.Equal(t, `NAMESPACE     NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)                     AGE   SELECTOR
kube-system   dns    NodePort   10.96.0.10   <none>        53:30053/UDP,53:30053/TCP   90m   a=b,k8s-app=kube-dns
`, b.String())

	b.Reset()
	require.NoError(t, PrintServices(&b, svcs[4:5], t0, PrintOptions{Wide: true}))
	require.Contains(t, b.String(), " 203.0.113.20,lb.example.com,198.51.100.1 ")
}

// TestHumanDuration uses the cases of apimachinery's duration_test.go.
func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"},
		{-1500 * time.Millisecond, "0s"},
		{time.Second, "1s"},
		{70 * time.Second, "70s"},
		{190 * time.Second, "3m10s"},
		{70 * time.Minute, "70m"},
		{47 * time.Hour, "47h"},
		{49 * time.Hour, "2d1h"},
		{(8*24 + 2) * time.Hour, "8d"},
		{(367 * 24) * time.Hour, "367d"},
		{(365*2*24 + 25) * time.Hour, "2y1d"},
		{(365*8*24 + 2) * time.Hour, "8y"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 5*time.Minute, "3h5m"},
		{10 * time.Minute, "10m"},
		{5 * time.Minute, "5m"},
	} {
		require.Equal(t, tc.want, humanDuration(tc.d), tc.d)
	}
}

func TestPrintNodes(t *testing.T) {
	now := epoch
	c := lbCluster(t, true, &now)
	cp := testNode("cp-0", "zone-a", "192.168.0.2")
	cp.Labels["node-role.kubernetes.io/control-plane"] = ""
	cp.Labels["kubernetes.io/role"] = "master"
	cp.Spec.Unschedulable = true
	cp.Status.Conditions[0].Status = service.ConditionFalse
	cp.Status.Addresses = append(cp.Status.Addresses, service.NodeAddress{Type: service.NodeExternalIP, Address: "203.0.113.2"})
	cp.Status.NodeInfo = []byte(`{"kubeletVersion":"v1.37.0","osImage":"Debian GNU/Linux 13 (trixie)","kernelVersion":"6.12.0","containerRuntimeVersion":"containerd://2.1.0"}`)
	now = now.Add(-3 * time.Hour)
	cp.CreationTimestamp = now
	_, err := c.AddNode(cp)
	require.NoError(t, err)
	bare := &service.Node{ObjectMeta: service.ObjectMeta{Name: "bare"}}
	_, err = c.AddNode(bare)
	require.NoError(t, err)
	now = now.Add(3 * time.Hour)
	var out strings.Builder
	require.NoError(t, c.PrintNodes(&out))
	// Every node is stamped by the cluster's clock when it has no
	// creationTimestamp of its own: node-0..2 at the start, bare 3h before.
	require.Equal(t, `NAME     STATUS                        ROLES                  AGE   VERSION   INTERNAL-IP    EXTERNAL-IP   OS-IMAGE                       KERNEL-VERSION   CONTAINER-RUNTIME
bare     Unknown                       <none>                 3h              <none>         <none>        <unknown>                      <unknown>        <unknown>
cp-0     NotReady,SchedulingDisabled   control-plane,master   3h    v1.37.0   192.168.0.2    203.0.113.2   Debian GNU/Linux 13 (trixie)   6.12.0           containerd://2.1.0
node-0   Ready                         <none>                 0s              192.168.0.10   <none>        <unknown>                      <unknown>        <unknown>
node-1   Ready                         <none>                 0s              192.168.0.11   <none>        <unknown>                      <unknown>        <unknown>
node-2   Ready                         <none>                 0s              192.168.0.12   <none>        <unknown>                      <unknown>        <unknown>
`, out.String())

	// An update keeps the stored creationTimestamp, as the API server does.
	now = now.Add(90 * time.Minute)
	_, err = c.AddNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "bare", CreationTimestamp: now}})
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, c.PrintNodes(&out))
	require.Contains(t, out.String(), "\nbare     Unknown                       <none>                 4h30m ")
}
