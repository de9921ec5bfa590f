package dnsname

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/service"
)

// manyPortService is a ClusterIP Service of n named ports.
func manyPortService(n int) *service.Service {
	ps := make([]service.ServicePort, n)
	for i := range ps {
		ps[i] = tcp(fmt.Sprintf("p%d", i), int32(i+1))
	}
	return newSvc("default", "many", clusterIPs("10.96.0.10"), ports(ps...))
}

// TestManyPortsAllocsLinear counts the allocations of publishing a
// Service of n and 10n ports: they grow linearly, and the last port's SRV
// name answers. (The time of the per-label scan this replaced grew
// quadratically without allocating; BenchmarkApplyManyPorts shows it:
// 800 ports 64 ms and 8 000 ports 5.6 s before, 3.3 ms and 44 ms after.)
func TestManyPortsAllocsLinear(t *testing.T) {
	allocs := func(n int) float64 {
		svc := manyPortService(n)
		return testing.AllocsPerRun(3, func() {
			r := NewResolver(Config{})
			require.NoError(t, r.UpsertService(svc))
		})
	}
	small, large := allocs(300), allocs(3000)
	require.LessOrEqual(t, large, 20*small, "allocations: %v for 300 ports, %v for 3000", small, large)
	r := NewResolver(Config{})
	require.NoError(t, r.UpsertService(manyPortService(3000)))
	resp := r.Resolve("_p2999._tcp.many.default.svc.cluster.local.", TypeSRV)
	require.Len(t, resp.Answer, 1)
	require.Equal(t, int32(3000), int32(resp.Answer[0].Port))
}

// BenchmarkApplyManyPorts publishes a Service of n and 10n ports.
func BenchmarkApplyManyPorts(b *testing.B) {
	for _, n := range []int{800, 8000} {
		b.Run(fmt.Sprintf("ports=%d", n), func(b *testing.B) {
			svc := manyPortService(n)
			b.ReportAllocs()
			for b.Loop() {
				r := NewResolver(Config{})
				if err := r.UpsertService(svc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
