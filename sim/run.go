package sim

import (
	"errors"
)

// Errors of Run.
var (
	// ErrInvalidScenario: a Scenario that cannot run (a bad field, an
	// object the cluster rejects, a target that does not exist). It is
	// wrapped with the field or object at fault.
	ErrInvalidScenario = errors.New("sim: invalid scenario")
	// ErrViolation: an invariant broke; the Result's Violation says which,
	// where and how to replay it.
	ErrViolation = errors.New("sim: invariant violated")
)

// Run runs a scenario and returns what it measured. An invalid scenario
// is an ErrInvalidScenario and an empty Result; a broken invariant stops
// the run and returns the Result so far, with its Violation, and an
// error wrapping ErrViolation.
func Run(s Scenario) (Result, error) {
	return Result{}, errors.New("sim: Run is not implemented yet")
}
