package testbed

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/exp/stats"

	"github.com/svcnet/svcnet/sim"
)

// BandSeeds is how many seeds PredictBand's callers run by default: 20,
// so that the 5th and 95th percentiles each lie between two of the runs
// the 5th between the smallest and the second smallest).
const BandSeeds = 20

// Band is the spread of a statistic of a run (the failed share of the
// connections, say) that the simulator predicts over seeds: the 5th and
// 95th percentiles of its values, Lo and Hi (Hyndman and Fan's R-7, the
// quantiles sim.Latency uses), the median and the extremes. The zero
// Band has Seeds 0 and holds nothing.
//
// It is what a single real run is held against: the testbed replays one
// seed's control plane but draws its own traffic, so its measurement
// differs from that seed's prediction at least by the traffic's own
// randomness; the simulator's spread over seeds shows how large that is
// without guessing it (for the reduced rolling update the spread of the
// failed share over 20 seeds is what Poisson noise on ~200 failures
// gives alone). Limits says how far outside the band a measurement may
// still agree.
type Band struct {
	// Seeds counts the runs (their values that are not NaN).
	Seeds  int     `json:"seeds"`
	Lo     float64 `json:"p5"`
	Median float64 `json:"p50"`
	Hi     float64 `json:"p95"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// BandOf returns the Band of values (one per seed); NaNs are left out.
// values is not changed.
func BandOf(values []float64) Band {
	v := make([]float64, 0, len(values))
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Band{}
	}
	slices.Sort(v)
	q := stats.Quantiles(v, 0.05, 0.5, 0.95)
	return Band{Seeds: len(v), Lo: q[0], Median: q[1], Hi: q[2], Min: v[0], Max: v[len(v)-1]}
}

// Limits returns the range a measured value may fall in and still agree
// with the band: the band doubled about its middle, its upper end then
// raised by above (what the caller knows the real kernel adds and the
// simulator does not model, say the nft apply lag lengthening every stale
// window; 0 if nothing).
//
// Why doubled: the band holds 90 % of the simulator's own runs, so the
// measurement of a data plane that behaves exactly as simulated falls
// outside it one time in ten; for a spread close to normal the band is
// ±1.645σ about its middle, and doubled it is ±3.29σ, which holds 99.9 %
// of such runs, so that a test fails for a disagreement and not for
// noise.
func (b Band) Limits(above float64) (lo, hi float64) {
	half := (b.Hi - b.Lo) / 2
	return b.Lo - half, b.Hi + half + max(above, 0)
}

// Admits reports whether x is within Limits(above).
func (b Band) Admits(x, above float64) bool {
	lo, hi := b.Limits(above)
	return b.Seeds > 0 && lo <= x && x <= hi
}

// String shows the band as "0.0434-0.0529 (5-95 % of 20 seeds, median
// 0.0488)".
func (b Band) String() string {
	if b.Seeds == 0 {
		return "no runs"
	}
	return fmt.Sprintf("%.4f-%.4f (5-95 %% of %d seeds, median %.4f)", b.Lo, b.Hi, b.Seeds, b.Median)
}

// FailedShare is the share of o's connections that failed (0 when there
// were none): the statistic Compare's tests and svcsim run -real hold
// against a Band.
func FailedShare(o sim.Outcomes) float64 {
	if o.Total == 0 {
		return 0
	}
	return float64(o.Failed()) / float64(o.Total)
}

// PredictBand runs s on the simulator alone (sim.Run) with seeds s.Seed,
// s.Seed+1, ... (seeds of them) and returns the Band of stat over those
// runs, with the values in seed order. s must have one variant or none,
// as for Compare. It is deterministic (each run is), and cheap beside a
// real run: the reduced rolling update takes about 7 ms a seed.
func PredictBand(s sim.Scenario, seeds int, stat func(sim.Result) float64) (Band, []float64, error) {
	if seeds < 1 {
		return Band{}, nil, fmt.Errorf("%w: %d seeds: at least one is needed", ErrInvalid, seeds)
	}
	if len(s.Variants) > 0 {
		return Band{}, nil, fmt.Errorf("%w: variants: predict one variant at a time (Variant.Apply)", ErrInvalid)
	}
	if stat == nil {
		return Band{}, nil, fmt.Errorf("%w: no statistic", ErrInvalid)
	}
	values := make([]float64, seeds)
	for i := range seeds {
		run := s
		run.Seed = s.Seed + uint64(i)
		r, err := sim.Run(run)
		if err != nil {
			return Band{}, nil, fmt.Errorf("testbed: predicting seed %d: %w", run.Seed, err)
		}
		values[i] = stat(r)
	}
	return BandOf(values), values, nil
}
