package testbed

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/sim"
)

// r7 is the quantile p of sorted values by R-7's rule, written out:
// h = (n-1)p, then the value at floor(h) plus the fraction of h past it
// of the step to the next.
func r7(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// TestBandOf: the band of 1..20 is worked out by hand from R-7
// (h = 19 × 0.05 = 0.95: 1 + 0.95; h = 19 × 0.95 = 18.05: 19 + 0.05;
// the median halfway between 10 and 11); NaNs are left out and the input
// is not changed; nothing gives the zero Band.
func TestBandOf(t *testing.T) {
	var v []float64
	for i := 20; i >= 1; i-- {
		v = append(v, float64(i))
	}
	in := slices.Clone(v)
	b := BandOf(append(v, math.NaN()))
	require.Equal(t, in, v[:20])
	require.Equal(t, 20, b.Seeds)
	require.InDelta(t, 1.95, b.Lo, 1e-12)
	require.InDelta(t, 19.05, b.Hi, 1e-12)
	require.InDelta(t, 10.5, b.Median, 1e-12)
	require.Equal(t, 1.0, b.Min)
	require.Equal(t, 20.0, b.Max)
	require.Equal(t, Band{}, BandOf(nil))
	require.Equal(t, Band{}, BandOf([]float64{math.NaN()}))
	require.Equal(t, Band{Seeds: 1, Lo: 0.5, Median: 0.5, Hi: 0.5, Min: 0.5, Max: 0.5}, BandOf([]float64{0.5}))
	require.Equal(t, "no runs", Band{}.String())
	require.Equal(t, "1.9500-19.0500 (5-95 % of 20 seeds, median 10.5000)", b.String())
}

// TestBandOfModel: on any values, BandOf agrees with R-7 written out
// over a sorted copy, and its fields are ordered.
func TestBandOfModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.SliceOfN(rapid.Float64Range(-1e6, 1e6), 1, 50).Draw(t, "values")
		b := BandOf(v)
		s := slices.Clone(v)
		slices.Sort(s)
		if b.Seeds != len(v) || b.Min != s[0] || b.Max != s[len(s)-1] {
			t.Fatalf("%+v of %v", b, s)
		}
		for _, c := range []struct {
			got, p float64
		}{{b.Lo, 0.05}, {b.Median, 0.5}, {b.Hi, 0.95}} {
			if want := r7(s, c.p); math.Abs(c.got-want) > 1e-9*max(1, math.Abs(want)) {
				t.Fatalf("p%v: got %v, want %v of %v", c.p*100, c.got, want, s)
			}
		}
		if !(b.Min <= b.Lo && b.Lo <= b.Median && b.Median <= b.Hi && b.Hi <= b.Max) {
			t.Fatalf("out of order: %+v", b)
		}
	})
}

// TestLimits: the band doubled about its middle, the upper end raised
// by what is added (never lowered); Admits is inside those limits, and
// the zero Band admits nothing.
func TestLimits(t *testing.T) {
	b := Band{Seeds: 20, Lo: 0.04, Median: 0.05, Hi: 0.06}
	lo, hi := b.Limits(0)
	require.InDelta(t, 0.03, lo, 1e-12)
	require.InDelta(t, 0.07, hi, 1e-12)
	lo, hi = b.Limits(0.005)
	require.InDelta(t, 0.03, lo, 1e-12)
	require.InDelta(t, 0.075, hi, 1e-12)
	_, hi = b.Limits(-1)
	require.InDelta(t, 0.07, hi, 1e-12, "a negative addition is none")
	require.True(t, b.Admits(0.031, 0))
	require.False(t, b.Admits(0.029, 0))
	require.False(t, b.Admits(0.072, 0))
	require.True(t, b.Admits(0.072, 0.005))
	require.False(t, Band{}.Admits(0, 0))
	// A band of one value admits that value alone (and what is added).
	one := BandOf([]float64{0, 0, 0})
	require.True(t, one.Admits(0, 0))
	require.False(t, one.Admits(1e-9, 0))
}

// TestPredictBand: the band of the reduced rolling update's failed share
// is that of sim.Run over the seeds from the scenario's, one by one; it
// is the same when asked again; without preStop every seed fails some
// connections, with a 5 s preStop none. Bad arguments are refused.
func TestPredictBand(t *testing.T) {
	s, err := sim.ReadScenarioFiles("../examples/scenarios/rolling-update-real.yaml")
	require.NoError(t, err)
	s.Duration = sim.Duration(40 * time.Second)
	share := func(r sim.Result) float64 { return FailedShare(r.Connections) }
	noPreStop := s.Variants[0].Apply(s)
	b, values, err := PredictBand(noPreStop, 8, share)
	require.NoError(t, err)
	require.Len(t, values, 8)
	for i, v := range values {
		run := noPreStop
		run.Seed = s.Seed + uint64(i)
		r, err := sim.Run(run)
		require.NoError(t, err)
		require.Positive(t, r.Connections.Failed())
		require.Equal(t, float64(r.Connections.Failed())/float64(r.Connections.Total), v, "seed %d", run.Seed)
	}
	require.Equal(t, BandOf(values), b)
	again, _, err := PredictBand(noPreStop, 8, share)
	require.NoError(t, err)
	require.Equal(t, b, again)
	require.Positive(t, b.Lo)

	pre, _, err := PredictBand(s.Variants[1].Apply(s), 8, share)
	require.NoError(t, err)
	require.Equal(t, Band{Seeds: 8}, pre, "a 5 s preStop fails nothing on any seed")

	for _, c := range []struct {
		s     sim.Scenario
		seeds int
		stat  func(sim.Result) float64
	}{{noPreStop, 0, share}, {s, 3, share}, {noPreStop, 3, nil}} {
		_, _, err := PredictBand(c.s, c.seeds, c.stat)
		require.ErrorIs(t, err, ErrInvalid)
	}
	require.Zero(t, FailedShare(sim.Outcomes{}))
	require.Equal(t, 0.25, FailedShare(sim.Outcomes{Total: 8, Served: 6, Refused: 1, Reset: 1}))
}
