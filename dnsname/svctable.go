package dnsname

// svcIndex finds the names of a Service in a snapshot by the hash of
// "<svc>.<ns>": 4096 shards in 64 groups, each shard a frozen svcTable.
// Applying a change to one Service copies the snapshot's array of groups
// (512 B, inline in the snapshot), the Service's group (512 B) and its
// shard (a few slots at 10 000 Services), so that publishing costs the
// same whatever the number of Services.
type svcIndex [1 << svcGroupBits]*svcGroup

const (
	svcGroupBits = 6
	svcGroupMask = 1<<svcGroupBits - 1
	svcShardBits = 2 * svcGroupBits
	svcShards    = 1 << svcShardBits
	svcShardMask = svcShards - 1
)

type svcGroup struct {
	epoch  uint64 // the Apply that made it; only that one may change it
	tables [1 << svcGroupBits]*svcTable
}

// emptySvcGroup fills a new index; its epoch 0 is never the writer's.
var emptySvcGroup = &svcGroup{}

func newSvcIndex() svcIndex {
	var x svcIndex
	for i := range x {
		x[i] = emptySvcGroup
	}
	return x
}

func (x *svcIndex) get(h uint64, key []byte) *svcNode {
	if s := x.slot(h, key); s != nil {
		return s.node
	}
	return nil
}

// slot returns the slot of key, whose hash is h, or nil.
func (x *svcIndex) slot(h uint64, key []byte) *svcSlot {
	return x[h>>svcGroupBits&svcGroupMask].tables[h&svcGroupMask].slot(h, key)
}

// set makes node (nil: none) the node of key, whose hash is h, in epoch
// e. m is the writer's map of the shard, which already says so.
func (x *svcIndex) set(e uint64, m map[string]*svcNode, h uint64, key string, node *svcNode) {
	g := x[h>>svcGroupBits&svcGroupMask]
	if g.epoch != e {
		c := *g
		c.epoch = e
		g = &c
		x[h>>svcGroupBits&svcGroupMask] = g
	}
	i := h & svcGroupMask
	t := g.tables[i]
	if node == nil || t == nil {
		// Linear probing cannot take a key out in place: build the shard
		// again from the map (a few Services).
		g.tables[i] = newSvcTable(m, e)
		return
	}
	if t.epoch != e {
		t = t.clone(e)
		g.tables[i] = t
	}
	if !t.put(h, key, node) {
		g.tables[i] = newSvcTable(m, e)
	}
}

// svcTable is one shard of the Service nodes, frozen for readers: an
// open-addressing table probed linearly with the shard hash already
// computed, so that the hot path hashes its key once (a Go map would hash
// it again). The writer keeps the shard as a Go map too; an Apply that
// changes Services of the shard clones its table once and replaces or
// inserts their nodes in the clone, and rebuilds it from the map when a
// Service leaves it or the clone would be more than half full.
type svcTable struct {
	epoch uint64 // the Apply that made it; only that one may change it
	mask  uint64
	n     int // used slots
	slots []svcSlot
}

type svcSlot struct {
	tag  uint32 // the hash's high bits
	key  string
	node *svcNode // nil: empty slot
	// self is node.self, so that a query for the Service's own name
	// (the common one) reads one object fewer.
	self *entry
}

func (t *svcTable) slot(h uint64, key []byte) *svcSlot {
	if t == nil {
		return nil
	}
	tag := uint32(h >> 32)
	for i := (h >> svcShardBits) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.node == nil {
			return nil
		}
		if s.tag == tag && s.key == string(key) {
			return s
		}
	}
}

// newSvcTable freezes a shard in epoch e; the table is at most half
// full. An empty shard has no table.
func newSvcTable(m map[string]*svcNode, e uint64) *svcTable {
	if len(m) == 0 {
		return nil
	}
	n := uint64(4)
	for n < 2*uint64(len(m)) {
		n *= 2
	}
	t := &svcTable{epoch: e, mask: n - 1, slots: make([]svcSlot, n)}
	for k, v := range m {
		t.put(hashString(k), k, v)
	}
	return t
}

// clone returns a copy of t made in epoch e.
func (t *svcTable) clone(e uint64) *svcTable {
	c := &svcTable{epoch: e, mask: t.mask, n: t.n, slots: make([]svcSlot, len(t.slots))}
	copy(c.slots, t.slots)
	return c
}

// put sets the node of key, whose hash is h, in a table the writer owns.
// It reports false, changing nothing, when inserting key would make the
// table more than half full.
func (t *svcTable) put(h uint64, key string, node *svcNode) bool {
	tag := uint32(h >> 32)
	for i := (h >> svcShardBits) & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.node == nil {
			if 2*(t.n+1) > len(t.slots) {
				return false
			}
			*s = svcSlot{tag: tag, key: key, node: node, self: node.self}
			t.n++
			return true
		}
		if s.tag == tag && s.key == key {
			s.node, s.self = node, node.self
			return true
		}
	}
}
