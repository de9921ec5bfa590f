package dnsname

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/internal/k8sname"
	"github.com/svcnet/svcnet/service"
)

func TestBuilders(t *testing.T) {
	// Spec examples (kubernetes/dns docs/specification.md §2).
	require.Equal(t, "kubernetes.default.svc.cluster.local.", ServiceName("kubernetes", "default", ""))
	require.Equal(t, "my-pet.headless.default.svc.cluster.local.", EndpointName("my-pet", "headless", "default", "cluster.local"))
	require.Equal(t, "_https._tcp.kubernetes.default.svc.cluster.local.", SRVName("https", service.ProtocolTCP, "kubernetes", "default", ""))
	require.Equal(t, "1.0.3.10.in-addr.arpa.", PTRName(netip.MustParseAddr("10.3.0.1")))
	require.Equal(t, "dns-version.example.org.", VersionName("example.org."))
	require.Equal(t, "1-2-3-4.default.pod.cluster.local.", PodName(netip.MustParseAddr("1.2.3.4"), "default", ""))
	require.Equal(t, "fd00--1.default.pod.cluster.local.", PodName(netip.MustParseAddr("fd00::1"), "default", ""))
	require.Equal(t,
		"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa.",
		PTRName(netip.MustParseAddr("4321:0:1:2:3:4:567:89ab"))) // RFC 3596 §2.5
	require.Equal(t, "", PTRName(netip.Addr{}))
	require.Equal(t, "invalid Name", Name{}.String())
}

func TestParse(t *testing.T) {
	addr := netip.MustParseAddr
	tests := []struct {
		in   string
		want Name
		err  error
	}{
		{"my-svc.default.svc.cluster.local.", Name{Kind: KindService, Zone: "cluster.local", Namespace: "default", Service: "my-svc"}, nil},
		{"My-Svc.DEFAULT.svc.Cluster.Local", Name{Kind: KindService, Zone: "cluster.local", Namespace: "default", Service: "my-svc"}, nil},
		{"web-0.web.prod.svc.cluster.local", Name{Kind: KindEndpoint, Zone: "cluster.local", Namespace: "prod", Service: "web", Hostname: "web-0"}, nil},
		{"fd00--1.web.prod.svc.cluster.local", Name{Kind: KindEndpoint, Zone: "cluster.local", Namespace: "prod", Service: "web", Hostname: "fd00--1"}, nil},
		{"_http._TCP.web.prod.svc.cluster.local.", Name{Kind: KindPort, Zone: "cluster.local", Namespace: "prod", Service: "web", Port: "http", Protocol: service.ProtocolTCP}, nil},
		{"_dns._udp.kube-dns.kube-system.svc.cluster.local", Name{Kind: KindPort, Zone: "cluster.local", Namespace: "kube-system", Service: "kube-dns", Port: "dns", Protocol: service.ProtocolUDP}, nil},
		{"1.0.96.10.in-addr.arpa.", Name{Kind: KindPTR, Zone: "cluster.local", Addr: addr("10.96.0.1")}, nil},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.D.F.IP6.ARPA", Name{Kind: KindPTR, Zone: "cluster.local", Addr: addr("fd00::1")}, nil},
		{"dns-version.cluster.local", Name{Kind: KindVersion, Zone: "cluster.local"}, nil},
		{"10-244-1-7.default.pod.cluster.local", Name{Kind: KindPod, Zone: "cluster.local", Namespace: "default", Addr: addr("10.244.1.7")}, nil},
		{"fd00-10-244--7.default.pod.cluster.local", Name{Kind: KindPod, Zone: "cluster.local", Namespace: "default", Addr: addr("fd00:10:244::7")}, nil},
		{"cluster.local.", Name{Kind: KindApex, Zone: "cluster.local"}, nil},
		{"svc.cluster.local", Name{Kind: KindServices, Zone: "cluster.local"}, nil},
		{"default.svc.cluster.local", Name{Kind: KindNamespace, Zone: "cluster.local", Namespace: "default"}, nil},
		{"pod.cluster.local", Name{Kind: KindPods, Zone: "cluster.local"}, nil},
		{"default.pod.cluster.local", Name{Kind: KindPodNamespace, Zone: "cluster.local", Namespace: "default"}, nil},

		// Syntax.
		{"", Name{}, ErrInvalidName},
		{".", Name{}, ErrInvalidName},
		{"a..svc.cluster.local", Name{}, ErrInvalidName},
		{strings.Repeat("a", 64) + ".default.svc.cluster.local", Name{}, ErrInvalidName},
		{strings.Repeat("a.", 127) + "cluster.local", Name{}, ErrInvalidName},
		{"my svc.default.svc.cluster.local", Name{}, ErrInvalidName},
		{"*.default.svc.cluster.local", Name{}, ErrInvalidName},
		// Parts that break their rules.
		{"1svc.default.svc.cluster.local", Name{}, ErrInvalidName}, // Service names are DNS-1035 labels
		{"web.-ns.svc.cluster.local", Name{}, ErrInvalidName},
		{"_http._quic.web.prod.svc.cluster.local", Name{}, ErrInvalidName},
		{"_-x._tcp.web.prod.svc.cluster.local", Name{}, ErrInvalidName},
		{"10-0-0-256.default.pod.cluster.local", Name{}, ErrInvalidName},
		{"10-0-0-01.default.pod.cluster.local", Name{}, ErrInvalidName},
		{"--ffff-a00-1.default.pod.cluster.local", Name{}, ErrInvalidName}, // IPv4-mapped
		{"web_0.web.prod.svc.cluster.local", Name{}, ErrInvalidName},
		// In the zone, not defined by the spec.
		{"foo.cluster.local", Name{}, ErrUndefinedName},
		{"http.tcp.web.prod.svc.cluster.local", Name{}, ErrUndefinedName}, // CoreDNS strips optional underscores; the spec has them
		{"a.b.c.web.prod.svc.cluster.local", Name{}, ErrUndefinedName},
		{"x.10-0-0-1.default.pod.cluster.local", Name{}, ErrUndefinedName},
		{"0.96.10.in-addr.arpa", Name{}, ErrUndefinedName},
		{"in-addr.arpa", Name{}, ErrUndefinedName},
		{"01.0.96.10.in-addr.arpa", Name{}, ErrUndefinedName},
		{"1.1.0.96.10.in-addr.arpa", Name{}, ErrUndefinedName},
		{"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", Name{}, ErrUndefinedName},
		// Elsewhere.
		{"example.com", Name{}, ErrNotInZone},
		{"local", Name{}, ErrNotInZone},
		{"xcluster.local", Name{}, ErrNotInZone},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in, "")
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				var ne *NameError
				require.ErrorAs(t, err, &ne)
				require.True(t, strings.HasPrefix(err.Error(), "dnsname: "), err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NoError(t, got.Validate())
		})
	}
}

