package svcnet

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/internal/sealed"
	"github.com/svcnet/svcnet/service"
)

// snapshotCluster is a cluster with a little of everything: nodes in
// zones, ready, unready and terminating pods, and one Service of each type.
func snapshotCluster(t *testing.T, now *time.Time) *Cluster {
	t.Helper()
	c := lbCluster(t, false, now)
	for i := range 5 {
		p := testPod(fmt.Sprintf("web-%d", i), fmt.Sprintf("node-%d", i%3), fmt.Sprintf("10.244.%d.%d", i%3, 10+i), i != 3)
		if i == 4 {
			ts := *now
			p.DeletionTimestamp = &ts
		}
		apply(t, c, p)
		*now = now.Add(time.Minute)
	}
	apply(t, c, clientPod("client", "node-0", "10.244.0.99"))
	create(t, c, webService("web", ""))
	np := webService("web-np", service.ServiceTypeNodePort)
	np.Spec.Ports[0].NodePort = 30080
	create(t, c, np)
	lbs := webService("web-lb", service.ServiceTypeLoadBalancer)
	lbs.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	create(t, c, lbs)
	create(t, c, &service.Service{
		ObjectMeta: service.ObjectMeta{Name: "db", Namespace: "default"},
		Spec:       service.ServiceSpec{Type: service.ServiceTypeExternalName, ExternalName: "db.example.com"},
	})
	hl := webService("web-hl", "")
	hl.Spec.ClusterIP = service.ClusterIPNone
	create(t, c, hl)
	c.SyncAllNodes()
	require.NoError(t, c.SyncDNS())
	return c
}

// requireSameCluster checks that two clusters hold the same Services,
// nodes, pods and slice contents, answer the same names and route every
// Service address to the same backends.
func requireSameCluster(t *testing.T, want, got *Cluster) {
	t.Helper()
	require.Equal(t, want.Services(""), got.Services(""))
	require.Equal(t, want.Nodes(), got.Nodes())
	require.Equal(t, want.Pods(""), got.Pods(""))
	for _, svc := range want.Services("") {
		key := svc.Key()
		require.Equal(t, sliceAddrs(want, key), sliceAddrs(got, key), "slices of %s", key)
		for _, sp := range svc.Spec.Ports {
			for _, v6 := range []bool{false, true} {
				require.Equal(t, sortBackends(want.Table().Backends(key, sp.Name, sp.Protocol, v6)),
					sortBackends(got.Table().Backends(key, sp.Name, sp.Protocol, v6)), "%s port %s", key, sp.Name)
			}
		}
		for _, qt := range []dnsname.Type{dnsname.TypeA, dnsname.TypeCNAME, dnsname.TypeSRV} {
			name := dnsname.ServiceName(key.Name, key.Namespace, "")
			require.Equal(t, want.DNS().Resolve(name, qt), got.DNS().Resolve(name, qt), "%s %s", name, qt)
		}
	}
	require.Equal(t, want.Table().Frontends(), got.Table().Frontends())
}

// The backends a cluster routes a target to, from a source, over many
// connections.
func backendsOf(t *testing.T, c *Cluster, from Source, target string) []string {
	t.Helper()
	seen := map[string]bool{}
	for range 100 {
		tr := dial(t, c, from, target)
		seen[tr.Route.Verdict.String()+" "+tr.Route.Backend.Addr.String()] = true
	}
	return slices.Sorted(mapKeys(seen))
}

