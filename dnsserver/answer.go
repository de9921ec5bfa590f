package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
)

// Names of the reverse zones, fully qualified, served beside the cluster
// zone as kubeadm's Corefile does ("kubernetes cluster.local in-addr.arpa
// ip6.arpa").
const (
	reverse4 = "in-addr.arpa."
	reverse6 = "ip6.arpa."
)

// SOA timers, those CoreDNS writes (plugin/backend_lookup.go, SOA).
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 86400
	// soaMaxTTL caps the SOA record's own TTL, as CoreDNS does: the
	// TTL is min(the zone's TTL, 300) and the minimum field the TTL.
	soaMaxTTL = 300
)

// request is one query being answered.
type request struct {
	msg    *dns.Msg
	client netip.Addr
	udp    bool
}

// answer builds the reply to a query that passed the accept checks
// (one question, opcode QUERY or NOTIFY). It never returns nil.
func (s *Server) answer(q request) *dns.Msg {
	if q.msg.Opcode != dns.OpcodeQuery {
		m := new(dns.Msg)
		m.SetRcode(q.msg, dns.RcodeNotImplemented)
		return m
	}
	qname := q.msg.Question[0].Name
	zone, ok := zoneOf(s, qname)
	if !ok {
		return s.outside(q)
	}
	if s.cfg.Autopath != nil && zone == s.zone {
		if m, ok := s.autopath(q); ok {
			return m
		}
	}
	return s.inZone(q, zone)
}

// zoneOf returns the served zone (lowercase, fully qualified) that name
// is in: the cluster zone or a reverse zone.
func zoneOf[S ~string | ~[]byte](s *Server, name S) (string, bool) {
	for _, z := range [...]string{s.zone, reverse4, reverse6} {
		if isSubdomain(name, z) {
			return z, true
		}
	}
	return "", false
}

// isSubdomain reports whether name is zone or below it, ignoring case.
// Both are fully qualified.
func isSubdomain[S ~string | ~[]byte](name S, zone string) bool {
	n := len(name) - len(zone)
	if n < 0 || !equalFoldASCII(name[n:], zone) {
		return false
	}
	return n == 0 || name[n-1] == '.'
}

// outside answers a name of no served zone: forwarded, or REFUSED as
// CoreDNS's server does for a name no server block serves.
func (s *Server) outside(q request) *dns.Msg {
	if s.fwd == nil {
		m := new(dns.Msg)
		m.SetRcode(q.msg, dns.RcodeRefused)
		return m
	}
	return s.fwd.forward(q.msg, &s.stats)
}

// inZone answers a name of a served zone, as CoreDNS's kubernetes plugin
// (plugin/kubernetes/handler.go, ServeDNS): SOA only at the apex (other
// names NODATA), NS at the apex, ns.dns.<zone> with the server's own
// addresses, the rest from the resolver; negative answers carry the
// zone's SOA; the aa flag on every authoritative answer.
func (s *Server) inZone(q request, zone string) *dns.Msg {
	question := q.msg.Question[0]
	qname, qtype := question.Name, question.Qtype
	apex := strings.EqualFold(qname, zone)
	m := new(dns.Msg)
	m.SetReply(q.msg)
	m.Authoritative = true
	switch {
	case qtype == dns.TypeAXFR || qtype == dns.TypeIXFR:
		m.SetRcode(q.msg, dns.RcodeRefused)
		m.Authoritative = false
		return m
	case qtype == dns.TypeSOA:
		if apex {
			m.Answer = []dns.RR{s.soa(zone)}
		}
	case qtype == dns.TypeNS && apex:
		// Without addresses CoreDNS has no NS record either: it makes
		// them from the addresses of ns.dns.<zone> (nsAddrs).
		if len(s.cfg.NSAddrs) > 0 {
			ns := "ns.dns." + zone
			m.Answer = []dns.RR{&dns.NS{Hdr: hdr(zone, dns.TypeNS, s.ttl), Ns: ns}}
			for _, a := range s.cfg.NSAddrs {
				m.Extra = append(m.Extra, addrRR(ns, a, s.ttl))
			}
		}
	case strings.EqualFold(qname, "ns.dns."+zone):
		// CoreDNS answers this name from its own addresses for A and
		// AAAA, NXDOMAIN for TXT and PTR (those paths do not know the
		// name), NODATA otherwise (plugin/kubernetes/kubernetes.go,
		// Services; reverse.go).
		switch qtype {
		case dns.TypeA, dns.TypeAAAA:
			for _, a := range s.cfg.NSAddrs {
				if (qtype == dns.TypeA) == a.Unmap().Is4() {
					m.Answer = append(m.Answer, addrRR(strings.ToLower(qname), a, s.ttl))
				}
			}
		case dns.TypeTXT, dns.TypePTR:
			m.Rcode = dns.RcodeNameError
		}
	default:
		resp := s.res.Load().Resolve(qname, dnsname.Type(qtype))
		switch resp.Rcode {
		case dnsname.RcodeNoError, dnsname.RcodeNXDomain:
		case dnsname.RcodeRefused:
			// Only a zone transfer; handled above.
			m.SetRcode(q.msg, dns.RcodeRefused)
			m.Authoritative = false
			return m
		default:
			m.SetRcode(q.msg, int(resp.Rcode))
			m.Authoritative = false
			return m
		}
		if resp.Rcode == dnsname.RcodeNXDomain && zone != s.zone && s.fwd != nil {
			return s.fwd.forward(q.msg, &s.stats) // fallthrough in-addr.arpa ip6.arpa
		}
		m.Rcode = int(resp.Rcode)
		m.Answer = appendRRs(m.Answer, resp.Answer)
		m.Extra = appendRRs(m.Extra, resp.Additional)
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{s.soa(zone)}
	}
	return m
}

