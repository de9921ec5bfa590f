package alloctest

import (
	"cmp"
	"errors"
	"iter"
	"slices"
	"sync"
	"testing"
)

var errFull = errors.New("fake: full")

// locked is an obviously right allocator of [0, size): a map under a mutex
// that hands out the lowest free key.
type locked struct {
	mu   sync.Mutex
	size int
	set  map[int]bool
}

func (l *locked) AllocateNext() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.size {
		if !l.set[k] {
			l.set[k] = true
			return k, nil
		}
	}
	return 0, errFull
}

func (l *locked) Release(k int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.set, k)
	return nil
}

func (l *locked) Has(k int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.set[k]
}

func (l *locked) Used() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.set)
}

func (l *locked) Free() int { return l.size - l.Used() }

func (l *locked) All() iter.Seq[int] {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []int
	for k := range l.set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Values(keys)
}

// TestHammer runs Hammer on a range small enough to fill, so that the
// writers also meet errFull.
func TestHammer(t *testing.T) {
	Hammer(t, &locked{size: 50, set: map[int]bool{}}, errFull, cmp.Compare[int])
}
