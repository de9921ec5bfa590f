package sim

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLatencyBounds(t *testing.T) {
	b := LatencyBounds()
	require.Len(t, b, 59)
	require.Equal(t, Duration(time.Millisecond), b[0])
	require.Equal(t, Duration(10*time.Minute), b[len(b)-1])
	require.True(t, slices.IsSorted(b))
	require.Equal(t, Duration(3150*time.Microsecond), b[5])
	b[0] = 0
	require.Equal(t, Duration(time.Millisecond), LatencyBounds()[0], "a copy")
}

func TestHistogramRecord(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{0, time.Millisecond, time.Millisecond + 1, 2 * time.Second, time.Hour} {
		h.Record(d)
	}
	require.Equal(t, int64(5), h.Count)
	require.Equal(t, Duration(0), h.Min)
	require.Equal(t, Duration(time.Hour), h.Max)
	require.Equal(t, int64(2), h.Counts[0], "0 and the bound itself")
	require.Equal(t, int64(1), h.Counts[1], "just above the first bound")
	require.Equal(t, int64(1), h.Counts[slices.Index(h.Bounds, Duration(2*time.Second))])
	require.Equal(t, int64(1), h.Counts[len(h.Bounds)], "above every bound")
}

// TestHistogramMerge: counts sum to the samples, and merging the
// histograms of parts of the samples, in any order, gives the histogram
// of all of them.
func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var all Histogram
	parts := make([]Histogram, 5)
	for i := range 10000 {
		d := time.Duration(r.ExpFloat64() * float64(2*time.Second))
		all.Record(d)
		parts[i%len(parts)].Record(d)
	}
	var sum int64
	for _, c := range all.Counts {
		sum += c
	}
	require.Equal(t, int64(10000), sum)
	require.Equal(t, int64(10000), all.Count)

	var merged Histogram
	require.NoError(t, merged.Merge(Histogram{}), "an empty histogram merges")
	for _, i := range []int{3, 0, 4, 1, 2} {
		require.NoError(t, merged.Merge(parts[i]))
	}
	require.Equal(t, all, merged)
	a, _ := json.Marshal(all)
	b, _ := json.Marshal(merged)
	require.Equal(t, string(a), string(b))

	other := Histogram{Bounds: []Duration{1, 2}, Counts: []int64{1, 0, 0}, Count: 1, Min: 1, Max: 1}
	require.ErrorIs(t, merged.Merge(other), ErrHistogramBounds)
	require.Equal(t, all, merged, "a failed merge changes nothing")
}

// TestLatencyHistogram: a run's latencies carry a histogram of every
// sample, consistent with the quantiles.
func TestLatencyHistogram(t *testing.T) {
	s := small(3)
	s.Timeline = []TimelineEvent{{At: Duration(time.Minute), Action: ActionRollout, Target: "svc-0"}}
	r, err := Run(s)
	require.NoError(t, err)
	for _, l := range []Latency{r.EndpointLatency, r.DNSLatency} {
		require.Positive(t, l.Count)
		require.Equal(t, int64(l.Count), l.Histogram.Count)
		var sum int64
		for _, c := range l.Histogram.Counts {
			sum += c
		}
		require.Equal(t, int64(l.Count), sum)
		require.Equal(t, l.Max, l.Histogram.Max)
		require.LessOrEqual(t, l.Histogram.Min, l.P50)
	}
	empty := latency(nil)
	require.Zero(t, empty.Count)
	require.Len(t, empty.Histogram.Counts, len(LatencyBounds())+1, "the same buckets without samples")
}
