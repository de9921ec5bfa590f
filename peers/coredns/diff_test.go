package coredns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
)

// diffNames are the names the differential test asks, each with every
// type of diffTypes: every kind of record, negatives, the apexes, pods
// and reverse names.
var diffNames = []string{
	// Services of every kind.
	"web.default.svc.cluster.local.", "dual.default.svc.cluster.local.", "v6.default.svc.cluster.local.",
	"noname.default.svc.cluster.local.", "kube-dns.kube-system.svc.cluster.local.", "db.default.svc.cluster.local.",
	"mixed.default.svc.cluster.local.", "empty.default.svc.cluster.local.", "pnr.default.svc.cluster.local.",
	"ext.default.svc.cluster.local.", "cart.shop.svc.cluster.local.", "nope.default.svc.cluster.local.",
	// SRV names.
	"_http._tcp.web.default.svc.cluster.local.", "_https._tcp.web.default.svc.cluster.local.",
	"_http._udp.web.default.svc.cluster.local.", "_nope._tcp.web.default.svc.cluster.local.",
	"_dns._udp.kube-dns.kube-system.svc.cluster.local.", "_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.",
	"_http._tcp.db.default.svc.cluster.local.", "_http._tcp.mixed.default.svc.cluster.local.",
	"_http._tcp.dual.default.svc.cluster.local.", "_http._tcp.empty.default.svc.cluster.local.",
	// Endpoint names.
	"db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local.", "10-244-1-3.db.default.svc.cluster.local.",
	"10-244-1-4.db.default.svc.cluster.local.", "10-244-0-5.web.default.svc.cluster.local.",
	"fd00-244--2-1.mixed.default.svc.cluster.local.", "10-244-3-1.pnr.default.svc.cluster.local.",
	"x.y.web.default.svc.cluster.local.",
	// Apexes and the names between.
	"cluster.local.", "svc.cluster.local.", "pod.cluster.local.", "default.svc.cluster.local.", "shop.svc.cluster.local.",
	"nons.svc.cluster.local.", "default.pod.cluster.local.", "nons.pod.cluster.local.", "dns-version.cluster.local.",
	"ns.dns.cluster.local.", "nope.cluster.local.",
	// Pods.
	"10-244-0-5.default.pod.cluster.local.", "10-244-9-9.default.pod.cluster.local.", "10-244-4-1.shop.pod.cluster.local.",
	"fd00-244--9.default.pod.cluster.local.", "10-244-0-5.nons.pod.cluster.local.", "blah.default.pod.cluster.local.",
	// Reverse names.
	"10.0.96.10.in-addr.arpa.", "5.0.244.10.in-addr.arpa.", "1.1.244.10.in-addr.arpa.", "3.1.244.10.in-addr.arpa.",
	"9.9.9.9.in-addr.arpa.", "10.in-addr.arpa.", "in-addr.arpa.", "ip6.arpa.",
	ptr("fd00::11"), ptr("fd00:244::7"), ptr("fd00::99"),
	// Outside.
	"example.org.", ".",
}

var diffTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeAXFR}

func ptr(a string) string { return dnsname.PTRName(netip.MustParseAddr(a)) }

// mixCase turns "web.default" into "WeB.DeFaUlT", the case variation
// resolvers use against spoofing (draft-vixie-dnsext-dns0x20).
func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 1 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// shape is what the comparison reads from an answer: rcode, flags, the
// answer and additional sets (sorted, lowercase), and the SOA of the
// authority section without its serial.
func shape(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", dns.RcodeToString[m.Rcode])
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	section := func(title string, rrs []dns.RR) {
		var lines []string
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			if soa, ok := rr.(*dns.SOA); ok {
				c := *soa
				c.Serial = 0
				rr = &c
			}
			lines = append(lines, strings.ToLower(rr.String()))
		}
		slices.Sort(lines)
		if len(lines) > 0 {
			b.WriteString("\n;; " + title + "\n" + strings.Join(lines, "\n"))
		}
	}
	section("ANSWER", m.Answer)
	section("AUTHORITY", m.Ns)
	section("ADDITIONAL", m.Extra)
	return b.String()
}

// byDesign are the answers that differ on purpose, by query ("name
// TYPE", lowercase) and the reason; dnsserver's package documentation
// lists them. The test fails when one of them stops differing too, so
// that the list stays true.
var byDesign = map[string]string{
	"ext.default.svc.cluster.local. AAAA": "svcnet keeps the CNAME whose in-zone target has no record of the type; CoreDNS drops it and answers NODATA",
}

// byDesignName are names whose every type but one differs by design.
var byDesignName = map[string]string{
	"dns-version.cluster.local.": "svcnet answers NODATA for types other than TXT (the name exists); CoreDNS NXDOMAIN",
}

// design says whether the answers to n and qt differ by design, and why.
func design(n string, qt uint16) (string, bool) {
	if why, ok := byDesign[strings.ToLower(n)+" "+dns.TypeToString[qt]]; ok {
		return why, true
	}
	if why, ok := byDesignName[strings.ToLower(n)]; ok && qt != dns.TypeTXT && qt != dns.TypeAXFR && qt != dns.TypeSOA {
		return why, true
	}
	if strings.EqualFold(n, "ns.dns.cluster.local.") && n != "ns.dns.cluster.local." && qt != dns.TypeTXT && qt != dns.TypePTR && qt != dns.TypeAXFR && qt != dns.TypeSOA {
		// CoreDNS answers ns.dns.<zone> (NODATA here, the peer having
		// no addresses of its own) only in lowercase: isDefaultNS
		// (plugin/kubernetes/ns.go) compares the lowercased name with
		// the zone in the query's case, so in mixed case the name is
		// NXDOMAIN. svcnet matches it in any case.
		return "CoreDNS matches ns.dns.<zone> case-sensitively", true
	}
	return "", false
}

// TestDifferential asks svcnet and CoreDNS the same few hundred queries
// over UDP in each pod mode and compares the answers.
func TestDifferential(t *testing.T) {
	w := smallWorld()
	total, differ := 0, 0
	for _, mode := range []string{"disabled", "insecure", "verified"} {
		core := serveCoreDNS(t, w, mode)
		_, ours := serveSvcnet(t, w, podModes[mode])
		c := &dns.Client{}
		for _, name := range diffNames {
			for _, qt := range diffTypes {
				for _, n := range []string{name, mixCase(name)} {
					q := new(dns.Msg)
					q.SetQuestion(n, qt)
					a, _, err := c.Exchange(q, core)
					if err != nil {
						t.Fatalf("CoreDNS %s %s: %v", n, dns.TypeToString[qt], err)
					}
					b, _, err := c.Exchange(q, ours)
					if err != nil {
						t.Fatalf("svcnet %s %s: %v", n, dns.TypeToString[qt], err)
					}
					total++
					key := mode + " " + strings.ToLower(n) + " " + dns.TypeToString[qt]
					sa, sb := shape(a), shape(b)
					why, designed := design(n, qt)
					switch {
					case designed && sa == sb:
						t.Errorf("%s: listed as differing by design (%s), but the answers agree", key, why)
					case designed:
						differ++
					case sa != sb:
						t.Errorf("%s\n--- CoreDNS\n%s\n--- svcnet\n%s", key, sa, sb)
					}
				}
			}
		}
	}
	t.Logf("%d queries compared, %d differ by design", total, differ)
}
