package svcnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/internal/sealed"
	"github.com/svcnet/svcnet/service"
)

// ErrSnapshot is wrapped by every error of Restore.
var ErrSnapshot = errors.New("svcnet: bad snapshot")

// snapshotVersion is the version of the Cluster snapshot format; the
// snapshot is sealed (internal/sealed) with kind snapshotKind, so that a
// flipped bit or a truncation is an error, never a different cluster.
// Version 3 holds every applied EndpointSlice, with Config.ExternalSlices
// too, and says whether the Cluster had it (externalSlices); Restore also
// reads version 2, whose slices are those of a Cluster without it (a
// version 2 snapshot of one with it held none).
const snapshotVersion = 3

// snapshotVersion2 is the previous version, which Restore still reads.
const snapshotVersion2 = 2

const snapshotKind = "svcnet.cluster"

type snapshot struct {
	Registry []byte          `json:"registry"`
	Nodes    []*service.Node `json:"nodes"`
	Pods     []*service.Pod  `json:"pods"`
	// Slices are the applied EndpointSlices (ApplyEndpointSlice).
	Slices []*endpoints.Slice `json:"slices,omitempty"`
	// ExternalSlices is the Cluster's Config.ExternalSlices (version 3).
	ExternalSlices bool `json:"externalSlices,omitempty"`
}

// Snapshot returns the cluster's whole state — the Registry (Services and
// their allocations), nodes, pods and applied EndpointSlices — in a
// versioned, checksummed format that Restore reads. The controller's
// slices, DNS records and proxy tables are derived state: Restore
// rebuilds them.
func (c *Cluster) Snapshot() ([]byte, error) {
	reg, err := c.reg.Snapshot()
	if err != nil {
		return nil, err
	}
	return sealed.Seal(snapshotKind, snapshotVersion, snapshot{Registry: reg, Nodes: c.Nodes(), Pods: c.Pods(""),
		Slices: c.allApplied(), ExternalSlices: c.cfg.ExternalSlices})
}

// Restore replaces the cluster's state with a snapshot, as a control
// plane restarting from its store: the Registry is restored, the
// endpoints controller, the DNS and every node's proxy are rebuilt from
// the Services, nodes and pods — publishing one table for all of them —
// and all of them are synced. A snapshot that does not decode, whose
// checksum does not match, or that the Registry or the rebuild rejects, is
// an ErrSnapshot and leaves the cluster exactly as it was, its random
// stream (Config.Rand) included. Run Repair afterwards, as Kubernetes runs
// its repair loops after a restart.
//
// Before it accepts the snapshot, the Registry checks that its allocators
// and its Services agree (service.Registry.Check: leaked or unallocated
// IPs and ports, duplicates, values out of range). A snapshot taken after
// a crash may not; by default it is accepted and what the check found is
// kept for Restored, for Repair to fix; with Config.StrictRestore it is
// rejected with an ErrSnapshot wrapping a *service.DisagreementError that
// names each Service and IP or port, and the cluster is unchanged.
//
// The applied EndpointSlices are checked as ApplyEndpointSlice checks
// them. A snapshot of a Cluster with Config.ExternalSlices restores only
// into one with it (an ErrSnapshot otherwise: its slices would stand
// beside the controller's); one without restores into either. Restore
// reads the current format and version 2 (snapshotVersion).
//
// Restore checks the snapshot by rebuilding it once with a random stream
// of its own, and only then rebuilds it for real, drawing from the
// cluster's: a rejected snapshot draws nothing.
//
// The rebuilt table is one new generation, after every generation before
// (the history starts again from it). The generations the nodes had
// applied before stay available to SyncNodeTo until the next change is
// published, so that a node that did not see the restart (down, or cut
// off from the control plane) can be put back on what it had.
func (c *Cluster) Restore(data []byte) error {
	var s snapshot
	if err := sealed.Open(data, snapshotKind, snapshotVersion, &s); err != nil {
		// Version 2 is version 3 without externalSlices: decoding it
		// strictly into the same struct and finding the flag set means
		// it was no version 2.
		var v2 snapshot
		if sealed.Open(data, snapshotKind, snapshotVersion2, &v2) != nil || v2.ExternalSlices {
			return fmt.Errorf("%w: %w", ErrSnapshot, err)
		}
		s = v2
	}
	if s.ExternalSlices && !c.cfg.ExternalSlices {
		return fmt.Errorf("%w: a snapshot of a Cluster with Config.ExternalSlices restores only into one with it", ErrSnapshot)
	}
	trial := c.cfg
	trial.Rand = rand.New(rand.NewPCG(0, 0))
	if _, err := c.restored(s, trial, trial.Rand); err != nil {
		return err
	}
	fresh, err := c.restored(s, c.cfg, c.rng)
	if err != nil {
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

// restored builds a new cluster from cfg (drawing from rng) holding s.
// On failure it syncs the shared LoadBalancer provider back to c's own
// Services.
func (c *Cluster) restored(s snapshot, cfg Config, rng *rand.Rand) (*Cluster, error) {
	fresh, err := NewCluster(cfg)
	if err != nil {
		return nil, err
	}
	fresh.rng = rng
	err = fresh.reg.Restore(s.Registry)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrSnapshot, err)
	} else {
		err = fresh.rebuild(s)
	}
	if err != nil {
		// The LoadBalancer provider is shared by both Registries, and
		// fresh's Restore may have synced it to the snapshot's Services:
		// sync it back to the cluster's own, which restoring the Registry
		// from its own snapshot does.
		if data, serr := c.reg.Snapshot(); serr == nil {
			err = errors.Join(err, c.reg.Restore(data))
		}
		return nil, err
	}
	return fresh, nil
}

