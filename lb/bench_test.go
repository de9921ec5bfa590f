package lb

import (
	"fmt"
	"testing"
)

// benchPickers returns one picker of each kind with default settings
// (Maglev M = 65537, Envoy's ring sizes), plus a ring of 65536 points.
func benchPickers() map[string]Picker {
	p := allPickers(1)
	p["maglev"] = mustMaglev(DefaultMaglevTableSize)
	p["ringhash"] = mustRing(RingHashConfig{})
	p["ringhash-65536"] = mustRing(RingHashConfig{MinRingSize: 65536})
	p["boundedload"], _ = NewBoundedLoad(BoundedLoadConfig{})
	aff, _ := NewAffinity(mustMaglev(DefaultMaglevTableSize), AffinityConfig{})
	p["affinity"] = aff
	return p
}

// BenchmarkPick measures one Pick (and, for connection-aware pickers, the
// matching Done) over a rotating set of 4096 client keys.
func BenchmarkPick(b *testing.B) {
	keys := testKeys(4096, 7)
	for _, n := range []int{100, 1000} {
		for _, name := range append(pickerNames, "ringhash-65536") {
			b.Run(fmt.Sprintf("alg=%s/N=%d", name, n), func(b *testing.B) {
				p := benchPickers()[name]
				if err := p.Update(testBackends(n)); err != nil {
					b.Fatal(err)
				}
				c, _ := p.(ConnPicker)
				for _, k := range keys {
					p.Pick(k) // affinity: known clients
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					be, _ := p.Pick(keys[i&4095])
					if c != nil {
						c.Done(be)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkMaglevBuild has the shape of peers/cilium's benchmark of the
// same name: a table for N backends of weight 1 built from scratch
// (impl=svcnet) or rebuilt into an existing picker's buffers
// (impl=svcnet-warm).
func BenchmarkMaglevBuild(b *testing.B) {
	for _, c := range []struct{ m, n int }{{16381, 100}, {16381, 1000}, {65521, 1000}, {65537, 1000}} {
		bs := testBackends(c.n)
		b.Run(fmt.Sprintf("M=%d/N=%d/impl=svcnet", c.m, c.n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, _ := NewMaglev(MaglevConfig{TableSize: c.m})
				if err := g.Update(bs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("M=%d/N=%d/impl=svcnet-warm", c.m, c.n), func(b *testing.B) {
			g := mustMaglev(c.m)
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Update(bs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRingBuild builds an Envoy-sized ring for N backends.
func BenchmarkRingBuild(b *testing.B) {
	for _, c := range []struct{ min, n int }{{1024, 1000}, {65536, 1000}} {
		bs := testBackends(c.n)
		b.Run(fmt.Sprintf("min=%d/N=%d", c.min, c.n), func(b *testing.B) {
			r := mustRing(RingHashConfig{MinRingSize: c.min})
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Update(bs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
