package dnsname

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// svcOpt adjusts a test Service.
type svcOpt func(*service.Service)

func newSvc(ns, name string, opts ...svcOpt) *service.Service {
	s := &service.Service{ObjectMeta: service.ObjectMeta{Namespace: ns, Name: name}, Spec: service.ServiceSpec{Type: service.ServiceTypeClusterIP}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func clusterIPs(ips ...string) svcOpt {
	return func(s *service.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = ips[0], ips }
}

func headless() svcOpt { return clusterIPs(service.ClusterIPNone) }

func ports(ps ...service.ServicePort) svcOpt {
	return func(s *service.Service) { s.Spec.Ports = ps }
}

func externalName(n string) svcOpt {
	return func(s *service.Service) { s.Spec.Type, s.Spec.ExternalName = service.ServiceTypeExternalName, n }
}

func publishNotReady() svcOpt {
	return func(s *service.Service) { s.Spec.PublishNotReadyAddresses = true }
}

func tcp(name string, port int32) service.ServicePort {
	return service.ServicePort{Name: name, Protocol: service.ProtocolTCP, Port: port}
}

func ep(ip, hostname string, ready bool) *endpoints.Endpoint {
	return &endpoints.Endpoint{
		Addresses:  []netip.Addr{netip.MustParseAddr(ip)},
		Hostname:   hostname,
		Conditions: endpoints.Conditions{Ready: ready, Serving: ready},
	}
}

func sliceOf(ns, svc, name string, ps []endpoints.Port, eps ...*endpoints.Endpoint) *endpoints.Slice {
	s := &endpoints.Slice{AddressType: endpoints.AddressTypeIPv4, Endpoints: eps, Ports: ps}
	s.Namespace, s.Name = ns, name
	s.Labels = service.Labels{endpoints.LabelServiceName: svc}
	if len(eps) > 0 && eps[0].Address().Is6() {
		s.AddressType = endpoints.AddressTypeIPv6
	}
	return s
}

func eport(name string, port int32) endpoints.Port {
	return endpoints.Port{Name: name, Protocol: service.ProtocolTCP, Port: port}
}

func created(s *endpoints.Slice) endpoints.Change {
	return endpoints.Change{Kind: endpoints.Created, Service: keyOf(s.Namespace, s.ServiceName()), Slice: s}
}

func updated(old, s *endpoints.Slice) endpoints.Change {
	return endpoints.Change{Kind: endpoints.Updated, Service: keyOf(s.Namespace, s.ServiceName()), Old: old, Slice: s}
}

func deleted(old *endpoints.Slice) endpoints.Change {
	return endpoints.Change{Kind: endpoints.Deleted, Service: keyOf(old.Namespace, old.ServiceName()), Old: old}
}

// expect checks a response against its String form, written as lines
// without the leading ";; " on the rcode line.
func expect(t *testing.T, r *Resolver, name string, qtype Type, want string) {
	t.Helper()
	got := r.Resolve(name, qtype).String()
	want = ";; " + strings.TrimSpace(dedent(want)) + "\n"
	require.Equal(t, want, got, "%s %s", name, qtype)
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
