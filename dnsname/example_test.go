package dnsname_test

import (
	"fmt"
	"net/netip"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// A pod in namespace default resolves "my-service": kubelet's search list
// finds it at the first candidate.
func Example() {
	r := dnsname.NewResolver(dnsname.Config{})
	err := r.UpsertService(&service.Service{
		ObjectMeta: service.ObjectMeta{Name: "my-service", Namespace: "default"},
		Spec: service.ServiceSpec{
			ClusterIP: "10.96.0.42",
			Ports:     []service.ServicePort{{Name: "http", Protocol: service.ProtocolTCP, Port: 80}},
		},
	})
	if err != nil {
		panic(err)
	}
	kubelet := dnsname.Kubelet{ClusterDNS: []netip.Addr{netip.MustParseAddr("10.96.0.10")}}
	conf := kubelet.ClusterFirst("default")
	fmt.Print(conf)

	res := r.ResolveSearch(conf, "my-service", dnsname.TypeA)
	for _, q := range res.Queries {
		fmt.Println(q)
	}
	fmt.Print(res.Response)
	// Output:
	// nameserver 10.96.0.10
	// search default.svc.cluster.local svc.cluster.local cluster.local
	// options ndots:5
	// my-service.default.svc.cluster.local. A: NOERROR, 1 answer
	// ;; NOERROR
	// my-service.default.svc.cluster.local. 5 IN A 10.96.0.42
}

// What ndots:5 costs an external name: every search domain is tried
// first. (Stub resolvers ask A and AAAA for each, so twice as many.)
func ExampleResolver_ResolveSearch() {
	r := dnsname.NewResolver(dnsname.Config{
		// Stands in for CoreDNS's forward plugin.
		Upstream: func(name string, qtype dnsname.Type) dnsname.Response {
			if name == "example.com." && qtype == dnsname.TypeA {
				return dnsname.Response{Answer: []dnsname.Record{{Name: name, Type: qtype, TTL: 300, Addr: netip.MustParseAddr("192.0.2.1")}}}
			}
			return dnsname.Response{Rcode: dnsname.RcodeNXDomain}
		},
	})
	kubelet := dnsname.Kubelet{ClusterDNS: []netip.Addr{netip.MustParseAddr("10.96.0.10")}}
	res := r.ResolveSearch(kubelet.ClusterFirst("default"), "example.com", dnsname.TypeA)
	for _, q := range res.Queries {
		fmt.Println(q)
	}
	// Output:
	// example.com.default.svc.cluster.local. A: NXDOMAIN
	// example.com.svc.cluster.local. A: NXDOMAIN
	// example.com.cluster.local. A: NXDOMAIN
	// example.com. A: NOERROR, 1 answer
}

// A headless Service of a StatefulSet: each pod has a stable name, and
// SRV records list them with their ports.
func ExampleResolver_Resolve() {
	r := dnsname.NewResolver(dnsname.Config{})
	var b dnsname.Batch
	b.UpsertService(&service.Service{
		ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "prod"},
		Spec: service.ServiceSpec{
			ClusterIP: service.ClusterIPNone,
			Ports:     []service.ServicePort{{Name: "pg", Protocol: service.ProtocolTCP, Port: 5432}},
		},
	})
	slice := &endpoints.Slice{
		ObjectMeta:  service.ObjectMeta{Name: "db-x1", Namespace: "prod", Labels: service.Labels{endpoints.LabelServiceName: "db"}},
		AddressType: endpoints.AddressTypeIPv4,
		Ports:       []endpoints.Port{{Name: "pg", Protocol: service.ProtocolTCP, Port: 5432}},
		Endpoints: []*endpoints.Endpoint{
			{Addresses: []netip.Addr{netip.MustParseAddr("10.244.1.5")}, Hostname: "db-0", Conditions: endpoints.Conditions{Ready: true}},
			{Addresses: []netip.Addr{netip.MustParseAddr("10.244.2.7")}, Hostname: "db-1", Conditions: endpoints.Conditions{Ready: true}},
		},
	}
	b.Slices(endpoints.Change{Kind: endpoints.Created, Service: service.NamespacedName{Namespace: "prod", Name: "db"}, Slice: slice})
	if err := r.Apply(&b); err != nil {
		panic(err)
	}
	fmt.Print(r.Resolve("_pg._tcp.db.prod.svc.cluster.local", dnsname.TypeSRV))
	fmt.Print(r.Resolve("db-1.db.prod.svc.cluster.local", dnsname.TypeA))
	fmt.Print(r.Resolve("7.2.244.10.in-addr.arpa", dnsname.TypePTR))
	fmt.Print(r.Resolve("db-2.db.prod.svc.cluster.local", dnsname.TypeA))
	// Output:
	// ;; NOERROR
	// _pg._tcp.db.prod.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.prod.svc.cluster.local.
	// _pg._tcp.db.prod.svc.cluster.local. 5 IN SRV 0 50 5432 db-1.db.prod.svc.cluster.local.
	// ;; ADDITIONAL
	// db-0.db.prod.svc.cluster.local. 5 IN A 10.244.1.5
	// db-1.db.prod.svc.cluster.local. 5 IN A 10.244.2.7
	// ;; NOERROR
	// db-1.db.prod.svc.cluster.local. 5 IN A 10.244.2.7
	// ;; NOERROR
	// 7.2.244.10.in-addr.arpa. 5 IN PTR db-1.db.prod.svc.cluster.local.
	// ;; NXDOMAIN
}

func ExampleParse() {
	n, err := dnsname.Parse("_HTTPS._tcp.Kubernetes.default.svc.cluster.local.", "")
	fmt.Println(n.Kind, n.Port, n.Protocol, n.Service, n.Namespace, err)
	fmt.Println(n)

	_, err = dnsname.Parse("1svc.default.svc.cluster.local", "")
	fmt.Println(err)
	// Output:
	// port https TCP kubernetes default <nil>
	// _https._tcp.kubernetes.default.svc.cluster.local.
	// dnsname: "1svc" is not a valid DNS-1035 label: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character
}

func ExampleResolvConf_Candidates() {
	conf := dnsname.Kubelet{ClusterDNS: []netip.Addr{netip.MustParseAddr("10.96.0.10")}}.ClusterFirst("shop")
	fmt.Println(conf.Candidates("cart"))
	fmt.Println(conf.Candidates("a.b.c.d.example.com"))
	fmt.Println(conf.Candidates("example.com."))
	// Output:
	// [cart.shop.svc.cluster.local. cart.svc.cluster.local. cart.cluster.local. cart.]
	// [a.b.c.d.example.com. a.b.c.d.example.com.shop.svc.cluster.local. a.b.c.d.example.com.svc.cluster.local. a.b.c.d.example.com.cluster.local.]
	// [example.com.]
}

func ExamplePTRName() {
	fmt.Println(dnsname.PTRName(netip.MustParseAddr("10.96.0.1")))
	fmt.Println(dnsname.PTRName(netip.MustParseAddr("fd00:10:96::1")))
	// Output:
	// 1.0.96.10.in-addr.arpa.
	// 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa.
}
