package portalloc_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/portalloc"
)

// modelStatic is KEP-3668's band, written out naively.
func modelStatic(size int) int {
	if size <= 16 {
		return 0
	}
	s := size / 32
	if s < 16 {
		s = 16
	}
	if s > 128 {
		s = 128
	}
	return s
}

// TestAllocatorStateMachine checks random sequences of operations against a
// map, with the invariants checked after every step.
func TestAllocatorStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.OneOf(
			rapid.IntRange(1, 40),
			rapid.SampledFrom([]int{63, 64, 65, 2768, 4095, 4096, 4097, 65535}),
		).Draw(t, "size")
		base := rapid.IntRange(1, portalloc.MaxPort-size+1).Draw(t, "base")
		r := portalloc.Range{Base: base, Size: size}
		static := modelStatic(size)
		sequential := rapid.Bool().Draw(t, "sequential")
		opts := []portalloc.Option{portalloc.WithRand(rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0)))}
		if sequential {
			opts = append(opts, portalloc.Sequential())
		}
		a, err := portalloc.New(r, opts...)
		if err != nil {
			t.Fatal(err)
		}
		model := map[int]bool{}
		count := func(lo, hi int) int { // allocated offsets in [lo, hi)
			n := 0
			for p := range model {
				if off := p - base; off >= lo && off < hi {
					n++
				}
			}
			return n
		}
		port := func(t *rapid.T) int {
			if len(model) > 0 && rapid.Bool().Draw(t, "known") {
				keys := slices.Sorted(func(yield func(int) bool) {
					for k := range model {
						if !yield(k) {
							return
						}
					}
				})
				return rapid.SampledFrom(keys).Draw(t, "port")
			}
			return rapid.IntRange(base-2, base+size+1).Draw(t, "port")
		}
		t.Repeat(map[string]func(*rapid.T){
			"Allocate": func(t *rapid.T) {
				p := port(t)
				err := a.Allocate(p)
				switch {
				case p < base || p >= base+size:
					if !errors.Is(err, portalloc.ErrNotInRange) {
						t.Fatalf("Allocate(%d) = %v, want ErrNotInRange", p, err)
					}
				case model[p]:
					if !errors.Is(err, portalloc.ErrAllocated) {
						t.Fatalf("Allocate(%d) = %v, want ErrAllocated", p, err)
					}
				default:
					if err != nil {
						t.Fatalf("Allocate(%d) = %v", p, err)
					}
					model[p] = true
				}
			},
			"AllocateBlock": func(t *rapid.T) {
				// A long run of static allocations, so that AllocateNext
				// must skip full words and summary words.
				start := rapid.IntRange(base, base+size-1).Draw(t, "start")
				n := rapid.IntRange(1, 5000).Draw(t, "n")
				for p := start; p < min(start+n, base+size); p++ {
					if err := a.Allocate(p); (err == nil) == model[p] {
						t.Fatalf("Allocate(%d) = %v, model has it: %v", p, err, model[p])
					}
					model[p] = true
				}
			},
			"AllocateNext": func(t *rapid.T) {
				p, err := a.AllocateNext()
				if len(model) == size {
					if !errors.Is(err, portalloc.ErrFull) {
						t.Fatalf("AllocateNext on a full range = %d, %v; want ErrFull", p, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("AllocateNext = %v", err)
				}
				if !r.Contains(p) || model[p] {
					t.Fatalf("AllocateNext = %d: out of range or already allocated", p)
				}
				off := p - base
				lo := static
				if off < static {
					if count(static, size) != size-static {
						t.Fatalf("AllocateNext = %d in the static band while the dynamic band has room", p)
					}
					lo = 0
				}
				if sequential && count(lo, off) != off-lo {
					t.Fatalf("Sequential AllocateNext = %d, a lower port of the band is free", p)
				}
				model[p] = true
			},
			"Release": func(t *rapid.T) {
				p := port(t)
				err := a.Release(p)
				if !r.Contains(p) {
					if !errors.Is(err, portalloc.ErrNotInRange) {
						t.Fatalf("Release(%d) = %v, want ErrNotInRange", p, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Release(%d) = %v", p, err)
				}
				delete(model, p)
			},
			"SnapshotRestore": func(t *rapid.T) {
				data, err := a.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				if rapid.Bool().Draw(t, "corrupt") {
					bad := slices.Clone(data)
					bad[rapid.IntRange(0, len(bad)-1).Draw(t, "at")] ^= byte(rapid.IntRange(1, 255).Draw(t, "flip"))
					if err := a.Restore(bad); !errors.Is(err, portalloc.ErrSnapshot) {
						t.Fatalf("Restore(corrupt) = %v, want ErrSnapshot", err)
					}
					if err := a.Restore(data[:rapid.IntRange(0, len(data)-1).Draw(t, "cut")]); !errors.Is(err, portalloc.ErrSnapshot) {
						t.Fatalf("Restore(truncated) = %v, want ErrSnapshot", err)
					}
					return
				}
				if rapid.Bool().Draw(t, "fresh") {
					a, err = portalloc.New(r, opts...)
					if err != nil {
						t.Fatal(err)
					}
				}
				if err := a.Restore(data); err != nil {
					t.Fatalf("Restore = %v", err)
				}
			},
			"": func(t *rapid.T) {
				if a.Used() != len(model) || a.Used()+a.Free() != size {
					t.Fatalf("Used %d, Free %d; model has %d of %d", a.Used(), a.Free(), len(model), size)
				}
				for p := base - 1; p <= min(base+size, base+100); p++ {
					if a.Has(p) != model[p] {
						t.Fatalf("Has(%d) = %v, model %v", p, a.Has(p), model[p])
					}
				}
				got := slices.Collect(a.All())
				want := slices.Sorted(func(yield func(int) bool) {
					for k := range model {
						if !yield(k) {
							return
						}
					}
				})
				if !slices.Equal(got, want) {
					t.Fatalf("All = %v, model %v", got, want)
				}
			},
		})
	})
}
