package sim

import (
	"errors"
	"slices"
	"time"
)

// ErrHistogramBounds is returned by Histogram.Merge when the two
// histograms have different bucket bounds.
var ErrHistogramBounds = errors.New("sim: histograms have different bucket bounds")

// latencyBounds are the bucket upper bounds of a latency Histogram: the
// R10 preferred numbers (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8: ten a
// decade, each about 26 % above the last) from 1 ms to 500 s, then
// 10 min. They are integers of nanoseconds, written out rather than
// computed, so every build and every host buckets alike.
var latencyBounds = func() []Duration {
	r10 := [...]time.Duration{1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000}
	var b []Duration
	for scale := time.Microsecond; scale <= 100*time.Millisecond; scale *= 10 {
		for _, m := range r10 {
			if d := m * scale; d <= 500*time.Second {
				b = append(b, Duration(d))
			}
		}
	}
	return append(b, Duration(10*time.Minute))
}()

// LatencyBounds returns the bucket upper bounds every latency Histogram
// of a Result uses: 59 bounds from 1 ms to 10 min, ten a decade. The
// slice is a fresh copy.
func LatencyBounds() []Duration { return slices.Clone(latencyBounds) }

// Histogram is a distribution of durations in fixed buckets, exact to
// merge: two histograms with the same bounds add up, bucket by bucket, to
// the histogram of all their samples, whatever the order (unlike
// quantiles, which do not merge). It marshals to stable JSON (slices,
// no map).
//
// Counts[i] counts the samples d with Bounds[i-1] < d <= Bounds[i] (the
// first bucket from 0, or below for negative samples); the last entry,
// Counts[len(Bounds)], counts those above every bound. The zero
// Histogram is empty and takes LatencyBounds at its first Record or
// Merge.
type Histogram struct {
	// Bounds are the buckets' upper bounds, inclusive, increasing.
	Bounds []Duration `json:"bounds"`
	// Counts are the samples per bucket, one more than Bounds.
	Counts []int64 `json:"counts"`
	// Count is the number of samples: the sum of Counts.
	Count int64 `json:"count"`
	// Min and Max are the least and greatest sample; 0 when Count is.
	Min Duration `json:"min"`
	Max Duration `json:"max"`
}

// newLatencyHistogram returns an empty histogram with LatencyBounds.
func newLatencyHistogram() Histogram {
	return Histogram{Bounds: LatencyBounds(), Counts: make([]int64, len(latencyBounds)+1)}
}

// Record adds a sample. It costs a binary search of the bounds.
func (h *Histogram) Record(d time.Duration) {
	if h.Bounds == nil {
		*h = newLatencyHistogram()
	}
	i, _ := slices.BinarySearch(h.Bounds, Duration(d))
	h.Counts[i]++
	if h.Count == 0 || Duration(d) < h.Min {
		h.Min = Duration(d)
	}
	if h.Count == 0 || Duration(d) > h.Max {
		h.Max = Duration(d)
	}
	h.Count++
}

// Merge adds o's samples to h, as if every sample of o had been
// recorded in h. It fails with ErrHistogramBounds, changing nothing,
// when the bounds differ; an empty zero Histogram on either side merges
// with anything.
func (h *Histogram) Merge(o Histogram) error {
	if o.Bounds == nil && o.Count == 0 {
		return nil
	}
	if h.Bounds == nil && h.Count == 0 {
		*h = Histogram{Bounds: slices.Clone(o.Bounds), Counts: make([]int64, len(o.Bounds)+1)}
	}
	if !slices.Equal(h.Bounds, o.Bounds) || len(h.Counts) != len(h.Bounds)+1 || len(o.Counts) != len(o.Bounds)+1 {
		return ErrHistogramBounds
	}
	if o.Count == 0 {
		return nil
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	if h.Count == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	if h.Count == 0 || o.Max > h.Max {
		h.Max = o.Max
	}
	h.Count += o.Count
	return nil
}
