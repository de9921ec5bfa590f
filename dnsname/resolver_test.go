package dnsname

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// coreDNSWorld loads the fixture of CoreDNS's plugin/kubernetes
// handler_test.go (APIConnServeTest) into a resolver, so that its test
// cases can be checked here one by one.
func coreDNSWorld(t *testing.T, c Config) *Resolver {
	r := NewResolver(c)
	var b Batch
	http := []service.ServicePort{tcp("http", 80)}
	b.UpsertService(newSvc("kube-system", "kubedns", clusterIPs("10.0.0.10"), ports(service.ServicePort{Name: "dns", Protocol: service.ProtocolUDP, Port: 53})))
	b.UpsertService(newSvc("testns", "svc1", clusterIPs("10.0.0.1"), ports(http...)))
	b.UpsertService(newSvc("testns", "svcempty", clusterIPs("10.0.0.11"), ports(http...)))
	b.UpsertService(newSvc("testns", "svc6", clusterIPs("1234:abcd::1"), ports(http...)))
	b.UpsertService(newSvc("testns", "hdls1", headless()))
	b.UpsertService(newSvc("testns", "external", externalName("ext.interwebs.test"), ports(http...)))
	b.UpsertService(newSvc("testns", "external-to-service", externalName("svc1.testns.svc.cluster.local."), ports(http...)))
	b.UpsertService(newSvc("testns", "hdlsprtls", headless()))
	b.UpsertService(newSvc("testns", "svc-dual-stack", clusterIPs("10.0.0.3", "10::3"), ports(http...)))
	p80 := []endpoints.Port{eport("http", 80)}
	b.Slices(
		created(sliceOf("kube-system", "kubedns", "kubedns-1", []endpoints.Port{{Name: "dns", Protocol: service.ProtocolUDP, Port: 53}}, ep("172.0.0.100", "", true))),
		created(sliceOf("testns", "svc1", "svc1-slice1", p80, ep("172.0.0.1", "ep1a", true))),
		created(sliceOf("testns", "svcempty", "svcempty-slice1", p80)),
		created(sliceOf("testns", "hdls1", "hdls1-slice1", p80,
			ep("172.0.0.2", "", true), ep("172.0.0.3", "", true),
			ep("172.0.0.4", "dup-name", true), ep("172.0.0.5", "dup-name", true))),
		created(sliceOf("testns", "hdls1", "hdls1-slice2", p80, ep("5678:abcd::1", "", true), ep("5678:abcd::2", "", true))),
		created(sliceOf("testns", "hdlsprtls", "hdlsprtls-slice1", nil, ep("172.0.0.20", "", true))),
	)
	require.NoError(t, r.Apply(&b))
	return r
}