// soa is the zone's SOA record, as CoreDNS makes it: ns.dns.<zone>.,
// hostmaster.<zone>., the serial, 7200, 1800, 86400 and the TTL as
// minimum; its own TTL min(TTL, 300) (plugin/backend_lookup.go, SOA).
// The serial is the resolver's generation, which grows with every
// change, where CoreDNS uses the time of its last change.
func (s *Server) soa(zone string) *dns.SOA {
	ttl := min(s.ttl, soaMaxTTL)
	return &dns.SOA{
		Hdr:     hdr(zone, dns.TypeSOA, ttl),
		Ns:      "ns.dns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  uint32(s.res.Load().Generation()),
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  s.ttl,
	}
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func addrRR(name string, a netip.Addr, ttl uint32) dns.RR {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return &dns.A{Hdr: hdr(name, dns.TypeA, ttl), A: b[:]}
	}
	b := a.As16()
	return &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA, ttl), AAAA: b[:]}
}

// appendRRs converts the resolver's records to miekg's.
func appendRRs(dst []dns.RR, recs []dnsname.Record) []dns.RR {
	for _, r := range recs {
		h := hdr(r.Name, uint16(r.Type), r.TTL)
		switch r.Type {
		case dnsname.TypeA, dnsname.TypeAAAA:
			dst = append(dst, addrRR(r.Name, r.Addr, r.TTL))
		case dnsname.TypeCNAME:
			dst = append(dst, &dns.CNAME{Hdr: h, Target: r.Target})
		case dnsname.TypePTR:
			dst = append(dst, &dns.PTR{Hdr: h, Ptr: r.Target})
		case dnsname.TypeSRV:
			dst = append(dst, &dns.SRV{Hdr: h, Priority: r.Priority, Weight: r.Weight, Port: r.Port, Target: r.Target})
		case dnsname.TypeTXT:
			dst = append(dst, &dns.TXT{Hdr: h, Txt: []string{r.Text}})
		}
	}
	return dst
}

// autopath answers <name>.<ns>.svc.<zone> from a known pod with the
// first name of its search path that exists, as CoreDNS's autopath
// plugin (plugin/autopath/autopath.go, ServeDNS; the search path from
// plugin/kubernetes/autopath.go): the path is <ns>.svc.<zone>,
// svc.<zone>, <zone>, the node's domains and the bare name; each is tried
// in turn, and the first answer that is not NXDOMAIN is returned with a
// CNAME from the asked name in front. If all are NXDOMAIN, the answer to
// the name as asked is returned. ok is false when autopath does not
// apply (unknown client, a name not under the pod's first domain).
func (s *Server) autopath(q request) (*dns.Msg, bool) {
	ns, ok := s.cfg.Autopath(q.client)
	if !ok {
		return nil, false
	}
	first := strings.ToLower(ns) + ".svc." + s.zone
	orig := q.msg.Question[0].Name
	if !isSubdomain(orig, first) {
		return nil, false
	}
	base := orig[:len(orig)-len(first)]
	base = strings.TrimSuffix(base, ".")
	search := make([]string, 0, 4+len(s.search))
	search = append(search, first, "svc."+s.zone, s.zone)
	search = append(search, s.search...)
	search = append(search, "")
	var firstReply *dns.Msg
	for i, dom := range search {
		name := base + "." + dom
		if dom == "" {
			name = base + "."
		}
		if base == "" {
			name = dom
			if dom == "" {
				name = "."
			}
		}
		sub := q.msg.Copy()
		sub.Question[0].Name = name
		var m *dns.Msg
		if z, ok := zoneOf(s, name); ok {
			m = s.inZone(request{msg: sub, client: q.client, udp: q.udp}, z)
		} else {
			m = s.outside(request{msg: sub, client: q.client, udp: q.udp})
		}
		if i == 0 {
			firstReply = m
		}
		if m.Rcode == dns.RcodeNameError {
			continue
		}
		for _, rr := range m.Answer {
			if strings.EqualFold(rr.Header().Name, orig) {
				continue
			}
			m.Answer = append([]dns.RR{&dns.CNAME{Hdr: hdr(orig, dns.TypeCNAME, rr.Header().Ttl), Target: rr.Header().Name}}, m.Answer...)
			break
		}
		m.Question[0].Name = orig
		s.stats.autopath.Add(1)
		return m, true
	}
	firstReply.Question[0].Name = orig
	return firstReply, true
}

// header is the fixed part of a DNS message (RFC 1035 §4.1.1).
type header struct {
	id, bits                  uint16
	qdcount, ancount, nscount uint16
	arcount                   uint16
}

func parseHeader(b []byte) (header, bool) {
	if len(b) < 12 {
		return header{}, false
	}
	be := binary.BigEndian
	return header{be.Uint16(b), be.Uint16(b[2:]), be.Uint16(b[4:]), be.Uint16(b[6:]), be.Uint16(b[8:]), be.Uint16(b[10:])}, true
}

// dnsNameOK reports whether d is a presentation-format DNS name, and
// returns it fully qualified and lowercase.
func dnsNameOK(d string) (string, bool) {
	if d == "" {
		return "", false
	}
	if _, ok := dns.IsDomainName(d); !ok {
		return "", false
	}
	return strings.ToLower(dns.Fqdn(d)), true
}
