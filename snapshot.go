package svcnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// ErrSnapshot is wrapped by every error of Restore.
var ErrSnapshot = errors.New("svcnet: bad snapshot")

const snapshotVersion = 1

type snapshot struct {
	Version  int             `json:"version"`
	Registry []byte          `json:"registry"`
	Nodes    []*service.Node `json:"nodes"`
	Pods     []*service.Pod  `json:"pods"`
}

// Snapshot returns the cluster's whole state — the Registry (Services and
// their allocations), nodes and pods — in a versioned format that Restore
// reads. Slices, DNS records and proxy tables are derived state: Restore
// rebuilds them.
func (c *Cluster) Snapshot() ([]byte, error) {
	reg, err := c.reg.Snapshot()
	if err != nil {
		return nil, err
	}
	return json.Marshal(snapshot{Version: snapshotVersion, Registry: reg, Nodes: c.Nodes(), Pods: c.Pods("")})
}

// Restore replaces the cluster's state with a snapshot, as a control
// plane restarting from its store: the Registry is restored, the
// endpoints controller, the DNS and every node's proxy are rebuilt from
// the Services, nodes and pods, and all of them are synced. A snapshot
// that does not decode, or that the Registry rejects, is an ErrSnapshot
// and leaves the cluster unchanged. Run Repair afterwards, as Kubernetes
// runs its repair loops after a restart.
//
// The rebuilt table is one new generation, after every generation before
// (the history starts again from it). The generations the nodes had
// applied before stay available to SyncNodeTo until the next change is
// published, so that a node that did not see the restart (down, or cut
// off from the control plane) can be put back on what it had.
func (c *Cluster) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrSnapshot, s.Version, snapshotVersion)
	}
	fresh, err := NewCluster(c.cfg)
	if err != nil {
		return err
	}
	fresh.rng = c.rng
	if err := fresh.reg.Restore(s.Registry); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if err := fresh.rebuild(s); err != nil {
		// The LoadBalancer provider is shared by both Registries, and
		// fresh's Restore synced it to the snapshot's Services: sync it
		// back to the cluster's own, which restoring the Registry from
		// its own snapshot does.
		if data, serr := c.reg.Snapshot(); serr == nil {
			err = errors.Join(err, c.reg.Restore(data))
		}
		return err
	}
	fresh.ephemeral = c.ephemeral
	fresh.carryGenerations(c)
	*c = *fresh
	return nil
}

// carryGenerations makes a rebuilt cluster's table the generation after
// old's newest, its only history, with every node on it, and carries over
// the generations old's nodes had applied, loose.
func (c *Cluster) carryGenerations(old *Cluster) {
	e := &generation{n: old.gen + 1, table: c.table, at: c.now()}
	c.gen = e.n
	clear(c.hist)
	c.hist = append(c.hist[:0], e)
	clear(c.held)
	c.zero.nodes = 0
	for _, ns := range c.nodes {
		ns.gen = e
		e.nodes++
	}
	carry := func(g *generation) {
		if g.nodes > 0 && g != old.zero {
			c.held[g.n] = &generation{n: g.n, table: g.table, at: g.at, next: g.next, held: true}
			c.loose = append(c.loose, g.n)
		}
	}
	for _, g := range old.hist {
		carry(g)
	}
	for _, g := range old.held {
		carry(g)
	}
	slices.Sort(c.loose)
}

// rebuild fills a cluster whose Registry was just restored with the
// snapshot's nodes and pods, and derives the rest.
func (c *Cluster) rebuild(s snapshot) error {
	for _, n := range s.Nodes {
		if n == nil {
			return fmt.Errorf("%w: null node", ErrSnapshot)
		}
		if _, err := c.AddNode(n); err != nil {
			return fmt.Errorf("%w: node %s: %w", ErrSnapshot, n.Name, err)
		}
	}
	for _, svc := range c.reg.List("", service.Everything()) {
		if _, err := c.followService(service.Change{Type: service.Added, New: svc}); err != nil {
			return fmt.Errorf("%w: service %s: %w", ErrSnapshot, svc.Key(), err)
		}
	}
	for _, p := range s.Pods {
		if p == nil {
			return fmt.Errorf("%w: null pod", ErrSnapshot)
		}
		if _, err := c.ApplyPod(p); err != nil && !errors.Is(err, endpoints.ErrEndpointIP) {
			return fmt.Errorf("%w: pod %s: %w", ErrSnapshot, p.Key(), err)
		}
	}
	c.SyncAllNodes()
	if err := c.SyncDNS(); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return nil
}

// Repair rebuilds the Registry's allocators from the stored Services, as
// Kubernetes' repair loops do after a restart, and reports what it found:
// leaks, missing allocations, and values it cannot fix (duplicates,
// out-of-range) with the Services involved.
func (c *Cluster) Repair() (service.RepairReport, error) { return c.reg.Repair() }
