package svcnet

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/internal/sealed"
	"github.com/svcnet/svcnet/service"
)

// withEarlyAllocators returns the cluster snapshot late with the
// Registry's allocators of the snapshot early: a crash between the
// allocations of the Services created since early and their store
// writes, as kube-apiserver can leave it.
func withEarlyAllocators(t *testing.T, late, early []byte) []byte {
	t.Helper()
	reg := func(data []byte) (snapshot, map[string]json.RawMessage) {
		var s snapshot
		require.NoError(t, sealed.Open(data, snapshotKind, snapshotVersion, &s))
		var m map[string]json.RawMessage
		require.NoError(t, sealed.Open(s.Registry, "svcnet.registry", 2, &m))
		return s, m
	}
	s, l := reg(late)
	_, e := reg(early)
	l["clusterIPs"], l["nodePorts"] = e["clusterIPs"], e["nodePorts"]
	var err error
	s.Registry, err = sealed.Seal("svcnet.registry", 2, l)
	require.NoError(t, err)
	out, err := sealed.Seal(snapshotKind, snapshotVersion, s)
	require.NoError(t, err)
	return out
}

// TestClusterRestoreChecksAgreement: a crash-state snapshot (Services
// whose IP and NodePort the allocators do not hold) is accepted by
// default, with what the check found in Restored and fixed by Repair;
// with StrictRestore it is an ErrSnapshot naming the Service and the
// values, and the cluster, its random stream included, is as it was.
func TestClusterRestoreChecksAgreement(t *testing.T) {
	now := epoch
	c := snapshotCluster(t, &now)
	early, err := c.Snapshot()
	require.NoError(t, err)
	np := webService("late-np", service.ServiceTypeNodePort)
	np.Spec.Ports[0].NodePort = 30123
	create(t, c, np)
	late, err := c.Snapshot()
	require.NoError(t, err)
	got, err := c.Service(service.NamespacedName{Namespace: "default", Name: "late-np"})
	require.NoError(t, err)
	crashed := withEarlyAllocators(t, late, early)
	want := []string{
		"clusterIP " + got.Spec.ClusterIP + ": not allocated: default/late-np",
		"nodePort 30123: not allocated: default/late-np",
	}

	lax := snapshotCluster(t, &now)
	require.NoError(t, lax.Restore(crashed))
	var found []string
	for _, p := range lax.Restored() {
		found = append(found, p.String())
	}
	require.Equal(t, want, found)
	rep, err := lax.Repair()
	require.NoError(t, err)
	require.Len(t, rep.NodePorts.Missing, 1)
	require.Empty(t, lax.reg.Check())

	nowA, nowB := epoch, epoch
	a, b := snapshotCluster(t, &nowA), snapshotCluster(t, &nowB)
	a.cfg.StrictRestore, b.cfg.StrictRestore = true, true
	before, err := a.Snapshot()
	require.NoError(t, err)
	err = a.Restore(crashed)
	require.ErrorIs(t, err, ErrSnapshot)
	var de *service.DisagreementError
	require.True(t, errors.As(err, &de), "%v", err)
	require.ErrorContains(t, err, want[0])
	after, err := a.Snapshot()
	require.NoError(t, err)
	require.Equal(t, before, after, "a rejected snapshot changes nothing")
	require.Equal(t, a.rng.Uint64(), b.rng.Uint64(), "the rejected Restore drew from the random stream")
	require.NoError(t, a.Restore(late), "a snapshot that agrees is accepted in strict mode")
	require.Empty(t, a.Restored())
}
