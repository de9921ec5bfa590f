package dnsserver

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
)

// FuzzServe feeds random messages to the server's handler: it must not
// panic, and whatever it answers must unpack, carry the query's ID, have
// QR set and, for UDP, fit the client's buffer.
func FuzzServe(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  uint16
	}{
		{"web.default.svc.cluster.local.", dns.TypeA, 0},
		{"big.default.svc.cluster.local.", dns.TypeA, 1232},
		{"_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, 4096},
		{"10.0.96.10.in-addr.arpa.", dns.TypePTR, 0},
		{"cluster.local.", dns.TypeSOA, 0},
		{"example.org.", dns.TypeA, 0},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns > 0 {
			m.SetEdns0(q.edns, true)
		}
		b, _ := m.Pack()
		f.Add(b, true)
	}
	// Large: a query with 200 questions and a message padded with an
	// additional section of 200 TXT records to near 64 KiB, over TCP.
	many := new(dns.Msg)
	many.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	for i := range 199 {
		many.Question = append(many.Question, dns.Question{Name: fmt.Sprintf("q%d.default.svc.cluster.local.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET})
	}
	b, _ := many.Pack()
	f.Add(b, false)
	padded := new(dns.Msg)
	padded.SetQuestion("big.default.svc.cluster.local.", dns.TypeA)
	for range 200 {
		padded.Extra = append(padded.Extra, &dns.TXT{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{strings.Repeat("t", 255)}})
	}
	b, _ = padded.Pack()
	f.Add(b, false)
	f.Add([]byte{0, 1, 0, 0, 0, 1}, false)
	f.Add([]byte("garbage garbage garbage"), true)
	srv, err := New(Config{Resolver: testCluster(f, dnsname.Config{Pods: dnsname.PodsInsecure}), NSAddrs: []netip.Addr{netip.MustParseAddr("10.96.0.53")}})
	if err != nil {
		f.Fatal(err)
	}
	client := netip.MustParseAddr("10.244.0.9")
	f.Fuzz(func(t *testing.T, b []byte, udp bool) {
		out := srv.Answer(b, client, udp)
		if out == nil {
			return
		}
		var m dns.Msg
		if err := m.Unpack(out); err != nil {
			t.Fatalf("answer does not unpack: %v", err)
		}
		if !m.Response || m.Id != uint16(b[0])<<8|uint16(b[1]) {
			t.Fatalf("answer header %+v for query id %x", m.MsgHdr, b[:2])
		}
		if udp {
			limit := 512
			var q dns.Msg
			if q.Unpack(b) == nil {
				if o := q.IsEdns0(); o != nil {
					limit = max(512, min(int(o.UDPSize()), DefaultUDPSize))
				}
			}
			if len(out) > limit {
				t.Fatalf("UDP answer of %d octets over the client's %d", len(out), limit)
			}
		}
	})
}
