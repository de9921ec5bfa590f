package sim

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

type recorder struct{ got []uint64 }

func (r *recorder) Handle(e *Engine, arg uint64) { r.got = append(r.got, arg) }

// TestEngineOrder checks the engine against the obvious model: events run
// sorted by time, ties in the order they were scheduled.
func TestEngineOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := NewEngine()
		r := &recorder{}
		times := rapid.SliceOfN(rapid.Int64Range(0, 20), 0, 200).Draw(t, "times")
		type ev struct {
			at  int64
			seq int
		}
		var model []ev
		for i, at := range times {
			e.Schedule(time.Duration(at), r, uint64(i))
			model = append(model, ev{at, i})
		}
		slices.SortStableFunc(model, func(a, b ev) int { return int(a.at - b.at) })
		if err := e.Run(time.Hour); err != nil {
			t.Fatal(err)
		}
		want := make([]uint64, len(model))
		for i, m := range model {
			want[i] = uint64(m.seq)
		}
		if !slices.Equal(r.got, want) && len(want) > 0 {
			t.Fatalf("ran %v, want %v", r.got, want)
		}
		if e.Events() != uint64(len(times)) {
			t.Fatalf("Events() = %d, want %d", e.Events(), len(times))
		}
	})
}

func TestEngineUntilAndStop(t *testing.T) {
	e := NewEngine()
	r := &recorder{}
	e.Schedule(5*time.Second, r, 1)
	e.Schedule(15*time.Second, r, 2)
	if err := e.Run(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.got, []uint64{1}) || e.Now() != 10*time.Second || e.Pending() != 1 {
		t.Fatalf("got %v at %v with %d pending", r.got, e.Now(), e.Pending())
	}
	boom := errors.New("invariant broken")
	e.Schedule(12*time.Second, HandlerFunc(func(e *Engine, _ uint64) { e.Stop(boom) }), 0)
	err := e.Run(time.Minute)
	if !errors.Is(err, ErrStopped) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v", err)
	}
	if e.Now() != 12*time.Second || e.Pending() != 1 {
		t.Fatalf("stopped at %v with %d pending", e.Now(), e.Pending())
	}
	// The past is clamped to now.
	e.Schedule(time.Second, r, 3)
	_ = e.Run(time.Minute)
	if !slices.Equal(r.got, []uint64{1, 3, 2}) {
		t.Fatalf("got %v", r.got)
	}
}

// chain reschedules itself: the bare engine's workload.
type chain struct{ rng *rand.Rand }

func (c *chain) Handle(e *Engine, arg uint64) {
	e.After(time.Duration(c.rng.Uint64N(1_000_000)), c, arg)
}

func TestEngineNoAllocs(t *testing.T) {
	e := NewEngine()
	c := &chain{rng: rand.New(rand.NewPCG(1, 1))}
	for i := range 1000 {
		e.Schedule(time.Duration(i), c, uint64(i))
	}
	_ = e.Run(time.Second)
	if n := testing.AllocsPerRun(10, func() { _ = e.Run(e.Now() + time.Millisecond) }); n != 0 {
		t.Fatalf("running events allocates %v times", n)
	}
}

// BenchmarkEngine runs the bare engine with 10 000 self-rescheduling
// processes; events/s is the figure to compare with SimSharp's 3.3 M/s.
func BenchmarkEngine(b *testing.B) {
	e := NewEngine()
	c := &chain{rng: rand.New(rand.NewPCG(1, 1))}
	for i := range 10000 {
		e.Schedule(time.Duration(i), c, uint64(i))
	}
	b.ReportAllocs()
	start := e.Events()
	for b.Loop() {
		e.Schedule(e.Now(), c, 0)
		_ = e.Run(e.Now() + 100*time.Microsecond)
	}
	b.ReportMetric(float64(e.Events()-start)/b.Elapsed().Seconds(), "events/s")
}
