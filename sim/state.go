package sim

import (
	"fmt"
	"time"

	svcnet "github.com/svcnet/svcnet"
)

// State is a simulated cluster at one instant of a run: what `kubectl
// get` would show then, and what each node's kube-proxy had applied.
type State struct {
	// At is the simulated time the run stopped at.
	At time.Duration
	// Now is the cluster's clock then, the instant AGE is measured to:
	// the fixed instant time 0 stands for, plus At.
	Now time.Time
	// Cluster is the cluster as it was at At: its Services, EndpointSlices,
	// pods, nodes, and every node's proxy as stale as it was. Nothing runs
	// it any more; reading it (and routing through it) is safe, changing
	// it changes no run.
	Cluster *svcnet.Cluster
}

// StateAt runs s as Run does until simulated time at, and returns the
// cluster then: at 0, the steady state the run starts from. The events
// at exactly at have run. s runs as given: apply a Variant first
// (Variant.Apply) for a variant's state. at must be between 0 and
// s.Duration, else it is an ErrInvalidScenario naming the value; a
// scenario Run rejects is the same error Run gives. An invariant broken
// before at stops the run there: the State is then the cluster at that
// event, and the error wraps ErrViolation. Deterministic, as Run.
func StateAt(s Scenario, at time.Duration) (State, error) {
	if at < 0 || at > s.Duration.D() {
		return State{}, invalid("at %v: must be between 0 and the scenario's duration, %v", at, s.Duration.D())
	}
	w, err := newWorld(s)
	if err != nil {
		return State{}, err
	}
	if at > 0 {
		err = w.eng.Run(at)
	}
	st := State{At: w.now(), Now: w.clock(), Cluster: w.c}
	if w.stopped != nil {
		v := w.stopped
		return st, fmt.Errorf("%w: %s at event %d (t=%v, seed %d): %s", ErrViolation, v.Invariant, v.Event, v.At, v.Seed, v.Message)
	}
	return st, err
}
