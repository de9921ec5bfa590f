// Package alloctest holds the tests that ipam and portalloc run alike on
// their allocators. It is for tests only.
package alloctest

import (
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Allocator is the part of ipam.Allocator (K netip.Addr, N uint64) and
// portalloc.Allocator (K int, N int) that Hammer drives.
type Allocator[K comparable, N uint64 | int] interface {
	AllocateNext() (K, error)
	Release(k K) error
	Has(k K) bool
	Free() N
	Used() N
	All() iter.Seq[K]
}

// Hammer allocates and releases on a from four goroutines while a fifth
// iterates All; run under -race it also checks the locking. Each writer
// makes 2000 moves with its own seeded rand: release one of its keys (one
// time in three, when it holds some) or allocate the next, skipping errFull,
// and reads Has and Free beside. Then it checks that no key was handed out
// twice, and that All and Used agree with the keys the writers hold, in
// compare order.
func Hammer[K comparable, N uint64 | int](t *testing.T, a Allocator[K, N], errFull error, compare func(x, y K) int) {
	t.Helper()
	const workers, rounds = 4, 2000
	held := make([][]K, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 0))
			var mine []K
			for range rounds {
				if len(mine) > 0 && r.IntN(3) == 0 {
					i := r.IntN(len(mine))
					if err := a.Release(mine[i]); err != nil {
						t.Error(err)
						return
					}
					mine = slices.Delete(mine, i, i+1)
					continue
				}
				k, err := a.AllocateNext()
				if errors.Is(err, errFull) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, k)
				_ = a.Has(k)
				_ = a.Free()
			}
			held[w] = mine
		})
	}
	// A reader iterates while the writers run.
	wg.Go(func() {
		for range 20 {
			for range a.All() {
			}
		}
	})
	wg.Wait()
	var all []K
	for _, m := range held {
		all = append(all, m...)
	}
	slices.SortFunc(all, compare)
	require.Equal(t, len(all), len(slices.Compact(slices.Clone(all))), "a key was handed out twice")
	require.Equal(t, all, slices.Collect(a.All()))
	require.Equal(t, N(len(all)), a.Used())
}
