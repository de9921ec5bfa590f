package nftables

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var nodeA = nodeView{name: "node-a", addrs: []string{"192.168.0.1", "fd00:192::1"},
	cluster: []string{"10.244.0.0/16", "192.168.0.0/24", "fd00:244::/64", "fd00:192::/64"}}

var testCfg = Config{
	ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:96::/112")},
	PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:244::/64")},
}

// flowServices are the Services of the packet-flow cases, modelled on
// the cases of kube-proxy's nftables proxier_test.go (recreated as data).
var flowServices = []svcSpec{
	{name: "web", typ: service.ServiceTypeNodePort, clusterIPs: []string{"10.96.0.10", "fd00:96::10"}, port: 80, targetPort: 8080, nodePort: 30080,
		eps: []tep{{addr: "10.244.0.5", node: "node-a", ready: true}, {addr: "10.244.1.5", node: "node-b", ready: true}, {addr: "fd00:244::5", node: "node-a", ready: true}}},
	{name: "empty", clusterIPs: []string{"10.96.0.20"}, port: 80},
	{name: "local", typ: service.ServiceTypeNodePort, clusterIPs: []string{"10.96.0.30"}, port: 80, nodePort: 30081, etpLocal: true,
		eps: []tep{{addr: "10.244.1.6", node: "node-b", ready: true}}},
	{name: "lb", typ: service.ServiceTypeLoadBalancer, clusterIPs: []string{"10.96.0.40"}, port: 443, nodePort: 30443,
		lbIPs: []string{"203.0.113.40"}, ranges: []string{"198.51.100.0/24"},
		eps: []tep{{addr: "10.244.0.7", node: "node-a", ready: true}}},
	{name: "ext", clusterIPs: []string{"10.96.0.50"}, port: 80, externalIPs: []string{"192.0.2.50"},
		eps: []tep{{addr: "10.244.1.8", node: "node-b", ready: true}}},
	{name: "sticky", clusterIPs: []string{"10.96.0.60"}, port: 80, affinity: 60,
		eps: []tep{{addr: "10.244.0.9", node: "node-a", ready: true}, {addr: "10.244.1.9", node: "node-b", ready: true}}},
	{name: "dns", clusterIPs: []string{"10.96.0.70"}, port: 53, proto: service.ProtocolUDP, itpLocal: true,
		eps: []tep{{addr: "10.244.1.10", node: "node-b", ready: true}}},
	{name: "mag", clusterIPs: []string{"10.96.0.80"}, port: 80, alg: lb.AlgorithmMaglev,
		eps: []tep{{addr: "10.244.0.11", node: "node-a", ready: true}, {addr: "10.244.1.11", node: "node-b", ready: true}, {addr: "10.244.2.11", node: "node-c", ready: true}}},
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), got)
}

func TestRenderGolden(t *testing.T) {
	p := nodeA.proxy(t, flowServices...)
	r := render(t, p, Config{ServiceCIDRs: testCfg.ServiceCIDRs, PodCIDRs: testCfg.PodCIDRs, MaglevTableSize: 7})
	golden(t, "flow.nft", r.String())
	require.Equal(t, []string{"ip", "ip6"}, r.Families())

	// String is a fixed point of Parse.
	back, err := Parse(r.String())
	require.NoError(t, err)
	require.Equal(t, r.String(), back.String())
}

func TestRenderNames(t *testing.T) {
	sp := &proxy.ServicePort{Service: service.NamespacedName{Namespace: "ns1", Name: "svc1"}, PortName: "p80", Proto: lb.TCP}
	// kube-proxy's own examples in proxier.go: "ULMVA6XW-ns1/svc1/tcp/p80"
	// and "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80".
	require.Equal(t, "ULMVA6XW-ns1/svc1/tcp/p80", portBase(sp))
	require.Equal(t, "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", endpointBase(sp, netip.MustParseAddrPort("10.180.0.1:80")))
	long := &proxy.ServicePort{Service: service.NamespacedName{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("s", 63)},
		PortName: strings.Repeat("p", 63), Proto: lb.SCTP}
	name := endpointBase(long, netip.MustParseAddrPort("[2001:db8:1234:5678:9abc:def0:1234:5678]:65535"))
	require.Len(t, name, chainNameBaseLengthMax)
	require.True(t, strings.HasSuffix(name, "..."))
	require.NotContains(t, name, ":")
}

func TestRenderInvalidConfig(t *testing.T) {
	p := nodeA.proxy(t)
	for _, cfg := range []Config{
		{MaglevTableSize: 100},
		{ServiceCIDRs: []netip.Prefix{{}}},
		{PodCIDRs: []netip.Prefix{{}}},
	} {
		_, err := Render(p, cfg)
		require.ErrorIs(t, err, ErrInvalidConfig)
	}
	_, err := Render(p, Config{MaglevTableSize: 100})
	require.ErrorContains(t, err, "MaglevTableSize 100")
}

func TestRenderEmptyIPv6Skipped(t *testing.T) {
	p := nodeView{name: "n", addrs: []string{"192.168.0.1"}}.proxy(t)
	r := render(t, p, Config{})
	require.Equal(t, []string{"ip"}, r.Families())
}

func TestRenderDoesNotTouchRouting(t *testing.T) {
	p := nodeA.proxy(t, flowServices...)
	before := p.Route(proxy.Packet{Src: netip.MustParseAddrPort("10.244.0.2:1000"), Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, time.Time{})
	render(t, p, testCfg)
	after := p.Route(proxy.Packet{Src: netip.MustParseAddrPort("10.244.0.2:1000"), Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, time.Time{})
	require.Equal(t, before.Verdict, after.Verdict)
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"add table inet kube-proxy",
		"add chain ip kube-proxy x",
		"add table ip kube-proxy\nadd rule ip kube-proxy missing accept",
		"add table ip kube-proxy\nadd map ip kube-proxy m { type ipv4_addr : verdict ; }\nadd element ip kube-proxy m { 1.2.3.4 : goto nowhere }",
		"add table ip kube-proxy\nadd chain ip kube-proxy a\nadd chain ip kube-proxy b\nadd rule ip kube-proxy a jump b\ndelete chain ip kube-proxy b",
	} {
		_, err := Parse(in)
		require.True(t, errors.Is(err, ErrSyntax), "%q: %v", in, err)
	}
}
