package dnsname

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/endpoints"
)

// node returns the node of the Service "<svc>.<ns>" in s.
func node(s *snapshot, key string) *svcNode {
	n, _ := s.svcs.get(hashString(key), key)
	return n
}

// TestSliceUpdateShares checks that a slice change copies only what it
// touches: after one endpoint of a headless and of a ClusterIP Service
// turns not ready, the other Services' nodes, the changed Service's
// other slice, and the groups of the PTR index that hold neither
// address are the same objects in the new snapshot as in the old one,
// and the old snapshot still answers as before.
func TestSliceUpdateShares(t *testing.T) {
	r := NewResolver(Config{})
	var b Batch
	b.UpsertService(newSvc("big", "db", headless(), ports(tcp("pg", 5432))))
	b.UpsertService(newSvc("big", "web", clusterIPs("10.96.0.1"), ports(tcp("http", 80))))
	b.UpsertService(newSvc("big", "other", clusterIPs("10.96.0.2"), ports(tcp("http", 80))))
	var dbEps, webEps, otherEps []*endpoints.Endpoint
	for i := range 100 {
		dbEps = append(dbEps, ep(fmt.Sprintf("10.1.0.%d", i), fmt.Sprintf("db-%d", i), true))
		webEps = append(webEps, ep(fmt.Sprintf("10.2.0.%d", i), "", true))
		otherEps = append(otherEps, ep(fmt.Sprintf("10.3.0.%d", i), "", true))
	}
	pg := []endpoints.Port{eport("pg", 5432)}
	db1 := sliceOf("big", "db", "db-1", pg, dbEps[:50]...)
	db2 := sliceOf("big", "db", "db-2", pg, dbEps[50:]...)
	web := sliceOf("big", "web", "web-1", []endpoints.Port{eport("http", 8080)}, webEps...)
	other := sliceOf("big", "other", "other-1", []endpoints.Port{eport("http", 8080)}, otherEps...)
	b.Slices(created(db1), created(db2), created(web), created(other))
	require.NoError(t, r.Apply(&b))
	s0 := r.snap.Load()
	require.NoError(t, r.ApplySlices([]endpoints.Change{updated(db1, flipReady(db1, 3)), updated(web, flipReady(web, 3))}))
	s1 := r.snap.Load()
	require.Equal(t, s0.gen+1, s1.gen)

	require.Same(t, node(s0, "other.big"), node(s1, "other.big"))
	require.NotSame(t, node(s0, "db.big"), node(s1, "db.big"))
	require.Same(t, node(s0, "db.big").slices[1], node(s1, "db.big").slices[1], "db-2 did not change")
	require.Same(t, node(s0, "db.big").spec, node(s1, "db.big").spec)

	changed := map[uint64]bool{}
	for _, a := range []string{"10.1.0.3", "10.2.0.3"} {
		g, _ := s0.rev.shard(netip.MustParseAddr(a))
		changed[g] = true
		require.Len(t, s0.rev.get(netip.MustParseAddr(a)), 1, a)
		require.Empty(t, s1.rev.get(netip.MustParseAddr(a)), a)
	}
	for g := range s0.rev.groups {
		if !changed[uint64(g)] {
			require.Same(t, s0.rev.groups[g], s1.rev.groups[g], "group %d", g)
		}
	}
	for _, a := range []string{"10.1.0.0", "10.1.0.99", "10.2.0.0", "10.2.0.99", "10.96.0.1"} {
		require.Len(t, s1.rev.get(netip.MustParseAddr(a)), 1, a)
	}

	for name, want := range map[string][2]int{
		"db.big.svc.cluster.local":              {100, 99},
		"db-3.db.big.svc.cluster.local":         {1, 0},
		"10-2-0-3.web.big.svc.cluster.local":    {1, 0},
		"10-2-0-4.web.big.svc.cluster.local":    {1, 1},
		"_pg._tcp.db.big.svc.cluster.local":     {100, 99},
		"3.0.1.10.in-addr.arpa":                 {1, 0},
		"4.0.2.10.in-addr.arpa":                 {1, 1},
		"_http._tcp.web.big.svc.cluster.local.": {1, 1},
	} {
		qt := TypeA
		switch name[0] {
		case '_':
			qt = TypeSRV
		case '3', '4':
			qt = TypePTR
		}
		require.Len(t, r.resolve(s0, name, qt, 0).Answer, want[0], "old snapshot: %s", name)
		require.Len(t, r.Resolve(name, qt).Answer, want[1], name)
	}
}

// TestUnchangedServiceKeepsNode checks that an upsert of the same Service
// leaves its node as it was, and that an update of a not-ready endpoint,
// which publishes nothing new, leaves the answers and the PTR index as
// they were.
func TestUnchangedServiceKeepsNode(t *testing.T) {
	r := NewResolver(Config{})
	svc := newSvc("default", "web", clusterIPs("10.96.0.1"), ports(tcp("http", 80)))
	s := sliceOf("default", "web", "web-1", []endpoints.Port{eport("http", 8080)}, ep("10.0.0.1", "", true), ep("10.0.0.2", "", false))
	var b Batch
	b.UpsertService(svc)
	b.Slices(created(s))
	require.NoError(t, r.Apply(&b))
	s0 := r.snap.Load()
	n0 := node(s0, "web.default")
	require.NotNil(t, n0)
	require.NoError(t, r.UpsertService(svc))
	require.Same(t, n0, node(r.snap.Load(), "web.default"))
	s2 := *s
	s2.Endpoints = slices.Clone(s.Endpoints)
	e1 := *s.Endpoints[1]
	e1.Hostname = "other" // not ready: not published
	s2.Endpoints[1] = &e1
	require.NoError(t, r.ApplySlices([]endpoints.Change{updated(s, &s2)}))
	s1 := r.snap.Load()
	require.Equal(t, s0.rev.groups, s1.rev.groups)
	for _, q := range []string{"web.default.svc.cluster.local", "other.web.default.svc.cluster.local", "10-0-0-1.web.default.svc.cluster.local", "1.0.0.10.in-addr.arpa", "2.0.0.10.in-addr.arpa"} {
		for _, qt := range []Type{TypeA, TypeSRV, TypePTR} {
			require.Equal(t, r.resolve(s0, q, qt, 0).String(), r.Resolve(q, qt).String(), "%s %s", q, qt)
		}
	}
}
