package service

import (
	"slices"
	"strings"
)

// serviceIndex is the Registry's store: its entries ordered by namespace
// and name, kept in a list of sorted chunks of at most maxChunk entries,
// each chunk's keys all below the next chunk's. A lookup is two binary
// searches (over the chunks' last keys, then within one chunk), and the
// position it found (Locate) serves a following insert or delete without
// a second search while no entry moved; an insert or a delete moves at
// most maxChunk entries, plus, when a chunk splits or merges, a pointer
// per chunk. Its methods have google/btree's names and meanings, which it
// replaced.
//
// It replaced a google/btree because of that tree's split and merge
// rules: the tree splits every full node on the way down an insert and
// grows every minimal node on the way down a delete, so creating and
// deleting one key whose path runs through nodes at the minimum (the
// whole left spine of a tree built by ascending inserts, as a snapshot's
// Restore or a scenario's Services are) splits and merges nodes at every
// level on every pair; that was a third of a Registry create+delete with
// 10 000 Services present (BenchmarkRegistryCreateDelete). Here a chunk
// splits above maxChunk into two halves and merges only below minChunk
// with a neighbour that leaves at most mergeChunk, so a split chunk needs
// maxChunk/2-minChunk deletes to merge again and a merged one
// maxChunk-mergeChunk inserts to split: no key's insert and delete can
// alternate a split and a merge.
//
// The zero serviceIndex is empty and ready to use. It is not safe for
// concurrent use.
type serviceIndex struct {
	chunks [][]entry
	n      int
	// gen counts the changes that move entries, so that a position
	// found by Locate is known to be still good.
	gen uint64
}

// position is where Locate found a key, or would insert it, as of
// generation gen.
type position struct {
	ci, i int
	found bool
	gen   uint64
}

const (
	maxChunk   = 64
	minChunk   = 16
	mergeChunk = 48
)

func newServiceIndex() *serviceIndex { return &serviceIndex{} }

// compareKey orders keys by namespace, then name.
func compareKey(a, b NamespacedName) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func compareEntryKey(e entry, k NamespacedName) int { return compareKey(e.key, k) }

// find returns the chunk that holds k or would, and k's position in it;
// ci is len(x.chunks) only when the index is empty.
func (x *serviceIndex) find(k NamespacedName) (ci, i int, found bool) {
	ci, _ = slices.BinarySearchFunc(x.chunks, k, func(c []entry, k NamespacedName) int {
		return compareKey(c[len(c)-1].key, k)
	})
	if ci == len(x.chunks) {
		if ci == 0 {
			return 0, 0, false
		}
		ci-- // past every key: the end of the last chunk
	}
	i, found = slices.BinarySearchFunc(x.chunks[ci], k, compareEntryKey)
	return ci, i, found
}

// Locate returns the position of k for At, ReplaceOrInsertAt and
// DeleteAt, which skip the search while no entry has moved since.
func (x *serviceIndex) Locate(k NamespacedName) position {
	ci, i, found := x.find(k)
	return position{ci, i, found, x.gen}
}

// At returns the entry at p, a position Locate found and no change has
// moved since.
func (x *serviceIndex) At(p position) entry { return x.chunks[p.ci][p.i] }

// Len returns the number of entries.
func (x *serviceIndex) Len() int { return x.n }

// Get returns the entry with e's key.
func (x *serviceIndex) Get(e entry) (entry, bool) {
	ci, i, ok := x.find(e.key)
	if !ok {
		return entry{}, false
	}
	return x.chunks[ci][i], true
}

// ReplaceOrInsert stores e, returning the entry of e's key it replaced
// and whether there was one.
func (x *serviceIndex) ReplaceOrInsert(e entry) (entry, bool) {
	return x.ReplaceOrInsertAt(x.Locate(e.key), e)
}

// ReplaceOrInsertAt is ReplaceOrInsert with the position Locate gave for
// e's key: when nothing moved since, it does not search again.
func (x *serviceIndex) ReplaceOrInsertAt(p position, e entry) (entry, bool) {
	if p.gen != x.gen {
		p = x.Locate(e.key)
	}
	if len(x.chunks) == 0 {
		c := make([]entry, 1, maxChunk+1)
		c[0] = e
		x.chunks, x.n = append(x.chunks, c), 1
		x.gen++
		return entry{}, false
	}
	ci, i, ok := p.ci, p.i, p.found
	c := x.chunks[ci]
	if ok {
		old := c[i]
		c[i] = e
		return old, true
	}
	c = slices.Insert(c, i, e) // within capacity: maxChunk+1
	x.n++
	x.gen++
	if len(c) <= maxChunk {
		x.chunks[ci] = c
		return entry{}, false
	}
	half := len(c) / 2
	upper := make([]entry, len(c)-half, maxChunk+1)
	copy(upper, c[half:])
	clear(c[half:]) // drop the moved entries' pointers
	x.chunks[ci] = c[:half]
	x.chunks = slices.Insert(x.chunks, ci+1, upper)
	return entry{}, false
}

// Delete removes the entry with e's key, returning it and whether there
// was one.
func (x *serviceIndex) Delete(e entry) (entry, bool) {
	return x.DeleteAt(x.Locate(e.key), e.key)
}

// DeleteAt is Delete of k with the position Locate gave for it: when
// nothing moved since, it does not search again.
func (x *serviceIndex) DeleteAt(p position, k NamespacedName) (entry, bool) {
	if p.gen != x.gen {
		p = x.Locate(k)
	}
	if !p.found {
		return entry{}, false
	}
	ci, i := p.ci, p.i
	c := x.chunks[ci]
	old := c[i]
	c = slices.Delete(c, i, i+1) // clears the vacated slot
	x.n--
	x.gen++
	x.chunks[ci] = c
	switch {
	case len(c) == 0:
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
	case len(c) < minChunk:
		if ci+1 < len(x.chunks) && len(c)+len(x.chunks[ci+1]) <= mergeChunk {
			x.merge(ci)
		} else if ci > 0 && len(c)+len(x.chunks[ci-1]) <= mergeChunk {
			x.merge(ci - 1)
		}
	}
	return old, true
}

// merge appends chunk ci+1 to chunk ci, whose capacity holds both.
func (x *serviceIndex) merge(ci int) {
	x.chunks[ci] = append(x.chunks[ci], x.chunks[ci+1]...)
	x.chunks = slices.Delete(x.chunks, ci+1, ci+2)
}

// Ascend calls fn for every entry in key order until fn returns false.
func (x *serviceIndex) Ascend(fn func(entry) bool) {
	x.ascendFrom(0, 0, fn)
}

// AscendGreaterOrEqual calls fn for every entry from pivot's key on, in
// key order, until fn returns false.
func (x *serviceIndex) AscendGreaterOrEqual(pivot entry, fn func(entry) bool) {
	ci, i, _ := x.find(pivot.key)
	x.ascendFrom(ci, i, fn)
}

func (x *serviceIndex) ascendFrom(ci, i int, fn func(entry) bool) {
	for ; ci < len(x.chunks); ci, i = ci+1, 0 {
		for _, e := range x.chunks[ci][i:] {
			if !fn(e) {
				return
			}
		}
	}
}
