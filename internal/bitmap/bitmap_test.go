package bitmap

import (
	"testing"

	"pgregory.net/rapid"
)

// checkLevels checks the structure the fast paths rely on: every summary bit
// is set exactly when the word below it is full, and padding bits are set.
func checkLevels(t *rapid.T, b *Bitmap) {
	n := b.n
	for k, level := range b.levels {
		for i, w := range level {
			lo := uint64(i) * 64
			var padding uint64
			switch {
			case lo >= n:
				padding = ^uint64(0)
			case n-lo < 64:
				padding = ^uint64(0) << (n - lo)
			}
			if w&padding != padding {
				t.Fatalf("level %d word %d = %#x: padding %#x not set", k, i, w, padding)
			}
			if k == 0 {
				continue
			}
			for j := range 64 {
				below := uint64(i)*64 + uint64(j)
				full := below >= uint64(len(b.levels[k-1])) || b.levels[k-1][below] == ^uint64(0)
				if got := w&(1<<j) != 0; below < uint64(len(b.levels[k-1])) && got != full {
					t.Fatalf("level %d bit %d = %v, word below full: %v", k, below, got, full)
				}
			}
		}
		n = uint64(len(level))
	}
	if top := b.levels[len(b.levels)-1]; len(top) != 1 {
		t.Fatalf("top level has %d words", len(top))
	}
}

// TestAgainstModel drives a bitmap and a []bool with the same operations,
// including long filled blocks that fill whole summary words, at sizes on
// either side of every level boundary.
func TestAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.SampledFrom([]uint64{1, 2, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145, 1 << 20}).Draw(t, "n")
		b := New(n)
		model := make([]bool, n)
		offset := func(t *rapid.T) uint64 {
			if rapid.Bool().Draw(t, "edge") {
				return rapid.SampledFrom([]uint64{0, n - 1, n / 2, min(63, n-1), min(64, n-1), min(4095, n-1), min(4096, n-1)}).Draw(t, "x")
			}
			return rapid.Uint64Range(0, n-1).Draw(t, "x")
		}
		t.Repeat(map[string]func(*rapid.T){
			"Add": func(t *rapid.T) {
				x := offset(t)
				if got := b.Add(x); got == model[x] {
					t.Fatalf("Add(%d) = %v, model has it: %v", x, got, model[x])
				}
				model[x] = true
			},
			"AddRun": func(t *rapid.T) {
				x := offset(t)
				end := min(n, x+rapid.Uint64Range(1, 9000).Draw(t, "len"))
				b.AddRun(x, end)
				for y := x; y < end; y++ {
					model[y] = true
				}
			},
			"Remove": func(t *rapid.T) {
				x := offset(t)
				if got := b.Remove(x); got != model[x] {
					t.Fatalf("Remove(%d) = %v, model has it: %v", x, got, model[x])
				}
				model[x] = false
			},
			"Has": func(t *rapid.T) {
				x := offset(t)
				if got := b.Has(x); got != model[x] {
					t.Fatalf("Has(%d) = %v, model %v", x, got, model[x])
				}
			},
			"NextFree": func(t *rapid.T) {
				// from and end may lie past n: nothing is free there.
				from := rapid.SampledFrom([]uint64{offset(t), n, n + 64}).Draw(t, "from")
				end := rapid.Uint64Range(from, n+100).Draw(t, "end")
				want, wok := from, false
				for ; want < min(end, n); want++ {
					if !model[want] {
						wok = true
						break
					}
				}
				if got, ok := b.NextFree(from, end); ok != wok || ok && got != want {
					t.Fatalf("NextFree(%d, %d) = %d, %v; want %d, %v", from, end, got, ok, want, wok)
				}
			},
			"Ascend": func(t *rapid.T) {
				from := rapid.SampledFrom([]uint64{offset(t), n}).Draw(t, "from")
				limit := rapid.IntRange(1, 200).Draw(t, "limit")
				var want []uint64
				for x := from; x < n && len(want) < limit; x++ {
					if model[x] {
						want = append(want, x)
					}
				}
				var got []uint64
				b.Ascend(from, func(x uint64) bool {
					got = append(got, x)
					return len(got) < limit
				})
				if len(got) != len(want) {
					t.Fatalf("Ascend(%d) yields %v, want %v", from, got, want)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("Ascend(%d) yields %v, want %v", from, got, want)
					}
				}
			},
			"": func(t *rapid.T) {
				checkLevels(t, b)
				// Runs are the maximal runs of the model, in order.
				x := uint64(0)
				b.Runs(func(start, end uint64) bool {
					for ; x < start; x++ {
						if model[x] {
							t.Fatalf("Runs skips %d", x)
						}
					}
					if start >= end || end > n {
						t.Fatalf("bad run [%d, %d)", start, end)
					}
					for ; x < end; x++ {
						if !model[x] {
							t.Fatalf("run [%d, %d) holds %d, not in model", start, end, x)
						}
					}
					if end < n && model[end] {
						t.Fatalf("run [%d, %d) not maximal", start, end)
					}
					return true
				})
				for ; x < n; x++ {
					if model[x] {
						t.Fatalf("Runs misses %d", x)
					}
				}
			},
		})
	})
}

