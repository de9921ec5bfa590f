package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEventLog runs a scenario with a control-plane crash, a dead node
// and a rolling update with the event log on: every line decodes as an
// Event (no unknown field), times never go back, every kind the run
// makes is there, the counts match the Result's, and the Result is the
// one the run gives without a log.
func TestEventLog(t *testing.T) {
	b, err := os.ReadFile("../examples/scenarios/control-plane-crash.yaml")
	require.NoError(t, err)
	s, err := DecodeScenario(b)
	require.NoError(t, err)
	s.Duration = 170e9 // past the node controller's grace period after the control plane is back
	s.Timeline = append(s.Timeline, TimelineEvent{At: 10e9, Action: ActionRollout, Target: "web"})

	want, err := Run(s)
	require.NoError(t, err)
	var log bytes.Buffer
	got, err := RunWithOptions(s, RunOptions{Events: &log})
	require.NoError(t, err)
	require.Equal(t, want, got, "the log changes nothing")

	kinds := map[string]int{}
	outcomes := map[string]int64{}
	last, withPod := 0.0, 0
	sc := bufio.NewScanner(&log)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e Event
		require.NoError(t, dec.Decode(&e), sc.Text())
		require.GreaterOrEqual(t, e.At, last, "in time order: %s", sc.Text())
		require.LessOrEqual(t, e.At, s.Duration.D().Seconds())
		last = e.At
		kinds[e.Kind]++
		switch e.Kind {
		case EventConnectionFailed:
			outcomes[e.Outcome]++
			require.NotNil(t, e.Started, sc.Text())
			require.LessOrEqual(t, *e.Started, e.At)
			require.Equal(t, "default/web", e.Service)
			if e.Outcome == "refused" || e.Outcome == "reset" {
				require.NotEmpty(t, e.Backend, sc.Text())
				require.NotEmpty(t, e.Node, sc.Text())
				if e.Pod != "" {
					withPod++
				}
			}
		case EventPod:
			require.NotEmpty(t, e.Pod)
			require.Contains(t, []string{"pending", "scheduled", "not-ready", "ready", "terminating"}, e.State)
		case EventSync:
			require.NotEmpty(t, e.Node)
			require.NotZero(t, e.Generation)
		}
	}
	require.NoError(t, sc.Err())
	require.Positive(t, withPod, "a refused or reset connection names its pod when it is still there")
	for _, k := range []string{EventPod, EventPodDeleted, EventTable, EventSync, EventDNSSync, EventNodeNotReady,
		EventFault, EventControlPlaneDown, EventControlPlaneUp, EventConnectionFailed} {
		require.Positive(t, kinds[k], "kind %s in the log: %v", k, kinds)
	}
	require.Equal(t, 3, kinds[EventFault], "crash, kill, rollout")
	require.Equal(t, got.Cluster.NodeSyncs, int64(kinds[EventSync]))
	require.Equal(t, got.Cluster.DNSSyncs, int64(kinds[EventDNSSync]))
	require.Equal(t, got.Cluster.PodsDeleted, int64(kinds[EventPodDeleted]))
	require.Equal(t, got.Connections.Failed(), int64(kinds[EventConnectionFailed]))
	require.Equal(t, got.Connections.Refused, outcomes["refused"])
	require.Equal(t, got.Connections.Reset, outcomes["reset"])
	require.Equal(t, got.Connections.Rejected, outcomes["rejected"])
	require.Equal(t, got.Connections.Unreachable, outcomes["unreachable"])
}

// failAfter fails every write after n.
type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(b), nil
}

// TestEventLogWriteError: a failed write stops the log, not the run.
func TestEventLogWriteError(t *testing.T) {
	b, err := os.ReadFile("../examples/scenarios/control-plane-crash.yaml")
	require.NoError(t, err)
	s, err := DecodeScenario(b)
	require.NoError(t, err)
	s.Duration = 80e9
	want, err := Run(s)
	require.NoError(t, err)
	w := &failAfter{n: 10}
	got, err := RunWithOptions(s, RunOptions{Events: w})
	require.ErrorIs(t, err, ErrEventLog)
	require.ErrorContains(t, err, "disk full")
	require.Equal(t, want, got)
}

// TestGeneratedPodNames: a Deployment's pods are named as the ReplicaSet
// controller and the API server name them, <deployment>-<template
// hash>-<5 random characters of apimachinery's alphabet>, from the seed:
// the same seed gives the same names, another seed others.
func TestGeneratedPodNames(t *testing.T) {
	b, err := os.ReadFile("../cmd/svcsim/testdata/small.yaml")
	require.NoError(t, err)
	s, err := DecodeScenario(b)
	require.NoError(t, err)
	s.Variants = nil
	names := func(seed uint64) []string {
		s.Seed = seed
		var log bytes.Buffer
		_, err := RunWithOptions(s, RunOptions{Events: &log})
		require.NoError(t, err)
		var out []string
		sc := bufio.NewScanner(&log)
		for sc.Scan() {
			var e Event
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
			if e.Kind == EventPod && !slices.Contains(out, e.Pod) {
				out = append(out, e.Pod)
			}
		}
		return out
	}
	a := names(10)
	require.NotEmpty(t, a, "the rollout creates pods")
	re := regexp.MustCompile(`^default/svc-0-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	for _, n := range a {
		require.Regexp(t, re, n)
	}
	require.Equal(t, a, names(10))
	require.NotEqual(t, a, names(11))
}
