package dnsname

import (
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestRevIndex checks the index of PTR claims against a map of sets
// after random writes in a few epochs, and that a version published
// before an epoch keeps its claims whatever the writer does after it.
func TestRevIndex(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::1"),
		netip.MustParseAddr("::ffff:10.0.0.1"), // not 10.0.0.1
	}
	keys := []string{"a.ns", "b.ns", "c.ns"}
	type claim struct {
		a netip.Addr
		k string
	}
	rapid.Check(t, func(t *rapid.T) {
		var x revIndex
		model := map[claim]bool{}
		check := func(x *revIndex, model map[claim]bool) {
			for _, a := range addrs {
				var want []string
				for _, k := range keys {
					if model[claim{a, k}] {
						want = append(want, k)
					}
				}
				var got []string
				for _, c := range x.get(a) {
					require.Equal(t, a, c.addr)
					got = append(got, c.key)
				}
				require.Equal(t, want, got, "%s", a)
				require.True(t, slices.IsSorted(got))
			}
		}
		var published revIndex
		var publishedModel map[claim]bool
		for e := uint64(1); e <= uint64(rapid.IntRange(1, 4).Draw(t, "epochs")); e++ {
			for range rapid.IntRange(0, 20).Draw(t, "writes") {
				c := claim{rapid.SampledFrom(addrs).Draw(t, "addr"), rapid.SampledFrom(keys).Draw(t, "key")}
				on := rapid.Bool().Draw(t, "on")
				x.set(e, c.a, c.k, on)
				if on {
					model[c] = true
				} else {
					delete(model, c)
				}
			}
			x.trim(e)
			check(&x, model)
			if publishedModel != nil {
				check(&published, publishedModel)
			}
			published, publishedModel = x, maps.Clone(model)
		}
	})
}
