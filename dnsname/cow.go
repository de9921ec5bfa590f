package dnsname

import (
	"encoding/binary"
	"maps"
	"net/netip"
)

// The snapshot's small tables (the names outside svc) are sharded maps
// published copy-on-write: applying a batch that writes one copies the
// array of shard pointers (2 KiB) and clones only the shards it writes, so
// a change costs O(shard) instead of O(table), and readers holding the
// old snapshot keep a consistent view without locks. Tables that grow
// with the cluster (PTR records, pods) are pmaps instead, whose writes
// cost O(log n).
const (
	shardBits  = 8
	shardCount = 1 << shardBits
	shardMask  = shardCount - 1
)

type shards[K comparable, V any] [shardCount]map[K]V

// shardWriter builds the next version of a table from the published one,
// copying the shard array on the first write only.
type shardWriter[K comparable, V any] struct {
	old   *shards[K, V]
	s     *shards[K, V] // nil until the first write
	owned [shardCount]bool
}

func newShardWriter[K comparable, V any](old *shards[K, V]) *shardWriter[K, V] {
	return &shardWriter[K, V]{old: old}
}

func (w *shardWriter[K, V]) own(i uint64) map[K]V {
	if w.s == nil {
		w.s = new(shards[K, V])
		if w.old != nil {
			*w.s = *w.old
		}
	}
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
	if _, ok := w.cur()[i][k]; ok {
		delete(w.own(i), k)
	}
}

// cur returns the table as written so far.
func (w *shardWriter[K, V]) cur() *shards[K, V] {
	if w.s == nil {
		if w.old == nil {
			return new(shards[K, V])
		}
		return w.old
	}
	return w.s
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
