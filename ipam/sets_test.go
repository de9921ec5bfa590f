package ipam

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/svcnet/svcnet/internal/bitmap"
)

// TestSetsAgainstModel drives the bitmap and the run tree with the same
// operations, including long filled blocks that span several bitmap levels,
// and checks both against a map.
func TestSetsAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.SampledFrom([]uint64{1, 2, 63, 64, 65, 4095, 4096, 4097, 262143, 262145, 1 << 20}).Draw(t, "n")
		sets := map[string]offsetSet{"bitmap": bitmap.New(n), "runs": newRunSet()}
		model := map[uint64]bool{}
		offset := func(t *rapid.T) uint64 {
			if rapid.Bool().Draw(t, "edge") {
				return rapid.SampledFrom([]uint64{0, n - 1, n / 2, min(64, n-1), min(4096, n-1)}).Draw(t, "x")
			}
			return rapid.Uint64Range(0, n-1).Draw(t, "x")
		}
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				x := offset(t)
				for name, s := range sets {
					if got := s.Add(x); got == model[x] {
						t.Fatalf("%s.Add(%d) = %v, model has it: %v", name, x, got, model[x])
					}
				}
				model[x] = true
			},
			"fill": func(t *rapid.T) {
				x := offset(t)
				l := rapid.Uint64Range(1, 5000).Draw(t, "len")
				for y := x; y < min(n, x+l); y++ {
					for _, s := range sets {
						s.Add(y)
					}
					model[y] = true
				}
			},
			"remove": func(t *rapid.T) {
				x := offset(t)
				for name, s := range sets {
					if got := s.Remove(x); got != model[x] {
						t.Fatalf("%s.Remove(%d) = %v, model has it: %v", name, x, got, model[x])
					}
				}
				delete(model, x)
			},
			"nextFree": func(t *rapid.T) {
				from := offset(t)
				end := rapid.Uint64Range(from, n).Draw(t, "end")
				want, wok := from, false
				for ; want < end; want++ {
					if !model[want] {
						wok = true
						break
					}
				}
				for name, s := range sets {
					got, ok := s.NextFree(from, end)
					if ok != wok || ok && got != want {
						t.Fatalf("%s.NextFree(%d, %d) = %d, %v; want %d, %v", name, from, end, got, ok, want, wok)
					}
				}
			},
			"": func(t *rapid.T) {
				for name, s := range sets {
					var count uint64
					prev := uint64(0)
					first := true
					s.Runs(func(start, end uint64) bool {
						if start >= end || end > n || !first && start <= prev {
							t.Fatalf("%s: bad run [%d, %d) after %d", name, start, end, prev)
						}
						for x := start; x < end; x++ {
							if !model[x] {
								t.Fatalf("%s: run [%d, %d) holds %d, not in model", name, start, end, x)
							}
						}
						if start < n && !first && start == prev {
							t.Fatalf("%s: runs not maximal at %d", name, start)
						}
						count += end - start
						prev, first = end, false
						return true
					})
					if count != uint64(len(model)) {
						t.Fatalf("%s: runs count %d, model %d", name, count, len(model))
					}
					var asc uint64
					s.Ascend(0, func(x uint64) bool {
						if !model[x] {
							t.Fatalf("%s.ascend yields %d, not in model", name, x)
						}
						asc++
						return true
					})
					if asc != count {
						t.Fatalf("%s.ascend yields %d, runs count %d", name, asc, count)
					}
				}
			},
		})
	})
}
