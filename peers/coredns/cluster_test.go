package coredns

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// world is one cluster, as svcnet objects; both servers are built from it.
type world struct {
	services []*service.Service
	slices   []*endpoints.Slice
	pods     []*service.Pod
}

func (w *world) namespaces() []string {
	seen := map[string]bool{}
	var out []string
	add := func(ns string) {
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	for _, s := range w.services {
		add(s.Namespace)
	}
	for _, p := range w.pods {
		add(p.Namespace)
	}
	return out
}

func newService(ns, name string, ips []string, ports ...service.ServicePort) *service.Service {
	s := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: name}, Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, Ports: ports}}
	if len(ips) > 0 {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ips[0], ips
	}
	return s
}

func port(name string, proto service.Protocol, p int32) service.ServicePort {
	return service.ServicePort{Name: name, Protocol: proto, Port: p}
}

type ep struct {
	addr     string
	hostname string
	ready    bool
}

func newSlice(ns, svc, name string, ports []endpoints.Port, eps ...ep) *endpoints.Slice {
	s := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: ports}
	s.Kind, s.APIVersion = "EndpointSlice", "discovery.k8s.io/v1"
	s.Namespace, s.Name = ns, name
	s.Labels = service.Labels{endpoints.LabelServiceName: svc}
	for _, e := range eps {
		a := netip.MustParseAddr(e.addr)
		if a.Is6() {
			s.AddressType = endpoints.AddressTypeIPv6
		}
		s.Endpoints = append(s.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{a}, Hostname: e.hostname,
			Conditions: endpoints.Conditions{Ready: e.ready, Serving: e.ready}})
	}
	return s
}

func newPod(ns, name string, ips ...string) *service.Pod {
	p := &service.Pod{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: name}}
	p.Status.PodIP = ips[0]
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, service.PodIP{IP: ip})
	}
	return p
}

// smallWorld has one of each kind of name: dual-stack and IPv6 Services,
// named and unnamed ports, UDP ports, headless Services with hostnames,
// duplicate hostnames, not-ready endpoints and publishNotReadyAddresses,
// ExternalNames in and out of the zone, a headless Service without
// endpoints, and pods.
func smallWorld() *world {
	tcp, udp := service.ProtocolTCP, service.ProtocolUDP
	http := []endpoints.Port{{Name: "http", Protocol: tcp, Port: 8080}}
	w := &world{}
	w.services = []*service.Service{
		newService("default", "web", []string{"10.96.0.10"}, port("http", tcp, 80), port("https", tcp, 443)),
		newService("default", "dual", []string{"10.96.0.11", "fd00::11"}, port("http", tcp, 80)),
		newService("default", "v6", []string{"fd00::12"}, port("http", tcp, 80)),
		newService("default", "noname", []string{"10.96.0.13"}, port("", tcp, 80)),
		newService("kube-system", "kube-dns", []string{"10.96.0.53"}, port("dns", udp, 53), port("dns-tcp", tcp, 53)),
		newService("default", "db", []string{service.ClusterIPNone}, port("http", tcp, 8080)),
		newService("default", "mixed", []string{service.ClusterIPNone}, port("http", tcp, 8080)),
		newService("default", "empty", []string{service.ClusterIPNone}, port("http", tcp, 8080)),
		newService("shop", "cart", []string{"10.96.1.1"}, port("http", tcp, 80)),
	}
	pnr := newService("default", "pnr", []string{service.ClusterIPNone}, port("http", tcp, 8080))
	pnr.Spec.PublishNotReadyAddresses = true
	ext := newService("default", "ext", nil)
	ext.Spec.Type, ext.Spec.ExternalName = service.ServiceTypeExternalName, "web.default.svc.cluster.local"
	extOut := newService("default", "ext-out", nil)
	extOut.Spec.Type, extOut.Spec.ExternalName = service.ServiceTypeExternalName, "www.example.com"
	w.services = append(w.services, pnr, ext, extOut)
	w.slices = []*endpoints.Slice{
		newSlice("default", "web", "web-1", http, ep{"10.244.0.5", "", true}, ep{"10.244.0.6", "", false}),
		newSlice("default", "dual", "dual-1", http, ep{"10.244.0.7", "", true}),
		newSlice("default", "dual", "dual-2", http, ep{"fd00:244::7", "", true}),
		newSlice("kube-system", "kube-dns", "kube-dns-1", []endpoints.Port{{Name: "dns", Protocol: udp, Port: 53}, {Name: "dns-tcp", Protocol: tcp, Port: 53}}, ep{"10.244.0.53", "", true}),
		newSlice("default", "db", "db-1", http, ep{"10.244.1.1", "db-0", true}, ep{"10.244.1.2", "db-1", true}, ep{"10.244.1.3", "", true}, ep{"10.244.1.4", "", false}),
		newSlice("default", "mixed", "mixed-1", http, ep{"10.244.2.1", "", true}),
		newSlice("default", "mixed", "mixed-2", http, ep{"fd00:244::2:1", "", true}),
		// The endpoints controller marks every endpoint of a Service
		// with publishNotReadyAddresses ready, whatever its pod's state
		// (pkg/controller/endpointslice/util); CoreDNS relies on that.
		newSlice("default", "pnr", "pnr-1", http, ep{"10.244.3.1", "", true}),
		newSlice("shop", "cart", "cart-1", http, ep{"10.244.4.1", "", true}),
	}
	w.pods = []*service.Pod{
		newPod("default", "web-abc", "10.244.0.5"),
		newPod("shop", "cart-abc", "10.244.4.1"),
		newPod("default", "v6pod", "fd00:244::9"),
	}
	return w
}

// bigWorld is the benchmark cluster: n Services in n/100 namespaces,
// every tenth headless, each with five endpoints (50 000 for n = 10 000).
func bigWorld(n int) *world {
	tcp := service.ProtocolTCP
	w := &world{}
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i/100)
		name := fmt.Sprintf("svc-%d", i)
		ip := []string{fmt.Sprintf("10.%d.%d.%d", 96+i>>16, (i>>8)&0xff, i&0xff)}
		if i%10 == 0 {
			ip = []string{service.ClusterIPNone}
		}
		w.services = append(w.services, newService(ns, name, ip, port("http", tcp, 80)))
		var eps []ep
		for j := range 5 {
			k := i*5 + j
			eps = append(eps, ep{fmt.Sprintf("10.%d.%d.%d", 128+k>>16, (k>>8)&0xff, k&0xff), "", true})
		}
		w.slices = append(w.slices, newSlice(ns, name, name+"-1", []endpoints.Port{{Name: "http", Protocol: tcp, Port: 8080}}, eps...))
	}
	return w
}

// svcnetResolver loads w into a dnsname.Resolver.
func (w *world) svcnetResolver(pods dnsname.PodMode) (*dnsname.Resolver, error) {
	r := dnsname.NewResolver(dnsname.Config{Pods: pods})
	var b dnsname.Batch
	for _, s := range w.services {
		b.UpsertService(s)
	}
	var ch []endpoints.Change
	for _, s := range w.slices {
		ch = append(ch, endpoints.Change{Kind: endpoints.Created, Service: service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}, Slice: s})
	}
	b.Slices(ch...)
	for _, p := range w.pods {
		b.UpsertPod(p)
	}
	if err := r.Apply(&b); err != nil {
		return nil, err
	}
	return r, nil
}

// convert maps a svcnet object to its k8s.io/api type: svcnet's objects
// have the Kubernetes JSON shape.
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}