// TestCoreDNSVectors replays the cases of CoreDNS's TestServeDNS
// (plugin/kubernetes/handler_test.go) with TTL 5. Differences, all
// deliberate: no SOA in negative answers (no SOA is modelled), answers
// sorted.
func TestCoreDNSVectors(t *testing.T) {
	r := coreDNSWorld(t, Config{})
	tests := []struct {
		name string
		t    Type
		want string
	}{
		// A Service
		{"svc1.testns.svc.cluster.local.", TypeA, `NOERROR
			svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`},
		{"svcempty.testns.svc.cluster.local.", TypeA, `NOERROR
			svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.11`},
		{"svc1.testns.svc.cluster.local.", TypeSRV, `NOERROR
			svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local.
			;; ADDITIONAL
			svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`},
		{"svc6.testns.svc.cluster.local.", TypeSRV, `NOERROR
			svc6.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc6.testns.svc.cluster.local.
			;; ADDITIONAL
			svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1`},
		// SRV Service
		{"_http._tcp.svc1.testns.svc.cluster.local.", TypeSRV, `NOERROR
			_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local.
			;; ADDITIONAL
			svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`},
		{"_dns._udp.kubedns.kube-system.svc.cluster.local.", TypeSRV, `NOERROR
			_dns._udp.kubedns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 kubedns.kube-system.svc.cluster.local.
			;; ADDITIONAL
			kubedns.kube-system.svc.cluster.local. 5 IN A 10.0.0.10`},
		// A Service (Headless)
		{"hdls1.testns.svc.cluster.local.", TypeA, `NOERROR
			hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2
			hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3
			hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4
			hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5`},
		// A Service (Headless and Portless)
		{"hdlsprtls.testns.svc.cluster.local.", TypeA, `NOERROR
			hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20`},
		{"hdlsprtls.testns.svc.cluster.local.", TypeSRV, `NOERROR`},
		// An Endpoint with no port
		{"172-0-0-20.hdlsprtls.testns.svc.cluster.local.", TypeA, `NOERROR
			172-0-0-20.hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20`},
		// An Endpoint ip
		{"172-0-0-2.hdls1.testns.svc.cluster.local.", TypeA, `NOERROR
			172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2`},
		{"172-0-0-3.hdls1.testns.svc.cluster.local.", TypeA, `NOERROR
			172-0-0-3.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3`},
		// An Endpoint by name
		{"dup-name.hdls1.testns.svc.cluster.local.", TypeA, `NOERROR
			dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4
			dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5`},
		// An endpoint of a ClusterIP Service
		{"ep1a.svc1.testns.svc.cluster.local.", TypeA, `NOERROR
			ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1`},
		// SRV Service (Headless): 6 addresses, 5 targets, weight 100/6
		{"_http._tcp.hdls1.testns.svc.cluster.local.", TypeSRV, `NOERROR
			_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-2.hdls1.testns.svc.cluster.local.
			_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-3.hdls1.testns.svc.cluster.local.
			_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--1.hdls1.testns.svc.cluster.local.
			_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--2.hdls1.testns.svc.cluster.local.
			_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 dup-name.hdls1.testns.svc.cluster.local.
			;; ADDITIONAL
			172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2
			172-0-0-3.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3
			5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1
			5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2
			dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4
			dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5`},
		// AAAA
		{"5678-abcd--2.hdls1.testns.svc.cluster.local", TypeAAAA, `NOERROR
			5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2`},
		// CNAME External
		{"external.testns.svc.cluster.local.", TypeCNAME, `NOERROR
			external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.`},
		{"external.testns.svc.cluster.local.", TypeA, `NOERROR
			external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.`},
		{"external.testns.svc.cluster.local.", TypeSRV, `NOERROR`},
		{"_http._tcp.external.testns.svc.cluster.local.", TypeSRV, `NXDOMAIN`},
		// CNAME External To Internal Service
		{"external-to-service.testns.svc.cluster.local", TypeA, `NOERROR
			external-to-service.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.
			svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`},
		// AAAA Service (with an existing A record, but no AAAA record)
		{"svc1.testns.svc.cluster.local.", TypeAAAA, `NOERROR`},
		// AAAA / A Service (non-existing service)
		{"svc0.testns.svc.cluster.local.", TypeAAAA, `NXDOMAIN`},
		{"svc0.testns.svc.cluster.local.", TypeA, `NXDOMAIN`},
		// A Service (non-existing namespace)
		{"svc0.svc-nons.svc.cluster.local.", TypeA, `NXDOMAIN`},
		// TXT Schema
		{"dns-version.cluster.local.", TypeTXT, `NOERROR
			dns-version.cluster.local. 28800 IN TXT "1.1.0"`},
		// A Service (Headless) does not exist
		{"bogusendpoint.hdls1.testns.svc.cluster.local.", TypeA, `NXDOMAIN`},
		// A Service does not exist
		{"bogusendpoint.svc0.testns.svc.cluster.local.", TypeA, `NXDOMAIN`},
		// AAAA Service
		{"svc6.testns.svc.cluster.local.", TypeAAAA, `NOERROR
			svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1`},
		{"_http._tcp.svc6.testns.svc.cluster.local.", TypeSRV, `NOERROR
			_http._tcp.svc6.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc6.testns.svc.cluster.local.
			;; ADDITIONAL
			svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1`},
		// AAAA Service (Headless)
		{"hdls1.testns.svc.cluster.local.", TypeAAAA, `NOERROR
			hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1
			hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2`},
		// AAAA Endpoint
		{"5678-abcd--1.hdls1.testns.svc.cluster.local.", TypeAAAA, `NOERROR
			5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1`},
		// Structural names: NODATA
		{"svc.cluster.local.", TypeA, `NOERROR`},
		{"pod.cluster.local.", TypeA, `NOERROR`},
		{"testns.svc.cluster.local.", TypeA, `NOERROR`},
		{"svc.cluster.local.", TypeNS, `NOERROR`},
		{"testns.svc.cluster.local.", TypeNS, `NOERROR`},
		{"cluster.local.", TypeA, `NOERROR`},
		{"foo.cluster.local.", TypeNS, `NXDOMAIN`},
		{"foo.svc.cluster.local.", TypeNS, `NXDOMAIN`},
		// Dual Stack ClusterIP Services
		{"svc-dual-stack.testns.svc.cluster.local.", TypeA, `NOERROR
			svc-dual-stack.testns.svc.cluster.local. 5 IN A 10.0.0.3`},
		{"svc-dual-stack.testns.svc.cluster.local.", TypeAAAA, `NOERROR
			svc-dual-stack.testns.svc.cluster.local. 5 IN AAAA 10::3`},
		{"svc-dual-stack.testns.svc.cluster.local.", TypeSRV, `NOERROR
			svc-dual-stack.testns.svc.cluster.local. 5 IN SRV 0 50 80 svc-dual-stack.testns.svc.cluster.local.
			;; ADDITIONAL
			svc-dual-stack.testns.svc.cluster.local. 5 IN A 10.0.0.3
			svc-dual-stack.testns.svc.cluster.local. 5 IN AAAA 10::3`},
		{"svc1.testns.svc.cluster.local.", TypeSOA, `NOERROR`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.t.String(), func(t *testing.T) { expect(t, r, tt.name, tt.t, tt.want) })
	}
}

