package svcnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// genModel is the obviously right history: every generation ever
// published with its times, and which generation each node has applied.
type genModel struct {
	retention time.Duration
	at, next  []time.Time // by generation; next zero while newest
	lastPub   time.Time
	nodes     map[string]uint64
}

func (m *genModel) newest() uint64 { return uint64(len(m.at) - 1) }

// inHistory: the newest, or a generation that was the newest at some
// moment of the retention before the last publish.
func (m *genModel) inHistory(g uint64) bool {
	if g > m.newest() {
		return false
	}
	if g == m.newest() {
		return true
	}
	return m.next[g].After(m.at[g]) && m.next[g].After(m.lastPub.Add(-m.retention))
}

// available: what SyncNodeTo accepts.
func (m *genModel) available(g uint64) bool {
	if g == 0 || m.inHistory(g) {
		return true
	}
	for _, h := range m.nodes {
		if h == g {
			return true
		}
	}
	return false
}

func (m *genModel) history() []uint64 {
	var out []uint64
	for g := range m.newest() + 1 {
		if m.inHistory(g) {
			out = append(out, g)
		}
	}
	return out
}

// TestGenerationsMatchModel drives publishes, clock steps, node syncs to
// any generation, and nodes coming and going, and checks every query of
// the history against genModel.
func TestGenerationsMatchModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		now := epoch
		retention := rapid.SampledFrom([]time.Duration{0, 2 * time.Second, 5 * time.Second}).Draw(t, "retention")
		c, err := NewCluster(Config{
			ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
			PodCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
			Rand:           rand.New(rand.NewPCG(1, 2)),
			Clock:          fixedClock(&now),
			TableRetention: retention,
		})
		require.NoError(t, err)
		m := &genModel{retention: retention, at: []time.Time{now}, next: []time.Time{{}}, nodes: map[string]uint64{}}
		// observe records what a call published.
		observe := func() {
			switch g := c.Generation(); {
			case g == m.newest():
			case g == m.newest()+1:
				m.next[len(m.next)-1] = now
				m.at, m.next, m.lastPub = append(m.at, now), append(m.next, time.Time{}), now
			default:
				t.Fatalf("generation %d after %d: one call publishes one table", g, m.newest())
			}
		}
		for i := range 2 {
			_, err := c.AddNode(testNode(fmt.Sprintf("node-%d", i), "", fmt.Sprintf("192.168.0.%d", i+10)))
			require.NoError(t, err)
			m.nodes[fmt.Sprintf("node-%d", i)] = 0
			observe()
		}
		_, err = c.CreateService(webService("web", service.ServiceTypeClusterIP))
		require.NoError(t, err)
		observe()
		ready := map[int]bool{}
		extra := 2
		t.Repeat(map[string]func(*rapid.T){
			"tick": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 3).Draw(t, "seconds")) * time.Second)
			},
			"publish": func(t *rapid.T) {
				i := rapid.IntRange(0, 3).Draw(t, "pod")
				ready[i] = !ready[i]
				_, err := c.ApplyPod(testPod(fmt.Sprintf("web-%d", i), "node-0", fmt.Sprintf("10.244.0.%d", i+5), ready[i]))
				require.NoError(t, err)
				observe()
			},
			"syncTo": func(t *rapid.T) {
				name := rapid.SampledFrom(slices.Sorted(mapsKeys(m.nodes))).Draw(t, "node")
				g := rapid.Uint64Range(0, m.newest()+1).Draw(t, "generation")
				err := c.SyncNodeTo(name, g)
				if !m.available(g) {
					var ge *GenerationError
					require.ErrorAs(t, err, &ge)
					require.ErrorIs(t, err, ErrUnknownGeneration)
					require.Equal(t, g, ge.Generation)
					got, _ := c.NodeGeneration(name)
					require.Equal(t, m.nodes[name], got, "a refused sync changes nothing")
					return
				}
				require.NoError(t, err)
				m.nodes[name] = g
			},
			"syncNewest": func(t *rapid.T) {
				name := rapid.SampledFrom(slices.Sorted(mapsKeys(m.nodes))).Draw(t, "node")
				require.NoError(t, c.SyncNode(name))
				m.nodes[name] = m.newest()
			},
			"addNode": func(t *rapid.T) {
				name := fmt.Sprintf("node-%d", extra)
				_, err := c.AddNode(testNode(name, "", fmt.Sprintf("192.168.0.%d", extra+10)))
				require.NoError(t, err)
				extra++
				m.nodes[name] = 0
				observe()
			},
			"removeNode": func(t *rapid.T) {
				names := slices.DeleteFunc(slices.Sorted(mapsKeys(m.nodes)), func(s string) bool { return s == "node-0" })
				if len(names) == 0 {
					t.Skip("only node-0, which the pods are on")
				}
				name := rapid.SampledFrom(names).Draw(t, "node")
				_, err := c.RemoveNode(name)
				require.NoError(t, err)
				delete(m.nodes, name)
				observe()
				require.ErrorIs(t, c.SyncNodeTo(name, 0), ErrNotFound)
			},
			"": func(t *rapid.T) {
				for g := range m.newest() + 2 {
					require.Equal(t, m.available(g), c.lookup(g) != nil, "generation %d kept", g)
				}
				h := m.history()
				oldest, newest := c.Generations()
				require.Equal(t, [2]uint64{h[0], m.newest()}, [2]uint64{oldest, newest})
				for name, g := range m.nodes {
					got, err := c.NodeGeneration(name)
					require.NoError(t, err)
					require.Equal(t, g, got, "node %s", name)
					stale, err := c.NodeStale(name)
					require.NoError(t, err)
					require.Equal(t, m.newest()-g, stale)
					p, err := c.Proxy(name)
					require.NoError(t, err)
					if g == 0 {
						// Before its first sync, a new proxy's own empty table.
						require.Zero(t, p.Table().Services())
					} else {
						require.Same(t, c.lookup(g).table, p.Table(), "node %s routes with generation %d's table", name, g)
					}
				}
				// GenerationAt: the newest of the history published by
				// then; NextGeneration: the history's next.
				for back := range 8 {
					at := now.Add(-time.Duration(back) * time.Second)
					want, ok := h[0], false
					for _, g := range h {
						if !m.at[g].After(at) {
							want, ok = g, true
						}
					}
					got, gotOK := c.GenerationAt(at)
					require.Equal(t, want, got, "GenerationAt(now-%ds)", back)
					require.Equal(t, ok, gotOK)
				}
				for _, g := range h {
					next, at, ok := c.NextGeneration(g)
					i := slices.Index(h, g)
					if i == len(h)-1 {
						require.False(t, ok)
						continue
					}
					require.True(t, ok)
					require.Equal(t, h[i+1], next)
					require.Equal(t, m.at[h[i+1]], at)
				}
			},
		})
	})
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRestoreCarriesNodeGenerations: after a Restore every node is on the
// one new generation, and a node can go back to the generation it had
// until the next publish; a generation no node went back to is released
// then.
func TestRestoreCarriesNodeGenerations(t *testing.T) {
	now := epoch
	c, err := NewCluster(Config{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		Rand:         rand.New(rand.NewPCG(1, 2)),
		Clock:        fixedClock(&now),
	})
	require.NoError(t, err)
	for i := range 2 {
		_, err := c.AddNode(testNode(fmt.Sprintf("node-%d", i), "", fmt.Sprintf("192.168.0.%d", i+10)))
		require.NoError(t, err)
	}
	_, err = c.CreateService(webService("web", service.ServiceTypeClusterIP))
	require.NoError(t, err)
	step := func(i int, ready bool) {
		now = now.Add(time.Second)
		_, err := c.ApplyPod(testPod(fmt.Sprintf("web-%d", i), "node-0", fmt.Sprintf("10.244.0.%d", i+5), ready))
		require.NoError(t, err)
	}
	step(0, true)
	require.NoError(t, c.SyncNode("node-1")) // node-1 stays here
	had := c.Generation()
	cut, err := c.Proxy("node-1")
	require.NoError(t, err)
	step(1, true)
	require.NoError(t, c.SyncNode("node-0"))
	gone := c.Generation()
	snap, err := c.Snapshot()
	require.NoError(t, err)
	step(2, true)
	before := c.Generation()

	require.NoError(t, c.Restore(snap))
	g := c.Generation()
	require.Equal(t, before+1, g, "the rebuilt table comes after every generation before")
	oldest, newest := c.Generations()
	require.Equal(t, [2]uint64{g, g}, [2]uint64{oldest, newest})
	for _, name := range []string{"node-0", "node-1"} {
		stale, err := c.NodeStale(name)
		require.NoError(t, err)
		require.Zero(t, stale)
	}
	require.NoError(t, c.SyncNodeTo("node-1", had), "node-1 did not see the restart")
	back, err := c.Proxy("node-1")
	require.NoError(t, err)
	require.Same(t, cut.Table(), back.Table(), "the very table it had")
	require.Equal(t, had, back.Generation())

	step(3, true)
	require.NoError(t, c.SyncNodeTo("node-1", had), "held while node-1 has it")
	err = c.SyncNodeTo("node-0", gone)
	require.ErrorIs(t, err, ErrUnknownGeneration, "released: no node went back to it")
	var ge *GenerationError
	require.True(t, errors.As(err, &ge))
	require.Equal(t, GenerationError{Generation: gone, Oldest: g + 1, Newest: g + 1}, *ge)
}

func TestTableRetentionInvalid(t *testing.T) {
	_, err := NewCluster(Config{
		ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		TableRetention: -time.Second,
	})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, "TableRetention -1s")
}