// TestEmpty checks the bitmap of no offsets, which ipam builds for a
// prefix without usable address: nothing free, nothing set.
func TestEmpty(t *testing.T) {
	b := New(0)
	if b.Len() != 0 {
		t.Fatalf("Len() = %d", b.Len())
	}
	if x, ok := b.NextFree(0, 10); ok {
		t.Fatalf("NextFree(0, 10) = %d, true", x)
	}
	b.Ascend(0, func(x uint64) bool { t.Fatalf("Ascend yields %d", x); return false })
	b.Runs(func(start, end uint64) bool { t.Fatalf("Runs yields [%d, %d)", start, end); return false })
}

// TestFull checks that a full bitmap has no free offset and one run, and
// that freeing the last offset of a multi-level bitmap is found again.
func TestFull(t *testing.T) {
	for _, n := range []uint64{1, 64, 65, 4096, 4097, 262145} {
		b := New(n)
		b.AddRun(0, n)
		if x, ok := b.NextFree(0, n); ok {
			t.Fatalf("n=%d: NextFree on full = %d", n, x)
		}
		var runs int
		b.Runs(func(start, end uint64) bool {
			if start != 0 || end != n {
				t.Fatalf("n=%d: run [%d, %d)", n, start, end)
			}
			runs++
			return true
		})
		if runs != 1 {
			t.Fatalf("n=%d: %d runs", n, runs)
		}
		b.Remove(n - 1)
		if x, ok := b.NextFree(0, n); !ok || x != n-1 {
			t.Fatalf("n=%d: NextFree = %d, %v; want %d", n, x, ok, n-1)
		}
		if x, ok := b.NextFree(0, n-1); ok {
			t.Fatalf("n=%d: NextFree below the free offset = %d", n, x)
		}
	}
}

// TestNoAllocs checks that the operations of allocator churn do not
// allocate.
func TestNoAllocs(t *testing.T) {
	const n = 1 << 16
	b := New(n)
	b.AddRun(0, n*99/100)
	x := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		b.Remove(x)
		y, _ := b.NextFree(x*7%n, n)
		b.Add(y)
		_ = b.Has(y)
		x = (x + 1) % (n * 99 / 100)
	})
	if allocs != 0 {
		t.Fatalf("churn allocates %v times per run", allocs)
	}
}

// BenchmarkNextFree finds a free offset in a 2^20 bitmap that is 99 % full
// with the free offsets spread out: the worst case of AllocateNext's search.
func BenchmarkNextFree(b *testing.B) {
	const n = 1 << 20
	m := New(n)
	m.AddRun(0, n)
	for x := uint64(0); x < n; x += 100 {
		m.Remove(x)
	}
	b.ReportAllocs()
	from := uint64(0)
	for b.Loop() {
		x, ok := m.NextFree(from, n)
		if !ok {
			x = 0
		}
		from = (x*31 + 17) % n
	}
}
