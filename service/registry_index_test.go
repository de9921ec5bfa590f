package service

import (
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// TestServiceIndexModel drives a serviceIndex with random inserts,
// replacements, deletes and lookups over a small key space (so that
// chunks fill, split, empty and merge) and compares it after every step
// with a naive model, a slice kept sorted by key: the same entries in the
// same order, from the start and from any pivot, and every chunk within
// its bounds and sorted.
func TestServiceIndexModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x serviceIndex
		var model []entry // sorted by key
		key := func(t *rapid.T) NamespacedName {
			ns := rapid.SampledFrom([]string{"a", "default", "kube-system"}).Draw(t, "namespace")
			return NamespacedName{ns, "s" + strconv.Itoa(rapid.IntRange(0, 150).Draw(t, "name"))}
		}
		search := func(k NamespacedName) (int, bool) {
			return slices.BinarySearchFunc(model, k, compareEntryKey)
		}
		insert := func(t *rapid.T, e entry) {
			old, replaced := x.ReplaceOrInsert(e)
			i, ok := search(e.key)
			if replaced != ok || ok && old != model[i] {
				t.Fatalf("ReplaceOrInsert(%s) = %v, %v; model has %v", e.key, old, replaced, ok)
			}
			if ok {
				model[i] = e
			} else {
				model = slices.Insert(model, i, e)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			// A run of consecutive names, so that chunks fill and split.
			"InsertRun": func(t *rapid.T) {
				k := key(t)
				from := rapid.IntRange(0, 150).Draw(t, "from")
				for n := range rapid.IntRange(1, 100).Draw(t, "n") {
					insert(t, entry{NamespacedName{k.Namespace, "s" + strconv.Itoa(from+n)}, &Service{}})
				}
			},
			// Deletes of every other entry from a point on, so that
			// chunks shrink, merge and empty.
			"DeleteRun": func(t *rapid.T) {
				if len(model) == 0 {
					return
				}
				from := rapid.IntRange(0, len(model)-1).Draw(t, "from")
				step := rapid.IntRange(1, 3).Draw(t, "step")
				var keys []NamespacedName
				for i := from; i < len(model); i += step {
					keys = append(keys, model[i].key)
				}
				for _, k := range keys {
					if _, ok := x.Delete(entry{key: k}); !ok {
						t.Fatalf("Delete(%s): not found", k)
					}
					i, _ := search(k)
					model = slices.Delete(model, i, i+1)
				}
			},
			"ReplaceOrInsert": func(t *rapid.T) {
				insert(t, entry{key(t), &Service{}})
			},
			// A position from Locate, used after another insert or
			// delete may have moved entries (as a provider calling back
			// into the Registry would), or right away.
			"ReplaceOrInsertAt": func(t *rapid.T) {
				e := entry{key(t), &Service{}}
				p := x.Locate(e.key)
				if _, ok := search(e.key); p.found != ok || ok && x.At(p) != model[must(search(e.key))] {
					t.Fatalf("Locate(%s) found %v, model %v", e.key, p.found, ok)
				}
				if rapid.Bool().Draw(t, "move") {
					insert(t, entry{key(t), &Service{}})
				}
				old, replaced := x.ReplaceOrInsertAt(p, e)
				i, ok := search(e.key)
				if replaced != ok || ok && old != model[i] {
					t.Fatalf("ReplaceOrInsertAt(%s) = %v, %v; model has %v", e.key, old, replaced, ok)
				}
				if ok {
					model[i] = e
				} else {
					model = slices.Insert(model, i, e)
				}
			},
			"DeleteAt": func(t *rapid.T) {
				k := key(t)
				p := x.Locate(k)
				if rapid.Bool().Draw(t, "move") {
					other := key(t)
					_, had := search(other)
					if _, ok := x.Delete(entry{key: other}); ok != had {
						t.Fatalf("Delete(%s) = %v, model %v", other, ok, had)
					}
					if had {
						model = slices.Delete(model, must(search(other)), must(search(other))+1)
					}
				}
				old, deleted := x.DeleteAt(p, k)
				i, ok := search(k)
				if deleted != ok || ok && old != model[i] {
					t.Fatalf("DeleteAt(%s) = %v, %v; model has %v", k, old, deleted, ok)
				}
				if ok {
					model = slices.Delete(model, i, i+1)
				}
			},
			"Delete": func(t *rapid.T) {
				k := key(t)
				if len(model) > 0 && rapid.Bool().Draw(t, "existing") {
					k = model[rapid.IntRange(0, len(model)-1).Draw(t, "i")].key
				}
				old, deleted := x.Delete(entry{key: k})
				i, ok := search(k)
				if deleted != ok || ok && old != model[i] {
					t.Fatalf("Delete(%s) = %v, %v; model has %v", k, old, deleted, ok)
				}
				if ok {
					model = slices.Delete(model, i, i+1)
				}
			},
			"Get": func(t *rapid.T) {
				k := key(t)
				got, ok := x.Get(entry{key: k})
				i, want := search(k)
				if ok != want || ok && got != model[i] {
					t.Fatalf("Get(%s) = %v, %v; model has %v", k, got, ok, want)
				}
			},
			"AscendGreaterOrEqual": func(t *rapid.T) {
				k := key(t)
				limit := rapid.IntRange(1, 200).Draw(t, "limit")
				var got []entry
				x.AscendGreaterOrEqual(entry{key: k}, func(e entry) bool {
					got = append(got, e)
					return len(got) < limit
				})
				i, _ := search(k)
				want := model[i:]
				want = want[:min(len(want), limit)]
				if !slices.Equal(got, want) {
					t.Fatalf("AscendGreaterOrEqual(%s) limit %d: %d entries, want %d", k, limit, len(got), len(want))
				}
			},
			"": func(t *rapid.T) {
				var got []entry
				x.Ascend(func(e entry) bool { got = append(got, e); return true })
				if !slices.Equal(got, model) || x.Len() != len(model) {
					t.Fatalf("Ascend: %d entries (Len %d), model %d", len(got), x.Len(), len(model))
				}
				for ci, c := range x.chunks {
					if len(c) == 0 || len(c) > maxChunk || cap(c) != maxChunk+1 {
						t.Fatalf("chunk %d: len %d cap %d", ci, len(c), cap(c))
					}
					// Beyond its length a chunk holds no stale pointer.
					for _, e := range c[len(c):cap(c)] {
						if e.svc != nil {
							t.Fatalf("chunk %d holds a removed entry past its length", ci)
						}
					}
				}
			},
		})
	})
}

