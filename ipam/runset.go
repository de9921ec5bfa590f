package ipam

import (
	"math"

	"github.com/google/btree"
)

// run is a maximal run [start, end) of allocated offsets.
type run struct{ start, end uint64 }

func runLess(a, b run) bool { return a.start < b.start }

// runDegree is the B-tree degree of a runSet. Nodes hold up to 2*degree-1
// runs of 16 bytes; 32 keeps a node's items within 1 KiB, so that items,
// not pointers and slice headers, dominate the memory per allocated address
// (about 25 bytes at 1 M random addresses in a /64, see BenchmarkIPv6Memory).
const runDegree = 32

// runSet is a sparse set of offsets stored as maximal runs of consecutive
// members in a google/btree ordered by run start. Its memory is
// proportional to the number of runs (at most the number of members), never
// to the size of the range, so it serves ranges of up to 2^64-1 addresses.
//
// Because runs are maximal, the end of the run containing x is free: the
// first free offset at or after x is found by one floor lookup, in
// O(log runs), however full the range is. Add and Remove touch at most two
// runs (extend, merge, split) with O(log runs) tree operations. Nodes are
// recycled through a free list, so steady churn rarely allocates.
type runSet struct {
	t *btree.BTreeG[run]
}

func newRunSet() *runSet {
	return &runSet{t: btree.NewWithFreeListG(runDegree, runLess, btree.NewFreeListG[run](64))}
}

// floor returns the run with the greatest start <= x.
func (s *runSet) floor(x uint64) (run, bool) {
	var r run
	var ok bool
	s.t.DescendLessOrEqual(run{start: x}, func(it run) bool {
		r, ok = it, true
		return false
	})
	return r, ok
}

// ceil returns the run with the smallest start >= x.
func (s *runSet) ceil(x uint64) (run, bool) {
	var r run
	var ok bool
	s.t.AscendGreaterOrEqual(run{start: x}, func(it run) bool {
		r, ok = it, true
		return false
	})
	return r, ok
}

func (s *runSet) Has(x uint64) bool {
	r, ok := s.floor(x)
	return ok && x < r.end
}

func (s *runSet) Add(x uint64) bool {
	p, okp := s.floor(x)
	if okp && x < p.end {
		return false
	}
	// x+1 cannot overflow: offsets are below the range size <= 2^64-1.
	q, okq := s.ceil(x + 1)
	joinPrev := okp && p.end == x
	joinNext := okq && q.start == x+1
	switch {
	case joinPrev && joinNext:
		s.t.Delete(q)
		s.t.ReplaceOrInsert(run{p.start, q.end})
	case joinPrev:
		s.t.ReplaceOrInsert(run{p.start, x + 1})
	case joinNext:
		s.t.Delete(q)
		s.t.ReplaceOrInsert(run{x, q.end})
	default:
		s.t.ReplaceOrInsert(run{x, x + 1})
	}
	return true
}

func (s *runSet) Remove(x uint64) bool {
	p, ok := s.floor(x)
	if !ok || x >= p.end {
		return false
	}
	switch {
	case p.start == x && p.end == x+1:
		s.t.Delete(p)
	case p.start == x:
		s.t.Delete(p)
		s.t.ReplaceOrInsert(run{x + 1, p.end})
	case p.end == x+1:
		s.t.ReplaceOrInsert(run{p.start, x})
	default:
		s.t.ReplaceOrInsert(run{p.start, x})
		s.t.ReplaceOrInsert(run{x + 1, p.end})
	}
	return true
}

func (s *runSet) NextFree(from, end uint64) (uint64, bool) {
	if r, ok := s.floor(from); ok && from < r.end {
		from = r.end
	}
	return from, from < end
}

func (s *runSet) Ascend(from uint64, yield func(uint64) bool) {
	if from == math.MaxUint64 {
		return // offsets are below the range size <= 2^64-1
	}
	more := true
	visit := func(r run) bool {
		for x := max(r.start, from); x < r.end; x++ {
			if !yield(x) {
				more = false
				return false
			}
		}
		return true
	}
	if r, ok := s.floor(from); ok && from < r.end {
		if !visit(r) {
			return
		}
	}
	if more {
		s.t.AscendGreaterOrEqual(run{start: from + 1}, visit)
	}
}

func (s *runSet) Runs(yield func(start, end uint64) bool) {
	s.t.Ascend(func(r run) bool { return yield(r.start, r.end) })
}

func (s *runSet) AddRun(start, end uint64) {
	s.t.ReplaceOrInsert(run{start, end})
}
