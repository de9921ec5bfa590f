package service

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// disagreeing builds the snapshots Check must flag, each from a registry
// holding web (ClusterIP) and np (NodePort), bent one way by hand.
func disagreeing(t *testing.T) (clean []byte, cases map[string]struct {
	data []byte
	want []string
}) {
	t.Helper()
	base := func() (*Registry, *Service, *Service) {
		r := newTestRegistry(t)
		web := mustCreate(t, r, svcYAML(t, webYAML))
		np := mustCreate(t, r, svcYAML(t, nodePortYAML))
		return r, web, np
	}
	r, _, _ := base()
	clean = mustSnapshot(t, r)
	cases = map[string]struct {
		data []byte
		want []string
	}{}
	add := func(name string, data []byte, want ...string) {
		cases[name] = struct {
			data []byte
			want []string
		}{data, want}
	}

	r, _, _ = base()
	require.NoError(t, r.ips[IPv4Protocol].Allocate(netip.MustParseAddr("10.0.0.200")))
	add("leaked IP", mustSnapshot(t, r), "clusterIP 10.0.0.200: leaked:")

	r, _, _ = base()
	require.NoError(t, r.ports.Allocate(32000))
	add("leaked port", mustSnapshot(t, r), "nodePort 32000: leaked:")

	r, web, _ := base()
	require.NoError(t, r.ips[IPv4Protocol].Release(netip.MustParseAddr(web.Spec.ClusterIP)))
	add("IP not in the allocator", mustSnapshot(t, r), "clusterIP "+web.Spec.ClusterIP+": not allocated: default/web")

	r, _, np := base()
	require.NoError(t, r.ports.Release(int(np.Spec.Ports[1].NodePort)))
	add("port not in the allocator", mustSnapshot(t, r), "nodePort "+strconv.Itoa(int(np.Spec.Ports[1].NodePort))+": not allocated: default/np")

	// np claims web's ClusterIP: web's IP is held twice, np's own is
	// allocated by nobody.
	r, web, np = base()
	own := np.Spec.ClusterIP
	bent := np.DeepCopy()
	bent.Spec.ClusterIP, bent.Spec.ClusterIPs = web.Spec.ClusterIP, []string{web.Spec.ClusterIP}
	r.items.ReplaceOrInsert(entry{bent.Key(), bent})
	ipOrder := []string{"clusterIP " + own + ": leaked:", "clusterIP " + web.Spec.ClusterIP + ": duplicate: default/np, default/web"}
	add("doubly-allocated IP", mustSnapshot(t, r), ipOrder...)
	return clean, cases
}

func problemStrings(ps []RepairProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// TestRestoreChecksAgreement: Restore runs Check on every snapshot before
// it accepts it. By default a disagreeing snapshot (a crash state) is
// accepted and what Check found is kept for Restored, exactly what Repair
// then fixes; with StrictRestore it is rejected with a DisagreementError
// naming the Service and the IP or port, and the registry is unchanged.
func TestRestoreChecksAgreement(t *testing.T) {
	clean, cases := disagreeing(t)
	r := newTestRegistry(t)
	require.NoError(t, r.Restore(clean))
	require.Empty(t, r.Restored())
	require.Empty(t, r.Check())
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			lax := newTestRegistry(t)
			require.NoError(t, lax.Restore(c.data))
			require.Equal(t, c.want, problemStrings(lax.Restored()))
			require.Equal(t, c.want, problemStrings(lax.Check()), "Check changes nothing")
			rep, err := lax.Repair()
			require.NoError(t, err)
			require.False(t, rep.Clean())
			// Repair fixed the leaks and the values not allocated; what it
			// cannot fix it reports, and Check still finds.
			require.Equal(t, problemStrings(rep.Problems), problemStrings(lax.Check()))
			if len(rep.Problems) == 0 {
				require.NoError(t, checkConsistent(lax))
			}

			strict := newTestRegistry(t, func(c *RegistryConfig) { c.StrictRestore = true })
			require.NoError(t, strict.Restore(clean))
			before := mustSnapshot(t, strict)
			err = strict.Restore(c.data)
			require.ErrorIs(t, err, ErrSnapshot)
			var de *DisagreementError
			require.True(t, errors.As(err, &de), "%v", err)
			require.Equal(t, c.want, problemStrings(de.Disagreements))
			require.ErrorContains(t, err, c.want[0])
			require.Equal(t, before, mustSnapshot(t, strict), "a rejected snapshot changes nothing")
			require.Empty(t, strict.Restored())
		})
	}
}

// TestDisagreementErrorBounded: the message quotes the first few only.
func TestDisagreementErrorBounded(t *testing.T) {
	var ps []RepairProblem
	for i := range 100 {
		ps = append(ps, RepairProblem{"nodePort", strconv.Itoa(30000 + i), "leaked", nil})
	}
	msg := (&DisagreementError{Disagreements: ps}).Error()
	require.Equal(t, "service: the snapshot's allocators and Services disagree: nodePort 30000: leaked:; nodePort 30001: leaked:; nodePort 30002: leaked:; nodePort 30003: leaked:; nodePort 30004: leaked:; and 95 more", msg)
}
