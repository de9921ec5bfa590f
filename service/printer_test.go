package service

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPrintServices(t *testing.T) {
	created := t0.Add(-90 * time.Minute)
	svcs := []*Service{
		{ObjectMeta: ObjectMeta{Name: "kubernetes", Namespace: "default", CreationTimestamp: t0.Add(-400 * 24 * time.Hour)},
			Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.1"}, Ports: []ServicePort{{Port: 443, Protocol: ProtocolTCP}}}},
		{ObjectMeta: ObjectMeta{Name: "dns", Namespace: "kube-system", CreationTimestamp: created},
			Spec: ServiceSpec{Type: ServiceTypeNodePort, ClusterIPs: []string{"10.96.0.10", "fd00::a"}, Selector: Labels{"k8s-app": "kube-dns", "a": "b"},
				Ports: []ServicePort{{Port: 53, NodePort: 30053, Protocol: ProtocolUDP}, {Port: 53, NodePort: 30053, Protocol: ProtocolTCP}}}},
		{ObjectMeta: ObjectMeta{Name: "headless", Namespace: "default", CreationTimestamp: t0.Add(-5 * time.Second)},
			Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIPs: []string{ClusterIPNone}, Selector: Labels{"app": "db"}}},
		{ObjectMeta: ObjectMeta{Name: "pending", Namespace: "default", CreationTimestamp: t0.Add(-3*time.Minute - 7*time.Second)},
			Spec: ServiceSpec{Type: ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.3.4"}, Ports: []ServicePort{{Port: 80, NodePort: 31080, Protocol: ProtocolTCP}}}},
		{ObjectMeta: ObjectMeta{Name: "lb", Namespace: "default", CreationTimestamp: t0.Add(-50 * time.Hour)},
			Spec: ServiceSpec{Type: ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.3.5"}, ExternalIPs: []string{"198.51.100.1"},
				Ports: []ServicePort{{Port: 80, NodePort: 31081, Protocol: ProtocolTCP}}},
			Status: ServiceStatus{LoadBalancer: LoadBalancerStatus{Ingress: []LoadBalancerIngress{{IP: "203.0.113.20"}, {Hostname: "lb.example.com"}, {IP: "203.0.113.20"}}}}},
		{ObjectMeta: ObjectMeta{Name: "db", Namespace: "prod"},
			Spec: ServiceSpec{Type: ServiceTypeExternalName, ExternalName: "my.database.example.com"}},
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