func TestPTR(t *testing.T) {
	r := coreDNSWorld(t, Config{})
	ptr := func(ip string) string { return PTRName(netip.MustParseAddr(ip)) }
	expect(t, r, ptr("10.0.0.3"), TypePTR, `NOERROR
		3.0.0.10.in-addr.arpa. 5 IN PTR svc-dual-stack.testns.svc.cluster.local.`)
	expect(t, r, ptr("10::3"), TypePTR, `NOERROR
		3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.ip6.arpa. 5 IN PTR svc-dual-stack.testns.svc.cluster.local.`)
	expect(t, r, ptr("172.0.0.2"), TypePTR, `NOERROR
		2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.hdls1.testns.svc.cluster.local.`)
	expect(t, r, ptr("172.0.0.4"), TypePTR, `NOERROR
		4.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.svc.cluster.local.`)
	expect(t, r, ptr("172.0.0.1"), TypePTR, `NOERROR
		1.0.0.172.in-addr.arpa. 5 IN PTR ep1a.svc1.testns.svc.cluster.local.`)
	expect(t, r, ptr("5678:abcd::1"), TypePTR, `NOERROR
		1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa. 5 IN PTR 5678-abcd--1.hdls1.testns.svc.cluster.local.`)
	// Upper case and no trailing dot.
	expect(t, r, "3.0.0.10.IN-ADDR.ARPA", TypePTR, `NOERROR
		3.0.0.10.in-addr.arpa. 5 IN PTR svc-dual-stack.testns.svc.cluster.local.`)
	// An address known, another type: NXDOMAIN, as CoreDNS. Unknown:
	// NXDOMAIN.
	expect(t, r, ptr("10.0.0.3"), TypeA, `NXDOMAIN`)
	expect(t, r, ptr("10.9.9.9"), TypePTR, `NXDOMAIN`)
	expect(t, r, "0.0.10.in-addr.arpa.", TypePTR, `NXDOMAIN`)

	// A pod behind two Services has a PTR for each; a ClusterIP wins
	// over endpoints.
	require.NoError(t, r.UpsertService(newSvc("testns", "svc2", clusterIPs("10.0.0.2"), ports(tcp("http", 80)))))
	require.NoError(t, r.ApplySlices([]endpoints.Change{created(sliceOf("testns", "svc2", "svc2-1", []endpoints.Port{eport("http", 80)}, ep("172.0.0.2", "", true)))}))
	expect(t, r, ptr("172.0.0.2"), TypePTR, `NOERROR
		2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.hdls1.testns.svc.cluster.local.
		2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.svc2.testns.svc.cluster.local.`)
}

