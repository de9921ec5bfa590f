package dnsname

import (
	"encoding/binary"
	"maps"
	"net/netip"
)

// A snapshot's tables are sharded maps published copy-on-write: applying
// a batch copies the array of shard pointers (2 KiB) and clones only the
// shards it writes, so a change costs O(shard) instead of O(table), and
// readers holding the old snapshot keep a consistent view without locks.
const (
	shardBits  = 8
	shardCount = 1 << shardBits
	shardMask  = shardCount - 1
)

type shards[K comparable, V any] [shardCount]map[K]V

func (s *shards[K, V]) get(h uint64, k K) (V, bool) {
	v, ok := s[h&shardMask][k]
	return v, ok
}

// shardWriter builds the next version of a table from the published one.
type shardWriter[K comparable, V any] struct {
	s     *shards[K, V]
	owned [shardCount]bool
}

func newShardWriter[K comparable, V any](old *shards[K, V]) *shardWriter[K, V] {
	w := &shardWriter[K, V]{s: new(shards[K, V])}
	if old != nil {
		*w.s = *old
	}
	return w
}

func (w *shardWriter[K, V]) own(i uint64) map[K]V {
	if !w.owned[i] {
		m := maps.Clone(w.s[i])
		if m == nil {
			m = make(map[K]V)
		}
		w.s[i], w.owned[i] = m, true
	}
	return w.s[i]
}

func (w *shardWriter[K, V]) set(h uint64, k K, v V) { w.own(h & shardMask)[k] = v }

func (w *shardWriter[K, V]) del(h uint64, k K) {
	i := h & shardMask
	if _, ok := w.s[i][k]; ok {
		delete(w.own(i), k)
	}
}

// The shard hash reads eight bytes at a time and mixes with multiplies
// (in the manner of wyhash and xxHash). It only spreads keys over shards:
// no answer depends on it. hashBytes and hashString agree.
const (
	mix1 = 0x9e3779b97f4a7c15
	mix2 = 0xbf58476d1ce4e5b9
)

func hashBytes(b []byte) uint64 {
	h := uint64(len(b)) * mix1
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * mix2
		h ^= h >> 31
		b = b[8:]
	}
	var t uint64
	for i, c := range b {
		t |= uint64(c) << (8 * i)
	}
	return finish(h, t)
}

func hashString(s string) uint64 {
	h := uint64(len(s)) * mix1
	for ; len(s) >= 8; s = s[8:] {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * mix2
		h ^= h >> 31
	}
	var t uint64
	for i := 0; i < len(s); i++ {
		t |= uint64(s[i]) << (8 * i)
	}
	return finish(h, t)
}

func finish(h, tail uint64) uint64 {
	h = (h ^ tail) * mix1
	return h ^ h>>29
}

func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	return hashBytes(b[:])
}

// podKey is a pod address in a namespace, for PodsVerified.
type podKey struct {
	ns   string
	addr netip.Addr
}

func hashPod(k podKey) uint64 { return hashString(k.ns)*31 ^ hashAddr(k.addr) }

// svcTable is one shard of the Service nodes, frozen for readers: an
// open-addressing table probed linearly with the shard hash already
// computed, so that the hot path hashes its key once (a Go map would hash
// it again). The writer keeps the shard as a Go map and rebuilds the
// table whenever it changes.
type svcTable struct {
	mask  uint64
	slots []svcSlot
}

type svcSlot struct {
	tag  uint32 // the hash's high bits
	key  string
	node *svcNode // nil: empty slot
}

func (t *svcTable) get(h uint64, key []byte) *svcNode {
	if t == nil {
		return nil
	}
	tag := uint32(h >> 32)
	for i := (h >> shardBits) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.node == nil {
			return nil
		}
		if s.tag == tag && s.key == string(key) {
			return s.node
		}
	}
}

// newSvcTable freezes a shard; the table is at most half full.
func newSvcTable(m map[string]*svcNode) *svcTable {
	if len(m) == 0 {
		return nil
	}
	n := uint64(4)
	for n < 2*uint64(len(m)) {
		n *= 2
	}
	t := &svcTable{mask: n - 1, slots: make([]svcSlot, n)}
	for k, v := range m {
		h := hashString(k)
		i := (h >> shardBits) & t.mask
		for t.slots[i].node != nil {
			i = (i + 1) & t.mask
		}
		t.slots[i] = svcSlot{tag: uint32(h >> 32), key: k, node: v}
	}
	return t
}