func TestSnapshotRestore(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	data, err := c.Snapshot()
	require.NoError(t, err)

	// A new cluster with the same configuration, with a pool of its own.
	now2 := now
	c2 := lbCluster(t, false, &now2)
	require.NoError(t, c2.Restore(data))
	requireSameCluster(t, c, c2)
	for _, n := range c2.Nodes() {
		stale, err := c2.NodeStale(n.Name)
		require.NoError(t, err)
		require.Zero(t, stale, "Restore syncs every node")
	}
	require.Zero(t, c2.DNSPending())
	rep, err := c2.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep)

	// Routing: the same backends from inside and outside.
	for _, target := range []string{"web:80", "web-np:80", "web-lb:80", "192.168.0.11:30080"} {
		require.Equal(t, backendsOf(t, c, FromPod("default", "client"), target), backendsOf(t, c2, FromPod("default", "client"), target), target)
	}
	for _, target := range []string{"192.0.2.100:80", "192.168.0.10:30080"} {
		require.Equal(t, backendsOf(t, c, outsider, target), backendsOf(t, c2, outsider, target), target)
	}
	// The restored pool knows its address is taken.
	next := create(t, c2, webService("web-lb2", service.ServiceTypeLoadBalancer))
	require.Equal(t, "192.0.2.101", next.Status.LoadBalancer.Ingress[0].IP)
	c2.SyncAllNodes()
	require.NoError(t, c2.SyncDNS())

	// A snapshot of the restored cluster restores the same again.
	data2, err := c2.Snapshot()
	require.NoError(t, err)
	c3 := lbCluster(t, true, &now2)
	require.NoError(t, c3.Restore(data2))
	requireSameCluster(t, c2, c3)
}

func TestRestoreGarbageChangesNothing(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	before, err := c.Snapshot()
	require.NoError(t, err)
	valid := string(before)
	for name, data := range map[string]string{
		"not JSON":       "garbage",
		"empty":          "",
		"no version":     `{}`,
		"unsealed":       contentOf(t, valid),
		"future version": strings.Replace(valid, `"version":3`, `"version":4`, 1),
		"edited content": strings.Replace(valid, `"nodes":[`, `"nodes":[null,`, 1),
		"bad registry":   resealed(t, valid, func(s string) string { return `{"registry":"bm90IGpzb24="}` }),
		"null node":      resealed(t, valid, func(s string) string { return strings.Replace(s, `"nodes":[`, `"nodes":[null,`, 1) }),
		"invalid node": resealed(t, valid, func(s string) string {
			return strings.Replace(s, `"nodes":[`, `"nodes":[{"metadata":{"name":"Bad_Node"}},`, 1)
		}),
		"null pod": resealed(t, valid, func(s string) string { return strings.Replace(s, `"pods":[`, `"pods":[null,`, 1) }),
		"invalid pod": resealed(t, valid, func(s string) string {
			return strings.Replace(s, `"pods":[`, `"pods":[{"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[]}},`, 1)
		}),
		"wrong pod field": resealed(t, valid, func(s string) string { return strings.Replace(s, `"pods":[`, `"pods":[{"metadata":{"name":7}},`, 1) }),
	} {
		require.NotEqual(t, valid, data, name)
		err := c.Restore([]byte(data))
		require.ErrorIs(t, err, ErrSnapshot, name)
		after, err := c.Snapshot()
		require.NoError(t, err)
		require.Equal(t, valid, string(after), "%s: the cluster is unchanged", name)
	}
	// It still works, pool included.
	require.True(t, dial(t, c, FromPod("default", "client"), "web:80").Served())
	next := create(t, c, webService("web-lb2", service.ServiceTypeLoadBalancer))
	require.Equal(t, "192.0.2.101", next.Status.LoadBalancer.Ingress[0].IP)
	rep, err := c.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep)
}

func TestRepairCleanCluster(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	rep, err := c.Repair()
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep)
	require.Empty(t, rep.Problems)
	// Repair changes nothing a Snapshot shows.
	before, err := c.Snapshot()
	require.NoError(t, err)
	_, err = c.Repair()
	require.NoError(t, err)
	after, err := c.Snapshot()
	require.NoError(t, err)
	require.Equal(t, string(before), string(after))
}

// Restore keeps a cluster's source ports moving on, so that two
// connections before and after a Restore do not share a 5-tuple.
func TestRestoreKeepsEphemeralPorts(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	tr1 := dial(t, c, FromPod("default", "client"), "web:80")
	data, err := c.Snapshot()
	require.NoError(t, err)
	require.NoError(t, c.Restore(data))
	tr2 := dial(t, c, FromPod("default", "client"), "web:80")
	require.Equal(t, tr1.Src.Port()+1, tr2.Src.Port())
}