func must(i int, _ bool) int { return i }

// TestServiceIndexNoThrash checks the hysteresis the index is for: with
// chunks at every fill, inserting and deleting one key over and over at
// any position changes the chunks' layout at most the first time (a
// chunk left below the minimum may merge once); after that the insert
// never splits and the delete never merges.
func TestServiceIndexNoThrash(t *testing.T) {
	var x serviceIndex
	for i := range 5000 {
		x.ReplaceOrInsert(entry{key: NamespacedName{"default", "svc-" + strconv.Itoa(i)}, svc: &Service{}})
	}
	// Deletes that shrink some chunks towards the minimum.
	for i := 0; i < 5000; i += 3 {
		x.Delete(entry{key: NamespacedName{"default", "svc-" + strconv.Itoa(i)}})
	}
	chunks := func() int { return len(x.chunks) }
	for i := range 5000 {
		k := entry{key: NamespacedName{"default", "svc-" + strconv.Itoa(i) + "x"}, svc: &Service{}}
		x.ReplaceOrInsert(k)
		x.Delete(k)
		settled := chunks()
		for range 3 {
			x.ReplaceOrInsert(k)
			if n := chunks(); n != settled {
				t.Fatalf("inserting %s again: %d chunks, was %d", k.key, n, settled)
			}
			x.Delete(k)
			if n := chunks(); n != settled {
				t.Fatalf("deleting %s again: %d chunks, was %d", k.key, n, settled)
			}
		}
	}
}
