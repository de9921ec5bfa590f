package testbed

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/sim"
)

// TestTooLarge: a scenario beyond the bound, or bad Options, is refused
// with a typed error before anything is made (so also without root).
func TestTooLarge(t *testing.T) {
	_, err := Run(sim.ScaleScenario(), Options{})
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "nodes")

	s, err := sim.ReadScenarioFiles("../examples/scenarios/rolling-update-real.yaml")
	require.NoError(t, err)
	s = s.Variants[0].Apply(s)
	require.Equal(t, Size{Nodes: 3, Pods: 2*6 + 3, Rate: 100}, SizeOf(s, 1))
	require.Equal(t, 200.0, SizeOf(s, 0.5).Rate)

	// A rate that fits in real time but not ten times faster.
	_, err = Run(s, Options{TimeScale: 0.1})
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "1000 connections per wall-clock second")

	for _, o := range []Options{{TimeScale: -1}, {TimeScale: 11}, {ConnectTimeout: -1}} {
		_, err := Run(s, o)
		require.ErrorIs(t, err, ErrInvalid, "%+v", o)
	}
	// Every kind of traffic the simulator runs is mirrored: a
	// LoadBalancer flow from outside, NodePort from pods, a
	// clientSelector's pods as clients pass the feature check (the
	// kernel test TestTrafficKinds runs them); more than one variant
	// does not.
	kinds := s
	kinds.Traffic = append(slices.Clone(s.Traffic),
		sim.TrafficSpec{Service: s.Traffic[0].Service, From: sim.FromExternal, Via: sim.ViaLoadBalancer, Rate: 1},
		sim.TrafficSpec{Service: s.Traffic[0].Service, Via: sim.ViaNodePort, Rate: 1},
		sim.TrafficSpec{Service: s.Traffic[0].Service, ClientSelector: "app=web", Rate: 1})
	require.NoError(t, checkFeatures(kinds))
	two, err := sim.ReadScenarioFiles("../examples/scenarios/rolling-update-real.yaml")
	require.NoError(t, err)
	require.Len(t, two.Variants, 2)
	_, err = Run(two, Options{})
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "variants: 2 of them")

	// StatefulSets, ReplicaSets and DaemonSets count too.
	three := int32(3)
	withSets := s
	withSets.StatefulSets = []*sim.StatefulSet{{Spec: sim.StatefulSetSpec{Replicas: &three}}}
	withSets.ReplicaSets = []*sim.ReplicaSet{{Spec: sim.ReplicaSetSpec{Replicas: &three}}}
	withSets.DaemonSets = []*sim.DaemonSet{{}}
	require.Equal(t, SizeOf(s, 1).Pods+3+3+2*3, SizeOf(withSets, 1).Pods)

	big := s
	big.Cluster.Nodes = MaxNodes + 1
	_, err = Run(big, Options{})
	require.True(t, errors.Is(err, ErrTooLarge), "%v", err)
}
