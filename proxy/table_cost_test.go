package proxy

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/service"
)

// manyPorts returns a Service of n ports and a slice of ten endpoints
// carrying every one of them.
func manyPorts(n int) (*service.Service, endpoints.Change) {
	svc := testService(service.ServiceTypeClusterIP, func(s *service.Service) {
		s.Spec.ClusterIPs = s.Spec.ClusterIPs[:1]
		s.Spec.Ports = make([]service.ServicePort, n)
		for i := range s.Spec.Ports {
			s.Spec.Ports[i] = service.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(i + 1), TargetPort: service.FromInt(int32(i + 1))}
		}
	})
	eps := make([]ep, 10)
	for i := range eps {
		eps[i] = ready(fmt.Sprintf("10.244.1.%d", i+1), "node-b", "z1")
	}
	ch := testSlice("web-1", endpoints.AddressTypeIPv4, eps...)
	ch.Slice.Ports = make([]endpoints.Port, n)
	for i := range ch.Slice.Ports {
		ch.Slice.Ports[i] = endpoints.Port{Name: fmt.Sprintf("p%d", i), Protocol: service.ProtocolTCP, Port: int32(i + 1)}
	}
	return svc, ch
}

// TestTableManyPorts: every port of a many-port Service routes to its own
// target port (the index that replaced the per-port scan of slice ports).
func TestTableManyPorts(t *testing.T) {
	svc, ch := manyPorts(300)
	b := NewTable().Builder()
	require.NoError(t, b.UpsertService(svc))
	b.ApplySlices([]endpoints.Change{ch})
	tab := b.Build()
	for i := range 300 {
		got := tab.Backends(svc.Key(), fmt.Sprintf("p%d", i), service.ProtocolTCP, false)
		require.Len(t, got, 10)
		require.Equal(t, uint16(i+1), got[0].Addr.Port())
	}
	p := newTestProxy(t, "node-a", "z1")
	p.Sync(tab)
	r := p.Route(Packet{Src: podSrc, Dst: netip.MustParseAddrPort("10.96.0.10:300"), Proto: lb.TCP}, t0)
	require.Equal(t, Routed, r.Verdict)
	require.Equal(t, "p299", r.PortName)
	require.Equal(t, uint16(300), r.Backend.Addr.Port())
}

// BenchmarkTableManyPorts rebuilds a Service of n and 10n ports after one
// endpoint change: the cost grows with the ports, not their square.
func BenchmarkTableManyPorts(b *testing.B) {
	for _, n := range []int{800, 8000} {
		b.Run(fmt.Sprintf("ports=%d", n), func(b *testing.B) {
			svc, ch := manyPorts(n)
			tb := NewTable().Builder()
			if err := tb.UpsertService(svc); err != nil {
				b.Fatal(err)
			}
			tb.ApplySlices([]endpoints.Change{ch})
			tab := tb.Build()
			upd := ch
			upd.Kind, upd.Old = endpoints.Updated, ch.Slice
			b.ReportAllocs()
			for b.Loop() {
				tb := tab.Builder()
				tb.ApplySlices([]endpoints.Change{upd})
				tab = tb.Build()
			}
		})
	}
}
