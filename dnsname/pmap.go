package dnsname

import (
	"math/bits"
	"slices"
)

// pmap is a persistent hash map over a 64-bit hash the caller computes: a
// hash array mapped trie in the compressed layout of CHAMP (Steindorfer
// and Vinju, "Optimizing Hash-Array Mapped Tries for Fast and Lean
// Immutable JVM Collections", 2015), where each node keeps its entries
// and its subtrees in two arrays. A write copies the nodes on the path to
// its key, at most one per five bits of hash, and shares the rest with the
// previous version; since the upper nodes hold only pointers, a write to
// a map of 100 000 entries copies about 1 KiB. A snapshot holding a pmap
// by value keeps a consistent view however the writer goes on.
//
// Writes carry an epoch: a node made during the current epoch belongs to
// the writer and is changed in place, an older one is copied first (the
// "transient" of Clojure's collections, btree's copy-on-write context).
// The writer must start a new epoch before it changes anything published,
// and never go back to an old one. Reads never write and may run
// concurrently with the writer on any published version.
//
// The zero pmap is empty.
type pmap[K comparable, V any] struct {
	root *pnode[K, V]
	n    int
}

const (
	pmapBits = 5
	pmapMask = 1<<pmapBits - 1
)

// pnode is one trie node. Below 64 bits of hash, the bit i of datamap
// says that the entry of branch i is in entries, the bit i of nodemap
// that its subtree is in kids, both in the order of i. Past 64 bits, the
// node holds the entries of one full hash, unordered (a collision list).
type pnode[K comparable, V any] struct {
	epoch            uint64
	datamap, nodemap uint32
	entries          []pentry[K, V]
	kids             []*pnode[K, V]
}

type pentry[K comparable, V any] struct {
	h uint64
	k K
	v V
}

// len returns the number of entries.
func (m *pmap[K, V]) len() int { return m.n }

