package dnsname

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
)

// TestSliceUpdateShares checks that a slice change rebuilds only what it
// touches: after one endpoint of a headless and of a ClusterIP Service
// turns not ready, every other name and PTR record is the same object in
// the new snapshot as in the old one.
func TestSliceUpdateShares(t *testing.T) {
	r := NewResolver(Config{})
	var b Batch
	b.UpsertService(newSvc("big", "db", headless(), ports(tcp("pg", 5432))))
	b.UpsertService(newSvc("big", "web", clusterIPs("10.96.0.1"), ports(tcp("http", 80))))
	var dbEps, webEps []endpoints.Endpoint
	for i := range 100 {
		dbEps = append(dbEps, ep(fmt.Sprintf("10.1.0.%d", i), fmt.Sprintf("db-%d", i), true))
		webEps = append(webEps, ep(fmt.Sprintf("10.2.0.%d", i), "", true))
	}
	db := sliceOf("big", "db", "db-1", []endpoints.Port{eport("pg", 5432)}, dbEps...)
	web := sliceOf("big", "web", "web-1", []endpoints.Port{eport("http", 8080)}, webEps...)
	b.Slices(created(db), created(web))
	require.NoError(t, r.Apply(&b))
	s0 := r.snap.Load()
	require.NoError(t, r.ApplySlices([]endpoints.Change{updated(db, flipReady(db, 3)), updated(web, flipReady(web, 3))}))
	s1 := r.snap.Load()
	require.Equal(t, s0.gen+1, s1.gen)

	at := func(s *snapshot, rel string) *entry { return lookup(s, []byte(rel)) }
	ptr := func(s *snapshot, a string) *Record {
		recs, ok := s.rev.get(hashAddr(netip.MustParseAddr(a)), netip.MustParseAddr(a))
		if !ok {
			return nil
		}
		return &recs[0]
	}
	require.Nil(t, at(s1, "db-3.db.big.svc"))
	require.Nil(t, at(s1, "10-2-0-3.web.big.svc"))
	require.Nil(t, ptr(s1, "10.1.0.3"))
	require.Nil(t, ptr(s1, "10.2.0.3"))
	for _, rel := range []string{"db-0.db.big.svc", "db-99.db.big.svc", "10-2-0-0.web.big.svc", "10-2-0-99.web.big.svc", "web.big.svc", "_http._tcp.web.big.svc"} {
		require.NotNil(t, at(s0, rel), rel)
		require.Same(t, at(s0, rel), at(s1, rel), rel)
	}
	for _, a := range []string{"10.1.0.0", "10.1.0.99", "10.2.0.0", "10.2.0.99", "10.96.0.1"} {
		require.NotNil(t, ptr(s0, a), a)
		require.Same(t, ptr(s0, a), ptr(s1, a), a)
	}
	// The headless Service's own name and SRV name list every endpoint:
	// they are new, and the old snapshot still answers as before.
	require.NotSame(t, at(s0, "db.big.svc"), at(s1, "db.big.svc"))
	require.Len(t, r.resolve(s0, "db.big.svc.cluster.local", TypeA, 0).Answer, 100)
	require.Len(t, r.Resolve("db.big.svc.cluster.local", TypeA).Answer, 99)
	require.Len(t, r.resolve(s0, "_pg._tcp.db.big.svc.cluster.local", TypeSRV, 0).Answer, 100)
	require.Len(t, r.Resolve("_pg._tcp.db.big.svc.cluster.local", TypeSRV).Answer, 99)
}

// TestUnchangedServiceKeepsNode checks that a change that publishes
// nothing new, such as a not-ready endpoint's update or an upsert of the
// same Service, leaves the Service's names as they were.
func TestUnchangedServiceKeepsNode(t *testing.T) {
	r := NewResolver(Config{})
	svc := newSvc("default", "web", clusterIPs("10.96.0.1"), ports(tcp("http", 80)))
	s := sliceOf("default", "web", "web-1", []endpoints.Port{eport("http", 8080)}, ep("10.0.0.1", "", true), ep("10.0.0.2", "", false))
	var b Batch
	b.UpsertService(svc)
	b.Slices(created(s))
	require.NoError(t, r.Apply(&b))
	node := func() *svcNode { return r.snap.Load().svcs.get(hashString("web.default"), []byte("web.default")) }
	n0 := node()
	require.NoError(t, r.UpsertService(svc))
	require.Same(t, n0, node())
	s2 := *s
	s2.Endpoints = append([]endpoints.Endpoint(nil), s.Endpoints...)
	s2.Endpoints[1].Hostname = "other" // not ready: not published
	require.NoError(t, r.ApplySlices([]endpoints.Change{updated(s, &s2)}))
	require.Same(t, n0, node())
}
