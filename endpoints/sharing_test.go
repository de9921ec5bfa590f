package endpoints

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"pgregory.net/rapid"
)

// sharingPod is what the test knows of one pod: enough to say what its
// endpoint must be (podToEndpoint, KEP-1672).
type sharingPod struct {
	ready, terminating bool
}

// want returns the endpoint pod name must have: serving is its Ready
// condition, terminating its deletion timestamp, ready both; a hint for
// its zone when ready, under PreferClose (trafficdist).
func (p sharingPod) want(name string, i int, hinted bool) Endpoint {
	ready := p.ready && !p.terminating
	e := Endpoint{
		Addresses:  []netip.Addr{netip.MustParseAddr(podIP(i))},
		Conditions: Conditions{Ready: ready, Serving: p.ready, Terminating: p.terminating},
		TargetRef:  &ObjectReference{Kind: "Pod", Namespace: "default", Name: name, UID: "uid-" + name},
		NodeName:   "node-a",
		Zone:       "z1",
	}
	if hinted && ready {
		e.Hints = &Hints{ForZones: []ForZone{{Name: "z1"}}}
	}
	return e
}

// TestSliceVersionsShareEndpoints drives one Service's slices through
// random readiness flips, terminations, additions and deletions of its
// pods, and checks the representation against a naive full copy:
//
//   - every version ever published keeps its content forever (each is
//     compared, after every step, with a deep copy taken when it was
//     published), although later versions point at its endpoints;
//   - each update equals a deep copy of the version before with the one
//     edit the event asks for: the endpoint's conditions (and hints)
//     replaced, the endpoint appended, or the endpoint removed with the
//     last one moved into its place;
//   - in that update every endpoint the event did not change is the
//     very *Endpoint of the version before (shared, not copied), and
//     the changed one is a new one;
//   - the slices hold exactly the pods' endpoints.
func TestSliceVersionsShareEndpoints(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		max := rapid.IntRange(1, 6).Draw(t, "max")
		hinted := rapid.Bool().Draw(t, "preferClose")
		c := NewController(Config{MaxEndpointsPerSlice: max})
		if _, err := c.UpsertNode(&service.Node{ObjectMeta: service.ObjectMeta{Name: "node-a", Labels: service.Labels{service.LabelTopologyZone: "z1"}}}); err != nil {
			t.Fatal(err)
		}
		sel := service.Labels{"app": "web"}
		svc := testService("web", sel, func(s *service.Service) {
			if hinted {
				td := service.TrafficDistributionPreferClose
				s.Spec.TrafficDistribution = &td
			}
		})

		type version struct{ s, snap *Slice }
		var published []version
		current := map[string]*Slice{}
		pods := map[string]sharingPod{}
		podIndex := map[string]int{}
		const nPods = 12
		for i := range nPods {
			podIndex[fmt.Sprintf("web-%d", i)] = i
		}
		record := func(changes []Change) {
			for _, ch := range changes {
				if ch.Slice != nil {
					published = append(published, version{ch.Slice, ch.Slice.DeepCopy()})
					current[ch.Slice.Name] = ch.Slice
				} else {
					delete(current, ch.Old.Name)
				}
			}
		}
		upsert := func(name string, p sharingPod) []Change {
			pod := testPod(name, sel, podIP(podIndex[name]), func(q *service.Pod) {
				q.SetReady(p.ready)
				if p.terminating {
					ts := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
					q.DeletionTimestamp = &ts
				}
			})
			changes, err := c.UpsertPod(pod)
			if err != nil {
				t.Fatal(err)
			}
			return changes
		}
		changes, err := c.UpsertService(svc)
		if err != nil {
			t.Fatal(err)
		}
		record(changes)

		// updated checks the one Updated change of changes against the
		// naive copy of its Old with edit applied; edit returns, for each
		// position of the new list, the position in Old it comes from, or
		// -1 for the changed endpoint.
		updated := func(changes []Change, edit func(naive *Slice) []int) {
			var ch *Change
			for i := range changes {
				if changes[i].Kind == Updated {
					if ch != nil {
						t.Fatalf("two updates: %s", kinds(changes))
					}
					ch = &changes[i]
				}
			}
			if ch == nil {
				t.Fatalf("no update: %s", kinds(changes))
			}
			naive := ch.Old.DeepCopy()
			naive.Generation++
			src := edit(naive)
			if len(ch.Old.Endpoints) == 0 || len(ch.Slice.Endpoints) == 0 {
				// The placeholder turned into a slice, or back (finalize):
				// its port set changes with it.
				naive.Ports = ch.Slice.Ports
			}
			if !reflect.DeepEqual(naive, ch.Slice) {
				t.Fatalf("update of %s differs from the naive copy:\n got %s\nwant %s", ch.Old.Name, fingerprint(ch.Slice), fingerprint(naive))
			}
			for j, from := range src {
				if from >= 0 && ch.Slice.Endpoints[j] != ch.Old.Endpoints[from] {
					t.Fatalf("update of %s: endpoint %d is a copy of the old %d, not the same one", ch.Old.Name, j, from)
				}
				if from < 0 {
					for k := range ch.Old.Endpoints {
						if ch.Slice.Endpoints[j] == ch.Old.Endpoints[k] {
							t.Fatalf("update of %s: the changed endpoint %d is the old %d", ch.Old.Name, j, k)
						}
					}
				}
			}
		}
		// holding returns the current slice and position of pod name.
		holding := func(name string) (*Slice, int) {
			for _, s := range current {
				for i, e := range s.Endpoints {
					if e.TargetRef.Name == name {
						return s, i
					}
				}
			}
			t.Fatalf("pod %s is in no slice", name)
			return nil, 0
		}
		identity := func(n int) []int {
			src := make([]int, n)
			for i := range src {
				src[i] = i
			}
			return src
		}

		t.Repeat(map[string]func(*rapid.T){
			"flip": func(t *rapid.T) {
				name := fmt.Sprintf("web-%d", rapid.IntRange(0, nPods-1).Draw(t, "pod"))
				p, ok := pods[name]
				if !ok {
					t.Skip("no such pod")
				}
				s, at := holding(name)
				p.ready = !p.ready
				pods[name] = p
				changes := upsert(name, p)
				updated(changes, func(naive *Slice) []int {
					if naive.Name != s.Name {
						t.Fatalf("flip of %s updated %s, not %s", name, naive.Name, s.Name)
					}
					w := p.want(name, podIndex[name], hinted)
					naive.Endpoints[at].Conditions, naive.Endpoints[at].Hints = w.Conditions, w.Hints
					src := identity(len(naive.Endpoints))
					src[at] = -1
					return src
				})
				if len(changes) != 1 {
					t.Fatalf("flip: %s", kinds(changes))
				}
				record(changes)
			},
			"terminate": func(t *rapid.T) {
				name := fmt.Sprintf("web-%d", rapid.IntRange(0, nPods-1).Draw(t, "pod"))
				p, ok := pods[name]
				if !ok || p.terminating {
					t.Skip("no such pod, or terminating")
				}
				s, at := holding(name)
				p.terminating = true
				pods[name] = p
				changes := upsert(name, p)
				updated(changes, func(naive *Slice) []int {
					if naive.Name != s.Name {
						t.Fatalf("termination of %s updated %s, not %s", name, naive.Name, s.Name)
					}
					w := p.want(name, podIndex[name], hinted)
					naive.Endpoints[at].Conditions, naive.Endpoints[at].Hints = w.Conditions, w.Hints
					src := identity(len(naive.Endpoints))
					src[at] = -1
					return src
				})
				record(changes)
			},
			"add": func(t *rapid.T) {
				name := fmt.Sprintf("web-%d", rapid.IntRange(0, nPods-1).Draw(t, "pod"))
				if _, ok := pods[name]; ok {
					t.Skip("exists")
				}
				p := sharingPod{ready: rapid.Bool().Draw(t, "ready")}
				pods[name] = p
				changes := upsert(name, p)
				w := p.want(name, podIndex[name], hinted)
				if len(changes) == 1 && changes[0].Kind == Created {
					// No slice had room: a new one with just this endpoint.
					if got := changes[0].Slice.Endpoints; len(got) != 1 || !reflect.DeepEqual(*got[0], w) {
						t.Fatalf("add %s: created %s", name, fingerprint(changes[0].Slice))
					}
				} else {
					updated(changes, func(naive *Slice) []int {
						src := identity(len(naive.Endpoints))
						naive.Endpoints = append(naive.Endpoints, &w)
						return append(src, -1)
					})
				}
				record(changes)
			},
			"delete": func(t *rapid.T) {
				name := fmt.Sprintf("web-%d", rapid.IntRange(0, nPods-1).Draw(t, "pod"))
				if _, ok := pods[name]; !ok {
					t.Skip("no such pod")
				}
				s, at := holding(name)
				delete(pods, name)
				changes := c.DeletePod(service.NamespacedName{Namespace: "default", Name: name})
				if len(s.Endpoints) == 1 && len(current) > 1 {
					// Its slice empties and is deleted; others remain.
					if len(changes) != 1 || changes[0].Kind != Deleted || changes[0].Old != s {
						t.Fatalf("delete %s: %s", name, kinds(changes))
					}
				} else {
					updated(changes, func(naive *Slice) []int {
						src := identity(len(naive.Endpoints))
						last := len(naive.Endpoints) - 1
						naive.Endpoints[at], src[at] = naive.Endpoints[last], src[last]
						naive.Endpoints = naive.Endpoints[:last]
						return src[:last]
					})
				}
				record(changes)
			},
			"": func(t *rapid.T) {
				for i, v := range published {
					if !reflect.DeepEqual(v.s, v.snap) {
						t.Fatalf("published version %d of %s changed:\n got %s\nwant %s", i, v.s.Name, fingerprint(v.s), fingerprint(v.snap))
					}
				}
				held := map[string]Endpoint{}
				for _, s := range current {
					for _, e := range s.Endpoints {
						held[e.TargetRef.Name] = *e
					}
				}
				if len(held) != len(pods) {
					t.Fatalf("slices hold %d endpoints, %d pods", len(held), len(pods))
				}
				for name, p := range pods {
					if w := p.want(name, podIndex[name], hinted); !reflect.DeepEqual(held[name], w) {
						t.Fatalf("pod %s: endpoint %+v, want %+v", name, held[name], w)
					}
				}
			},
		})
	})
}

// TestReadinessFlipShares: a readiness flip in a 100-endpoint slice
// publishes a version whose other 99 endpoints are the old version's
// own, and leaves the old version as it was.
func TestReadinessFlipShares(t *testing.T) {
	c, flips := readinessFixture(t, 3, 250)
	victim := flips[0].Name
	changes := mustUpsertPod(t, c, flips[0])
	require.Len(t, changes, 1)
	old, cur := changes[0].Old, changes[0].Slice
	before := old.DeepCopy()
	require.Len(t, cur.Endpoints, len(old.Endpoints))
	shared := 0
	for i, e := range cur.Endpoints {
		if e == old.Endpoints[i] {
			shared++
			continue
		}
		require.Equal(t, victim, e.TargetRef.Name)
		require.False(t, e.Conditions.Ready)
		require.True(t, old.Endpoints[i].Conditions.Ready)
	}
	require.Equal(t, len(cur.Endpoints)-1, shared)
	mustUpsertPod(t, c, flips[1])
	require.Equal(t, before, old, "the old version is unchanged")
}
