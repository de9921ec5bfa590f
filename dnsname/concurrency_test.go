package dnsname

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
)

// TestConcurrentResolve runs readers against a writer that keeps
// switching a Service between two states in single batches. Run under
// -race: every answer must be one of the two states', never a mix.
func TestConcurrentResolve(t *testing.T) {
	r := NewResolver(Config{})
	ps := []endpoints.Port{eport("http", 8080)}
	stateA := func(b *Batch) {
		b.UpsertService(newSvc("default", "web", headless(), ports(tcp("http", 80))))
		b.Slices(created(sliceOf("default", "web", "web-1", ps, ep("10.0.0.1", "", true), ep("10.0.0.2", "", true))))
	}
	stateB := func(b *Batch) {
		b.UpsertService(newSvc("default", "web", clusterIPs("10.96.0.9"), ports(tcp("http", 80))))
		b.Slices(created(sliceOf("default", "web", "web-1", ps, ep("10.0.0.3", "", true))))
	}
	var b Batch
	stateA(&b)
	require.NoError(t, r.Apply(&b))
	wantA := r.Resolve("web.default.svc.cluster.local", TypeA).String()
	b = Batch{}
	stateB(&b)
	require.NoError(t, r.Apply(&b))
	wantB := r.Resolve("web.default.svc.cluster.local", TypeA).String()
	require.NotEqual(t, wantA, wantB)

	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !done.Load() || n < 100; n++ {
				got := r.Resolve("WEB.default.svc.cluster.local", TypeA).String()
				if got != wantA && got != wantB {
					errs <- got
					return
				}
				_ = r.Resolve("_http._tcp.web.default.svc.cluster.local", TypeSRV)
				_ = r.Resolve("1.0.0.10.in-addr.arpa", TypePTR)
			}
		}()
	}
	for i := range 300 {
		var b Batch
		if i%2 == 0 {
			stateA(&b)
		} else {
			stateB(&b)
		}
		require.NoError(t, r.Apply(&b))
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("torn answer: %s", got)
	}
}

// TestConcurrentHeadless runs readers against a writer that keeps
// flipping one endpoint of a headless Service of 200 endpoints, whose
// answers every query makes from the snapshot it loaded: each must get
// one of the two states' answers. Run under -race.
func TestConcurrentHeadless(t *testing.T) {
	r := NewResolver(Config{})
	var eps []*endpoints.Endpoint
	for i := range 200 {
		eps = append(eps, ep(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), "", true))
	}
	ps := []endpoints.Port{eport("http", 8080)}
	all := sliceOf("default", "web", "web-1", ps, eps...)
	flipped := flipReady(all, 0)
	var b Batch
	b.UpsertService(newSvc("default", "web", headless(), ports(tcp("http", 80))))
	b.Slices(created(all))
	require.NoError(t, r.Apply(&b))
	want := map[Type][2]string{}
	for _, qt := range []Type{TypeA, TypeSRV} {
		a := r.Resolve("web.default.svc.cluster.local", qt).String()
		require.NoError(t, r.ApplySlices([]endpoints.Change{updated(all, flipped)}))
		f := r.Resolve("web.default.svc.cluster.local", qt).String()
		require.NoError(t, r.ApplySlices([]endpoints.Change{updated(flipped, all)}))
		require.NotEqual(t, a, f)
		want[qt] = [2]string{a, f}
	}

	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qt := []Type{TypeA, TypeSRV}[g%2]
			for n := 0; !done.Load() || n < 20; n++ {
				got := r.Resolve("web.default.svc.cluster.local", qt).String()
				if got != want[qt][0] && got != want[qt][1] {
					errs <- got
					return
				}
			}
		}()
	}
	cur, next := all, flipped
	for range 200 {
		require.NoError(t, r.ApplySlices([]endpoints.Change{updated(cur, next)}))
		cur, next = next, cur
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("torn answer: %.200s", got)
	}
}
