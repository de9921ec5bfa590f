package repair

import (
	"cmp"
	"errors"
	"iter"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var errAllocated = errors.New("fake: already allocated")

// fake is an allocator of the ints [0, size), obviously right, whose
// Allocate and Release can be made to fail.
type fake struct {
	size       int
	set        map[int]bool
	allocErr   error // returned by Allocate, which then allocates nothing
	releaseErr error // returned by Release, which then releases nothing
}

func newFake(size int, allocated ...int) *fake {
	f := &fake{size: size, set: map[int]bool{}}
	for _, k := range allocated {
		f.set[k] = true
	}
	return f
}

func (f *fake) Contains(k int) bool { return 0 <= k && k < f.size }
func (f *fake) Has(k int) bool      { return f.set[k] }

func (f *fake) Allocate(k int) error {
	if f.allocErr != nil {
		return f.allocErr
	}
	if f.set[k] {
		return errAllocated
	}
	f.set[k] = true
	return nil
}

func (f *fake) Release(k int) error {
	if f.releaseErr != nil {
		return f.releaseErr
	}
	delete(f.set, k)
	return nil
}

func (f *fake) All() iter.Seq[int] { return slices.Values(slices.Sorted(maps.Keys(f.set))) }

func (f *fake) Compare(a, b int) int { return cmp.Compare(a, b) }

func newLoop(f *fake, leakPasses int, dryRun bool) *Loop[int] {
	return New[int](f, Config[int]{ErrAllocated: errAllocated, LeakPasses: leakPasses, DryRun: dryRun})
}

func TestPass(t *testing.T) {
	t.Run("a leak is released on the LeakPasses-th consecutive pass", func(t *testing.T) {
		f := newFake(10, 5)
		r := newLoop(f, 3, false)
		for range 2 {
			rep, err := r.Pass(nil)
			require.NoError(t, err)
			require.Equal(t, Report[int]{Leaked: []int{5}}, rep)
		}
		rep, err := r.Pass(nil)
		require.NoError(t, err)
		require.Equal(t, Report[int]{Released: []int{5}}, rep)
		require.False(t, f.Has(5))
		rep, _ = r.Pass(nil)
		require.Equal(t, Report[int]{}, rep)
	})

	t.Run("the leak count starts over when the key is used again", func(t *testing.T) {
		f := newFake(10, 5)
		r := newLoop(f, 3, false)
		r.Pass(nil)
		r.Pass(nil)
		rep, _ := r.Pass([]int{5})
		require.Equal(t, Report[int]{}, rep)
		for range 2 {
			rep, _ = r.Pass(nil)
			require.Equal(t, []int{5}, rep.Leaked)
		}
		rep, _ = r.Pass(nil)
		require.Equal(t, []int{5}, rep.Released)
	})

	t.Run("one pass finds and fixes everything, in order", func(t *testing.T) {
		f := newFake(10, 7, 1)
		r := newLoop(f, 1, false)
		rep, err := r.Pass([]int{12, 4, 3, 4, -1, 3, 3})
		require.NoError(t, err)
		require.Equal(t, Report[int]{
			Released:   []int{1, 7},
			Missing:    []int{3, 4},
			Duplicate:  []int{3, 4},
			OutOfRange: []int{-1, 12},
		}, rep)
		require.Equal(t, []int{3, 4}, slices.Collect(f.All()))
	})

	t.Run("dry run reports the same on every pass and changes nothing", func(t *testing.T) {
		f := newFake(10, 5)
		r := newLoop(f, 2, true)
		rep, _ := r.Pass([]int{6})
		require.Equal(t, Report[int]{Leaked: []int{5}, Missing: []int{6}}, rep)
		for range 2 {
			rep, err := r.Pass([]int{6})
			require.NoError(t, err)
			require.Equal(t, Report[int]{Released: []int{5}, Missing: []int{6}}, rep)
		}
		require.Equal(t, []int{5}, slices.Collect(f.All()))
	})

	t.Run("LeakPasses below 1 counts as 1", func(t *testing.T) {
		for _, n := range []int{0, -3} {
			f := newFake(10, 5)
			rep, _ := newLoop(f, n, false).Pass(nil)
			require.Equal(t, []int{5}, rep.Released)
		}
	})

	t.Run("ErrAllocated is what Pass wanted; other failures are joined", func(t *testing.T) {
		f := newFake(10, 5)
		f.allocErr = errAllocated // allocated concurrently
		r := newLoop(f, 1, false)
		rep, err := r.Pass([]int{5, 6})
		require.NoError(t, err)
		require.Equal(t, []int{6}, rep.Missing)

		errAlloc, errRelease := errors.New("allocate failed"), errors.New("release failed")
		f.allocErr, f.releaseErr = errAlloc, errRelease
		rep, err = r.Pass([]int{6, 7})
		require.ErrorIs(t, err, errAlloc)
		require.ErrorIs(t, err, errRelease)
		require.Equal(t, []int{6, 7}, rep.Missing)
		require.Equal(t, []int{5}, rep.Released)
	})
}

// TestPassAgainstModel runs passes with random uses against a model that
// counts, for every key, the consecutive passes on which it was leaked.
func TestPassAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const size = 12
		passes := rapid.IntRange(1, 4).Draw(t, "leakPasses")
		dry := rapid.Bool().Draw(t, "dryRun")
		key := rapid.IntRange(-2, size+1)
		f := newFake(size, rapid.SliceOf(rapid.IntRange(0, size-1)).Draw(t, "allocated")...)
		r := newLoop(f, passes, dry)
		seen := map[int]int{} // the model: consecutive passes leaked
		t.Repeat(map[string]func(*rapid.T){
			"Allocate": func(t *rapid.T) { _ = f.Allocate(rapid.IntRange(0, size-1).Draw(t, "k")) },
			"Pass": func(t *rapid.T) {
				inUse := rapid.SliceOf(key).Draw(t, "inUse")
				count := map[int]int{}
				for _, k := range inUse {
					count[k]++
				}
				var want Report[int]
				for _, k := range slices.Sorted(maps.Keys(count)) {
					if count[k] > 1 {
						want.Duplicate = append(want.Duplicate, k)
					}
					switch {
					case !f.Contains(k):
						want.OutOfRange = append(want.OutOfRange, k)
					case !f.Has(k):
						want.Missing = append(want.Missing, k)
					}
				}
				before := slices.Collect(f.All())
				next := map[int]int{}
				for _, k := range before {
					if count[k] > 0 {
						continue
					}
					next[k] = seen[k] + 1
					if next[k] < passes {
						want.Leaked = append(want.Leaked, k)
					} else {
						want.Released = append(want.Released, k)
						if !dry {
							delete(next, k)
						}
					}
				}
				seen = next

				rep, err := r.Pass(inUse)
				require.NoError(t, err)
				require.Equal(t, want, rep)
				if dry {
					require.Equal(t, before, slices.Collect(f.All()), "dry run changed the allocator")
					return
				}
				for _, k := range want.Missing {
					require.True(t, f.Has(k), "missing %d not allocated", k)
				}
				for _, k := range want.Released {
					require.False(t, f.Has(k), "leak %d not released", k)
				}
			},
		})
	})
}
