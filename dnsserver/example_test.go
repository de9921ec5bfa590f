package dnsserver_test

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/dnsserver"
	"github.com/svcnet/svcnet/service"
)

// A Service's A record and a negative answer with its SOA, through
// Answer (what the UDP server does for each datagram).
func Example() {
	res := dnsname.NewResolver(dnsname.Config{})
	web := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"}}}
	if err := res.UpsertService(web); err != nil {
		panic(err)
	}
	srv, err := dnsserver.New(dnsserver.Config{Resolver: res})
	if err != nil {
		panic(err)
	}
	ask := func(name string) {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		b, _ := q.Pack()
		var m dns.Msg
		if err := m.Unpack(srv.Answer(b, netip.MustParseAddr("10.244.0.5"), true)); err != nil {
			panic(err)
		}
		fmt.Println(dns.RcodeToString[m.Rcode], "aa:", m.Authoritative)
		for _, rr := range append(m.Answer, m.Ns...) {
			fmt.Println(rr)
		}
	}
	ask("web.default.svc.cluster.local.")
	ask("nope.default.svc.cluster.local.")
	// Output:
	// NOERROR aa: true
	// web.default.svc.cluster.local.	5	IN	A	10.96.0.20
	// NXDOMAIN aa: true
	// cluster.local.	5	IN	SOA	ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5
}