func TestUpstream(t *testing.T) {
	var asked []string
	up := func(name string, qtype Type) Response {
		asked = append(asked, name+" "+qtype.String())
		if strings.EqualFold(name, "ext.interwebs.test.") && qtype == TypeA {
			return Response{Answer: []Record{{Name: "ext.interwebs.test.", Type: TypeA, TTL: 300, Addr: netip.MustParseAddr("1.2.3.4")}}}
		}
		return Response{Rcode: RcodeNXDomain}
	}
	r := coreDNSWorld(t, Config{Upstream: up})
	// CNAME External, followed upstream.
	expect(t, r, "external.testns.svc.cluster.local.", TypeA, `NOERROR
		external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.
		ext.interwebs.test. 300 IN A 1.2.3.4`)
	expect(t, r, "example.org", TypeA, `NXDOMAIN`)
	expect(t, r, "9.9.9.10.in-addr.arpa.", TypePTR, `NXDOMAIN`)
	require.Equal(t, []string{"ext.interwebs.test. A", "example.org A", "9.9.9.10.in-addr.arpa. PTR"}, asked)

	// Without an upstream, names elsewhere are refused.
	r = coreDNSWorld(t, Config{})
	expect(t, r, "example.org", TypeA, `REFUSED`)
	expect(t, r, ".", TypeNS, `REFUSED`)
}