// contentOf returns a sealed snapshot's content without its envelope.
func contentOf(t *testing.T, data string) string {
	var content json.RawMessage
	require.NoError(t, sealed.Open([]byte(data), snapshotKind, snapshotVersion, &content))
	return string(content)
}

// resealed opens a sealed cluster snapshot, edits its content and seals
// it again, so that a test reaches the checks behind the checksum.
func resealed(t *testing.T, data string, edit func(string) string) string {
	var content json.RawMessage
	require.NoError(t, sealed.Open([]byte(data), snapshotKind, snapshotVersion, &content))
	out, err := sealed.Seal(snapshotKind, snapshotVersion, json.RawMessage(edit(string(content))))
	require.NoError(t, err)
	return string(out)
}

// TestRestoreCorruption flips every bit and truncates at every byte of a
// real cluster snapshot: none is accepted with a different state, and a
// rejected one leaves the cluster as it was.
func TestRestoreCorruption(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	data, err := c.Snapshot()
	require.NoError(t, err)
	tries := 0
	try := func(bad []byte, what string) {
		tries++
		err := c.Restore(bad)
		if err != nil {
			require.ErrorIs(t, err, ErrSnapshot, what)
			// Restore replaces the cluster only once everything checked
			// out; comparing the state after every rejection would
			// double the test's time for little, so sample it.
			if tries%61 != 0 {
				return
			}
		}
		after, err := c.Snapshot()
		require.NoError(t, err)
		require.Equal(t, string(data), string(after), what)
	}
	step := 1
	if testing.Short() || raceEnabled {
		step = 5
	}
	for i := 0; i < len(data); i += step {
		for bit := range 8 {
			bad := append([]byte(nil), data...)
			bad[i] ^= 1 << bit
			try(bad, fmt.Sprintf("byte %d bit %d", i, bit))
		}
	}
	for n := 0; n < len(data); n += step {
		try(data[:n], fmt.Sprintf("truncated to %d", n))
	}
}

// TestRestoreFailureKeepsRandomStream checks that a rejected snapshot
// draws nothing from Config.Rand: a cluster that failed a Restore and its
// twin that never tried go on to allocate the same addresses.
func TestRestoreFailureKeepsRandomStream(t *testing.T) {
	nowA, nowB := epoch, epoch
	a, b := snapshotCluster(t, &nowA), snapshotCluster(t, &nowB)
	data, err := a.Snapshot()
	require.NoError(t, err)
	bad := resealed(t, string(data), func(s string) string { return strings.Replace(s, `"pods":[`, `"pods":[null,`, 1) })
	require.ErrorIs(t, a.Restore([]byte(bad)), ErrSnapshot)
	require.Equal(t, a.rng.Uint64(), b.rng.Uint64(), "the failed Restore drew from the random stream")
	// A successful Restore does draw, as before.
	require.NoError(t, a.Restore(data))
	require.NoError(t, b.Restore(data))
	require.Equal(t, a.rng.Uint64(), b.rng.Uint64())
}

// TestRestorePodOnRemovedNode: a pod whose node is gone (kept without an
// endpoint, as Kubernetes does) restores, still without one.
func TestRestorePodOnRemovedNode(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	_, err := c.RemoveNode("node-2")
	require.NoError(t, err)
	before := sliceAddrs(c, service.NamespacedName{Namespace: "default", Name: "web"})
	data, err := c.Snapshot()
	require.NoError(t, err)
	now2 := epoch
	c2 := lbCluster(t, false, &now2)
	require.NoError(t, c2.Restore(data))
	require.Equal(t, before, sliceAddrs(c2, service.NamespacedName{Namespace: "default", Name: "web"}))
	_, err = c2.Pod(service.NamespacedName{Namespace: "default", Name: "web-2"})
	require.NoError(t, err, "the pod on the removed node is kept")
}
