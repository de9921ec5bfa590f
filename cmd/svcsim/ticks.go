package main

import (
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
)

// Axes of the report's plots: time in the unit that fits the run, latency
// on a log scale with a label at 1, 2 and 5 of every decade, counts in
// whole numbers.

// timeAxis is how a plot's x axis shows simulated time.
type timeAxis struct {
	unit  time.Duration
	label string
}

// axisFor picks the unit of a time axis for a run of d: seconds up to 5
// minutes, minutes up to 5 hours, hours beyond.
func axisFor(d time.Duration) timeAxis {
	switch {
	case d > 5*time.Hour:
		return timeAxis{time.Hour, "simulated time (h)"}
	case d > 5*time.Minute:
		return timeAxis{time.Minute, "simulated time (min)"}
	}
	return timeAxis{time.Second, "simulated time (s)"}
}

func (a timeAxis) x(d time.Duration) float64 { return float64(d) / float64(a.unit) }

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts
// span into at most n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// intTicks labels an axis of counts with whole numbers only (at most
// about eight labels).
type intTicks struct{}

// Ticks implements plot.Ticker.
func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	step := max(1, niceStep(hi-lo, 8))
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return out
}

// numberTicks labels a linear axis at 1, 2 or 5 times a power of ten
// (about six labels), each written as short as it reads: 0, 25, 50,
// not 0.00, 25.00, 50.00.
type numberTicks struct{}

// Ticks implements plot.Ticker.
func (numberTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	step := niceStep(hi-lo, 6)
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var out []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step*1e-9; i++ {
		v := i * step
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return out
}

// latencyTicks labels a log axis of seconds at 1, 2 and 5 of every
// decade, as durations (1ms, 20ms, 5s), with unlabelled minor ticks
// between: at least four labels whenever the axis spans a decade.
type latencyTicks struct{}

// Ticks implements plot.Ticker.
func (latencyTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = durationLabel(v)
			}
			out = append(out, t)
		}
	}
	return out
}

// durationLabel formats seconds as a short duration: 500µs, 20ms, 1.5s,
// 100s, 2min, 1h (rounded to the millisecond from 10 ms).
func durationLabel(sec float64) string {
	d := time.Duration(math.Round(sec * 1e9))
	if d >= 10*time.Millisecond {
		d = d.Round(time.Millisecond)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "min"
	case d >= time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" // 100s, not 1m40s
	}
	return d.String()
}
