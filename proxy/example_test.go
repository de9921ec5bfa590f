package proxy_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// ExampleProxy_Route programs one Service into a shared Table, syncs a
// node's Proxy to it and routes a pod's connection, then shows that a
// NodePort-less ClusterIP is unreachable from outside the cluster.
func ExampleProxy_Route() {
	svc := &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: service.ServiceSpec{
			ClusterIP: "10.96.0.10",
			Selector:  service.Labels{"app": "web"},
			Ports:     []service.ServicePort{{Name: "http", Port: 80, TargetPort: service.FromInt(8080)}},
		},
	}
	service.Default(svc)
	slice := &endpoints.Slice{
		AddressType: endpoints.AddressTypeIPv4,
		Ports:       []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}},
		Endpoints: []*endpoints.Endpoint{{
			Addresses:  []netip.Addr{netip.MustParseAddr("10.244.1.5")},
			NodeName:   "node-b",
			Conditions: endpoints.Conditions{Ready: true, Serving: true},
		}},
	}
	slice.Name = "web-1"

	b := proxy.NewTable().Builder()
	if err := b.UpsertService(svc); err != nil {
		panic(err)
	}
	b.ApplySlices([]endpoints.Change{{Kind: endpoints.Created, Service: svc.Key(), Slice: slice}})
	table := b.Build()

	p, err := proxy.NewProxy(proxy.ProxyConfig{
		NodeName:        "node-a",
		ClusterPrefixes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
	})
	if err != nil {
		panic(err)
	}
	p.Sync(table)

	now := time.Time{}
	r := p.Route(proxy.Packet{Src: netip.MustParseAddrPort("10.244.0.7:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, now)
	fmt.Println(r.Verdict, r.Kind, r.Service, r.Backend.Addr)
	r = p.Route(proxy.Packet{Src: netip.MustParseAddrPort("203.0.113.9:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:80"), Proto: lb.TCP}, now)
	fmt.Println(r.Verdict)
	// Output:
	// routed ClusterIP default/web 10.244.1.5:8080
	// unreachable
}
