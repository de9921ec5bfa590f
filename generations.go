package svcnet

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/svcnet/svcnet/proxy"
)

// ErrUnknownGeneration is wrapped by a GenerationError: a table generation
// the Cluster does not keep.
var ErrUnknownGeneration = errors.New("svcnet: unknown table generation")

// GenerationError is SyncNodeTo's error for a generation the Cluster does
// not keep: never published, or released (see Config.TableRetention).
// Oldest and Newest are the bounds of the history kept when it was
// returned (Generations).
type GenerationError struct {
	Generation     uint64
	Oldest, Newest uint64
}

func (e *GenerationError) Error() string {
	return fmt.Sprintf("%v %d: the history holds %d–%d and the generations nodes have applied", ErrUnknownGeneration, e.Generation, e.Oldest, e.Newest)
}

// Unwrap returns ErrUnknownGeneration.
func (e *GenerationError) Unwrap() error { return ErrUnknownGeneration }

// generation is one published proxy table. A generation lives in the
// Cluster's history while it is recent (Config.TableRetention) and, after
// that, in held for as long as a node's proxy has it applied: a stale
// node's table is alive anyway, so keeping its entry costs nothing.
type generation struct {
	n     uint64
	table *proxy.Table
	// at is when it was published; next when the generation after it
	// was (zero while it is the newest).
	at, next time.Time
	// nodes counts the nodes whose proxy has it applied; held that it
	// left the history and lives only for them.
	nodes int
	held  bool
}

// byNumber orders the history by generation number.
func byNumber(e *generation, g uint64) int { return cmp.Compare(e.n, g) }

// lookup returns generation g, or nil when the Cluster does not keep it.
func (c *Cluster) lookup(g uint64) *generation {
	if g == 0 {
		return c.zero
	}
	if g == c.gen {
		return c.hist[len(c.hist)-1]
	}
	if i, ok := slices.BinarySearchFunc(c.hist, g, byNumber); ok {
		return c.hist[i]
	}
	return c.held[g]
}

// record makes t the newest generation, published now, and releases the
// generations no node can be sent to any more: those superseded more than
// TableRetention ago, and those superseded at the instant they were
// published (never the newest at any moment, so no GenerationAt returns
// them), unless a node has them applied.
func (c *Cluster) record(t *proxy.Table) {
	now := c.now()
	if k := len(c.hist); k > 0 {
		prev := c.hist[k-1]
		prev.next = now
		if !prev.at.Before(now) {
			c.hist[k-1] = nil
			c.hist = c.hist[:k-1]
			c.release(prev)
		}
	}
	c.gen++
	c.hist = append(c.hist, &generation{n: c.gen, table: t, at: now})
	cutoff := now.Add(-c.cfg.TableRetention)
	for len(c.hist) > 1 && !c.hist[0].next.After(cutoff) {
		e := c.hist[0]
		c.hist[0] = nil
		c.hist = c.hist[1:]
		c.release(e)
	}
	for _, g := range c.loose {
		if e := c.held[g]; e != nil && e.nodes == 0 {
			delete(c.held, g)
		}
	}
	c.loose = c.loose[:0]
}

// release takes a generation out of the history: it stays, held, while
// nodes have it applied.
func (c *Cluster) release(e *generation) {
	if e.nodes > 0 && e != c.zero {
		e.held = true
		c.held[e.n] = e
	}
}

// syncTo programs a node's proxy with generation e.
func (c *Cluster) syncTo(ns *nodeState, e *generation) {
	if ns.gen != e {
		c.unpin(ns.gen)
		e.nodes++
		ns.gen = e
	}
	if ns.routed {
		ns.proxy.Sync(e.table)
	}
}

// unpin counts a node off a generation it had applied.
func (c *Cluster) unpin(e *generation) {
	e.nodes--
	if e.held && e.nodes == 0 {
		delete(c.held, e.n)
	}
}

// Generation returns the newest generation of the control plane's proxy
// table: it counts the tables published (one per change, or per
// ApplyPodWrites batch), from 0, the empty table a new node starts with.
func (c *Cluster) Generation() uint64 { return c.gen }

// Generations returns the bounds of the table history the Cluster keeps
// for SyncNodeTo: every generation from oldest to newest that was the
// newest at some moment of the last Config.TableRetention (and the one
// before them, which was newest at its start). SyncNodeTo also accepts
// any generation a node's proxy has applied, and 0.
func (c *Cluster) Generations() (oldest, newest uint64) {
	return c.hist[0].n, c.gen
}

// GenerationAt returns the generation that was the newest at t: the
// newest in the history published at or before t. When every generation
// the history holds was published after t it returns the oldest and false.
// It costs O(generations published since t).
func (c *Cluster) GenerationAt(t time.Time) (uint64, bool) {
	for i := len(c.hist) - 1; i > 0; i-- {
		if !c.hist[i].at.After(t) {
			return c.hist[i].n, true
		}
	}
	return c.hist[0].n, !c.hist[0].at.After(t)
}

// NextGeneration returns the first generation of the history newer than
// g and when it was published; false when g is the newest or newer. A
// node that applied g is behind until then.
func (c *Cluster) NextGeneration(g uint64) (uint64, time.Time, bool) {
	if g >= c.gen {
		return 0, time.Time{}, false
	}
	i, _ := slices.BinarySearchFunc(c.hist, g+1, byNumber)
	if i == len(c.hist) {
		return 0, time.Time{}, false
	}
	return c.hist[i].n, c.hist[i].at, true
}

// NodeGeneration returns the generation a node's proxy has applied: 0
// until its first sync.
func (c *Cluster) NodeGeneration(name string) (uint64, error) {
	ns, ok := c.nodes[name]
	if !ok {
		return 0, fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	return ns.gen.n, nil
}

// SwapNodeGeneration is SyncNodeTo that also returns the generation the
// node's proxy had: one lookup of the node where NodeGeneration and
// SyncNodeTo take two, for a caller syncing thousands of nodes. When g
// is what the node has it changes nothing; on an error it changes
// nothing and returns what the node has (0 for an unknown node).
func (c *Cluster) SwapNodeGeneration(name string, g uint64) (uint64, error) {
	ns, ok := c.nodes[name]
	if !ok {
		return 0, fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	old := ns.gen.n
	if old == g {
		return old, nil
	}
	e := c.lookup(g)
	if e == nil {
		oldest, newest := c.Generations()
		return old, &GenerationError{Generation: g, Oldest: oldest, Newest: newest}
	}
	c.syncTo(ns, e)
	return old, nil
}

// SyncNodeTo programs a node's proxy with generation g of the control
// plane's table, newer or older than what it has: a node whose watch lags
// applies the table that was the newest a watch latency ago
// (GenerationAt), and a node that did not see an event (it was cut off
// while the control plane restarted) goes back to what it had. An unknown
// node is an ErrNotFound; a generation the Cluster does not keep, a
// *GenerationError. Either changes nothing.
func (c *Cluster) SyncNodeTo(name string, g uint64) error {
	ns, ok := c.nodes[name]
	if !ok {
		return fmt.Errorf("%w: node %q", ErrNotFound, name)
	}
	e := c.lookup(g)
	if e == nil {
		oldest, newest := c.Generations()
		return &GenerationError{Generation: g, Oldest: oldest, Newest: newest}
	}
	c.syncTo(ns, e)
	return nil
}