func TestParseZone(t *testing.T) {
	n, err := Parse("web.default.svc.k8s.example.org", "K8s.Example.Org.")
	require.NoError(t, err)
	require.Equal(t, Name{Kind: KindService, Zone: "k8s.example.org", Namespace: "default", Service: "web"}, n)
	_, err = Parse("web.default.svc.cluster.local", "k8s.example.org")
	require.ErrorIs(t, err, ErrNotInZone)
	_, err = Parse("web.default.svc.cluster.local", "in-addr.arpa")
	require.ErrorIs(t, err, ErrInvalidName)
	_, err = Parse("web.default.svc.cluster.local", "bad_zone")
	require.ErrorIs(t, err, ErrInvalidName)
}

func TestNameValidate(t *testing.T) {
	ok := Name{Kind: KindService, Zone: "cluster.local", Namespace: "default", Service: "web"}
	require.NoError(t, ok.Validate())
	for _, n := range []Name{
		{},
		{Kind: 99, Zone: "cluster.local"},
		{Kind: KindService, Namespace: "default", Service: "web"},
		{Kind: KindService, Zone: "cluster.local", Service: "web"},
		{Kind: KindService, Zone: "cluster.local", Namespace: "default", Service: "web", Port: "http"},
		{Kind: KindService, Zone: "cluster.local", Namespace: "default", Service: "Web"},
		{Kind: KindPort, Zone: "cluster.local", Namespace: "default", Service: "web", Port: "http", Protocol: "tcp"},
		{Kind: KindPort, Zone: "cluster.local", Namespace: "default", Service: "web", Port: "http", Protocol: "QUIC"},
		{Kind: KindPTR, Zone: "cluster.local", Addr: netip.MustParseAddr("fe80::1%eth0")},
		{Kind: KindPod, Zone: "cluster.local", Namespace: "default", Addr: netip.MustParseAddr("::ffff:10.0.0.1")},
		{Kind: KindEndpoint, Zone: "cluster.local", Namespace: "default", Service: "web", Hostname: "Web-0"},
		{Kind: KindService, Zone: "z." + strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60), Namespace: strings.Repeat("n", 63), Service: "web"},
	} {
		err := n.Validate()
		require.ErrorIs(t, err, ErrInvalidName, "%#v", n)
	}
}

