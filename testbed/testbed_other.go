//go:build !linux

package testbed

import (
	"fmt"
	"runtime"

	"github.com/svcnet/svcnet/sim"
)

// Compare needs Linux network namespaces; elsewhere it checks its
// arguments and returns ErrUnsupported.
func Compare(s sim.Scenario, opts Options) (predicted, measured sim.Result, err error) {
	if err := opts.check(); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	if err := checkFeatures(s); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	if err := checkSize(s, opts.scale()); err != nil {
		return sim.Result{}, sim.Result{}, err
	}
	return sim.Result{}, sim.Result{}, fmt.Errorf("%w: the testbed needs Linux network namespaces (this is %s)", ErrUnsupported, runtime.GOOS)
}

// Run is Compare's measured Result.
func Run(s sim.Scenario, opts Options) (sim.Result, error) {
	_, m, err := Compare(s, opts)
	return m, err
}
