package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

func svc(ns, name string, ips []string, ports ...service.ServicePort) *service.Service {
	s := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: name}, Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP, Ports: ports}}
	if len(ips) > 0 {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ips[0], ips
	}
	return s
}

func tcpPort(name string, port int32) service.ServicePort {
	return service.ServicePort{Name: name, Protocol: service.ProtocolTCP, Port: port}
}

func slice(ns, svcName, name string, ports []endpoints.Port, addrs ...string) *endpoints.Slice {
	s := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Ports: ports}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, &endpoints.Endpoint{Addresses: []netip.Addr{netip.MustParseAddr(a)}, Conditions: endpoints.Conditions{Ready: true, Serving: true}})
	}
	s.Namespace, s.Name = ns, name
	s.Labels = service.Labels{endpoints.LabelServiceName: svcName}
	return s
}

func created(s *endpoints.Slice) endpoints.Change {
	return endpoints.Change{Kind: endpoints.Created, Service: service.NamespacedName{Namespace: s.Namespace, Name: s.ServiceName()}, Slice: s}
}

// testCluster is a small cluster: a ClusterIP Service with a named port,
// a headless one with three endpoints, an ExternalName, and a headless
// one with 100 endpoints (too many for one UDP answer).
func testCluster(t testing.TB, c dnsname.Config) *dnsname.Resolver {
	r := dnsname.NewResolver(c)
	var b dnsname.Batch
	http := []endpoints.Port{{Name: "http", Protocol: service.ProtocolTCP, Port: 8080}}
	b.UpsertService(svc("default", "web", []string{"10.96.0.10"}, tcpPort("http", 80)))
	b.UpsertService(svc("default", "db", []string{service.ClusterIPNone}, tcpPort("http", 8080)))
	b.UpsertService(svc("default", "big", []string{service.ClusterIPNone}, tcpPort("http", 8080)))
	ext := svc("default", "ext", nil)
	ext.Spec.Type, ext.Spec.ExternalName = service.ServiceTypeExternalName, "web.default.svc.cluster.local"
	b.UpsertService(ext)
	var big []string
	for i := range 100 {
		big = append(big, fmt.Sprintf("10.244.%d.%d", 2+i/200, 1+i%200))
	}
	b.Slices(
		created(slice("default", "web", "web-1", http, "10.244.0.5")),
		created(slice("default", "db", "db-1", http, "10.244.1.1", "10.244.1.2", "10.244.1.3")),
		created(slice("default", "big", "big-1", http, big...)),
	)
	require.NoError(t, r.Apply(&b))
	return r
}

// startServer serves c on 127.0.0.1:0 (UDP and TCP on the same port)
// until the test ends, and returns the address.
func startServer(t testing.TB, c Config) (*Server, string) {
	s, err := New(c)
	require.NoError(t, err)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	tcp, err := net.Listen("tcp", udp.LocalAddr().String())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, udp, tcp) }()
	t.Cleanup(func() {
		cancel()
		err := <-done
		udp.Close()
		tcp.Close()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, udp.LocalAddr().String()
}

// exchange sends one query with a miekg client.
func exchange(t testing.TB, addr, netw, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: netw, UDPSize: edns}
	r, _, err := c.Exchange(m, addr)
	require.NoError(t, err, "%s %s %s", netw, name, dns.TypeToString[qtype])
	return r
}