// rebuild fills a cluster whose Registry was just restored with the
// snapshot's nodes and pods, and derives the rest: the Services and pods
// are staged in the endpoints controller and the DNS batch, and one table
// is published for all of them, so that restoring costs O(objects), not
// O(pods × Services).
func (c *Cluster) rebuild(s snapshot) error {
	for _, n := range s.Nodes {
		if n == nil {
			return fmt.Errorf("%w: null node", ErrSnapshot)
		}
		if _, err := c.AddNode(n); err != nil {
			return fmt.Errorf("%w: node %s: %w", ErrSnapshot, n.Name, err)
		}
	}
	var all Changes
	for _, svc := range c.reg.List("", service.Everything()) {
		sl, err := c.ctlUpsertService(svc)
		ch := Changes{Services: []service.Change{{Type: service.Added, New: svc}}, Slices: sl}
		if err = ch.takeSkips(err); err != nil {
			return fmt.Errorf("%w: service %s: %w", ErrSnapshot, svc.Key(), err)
		}
		all.add(ch)
	}
	for _, p := range s.Pods {
		if p == nil {
			return fmt.Errorf("%w: null pod", ErrSnapshot)
		}
		ch, err := c.stagePod(p, false)
		if err != nil && !errors.Is(err, endpoints.ErrEndpointIP) {
			return fmt.Errorf("%w: pod %s: %w", ErrSnapshot, p.Key(), err)
		}
		all.add(ch)
	}
	// The controller's slices, by namespace and name: an applied slice
	// may not have one's name.
	ctlNames := map[service.NamespacedName]bool{}
	for _, ch := range all.Slices {
		if ch.Slice != nil {
			ctlNames[ch.Slice.Key()] = true
		}
	}
	for _, sl := range s.Slices {
		if sl == nil {
			return fmt.Errorf("%w: null endpointslice", ErrSnapshot)
		}
		u := copySlice(sl)
		defaultSlice(u)
		if err := validateSlice(u, c.cfg.ExternalSlices); err != nil {
			return fmt.Errorf("%w: %w", ErrSnapshot, err)
		}
		if c.applied[u.Key()] != nil {
			return fmt.Errorf("%w: endpointslice %s twice", ErrSnapshot, u.Key())
		}
		if ctlNames[u.Key()] {
			return fmt.Errorf("%w: endpointslice %s: the name of a slice the endpoints controller manages", ErrSnapshot, u.Key())
		}
		c.storeApplied(u)
		all.Slices = append(all.Slices, endpoints.Change{Kind: endpoints.Created,
			Service: service.NamespacedName{Namespace: u.Namespace, Name: u.ServiceName()}, Slice: u})
	}
	if err := c.publish(all); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
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

// Restored returns what the last successful Restore found where the
// snapshot's allocators and Services disagree (service.Registry.Restored):
// what Repair will fix or report. It is nil when they agreed.
func (c *Cluster) Restored() []service.RepairProblem { return c.reg.Restored() }
