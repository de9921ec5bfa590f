package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/dnsname"
)

// TestFastPathMatches checks the fast path against the miekg/dns path:
// for any query the fast path takes, both give the same message.
func TestFastPathMatches(t *testing.T) {
	srv, err := New(Config{Resolver: testCluster(t, dnsname.Config{Pods: dnsname.PodsInsecure}), NSAddrs: []netip.Addr{netip.MustParseAddr("10.96.0.53")}})
	require.NoError(t, err)
	names := []string{
		"web.default.svc.cluster.local.", "db.default.svc.cluster.local.", "ext.default.svc.cluster.local.",
		"_http._tcp.web.default.svc.cluster.local.", "_http._tcp.db.default.svc.cluster.local.", "nope.default.svc.cluster.local.",
		"default.svc.cluster.local.", "cluster.local.", "dns-version.cluster.local.", "10.0.96.10.in-addr.arpa.",
		"1.1.244.10.in-addr.arpa.", "9.9.9.9.in-addr.arpa.", "in-addr.arpa.", "10-244-0-9.default.pod.cluster.local.",
		"ns.dns.cluster.local.", "big.default.svc.cluster.local.", "example.org.", "_http._tcp.big.default.svc.cluster.local.",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypeSOA}
	fast := 0
	rapid.Check(t, func(t *rapid.T) {
		name := []byte(rapid.SampledFrom(names).Draw(t, "name"))
		for i, up := range rapid.SliceOfN(rapid.Bool(), len(name), len(name)).Draw(t, "case") {
			if up && name[i] >= 'a' && name[i] <= 'z' {
				name[i] -= 'a' - 'A'
			}
		}
		q := new(dns.Msg)
		q.SetQuestion(string(name), rapid.SampledFrom(types).Draw(t, "type"))
		q.Id = rapid.Uint16().Draw(t, "id")
		q.RecursionDesired = rapid.Bool().Draw(t, "rd")
		q.CheckingDisabled = rapid.Bool().Draw(t, "cd")
		if rapid.Bool().Draw(t, "edns") {
			q.SetEdns0(rapid.Uint16Range(0, 4096).Draw(t, "size"), rapid.Bool().Draw(t, "do"))
		}
		b, err := q.Pack()
		require.NoError(t, err)
		var fq fastQuery
		ok := parseFast(&fq, b)
		if !ok {
			t.Fatalf("fast path refuses a plain query %v", q)
		}
		out, _, ok := srv.fastAnswer(nil, b, &fq)
		if !ok {
			return
		}
		fast++
		slow := srv.answerWire(b, netip.MustParseAddr("10.244.0.9"), true)
		var got dns.Msg
		require.NoError(t, got.Unpack(out))
		wantB, err := slow.Pack()
		require.NoError(t, err)
		var want dns.Msg
		require.NoError(t, want.Unpack(wantB))
		require.Equal(t, want.String(), got.String())
	})
	require.Positive(t, fast)
}

// TestAnswerAllocs bounds the allocations of the UDP server path for a
// ClusterIP A query: one, the question name handed to the resolver.
func TestAnswerAllocs(t *testing.T) {
	srv, err := New(Config{Resolver: testCluster(t, dnsname.Config{})})
	require.NoError(t, err)
	q := query("web.default.svc.cluster.local.", dns.TypeA, true)
	buf := make([]byte, 0, 4096)
	client := netip.MustParseAddr("10.244.0.9")
	allocs := testing.AllocsPerRun(100, func() { buf = srv.AppendAnswer(buf[:0], q, client, true) })
	require.LessOrEqual(t, allocs, 1.0)
}