func TestValidateHelpersMatchK8s(t *testing.T) {
	for _, s := range []string{"", "a", "A", "a-b", "-a", "a-", "1a", "a.b", "a_b", strings.Repeat("a", 63), strings.Repeat("a", 64),
		"my.svc-1.example", strings.Repeat("a", 64) + ".b", strings.Repeat("a.", 127) + "a", "a..b"} {
		require.Equal(t, k8sname.DNS1123Label(s) == "", ValidateDNS1123Label(s) == nil, s)
		require.Equal(t, k8sname.DNS1123Subdomain(s) == "", ValidateDNS1123Subdomain(s) == nil, s)
		require.Equal(t, k8sname.DNS1035Label(s) == "", ValidateDNS1035Label(s) == nil, s)
	}
	err := ValidateDNS1035Label("1web")
	require.ErrorIs(t, err, ErrInvalidName)
	require.Equal(t, `dnsname: "1web" is not a valid DNS-1035 label: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`, err.Error())
}

// Generators of valid parts.
var (
	genZoneLabel = rapid.StringMatching(`[a-z]([-a-z0-9]{0,10}[a-z0-9])?`)
	genNamespace = rapid.StringMatching(`[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?`)
	genService   = rapid.StringMatching(`[a-z]([-a-z0-9]{0,30}[a-z0-9])?`)
	genHostname  = rapid.StringMatching(`[-a-z0-9]{1,63}`)
	genProtocol  = rapid.SampledFrom([]service.Protocol{service.ProtocolTCP, service.ProtocolUDP, service.ProtocolSCTP})
)

func genZone() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		labels := rapid.SliceOfN(genZoneLabel, 1, 3).Draw(t, "zone")
		z := strings.Join(labels, ".")
		if z == "arpa" || strings.HasSuffix(z, ".arpa") {
			z += ".x"
		}
		return z
	})
}

func genAddr() *rapid.Generator[netip.Addr] {
	return rapid.Custom(func(t *rapid.T) netip.Addr {
		if rapid.Bool().Draw(t, "v4") {
			b := rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, "a4")
			return netip.AddrFrom4([4]byte(b))
		}
		b := rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "a16")
		// Mostly-zero addresses exercise "::" compression.
		if rapid.Bool().Draw(t, "sparse") {
			for i := 2; i < 14; i++ {
				b[i] = 0
			}
		}
		a := netip.AddrFrom16([16]byte(b))
		if a.Is4In6() {
			b[10] = 0
			a = netip.AddrFrom16([16]byte(b))
		}
		return a
	})
}

func genName() *rapid.Generator[Name] {
	return rapid.Custom(func(t *rapid.T) Name {
		n := Name{Kind: Kind(rapid.IntRange(1, int(KindPodNamespace)).Draw(t, "kind")), Zone: genZone().Draw(t, "zone")}
		uses := kindFields[n.Kind]
		if uses&fNamespace != 0 {
			n.Namespace = genNamespace.Draw(t, "ns")
		}
		if uses&fService != 0 {
			n.Service = genService.Draw(t, "svc")
		}
		if uses&fHostname != 0 {
			n.Hostname = genHostname.Draw(t, "host")
		}
		if uses&fPort != 0 {
			n.Port = genNamespace.Draw(t, "port")
		}
		if uses&fProtocol != 0 {
			n.Protocol = genProtocol.Draw(t, "proto")
		}
		if uses&fAddr != 0 {
			n.Addr = genAddr().Draw(t, "addr")
		}
		return n
	})
}

// TestParseBuildRoundTrip checks Parse(Build(x)) == x for every kind, and
// that case and the trailing dot do not matter.
func TestParseBuildRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := genName().Draw(t, "name")
		if n.Validate() != nil { // too long for DNS
			t.Skip("too long")
		}
		s := n.String()
		require.True(t, strings.HasSuffix(s, "."))
		got, err := Parse(s, n.Zone)
		require.NoError(t, err, s)
		require.Equal(t, n, got, s)

		got, err = Parse(strings.ToUpper(strings.TrimSuffix(s, ".")), strings.ToUpper(n.Zone))
		require.NoError(t, err, s)
		require.Equal(t, n, got, s)
	})
}

func TestParseNeverPanicsOnMutations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genName().Draw(t, "name").String()
		b := []byte(s)
		for range rapid.IntRange(1, 4).Draw(t, "edits") {
			i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
			b[i] = rapid.SampledFrom([]byte("._-aZ09:\x00 ")).Draw(t, "byte")
		}
		n, err := Parse(string(b), "")
		if err == nil {
			require.NoError(t, n.Validate())
		} else {
			require.True(t, errors.Is(err, ErrInvalidName) || errors.Is(err, ErrNotInZone) || errors.Is(err, ErrUndefinedName), err)
		}
	})
}
