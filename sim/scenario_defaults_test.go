package sim

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// TestGeneratedNamesAgree checks that the objects the decode-time check
// lets a scenario refer to are exactly those Run generates: the same
// Services, Deployments and nodes, and the nodes in the zones it
// accepts. Both read scenarioDefaults; this holds them to it.
func TestGeneratedNamesAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Scenario{Duration: Duration(time.Second)}
		s.Workload = WorkloadSpec{
			Services:   rapid.IntRange(0, 5).Draw(t, "services"),
			Replicas:   int32(rapid.IntRange(0, 2).Draw(t, "replicas")),
			Prefix:     rapid.SampledFrom([]string{"", "api"}).Draw(t, "prefix"),
			Namespace:  rapid.SampledFrom([]string{"", "shop"}).Draw(t, "namespace"),
			Namespaces: rapid.IntRange(0, 3).Draw(t, "namespaces"),
		}
		minNodes := 0
		if s.Workload.Services > 0 {
			minNodes = 1 // pods need a node to fit on (checkCapacity)
		}
		s.Cluster.Nodes = rapid.IntRange(minNodes, 4).Draw(t, "nodes")
		if rapid.Bool().Draw(t, "zones") {
			s.Cluster.Zones = []string{"east", "west"}
		}
		d := decoder{s: s}
		n := d.scenarioNames()

		w, err := newWorld(s)
		require.NoError(t, err)
		svcs := slices.Collect(maps.Keys(w.svcs))
		deps := slices.Collect(maps.Keys(w.deployByKey))
		require.ElementsMatch(t, slices.Collect(maps.Keys(n.services)), svcs, "Services")
		require.ElementsMatch(t, slices.Collect(maps.Keys(n.deployments)), deps, "Deployments")
		var nodes []string
		for _, nd := range w.nodes {
			nodes = append(nodes, nd.name)
			require.True(t, n.zones[nd.zone], "node %s in zone %q, which the check does not know", nd.name, nd.zone)
		}
		require.ElementsMatch(t, slices.Collect(maps.Keys(n.nodes)), nodes, "nodes")
		for _, dp := range w.deployByKey {
			want := s.Workload.Replicas
			if want == 0 {
				want = 3
			}
			require.Equal(t, want, *dp.obj.Spec.Replicas, "replicas of %s", dp.key)
		}
	})
}

// TestZoneNames checks the default zones and that the result is the
// caller's to change.
func TestZoneNames(t *testing.T) {
	require.Equal(t, []string{"zone-a", "zone-b", "zone-c"}, ClusterSpec{}.ZoneNames())
	z := ClusterSpec{}.ZoneNames()
	z[0] = "changed"
	require.Equal(t, "zone-a", ClusterSpec{}.ZoneNames()[0])
	c := ClusterSpec{Zones: []string{"x"}}
	z = c.ZoneNames()
	z[0] = "y"
	require.Equal(t, []string{"x"}, c.Zones)
	require.Equal(t, service.NamespacedName{Namespace: "ns-2", Name: "p-5"},
		generatedWorkload{prefix: "p", namespace: "ns", namespaces: 3}.key(5))
}