// get returns the value of k, whose hash is h.
func (m *pmap[K, V]) get(h uint64, k K) (V, bool) {
	for _, e := range m.candidates(h) {
		if e.h == h && e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// pmapGetBytes is get for a string key given as bytes, without
// converting it.
func pmapGetBytes[V any](m *pmap[string, V], h uint64, k []byte) (V, bool) {
	for _, e := range m.candidates(h) {
		if e.h == h && e.k == string(k) {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// candidates returns the entries that may hold hash h: at most one, or
// the collision list of h.
func (m *pmap[K, V]) candidates(h uint64) []pentry[K, V] {
	n := m.root
	for shift := uint(0); n != nil; shift += pmapBits {
		if shift >= 64 {
			return n.entries
		}
		bit := uint32(1) << (h >> shift & pmapMask)
		if n.datamap&bit != 0 {
			i := bits.OnesCount32(n.datamap & (bit - 1))
			return n.entries[i : i+1]
		}
		if n.nodemap&bit == 0 {
			return nil
		}
		n = n.kids[bits.OnesCount32(n.nodemap&(bit-1))]
	}
	return nil
}

// all calls f for every entry, in no particular order, until f returns
// false.
func (m *pmap[K, V]) all(f func(K, V) bool) {
	var walk func(n *pnode[K, V]) bool
	walk = func(n *pnode[K, V]) bool {
		for _, e := range n.entries {
			if !f(e.k, e.v) {
				return false
			}
		}
		for _, c := range n.kids {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	if m.root != nil {
		walk(m.root)
	}
}

// set maps k, whose hash is h, to v, in epoch e.
func (m *pmap[K, V]) set(e, h uint64, k K, v V) {
	added := false
	m.root = m.root.set(e, 0, pentry[K, V]{h, k, v}, &added)
	if added {
		m.n++
	}
}

// del removes k, whose hash is h, in epoch e.
func (m *pmap[K, V]) del(e, h uint64, k K) {
	removed := false
	m.root = m.root.del(e, 0, h, k, &removed)
	if removed {
		m.n--
	}
}

// own returns n itself when it was made in epoch e, else a copy made in
// e, with room for one more entry.
func (n *pnode[K, V]) own(e uint64) *pnode[K, V] {
	if n.epoch == e {
		return n
	}
	c := &pnode[K, V]{epoch: e, datamap: n.datamap, nodemap: n.nodemap}
	if len(n.entries) > 0 {
		c.entries = make([]pentry[K, V], len(n.entries), len(n.entries)+1)
		copy(c.entries, n.entries)
	}
	if len(n.kids) > 0 {
		c.kids = make([]*pnode[K, V], len(n.kids))
		copy(c.kids, n.kids)
	}
	return c
}

func (n *pnode[K, V]) set(e uint64, shift uint, x pentry[K, V], added *bool) *pnode[K, V] {
	if n == nil {
		*added = true
		if shift >= 64 {
			return &pnode[K, V]{epoch: e, entries: []pentry[K, V]{x}}
		}
		return &pnode[K, V]{epoch: e, datamap: 1 << (x.h >> shift & pmapMask), entries: []pentry[K, V]{x}}
	}
	if shift >= 64 {
		for i := range n.entries {
			if n.entries[i].k == x.k {
				n = n.own(e)
				n.entries[i].v = x.v
				return n
			}
		}
		*added = true
		n = n.own(e)
		n.entries = append(n.entries, x)
		return n
	}
	bit := uint32(1) << (x.h >> shift & pmapMask)
	switch {
	case n.nodemap&bit != 0:
		i := bits.OnesCount32(n.nodemap & (bit - 1))
		if c := n.kids[i].set(e, shift+pmapBits, x, added); c != n.kids[i] {
			n = n.own(e)
			n.kids[i] = c
		}
	case n.datamap&bit != 0:
		i := bits.OnesCount32(n.datamap & (bit - 1))
		if old := n.entries[i]; old.h == x.h && old.k == x.k {
			n = n.own(e)
			n.entries[i].v = x.v
			return n
		}
		// Two keys on one branch: both go down into a new subtree.
		*added = true
		c := pair(e, shift+pmapBits, n.entries[i], x)
		n = n.own(e)
		n.entries = slices.Delete(n.entries, i, i+1)
		n.datamap &^= bit
		n.nodemap |= bit
		n.kids = slices.Insert(n.kids, bits.OnesCount32(n.nodemap&(bit-1)), c)
	default:
		*added = true
		n = n.own(e)
		n.datamap |= bit
		n.entries = slices.Insert(n.entries, bits.OnesCount32(n.datamap&(bit-1)), x)
	}
	return n
}

// pair returns a node at shift holding the entries a and b.
func pair[K comparable, V any](e uint64, shift uint, a, b pentry[K, V]) *pnode[K, V] {
	if shift >= 64 {
		return &pnode[K, V]{epoch: e, entries: []pentry[K, V]{a, b}}
	}
	ia, ib := a.h>>shift&pmapMask, b.h>>shift&pmapMask
	if ia == ib {
		return &pnode[K, V]{epoch: e, nodemap: 1 << ia, kids: []*pnode[K, V]{pair(e, shift+pmapBits, a, b)}}
	}
	if ia > ib {
		a, b = b, a
	}
	return &pnode[K, V]{epoch: e, datamap: 1<<ia | 1<<ib, entries: []pentry[K, V]{a, b}}
}

// single reports whether n holds one entry and no subtree: its parent
// then holds that entry itself, so that the trie stays as shallow as its
// keys allow and each map has one shape.
func (n *pnode[K, V]) single() bool { return len(n.entries) == 1 && len(n.kids) == 0 }

// del removes k from the subtree n at shift and returns what is left,
// nil when nothing is.
func (n *pnode[K, V]) del(e uint64, shift uint, h uint64, k K, removed *bool) *pnode[K, V] {
	if n == nil {
		return nil
	}
	if shift >= 64 {
		for i := range n.entries {
			if n.entries[i].k == k {
				*removed = true
				if len(n.entries) == 1 {
					return nil
				}
				n = n.own(e)
				n.entries = slices.Delete(n.entries, i, i+1)
				return n
			}
		}
		return n
	}
	bit := uint32(1) << (h >> shift & pmapMask)
	switch {
	case n.datamap&bit != 0:
		i := bits.OnesCount32(n.datamap & (bit - 1))
		if x := n.entries[i]; x.h != h || x.k != k {
			return n
		}
		*removed = true
		if len(n.entries) == 1 && len(n.kids) == 0 {
			return nil
		}
		n = n.own(e)
		n.datamap &^= bit
		n.entries = slices.Delete(n.entries, i, i+1)
	case n.nodemap&bit != 0:
		i := bits.OnesCount32(n.nodemap & (bit - 1))
		// The subtree may have changed in place (it was made in epoch e),
		// so whether it shrank is told by removed, not by its pointer.
		c := n.kids[i].del(e, shift+pmapBits, h, k, removed)
		if !*removed {
			return n
		}
		switch {
		case c == nil: // cannot happen: a subtree holds two entries or more
			n = n.own(e)
			n.nodemap &^= bit
			n.kids = slices.Delete(n.kids, i, i+1)
		case c.single():
			n = n.own(e)
			n.nodemap &^= bit
			n.kids = slices.Delete(n.kids, i, i+1)
			n.datamap |= bit
			n.entries = slices.Insert(n.entries, bits.OnesCount32(n.datamap&(bit-1)), c.entries[0])
		case c != n.kids[i]:
			n = n.own(e)
			n.kids[i] = c
		}
	}
	return n
}
