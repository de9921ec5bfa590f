package iptables

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func testView(t *testing.T) *proxy.Proxy {
	p, err := proxy.NewProxy(proxy.ProxyConfig{NodeName: "node-a",
		NodeAddresses:   []netip.Addr{netip.MustParseAddr("192.168.0.1")},
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
	require.NoError(t, err)
	b := p.Table().Builder()
	timeout := int32(60)
	for _, s := range []*service.Service{
		{ObjectMeta: service.ObjectMeta{Name: "web", Namespace: "default"}, Spec: service.ServiceSpec{Type: service.ServiceTypeNodePort,
			ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []service.ServicePort{{Name: "http", Protocol: service.ProtocolTCP, Port: 80, TargetPort: service.FromInt(8080), NodePort: 30080}}}},
		{ObjectMeta: service.ObjectMeta{Name: "lb", Namespace: "default"}, Spec: service.ServiceSpec{Type: service.ServiceTypeLoadBalancer,
			ClusterIP: "10.96.0.40", ClusterIPs: []string{"10.96.0.40"}, LoadBalancerSourceRanges: []string{"198.51.100.0/24"},
			ExternalTrafficPolicy: service.TrafficPolicyLocal, SessionAffinity: service.ServiceAffinityClientIP,
			SessionAffinityConfig: &service.SessionAffinityConfig{ClientIP: &service.ClientIPConfig{TimeoutSeconds: &timeout}},
			Ports:                 []service.ServicePort{{Name: "https", Protocol: service.ProtocolTCP, Port: 443, TargetPort: service.FromInt(8080), NodePort: 30443}}},
			Status: service.ServiceStatus{LoadBalancer: service.LoadBalancerStatus{Ingress: []service.LoadBalancerIngress{{IP: "203.0.113.40"}}}}},
		{ObjectMeta: service.ObjectMeta{Name: "empty", Namespace: "default"}, Spec: service.ServiceSpec{
			ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: []service.ServicePort{{Name: "http", Protocol: service.ProtocolTCP, Port: 80, TargetPort: service.FromInt(8080)}}}},
	} {
		service.Default(s)
		require.NoError(t, b.UpsertService(s))
		port := s.Spec.Ports[0]
		sl := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: []endpoints.Port{{Name: port.Name, Protocol: port.Protocol, Port: 8080}}}
		sl.Name, sl.Namespace = s.Name+"-1", "default"
		if s.Name != "empty" {
			for i, a := range []string{"10.244.0.5", "10.244.1.5", "10.244.2.5"} {
				sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(a)},
					NodeName: []string{"node-a", "node-b", "node-c"}[i], Conditions: endpoints.Conditions{Ready: true, Serving: true}})
			}
		}
		b.ApplySlices([]endpoints.Change{{Kind: endpoints.Created, Service: s.Key(), Slice: sl}})
	}
	p.Sync(b.Build())
	return p
}

func TestRenderGolden(t *testing.T) {
	r, err := Render(testView(t), Config{PodCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
	require.NoError(t, err)
	got := r.String()
	path := filepath.Join("testdata", "iptables.txt")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
	// kube-proxy's rounding: 1/3, then 1/2, then the last rule always.
	require.Contains(t, got, "--probability 0.3333333333")
	require.Contains(t, got, "--probability 0.5000000000")
	require.Contains(t, got, "-m recent --name KUBE-SEP-")
	// No IPv6 Service: the IPv6 input has the fixed chains only.
	require.Contains(t, r.IPv6String(), "*nat\n")
	require.False(t, strings.Contains(r.IPv6String(), "KUBE-SVC-"))
}

func TestNames(t *testing.T) {
	// kube-proxy's iptables proxier_test.go expects this chain for
	// ns1/svc1:p80 over TCP.
	require.Equal(t, "KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SVC-"+portProtoHash("ns1/svc1:p80", "tcp"))
}

func TestRenderInvalidConfig(t *testing.T) {
	_, err := Render(testView(t), Config{PodCIDRs: []netip.Prefix{{}}})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestUpdateDeletesStaleChains(t *testing.T) {
	v := testView(t)
	a, err := Render(v, Config{})
	require.NoError(t, err)
	tb := v.Table().Builder()
	tb.DeleteService(service.NamespacedName{Namespace: "default", Name: "web"})
	v.Sync(tb.Build())
	b, err := Render(v, Config{})
	require.NoError(t, err)
	up := b.Update(a)
	require.Contains(t, up, "-X KUBE-SVC-"+portProtoHash("default/web:http", "tcp"))
	require.NotContains(t, b.String(), "-X ")
}
