package dnsserver

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// benchCluster is 10 000 Services in 100 namespaces, every tenth
// headless, each with five endpoints (50 000).
func benchCluster(b *testing.B) *dnsname.Resolver {
	r := dnsname.NewResolver(dnsname.Config{})
	var batch dnsname.Batch
	var ch []endpoints.Change
	http := []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}
	for i := range 10000 {
		ns, name := fmt.Sprintf("ns-%d", i/100), fmt.Sprintf("svc-%d", i)
		ip := []string{fmt.Sprintf("10.%d.%d.%d", 96+i>>16, (i>>8)&0xff, i&0xff)}
		if i%10 == 0 {
			ip = []string{service.ClusterIPNone}
		}
		batch.UpsertService(svc(ns, name, ip, tcpPort("http", 80)))
		var addrs []string
		for j := range 5 {
			k := i*5 + j
			addrs = append(addrs, fmt.Sprintf("10.%d.%d.%d", 128+k>>16, (k>>8)&0xff, k&0xff))
		}
		ch = append(ch, created(slice(ns, name, name+"-1", http, addrs...)))
	}
	batch.Slices(ch...)
	if err := r.Apply(&batch); err != nil {
		b.Fatal(err)
	}
	return r
}

func query(name string, qtype uint16, edns bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	b, _ := m.Pack()
	return b
}

// BenchmarkAnswer is the server path of one UDP query, from the packet
// read to the packet to write, into a buffer reused as the UDP readers
// do: what each query costs besides the system calls. The fast path's
// queries (all of these) allocate nothing.
func BenchmarkAnswer(b *testing.B) {
	srv, err := New(Config{Resolver: benchCluster(b)})
	if err != nil {
		b.Fatal(err)
	}
	client := netip.MustParseAddr("10.128.0.1")
	for _, c := range []struct {
		name string
		q    []byte
	}{
		{"A", query("svc-1234.ns-12.svc.cluster.local.", dns.TypeA, false)},
		{"A-edns", query("svc-1234.ns-12.svc.cluster.local.", dns.TypeA, true)},
		{"AAAA-nodata", query("svc-1234.ns-12.svc.cluster.local.", dns.TypeAAAA, false)},
		{"SRV", query("_http._tcp.svc-1234.ns-12.svc.cluster.local.", dns.TypeSRV, false)},
		{"PTR", query("210.4.96.10.in-addr.arpa.", dns.TypePTR, false)},
		{"NXDOMAIN", query("nope.ns-12.svc.cluster.local.", dns.TypeA, false)},
		{"headless-A", query("svc-1230.ns-12.svc.cluster.local.", dns.TypeA, false)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				if buf = srv.AppendAnswer(buf[:0], c.q, client, true); buf == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
}

// BenchmarkAnswerSpread is BenchmarkAnswer's A query over 9 000
// ClusterIP Services in turn, as a server's load spreads, so that the
// snapshot's tables are mostly out of the cache.
func BenchmarkAnswerSpread(b *testing.B) {
	srv, err := New(Config{Resolver: benchCluster(b)})
	if err != nil {
		b.Fatal(err)
	}
	client := netip.MustParseAddr("10.128.0.1")
	var qs [][]byte
	for i := range 10000 {
		if i%10 != 0 {
			qs = append(qs, query(fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local.", (i*7919)%10000|1, ((i*7919)%10000|1)/100), dns.TypeA, false))
		}
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if buf = srv.AppendAnswer(buf[:0], qs[i%len(qs)], client, true); buf == nil {
			b.Fatal("no answer")
		}
		i++
	}
}
