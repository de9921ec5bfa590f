package ipam_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/ipam"
)

func TestRepair(t *testing.T) {
	mk := func() *ipam.Allocator {
		a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/24"))
		require.NoError(t, err)
		return a
	}
	x := netip.MustParseAddr("10.0.0.5")
	y := netip.MustParseAddr("10.0.0.6")

	t.Run("leak counter resets when the address is used again", func(t *testing.T) {
		a := mk()
		require.NoError(t, a.Allocate(x))
		r := ipam.NewRepair(a, ipam.RepairConfig{})
		rep, _ := r.Pass(nil)
		require.Equal(t, []netip.Addr{x}, rep.Leaked)
		rep, _ = r.Pass(nil)
		require.Equal(t, []netip.Addr{x}, rep.Leaked)
		rep, _ = r.Pass([]netip.Addr{x}) // in use again: not a leak
		require.True(t, rep.Clean(), "%+v", rep)
		for range 2 {
			rep, _ = r.Pass(nil)
			require.Equal(t, []netip.Addr{x}, rep.Leaked, "counting starts over")
		}
		rep, _ = r.Pass(nil)
		require.Equal(t, []netip.Addr{x}, rep.Released)
		require.False(t, a.Has(x))
		rep, _ = r.Pass(nil)
		require.True(t, rep.Clean())
	})

	t.Run("dry run changes nothing", func(t *testing.T) {
		a := mk()
		require.NoError(t, a.Allocate(x))
		r := ipam.NewRepair(a, ipam.RepairConfig{LeakPasses: 1, DryRun: true})
		for range 2 {
			rep, err := r.Pass([]netip.Addr{y})
			require.NoError(t, err)
			require.Equal(t, []netip.Addr{x}, rep.Released)
			require.Equal(t, []netip.Addr{y}, rep.Missing)
		}
		require.True(t, a.Has(x))
		require.False(t, a.Has(y))
	})

	t.Run("one pass fixes everything fixable", func(t *testing.T) {
		a := mk()
		require.NoError(t, a.Allocate(x))
		r := ipam.NewRepair(a, ipam.RepairConfig{LeakPasses: 1})
		rep, err := r.Pass([]netip.Addr{y, y})
		require.NoError(t, err)
		require.Equal(t, []netip.Addr{x}, rep.Released)
		require.Equal(t, []netip.Addr{y}, rep.Missing)
		require.Equal(t, []netip.Addr{y}, rep.Duplicate)
		require.False(t, a.Has(x))
		require.True(t, a.Has(y))
		require.Equal(t, uint64(1), a.Used())
	})
}
