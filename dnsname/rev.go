package dnsname

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// revIndex holds the PTR claims of a snapshot: per address, the keys
// ("<svc>.<ns>") of the Services claiming it, from which a PTR query
// makes its records (ptrAnswer). It is 4096 sorted arrays in 64 groups,
// by the address's hash, published copy-on-write: a write in an Apply
// copies the index's array of groups (512 B, inline in the snapshot)
// once, the written group (1.5 KiB) once, and the written array (a dozen
// claims at 50 000 addresses), so that a change costs the same whatever
// the number of addresses, and a claim costs its 40 bytes, with no node
// or map overhead.
type revIndex struct {
	groups [1 << revGroupBits]*revGroup
}

const (
	revGroupBits = 6
	revGroupMask = 1<<revGroupBits - 1
)

type revGroup struct {
	epoch uint64 // the Apply that made it; only that one may change it
	owned uint64 // bit i: shards[i] was copied in epoch, and is the writer's
	// shards hold claims sorted by address, then key.
	shards [1 << revGroupBits][]revClaim
}

type revClaim struct {
	addr netip.Addr
	key  string
}

func compareClaim(x, y revClaim) int {
	return cmp.Or(x.addr.Compare(y.addr), strings.Compare(x.key, y.key))
}

func (x *revIndex) shard(a netip.Addr) (g, i uint64) {
	h := hashAddr(a)
	return h >> revGroupBits & revGroupMask, h & revGroupMask
}

// get returns the claims on a, sorted by key.
func (x *revIndex) get(a netip.Addr) []revClaim {
	gi, si := x.shard(a)
	g := x.groups[gi]
	if g == nil {
		return nil
	}
	sh := g.shards[si]
	i, _ := slices.BinarySearchFunc(sh, a, func(c revClaim, a netip.Addr) int { return c.addr.Compare(a) })
	j := i
	for j < len(sh) && sh[j].addr == a {
		j++
	}
	return sh[i:j:j]
}

// set records (on) or removes the claim of the Service key on a, in
// epoch e.
func (x *revIndex) set(e uint64, a netip.Addr, key string, on bool) {
	gi, si := x.shard(a)
	g := x.groups[gi]
	var sh []revClaim
	if g != nil {
		sh = g.shards[si]
	}
	c := revClaim{a, key}
	i, found := slices.BinarySearchFunc(sh, c, compareClaim)
	if found == on {
		return
	}
	if g == nil || g.epoch != e {
		c := &revGroup{epoch: e}
		if g != nil {
			c.shards = g.shards
		}
		g = c
		x.groups[gi] = g
	}
	if g.owned&(1<<si) == 0 {
		sh = append(make([]revClaim, 0, len(sh)+1), sh...)
		g.owned |= 1 << si
	}
	if on {
		sh = slices.Insert(sh, i, c)
	} else {
		sh = slices.Delete(sh, i, i+1)
	}
	g.shards[si] = sh
}

// trim gives the arrays written in epoch e their exact size, so that the
// room appends left in them is not held for the life of the snapshot.
func (x *revIndex) trim(e uint64) {
	for _, g := range x.groups {
		if g == nil || g.epoch != e {
			continue
		}
		for i := range g.shards {
			if g.owned&(1<<i) != 0 && cap(g.shards[i]) > len(g.shards[i]) {
				if len(g.shards[i]) == 0 {
					g.shards[i] = nil
				} else {
					g.shards[i] = append(make([]revClaim, 0, len(g.shards[i])), g.shards[i]...)
				}
			}
		}
	}
}
