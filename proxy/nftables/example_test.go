package nftables_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/proxy/nftables"
	"github.com/svcnet/svcnet/service"
)

// ExampleRender renders one Service for one node, walks a pod's packet
// through the rules, and shows the two-line transaction after its
// endpoint set changes.
func ExampleRender() {
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: service.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}}},
	}
	service.Default(svc)
	slice := func(addrs ...string) []endpoints.Change {
		sl := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4,
			Ports: []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}}
		sl.Name, sl.Namespace = "web-1", "default"
		for _, a := range addrs {
			sl.Endpoints = append(sl.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(a)},
				NodeName: "node-b", Conditions: endpoints.Conditions{Ready: true, Serving: true}})
		}
		return []endpoints.Change{{Kind: endpoints.Updated, Service: svc.Key(), Slice: sl}}
	}
	view, _ := proxy.NewProxy(proxy.ProxyConfig{NodeName: "node-a",
		NodeAddresses:   []netip.Addr{netip.MustParseAddr("192.168.0.1")},
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
	b := proxy.NewTable().Builder()
	_ = b.UpsertService(svc)
	b.ApplySlices(slice("10.244.1.5", "10.244.2.5"))
	table := b.Build()
	view.Sync(table)

	cfg := nftables.Config{ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}}
	rs, _ := nftables.Render(view, cfg)
	for _, l := range strings.Split(rs.String(), "\n") {
		if strings.Contains(l, "dnat ip addr") {
			fmt.Println(l)
		}
	}
	v := nftables.Trace(rs, nftables.Packet{Src: netip.MustParseAddrPort("10.244.0.7:40000"),
		Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP, Random: 1})
	fmt.Println(v.Action, v.DNAT)
	v = nftables.Trace(rs, nftables.Packet{Src: netip.MustParseAddrPort("10.244.0.7:40000"),
		Dst: netip.MustParseAddrPort("10.96.0.10:81"), Proto: lb.TCP})
	fmt.Println(v.Action)

	r, _ := nftables.NewRenderer(cfg)
	_, _ = r.Sync(view) // the full ruleset
	b = table.Builder()
	b.ApplySlices(slice("10.244.1.5"))
	view.Sync(b.Build())
	tx, _ := r.Sync(view)
	fmt.Print(tx)
	// Output:
	// add rule ip kube-proxy service-SUSTUHLJ-default/web/tcp/http meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.244.1.5 . 8080, 1 : 10.244.2.5 . 8080 }
	// dnat 10.244.2.5:8080
	// reject
	// flush chain ip kube-proxy service-SUSTUHLJ-default/web/tcp/http
	// add rule ip kube-proxy service-SUSTUHLJ-default/web/tcp/http meta l4proto tcp dnat to 10.244.1.5:8080
}
