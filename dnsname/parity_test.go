package dnsname

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// TestCoreDNSParity checks the answers where svcnet once differed from
// CoreDNS's kubernetes plugin (v1.14, plugin/kubernetes/handler.go,
// kubernetes.go and plugin/backend_lookup.go), one case per behaviour.
func TestCoreDNSParity(t *testing.T) {
	pod := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: "testns", Name: "p"},
		Status: service.PodStatus{PodIPs: []service.PodIP{{IP: "10.240.0.1"}, {IP: "fd00::1"}}}}
	for _, mode := range []PodMode{PodsInsecure, PodsVerified} {
		t.Run("pod SRV "+mode.String(), func(t *testing.T) {
			r := coreDNSWorld(t, Config{Pods: mode})
			require.NoError(t, r.UpsertPod(pod))
			// SRV 0 100 0 <podname>, the address as additional.
			expect(t, r, "10-240-0-1.TestNS.pod.cluster.local.", TypeSRV, `NOERROR
				10-240-0-1.testns.pod.cluster.local. 5 IN SRV 0 100 0 10-240-0-1.testns.pod.cluster.local.
				;; ADDITIONAL
				10-240-0-1.testns.pod.cluster.local. 5 IN A 10.240.0.1`)
			expect(t, r, "fd00--1.testns.pod.cluster.local.", TypeSRV, `NOERROR
				fd00--1.testns.pod.cluster.local. 5 IN SRV 0 100 0 fd00--1.testns.pod.cluster.local.
				;; ADDITIONAL
				fd00--1.testns.pod.cluster.local. 5 IN AAAA fd00::1`)
			// Other types stay NODATA; unknown pods stay NXDOMAIN.
			expect(t, r, "10-240-0-1.testns.pod.cluster.local.", TypeTXT, `NOERROR`)
			expect(t, r, "10-240-0-1.nope.pod.cluster.local.", TypeSRV, `NXDOMAIN`)
		})
	}

	r := coreDNSWorld(t, Config{})
	// TXT of an ExternalName: NODATA, the CNAME not chased.
	expect(t, r, "external-to-service.testns.svc.cluster.local.", TypeTXT, `NOERROR`)
	expect(t, r, "external.testns.svc.cluster.local.", TypeTXT, `NOERROR`)
	// A and AAAA still chase it.
	expect(t, r, "external-to-service.testns.svc.cluster.local.", TypeA, `NOERROR
		external-to-service.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.
		svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1`)

	// A reverse name that exists: PTR only; the other types NXDOMAIN.
	expect(t, r, "1.0.0.10.in-addr.arpa.", TypePTR, `NOERROR
		1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local.`)
	for _, q := range []Type{TypeA, TypeAAAA, TypeTXT, TypeSRV, TypeMX} {
		expect(t, r, "1.0.0.10.in-addr.arpa.", q, `NXDOMAIN`)
	}
	// The reverse zones' apexes: NODATA for every type.
	for _, n := range []string{"in-addr.arpa.", "IP6.ARPA"} {
		for _, q := range []Type{TypeA, TypePTR, TypeNS} {
			expect(t, r, n, q, `NOERROR`)
		}
		expect(t, r, n, TypeTXT, `NXDOMAIN`)
	}

	// Zone transfers: refused, in the zone and in the reverse zones.
	for _, n := range []string{"cluster.local.", "svc1.testns.svc.cluster.local.", "nope.cluster.local.", "in-addr.arpa.", "1.0.0.10.in-addr.arpa."} {
		expect(t, r, n, TypeAXFR, `REFUSED`)
		expect(t, r, n, TypeIXFR, `REFUSED`)
	}

	// TXT on names that exist with no record at all: NXDOMAIN (CoreDNS);
	// on names with records of other types: NODATA.
	for _, n := range []string{"cluster.local.", "svc.cluster.local.", "testns.svc.cluster.local."} {
		expect(t, r, n, TypeTXT, `NXDOMAIN`)
		expect(t, r, n, TypeA, `NOERROR`)
	}
	for _, n := range []string{"svc1.testns.svc.cluster.local.", "hdls1.testns.svc.cluster.local.", "_http._tcp.svc1.testns.svc.cluster.local.", "ep1a.svc1.testns.svc.cluster.local."} {
		expect(t, r, n, TypeTXT, `NOERROR`)
	}
}
