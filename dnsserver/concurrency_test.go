package dnsserver

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// TestConcurrentUpdates runs a writer that replaces the endpoints of a
// headless Service while readers query it over UDP: every answer must be
// the whole endpoint set of one generation (generation k has 10.1.k.1–3).
// Run it under -race.
func TestConcurrentUpdates(t *testing.T) {
	r := dnsname.NewResolver(dnsname.Config{})
	require.NoError(t, r.UpsertService(svc("default", "hl", []string{service.ClusterIPNone})))
	gen := func(k int) *endpoints.Slice {
		return slice("default", "hl", "hl-1", nil, fmt.Sprintf("10.1.%d.1", k), fmt.Sprintf("10.1.%d.2", k), fmt.Sprintf("10.1.%d.3", k))
	}
	prev := gen(0)
	require.NoError(t, r.ApplySlices([]endpoints.Change{created(prev)}))
	_, addr := startServer(t, Config{Resolver: r})

	const updates = 150
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{}
			q := new(dns.Msg)
			q.SetQuestion("hl.default.svc.cluster.local.", dns.TypeA)
			for i := 0; i < 5000; i++ {
				select {
				case <-done:
					return
				default:
				}
				m, _, err := c.Exchange(q, addr)
				if err != nil {
					errs <- err
					return
				}
				if len(m.Answer) != 3 {
					errs <- fmt.Errorf("answer of %d records", len(m.Answer))
					return
				}
				k := m.Answer[0].(*dns.A).A[2]
				for j, rr := range m.Answer {
					a := rr.(*dns.A).A
					if a[2] != k || a[3] != byte(j+1) {
						errs <- fmt.Errorf("answer mixes generations: %v", m.Answer)
						return
					}
				}
			}
		}()
	}
	for k := 1; k <= updates; k++ {
		next := gen(k)
		ch := endpoints.Change{Kind: endpoints.Updated, Service: service.NamespacedName{Namespace: "default", Name: "hl"}, Old: prev, Slice: next}
		require.NoError(t, r.ApplySlices([]endpoints.Change{ch}))
		prev = next
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	m := exchange(t, addr, "udp", "hl.default.svc.cluster.local.", dns.TypeA, 0)
	require.Equal(t, netip.MustParseAddr(fmt.Sprintf("10.1.%d.1", updates)).AsSlice(), []byte(m.Answer[0].(*dns.A).A.To4()))
}