func TestResolveNames(t *testing.T) {
	r := coreDNSWorld(t, Config{})
	// Case-insensitive; canonical record names.
	expect(t, r, "SVC1.TestNS.svc.Cluster.Local", TypeA, `NOERROR
		svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`)
	expect(t, r, "_HTTP._Tcp.svc1.testns.svc.cluster.local", TypeSRV, `NOERROR
		_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local.
		;; ADDITIONAL
		svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`)
	// Wrong protocol or unknown port name: NXDOMAIN. CoreDNS removed wildcards.
	expect(t, r, "_http._udp.svc1.testns.svc.cluster.local", TypeSRV, `NXDOMAIN`)
	expect(t, r, "_https._tcp.svc1.testns.svc.cluster.local", TypeSRV, `NXDOMAIN`)
	expect(t, r, "*.testns.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "_http._tcp.*.testns.svc.cluster.local", TypeSRV, `NXDOMAIN`)
	expect(t, r, "any.testns.svc.cluster.local", TypeA, `NXDOMAIN`)
	// A on a port name gives the Service's addresses, as CoreDNS.
	expect(t, r, "_http._tcp.svc1.testns.svc.cluster.local", TypeA, `NOERROR
		_http._tcp.svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`)
	// dns-version exists: other types are NODATA.
	expect(t, r, "dns-version.cluster.local", TypeA, `NOERROR`)
	// Malformed names.
	expect(t, r, "a..b.svc.cluster.local", TypeA, `FORMERR`)
	expect(t, r, strings.Repeat("a", 64)+".testns.svc.cluster.local", TypeA, `FORMERR`)
	expect(t, r, "", TypeA, `FORMERR`)
	expect(t, r, strings.Repeat("a.", 127)+"cluster.local", TypeA, `FORMERR`)
}

func TestClusterIPUnallocatedAndPortless(t *testing.T) {
	r := NewResolver(Config{})
	require.NoError(t, r.UpsertService(newSvc("default", "pending")))
	require.NoError(t, r.UpsertService(newSvc("default", "bare", clusterIPs("10.96.0.5"))))
	expect(t, r, "pending.default.svc.cluster.local", TypeA, `NOERROR`)
	expect(t, r, "bare.default.svc.cluster.local", TypeA, `NOERROR
		bare.default.svc.cluster.local. 5 IN A 10.96.0.5`)
	expect(t, r, "bare.default.svc.cluster.local", TypeSRV, `NOERROR`)
	// An unnamed port has no SRV name, but the Service name's SRV lists it.
	require.NoError(t, r.UpsertService(newSvc("default", "one", clusterIPs("10.96.0.6"), ports(service.ServicePort{Port: 8080}))))
	expect(t, r, "one.default.svc.cluster.local", TypeSRV, `NOERROR
		one.default.svc.cluster.local. 5 IN SRV 0 100 8080 one.default.svc.cluster.local.
		;; ADDITIONAL
		one.default.svc.cluster.local. 5 IN A 10.96.0.6`)
}

func TestHeadless(t *testing.T) {
	r := NewResolver(Config{})
	require.NoError(t, r.UpsertService(newSvc("db", "pg", headless(), ports(tcp("pg", 5432)))))
	// No ready endpoint: NXDOMAIN for every name of the Service (spec §2.4.1).
	expect(t, r, "pg.db.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "_pg._tcp.pg.db.svc.cluster.local", TypeSRV, `NXDOMAIN`)
	expect(t, r, "db.svc.cluster.local", TypeA, `NOERROR`)

	ps := []endpoints.Port{eport("pg", 5432)}
	s1 := sliceOf("db", "pg", "pg-abc", ps, ep("10.1.0.5", "", false), ep("10.1.0.6", "", true))
	require.NoError(t, r.ApplySlices([]endpoints.Change{created(s1)}))
	expect(t, r, "pg.db.svc.cluster.local", TypeA, `NOERROR
		pg.db.svc.cluster.local. 5 IN A 10.1.0.6`)
	expect(t, r, "10-1-0-5.pg.db.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "_pg._tcp.pg.db.svc.cluster.local", TypeSRV, `NOERROR
		_pg._tcp.pg.db.svc.cluster.local. 5 IN SRV 0 100 5432 10-1-0-6.pg.db.svc.cluster.local.
		;; ADDITIONAL
		10-1-0-6.pg.db.svc.cluster.local. 5 IN A 10.1.0.6`)

	// publishNotReadyAddresses: not-ready endpoints are published too.
	require.NoError(t, r.UpsertService(newSvc("db", "pg", headless(), ports(tcp("pg", 5432)), publishNotReady())))
	expect(t, r, "pg.db.svc.cluster.local", TypeA, `NOERROR
		pg.db.svc.cluster.local. 5 IN A 10.1.0.5
		pg.db.svc.cluster.local. 5 IN A 10.1.0.6`)

	// The slice goes: NXDOMAIN again, PTRs gone.
	require.NoError(t, r.ApplySlices([]endpoints.Change{deleted(s1)}))
	expect(t, r, "pg.db.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "6.0.1.10.in-addr.arpa", TypePTR, `NXDOMAIN`)
}

// TestStatefulSet checks the stable names of StatefulSet pods: pods with
// spec.hostname web-N and spec.subdomain web behind the headless Service
// web (spec §2.4; the endpoints controller sets the endpoint hostname).
func TestStatefulSet(t *testing.T) {
	r := NewResolver(Config{})
	require.NoError(t, r.UpsertService(newSvc("shop", "web", headless(), ports(tcp("http", 80), tcp("metrics", 9090)))))
	ps := []endpoints.Port{eport("http", 8080), eport("metrics", 9090)}
	v4 := sliceOf("shop", "web", "web-v4", ps, ep("10.244.1.10", "web-0", true), ep("10.244.2.11", "web-1", true))
	v6 := sliceOf("shop", "web", "web-v6", ps, ep("fd00::a", "web-0", true), ep("fd00::b", "web-1", true))
	require.NoError(t, r.ApplySlices([]endpoints.Change{created(v4), created(v6)}))

	expect(t, r, "web-0.web.shop.svc.cluster.local", TypeA, `NOERROR
		web-0.web.shop.svc.cluster.local. 5 IN A 10.244.1.10`)
	expect(t, r, "web-0.web.shop.svc.cluster.local", TypeAAAA, `NOERROR
		web-0.web.shop.svc.cluster.local. 5 IN AAAA fd00::a`)
	expect(t, r, "_http._tcp.web.shop.svc.cluster.local", TypeSRV, `NOERROR
		_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 25 8080 web-0.web.shop.svc.cluster.local.
		_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 25 8080 web-1.web.shop.svc.cluster.local.
		;; ADDITIONAL
		web-0.web.shop.svc.cluster.local. 5 IN A 10.244.1.10
		web-0.web.shop.svc.cluster.local. 5 IN AAAA fd00::a
		web-1.web.shop.svc.cluster.local. 5 IN A 10.244.2.11
		web-1.web.shop.svc.cluster.local. 5 IN AAAA fd00::b`)
	expect(t, r, "10.1.244.10.in-addr.arpa", TypePTR, `NOERROR
		10.1.244.10.in-addr.arpa. 5 IN PTR web-0.web.shop.svc.cluster.local.`)
	expect(t, r, PTRName(netip.MustParseAddr("fd00::b")), TypePTR, `NOERROR
		b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR web-1.web.shop.svc.cluster.local.`)
	// SRV on an endpoint name: its own ports.
	expect(t, r, "web-1.web.shop.svc.cluster.local", TypeSRV, `NOERROR
		web-1.web.shop.svc.cluster.local. 5 IN SRV 0 25 8080 web-1.web.shop.svc.cluster.local.
		web-1.web.shop.svc.cluster.local. 5 IN SRV 0 25 9090 web-1.web.shop.svc.cluster.local.
		;; ADDITIONAL
		web-1.web.shop.svc.cluster.local. 5 IN A 10.244.2.11
		web-1.web.shop.svc.cluster.local. 5 IN AAAA fd00::b`)

	// web-1 becomes unready in the v4 slice.
	v4b := sliceOf("shop", "web", "web-v4", ps, ep("10.244.1.10", "web-0", true), ep("10.244.2.11", "web-1", false))
	require.NoError(t, r.ApplySlices([]endpoints.Change{updated(v4, v4b)}))
	expect(t, r, "web-1.web.shop.svc.cluster.local", TypeA, `NOERROR`)
	expect(t, r, "web.shop.svc.cluster.local", TypeA, `NOERROR
		web.shop.svc.cluster.local. 5 IN A 10.244.1.10`)
	expect(t, r, "11.2.244.10.in-addr.arpa", TypePTR, `NXDOMAIN`)
}

func TestPodModes(t *testing.T) {
	pod := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "podns", Name: "foo"},
		Status: service.PodStatus{PodIPs: []service.PodIP{{IP: "10.240.0.1"}, {IP: "fd00::1"}}}}
	setup := func(m PodMode) *Resolver {
		r := NewResolver(Config{Pods: m})
		require.NoError(t, r.UpsertPod(pod))
		return r
	}
	// CoreDNS handler_pod_disabled_test.go: NXDOMAIN.
	r := setup(PodsDisabled)
	expect(t, r, "10-240-0-1.podns.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "podns.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "pod.cluster.local", TypeA, `NOERROR`)

	// handler_pod_insecure_test.go: any address in an existing namespace.
	r = setup(PodsInsecure)
	expect(t, r, "10-240-0-1.podns.pod.cluster.local", TypeA, `NOERROR
		10-240-0-1.podns.pod.cluster.local. 5 IN A 10.240.0.1`)
	expect(t, r, "172-0-0-2.podns.pod.cluster.local", TypeA, `NOERROR
		172-0-0-2.podns.pod.cluster.local. 5 IN A 172.0.0.2`)
	expect(t, r, "FD00--2.podns.pod.cluster.local", TypeAAAA, `NOERROR
		fd00--2.podns.pod.cluster.local. 5 IN AAAA fd00::2`)
	expect(t, r, "10-240-0-1.podns.pod.cluster.local", TypeAAAA, `NOERROR`)
	expect(t, r, "podns.pod.cluster.local", TypeA, `NOERROR`)
	expect(t, r, "10-240-0-1.nsnoexist.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "nsnoexist.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "blah.podns.pod.cluster.local", TypeA, `NXDOMAIN`)

	// handler_pod_verified_test.go: only a pod's own addresses.
	r = setup(PodsVerified)
	expect(t, r, "10-240-0-1.podns.pod.cluster.local", TypeA, `NOERROR
		10-240-0-1.podns.pod.cluster.local. 5 IN A 10.240.0.1`)
	expect(t, r, "fd00--1.podns.pod.cluster.local", TypeAAAA, `NOERROR
		fd00--1.podns.pod.cluster.local. 5 IN AAAA fd00::1`)
	expect(t, r, "172-0-0-2.podns.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "10-240-0-1.otherns.pod.cluster.local", TypeA, `NXDOMAIN`)
	require.NoError(t, r.DeletePod(keyOf("podns", "foo")))
	expect(t, r, "10-240-0-1.podns.pod.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "podns.pod.cluster.local", TypeA, `NXDOMAIN`)
}

func TestNamespaces(t *testing.T) {
	r := NewResolver(Config{})
	expect(t, r, "team.svc.cluster.local", TypeA, `NXDOMAIN`)
	require.NoError(t, r.UpsertService(newSvc("team", "a", clusterIPs("10.96.1.1"))))
	expect(t, r, "team.svc.cluster.local", TypeA, `NOERROR`)
	require.NoError(t, r.DeleteService(keyOf("team", "a")))
	expect(t, r, "team.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "a.team.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "1.1.96.10.in-addr.arpa", TypePTR, `NXDOMAIN`)

	var b Batch
	b.UpsertNamespace("team")
	require.NoError(t, r.Apply(&b))
	expect(t, r, "team.svc.cluster.local", TypeA, `NOERROR`)
	b = Batch{}
	b.DeleteNamespace("team")
	require.NoError(t, r.Apply(&b))
	expect(t, r, "team.svc.cluster.local", TypeA, `NXDOMAIN`)
}

func TestSlicesBeforeService(t *testing.T) {
	r := NewResolver(Config{})
	s := sliceOf("default", "late", "late-1", []endpoints.Port{eport("http", 80)}, ep("10.1.1.1", "", true))
	require.NoError(t, r.ApplySlices([]endpoints.Change{created(s)}))
	expect(t, r, "late.default.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "1.1.1.10.in-addr.arpa", TypePTR, `NXDOMAIN`)
	require.NoError(t, r.UpsertService(newSvc("default", "late", headless())))
	expect(t, r, "late.default.svc.cluster.local", TypeA, `NOERROR
		late.default.svc.cluster.local. 5 IN A 10.1.1.1`)
	// Headless becomes ExternalName: endpoint names disappear.
	require.NoError(t, r.UpsertService(newSvc("default", "late", externalName("db.example.com."))))
	expect(t, r, "late.default.svc.cluster.local", TypeCNAME, `NOERROR
		late.default.svc.cluster.local. 5 IN CNAME db.example.com.`)
	expect(t, r, "10-1-1-1.late.default.svc.cluster.local", TypeA, `NXDOMAIN`)
	expect(t, r, "1.1.1.10.in-addr.arpa", TypePTR, `NXDOMAIN`)
	// An externalName that is an IP address gets no record, as in CoreDNS.
	require.NoError(t, r.UpsertService(newSvc("default", "late", externalName("10.0.0.9"))))
	expect(t, r, "late.default.svc.cluster.local", TypeA, `NXDOMAIN`)
}

func TestConfig(t *testing.T) {
	ttl := uint32(30)
	r := NewResolver(Config{Zone: "K8s.Example.ORG.", TTL: &ttl})
	require.Equal(t, "k8s.example.org", r.Zone())
	require.NoError(t, r.UpsertService(newSvc("default", "web", clusterIPs("10.96.0.7"))))
	expect(t, r, "web.default.svc.k8s.example.org", TypeA, `NOERROR
		web.default.svc.k8s.example.org. 30 IN A 10.96.0.7`)
	expect(t, r, "web.default.svc.cluster.local", TypeA, `REFUSED`)
	expect(t, r, "dns-version.k8s.example.org", TypeTXT, `NOERROR
		dns-version.k8s.example.org. 28800 IN TXT "1.1.0"`)

	zero := uint32(0)
	r = NewResolver(Config{TTL: &zero})
	require.NoError(t, r.UpsertService(newSvc("default", "web", clusterIPs("10.96.0.7"))))
	expect(t, r, "web.default.svc.cluster.local", TypeA, `NOERROR
		web.default.svc.cluster.local. 0 IN A 10.96.0.7`)

	big := uint32(3601)
	err := Config{TTL: &big}.Validate()
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.EqualError(t, err, "dnsname: invalid config: ttl 3601 is out of range 0-3600")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, ConfigError{Field: "ttl", Value: "3601", Rule: "is out of range 0-3600"}, *ce)
	zerr := Config{Zone: "bad_zone"}.Validate()
	require.ErrorIs(t, zerr, ErrInvalidConfig)
	require.ErrorIs(t, zerr, ErrInvalidName)
	require.ErrorContains(t, zerr, `dnsname: invalid config: zone "bad_zone" is not a valid DNS-1123 subdomain`)
	require.EqualError(t, Config{Pods: 7}.Validate(), "dnsname: invalid config: pods 7 is not a pod mode")
	got, nerr := New(Config{TTL: &big})
	require.Nil(t, got)
	require.Equal(t, err, nerr)
	require.PanicsWithError(t, "dnsname: invalid config: ttl 3601 is out of range 0-3600", func() { NewResolver(Config{TTL: &big}) })
}

func TestApplyErrors(t *testing.T) {
	r := NewResolver(Config{})
	gen := r.Generation()
	var b Batch
	b.UpsertService(newSvc("default", "ok", clusterIPs("10.96.0.1")))
	b.UpsertService(newSvc("default", "Bad_Name", clusterIPs("10.96.0.2")))
	b.UpsertService(newSvc("default", "badip", clusterIPs("10.96.0.300")))
	b.UpsertService(newSvc("default", "badport", ports(tcp("HTTP", 80))))
	b.UpsertService(newSvc("default", "badproto", ports(service.ServicePort{Name: "q", Protocol: "QUIC", Port: 443})))
	b.UpsertService(newSvc("default", "badext", externalName("not a name")))
	b.Slices(endpoints.Change{Kind: endpoints.Created, Service: keyOf("default", "ok")})
	b.Slices(created(sliceOf("default", "ok", "ok-1", nil, ep("10.1.1.1", "Not_A_Host", true))))
	b.Slices(created(sliceOf("default", "ok", "ok-2", nil, ep("10.1.1.2", "", true), nil)))
	b.UpsertPod(&service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "default", Name: "p"}, Status: service.PodStatus{PodIP: "nope"}})
	b.UpsertNamespace("Bad")
	err := r.Apply(&b)
	require.ErrorIs(t, err, ErrInvalidObject)
	for _, want := range []string{`"default/Bad_Name"`, `"10.96.0.300"`, `"HTTP"`, `"QUIC"`, `"not a name"`, "without its slice", `"Not_A_Host"`, `"default/ok-2": endpoints[1]: null`, `"nope"`, `"Bad"`} {
		require.ErrorContains(t, err, want)
	}
	require.Equal(t, gen, r.Generation(), "nothing applied")
	expect(t, r, "ok.default.svc.cluster.local", TypeA, `NXDOMAIN`)
	require.NoError(t, r.Apply(nil))
	require.NoError(t, r.Apply(&Batch{}))
	require.Equal(t, gen, r.Generation())
}

// TestResolveBytes checks that ResolveBytes answers as Resolve for names
// of every kind and asks the Upstream the same, and does not keep the
// bytes: the buffer is overwritten after each call, and the answers (and
// the names the Upstream was given) stay as they were.
func TestResolveBytes(t *testing.T) {
	var asked []string
	up := func(name string, qtype Type) Response {
		asked = append(asked, name)
		return Response{Rcode: RcodeNXDomain}
	}
	r := coreDNSWorld(t, Config{Upstream: up, Pods: PodsInsecure})
	names := []string{
		"svc1.testns.svc.cluster.local.", "SVC1.TestNS.svc.cluster.local", "_http._tcp.svc1.testns.svc.cluster.local.",
		"hdls1.testns.svc.cluster.local.", "external.testns.svc.cluster.local.", "nope.testns.svc.cluster.local.",
		"testns.svc.cluster.local.", "cluster.local.", "1-2-3-4.testns.pod.cluster.local.", "dns-version.cluster.local.",
		"3.0.0.10.in-addr.arpa.", "Example.ORG", ".", "a..b.cluster.local.", "",
	}
	buf := make([]byte, 0, 300)
	for _, name := range names {
		for _, qt := range []Type{TypeA, TypeAAAA, TypeSRV, TypePTR, TypeTXT, TypeCNAME} {
			asked = nil
			want := r.Resolve(name, qt).String()
			wantAsked := asked
			asked = nil
			buf = append(buf[:0], name...)
			got := r.ResolveBytes(buf, qt)
			for i := range buf {
				buf[i] = 'x'
			}
			require.Equal(t, want, got.String(), "%q %s", name, qt)
			require.Equal(t, wantAsked, asked, "%q %s: the Upstream's questions", name, qt)
		}
	}
	// ResolveInto, with a reused Scratch, answers without allocating.
	var sc Scratch
	q := []byte("svc1.testns.svc.cluster.local.")
	require.Zero(t, testing.AllocsPerRun(100, func() { r.ResolveInto(&sc, q, TypeA) }))
	require.Equal(t, r.Resolve(string(q), TypeA).String(), r.ResolveInto(&sc, q, TypeA).String())
}
