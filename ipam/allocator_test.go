package ipam_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/alloctest"
	"github.com/svcnet/svcnet/ipam"
)

func seeded(seed uint64) ipam.Option { return ipam.WithRand(rand.New(rand.NewPCG(seed, seed))) }

// TestPrefixSizes checks the usable addresses and KEP-3070 band of each
// prefix against facts of Kubernetes' ipallocator (bitmap.go: network
// address never, IPv4 broadcast never, so nothing in an IPv4 /31 or /32
// or an IPv6 /128; calculateRangeOffset for the band).
func TestPrefixSizes(t *testing.T) {
	tests := []struct {
		prefix      string
		size        uint64
		static      uint64
		first, last string
	}{
		{"10.0.0.0/8", 1<<24 - 2, 256, "10.0.0.1", "10.255.255.254"},
		{"10.96.0.0/12", 1<<20 - 2, 256, "10.96.0.1", "10.111.255.254"},
		{"10.0.0.0/16", 65534, 256, "10.0.0.1", "10.0.255.254"},
		{"10.0.0.0/20", 4094, 256, "10.0.0.1", "10.0.15.254"},
		{"10.0.0.0/21", 2046, 128, "10.0.0.1", "10.0.7.254"},
		{"10.0.0.0/24", 254, 16, "10.0.0.1", "10.0.0.254"},
		{"10.0.0.0/27", 30, 16, "10.0.0.1", "10.0.0.30"},
		{"10.0.0.0/28", 14, 0, "10.0.0.1", "10.0.0.14"},
		{"10.0.0.0/30", 2, 0, "10.0.0.1", "10.0.0.2"},
		{"10.0.0.0/31", 0, 0, "", ""},
		{"10.0.0.0/32", 0, 0, "", ""},
		{"10.0.0.77/24", 254, 16, "10.0.0.1", "10.0.0.254"}, // masked
		{"0.0.0.0/0", 1<<32 - 2, 256, "0.0.0.1", "255.255.255.254"},
		{"fd00::/64", math.MaxUint64, 256, "fd00::1", "fd00::ffff:ffff:ffff:ffff"},
		{"fd00::/108", 1<<20 - 1, 256, "fd00::1", "fd00::f:ffff"},
		{"fd00::/112", 65535, 256, "fd00::1", "fd00::ffff"},
		{"fd00::/120", 255, 16, "fd00::1", "fd00::ff"},
		{"fd00::/123", 31, 16, "fd00::1", "fd00::1f"},
		{"fd00::/124", 15, 0, "fd00::1", "fd00::f"},
		{"fd00::/126", 3, 0, "fd00::1", "fd00::3"},
		{"fd00::/127", 1, 0, "fd00::1", "fd00::1"},
		{"fd00::/128", 0, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			a, err := ipam.New(netip.MustParsePrefix(tt.prefix))
			require.NoError(t, err)
			require.Equal(t, tt.size, a.Size())
			require.Equal(t, tt.size, a.Free())
			require.Zero(t, a.Used())
			b := a.Bands()
			require.Len(t, b, 1)
			require.Equal(t, tt.static, b[0].Static)
			if tt.size == 0 {
				require.Equal(t, ipam.Band{}, b[0])
				_, err := a.AllocateNext()
				require.ErrorIs(t, err, ipam.ErrFull)
				return
			}
			first, last := netip.MustParseAddr(tt.first), netip.MustParseAddr(tt.last)
			require.Equal(t, ipam.Range{First: first, Last: last}, b[0].Range)
			require.True(t, a.Contains(first))
			require.True(t, a.Contains(last))
			require.False(t, a.Contains(first.Prev()), "network address")
			require.False(t, a.Contains(last.Next()), "broadcast or next prefix")
			require.ErrorIs(t, a.Allocate(first.Prev()), ipam.ErrNotInRange)
			require.NoError(t, a.Allocate(last))
			require.ErrorIs(t, a.Allocate(last), ipam.ErrAllocated)
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		new  func() (*ipam.Allocator, error)
		msg  string
	}{
		{"zero prefix", func() (*ipam.Allocator, error) { return ipam.New(netip.Prefix{}) }, "invalid prefix"},
		{"IPv6 /48", func() (*ipam.Allocator, error) { return ipam.New(netip.MustParsePrefix("2001:db8::/48")) }, "ipam: new 2001:db8::/48: invalid range: IPv6 prefix shorter than /64"},
		{"empty pool", func() (*ipam.Allocator, error) { return ipam.NewPool(nil) }, "no prefix"},
		{"mixed families", func() (*ipam.Allocator, error) {
			return ipam.NewPool([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::/120")})
		}, "mixes IPv4 and IPv6"},
		{"overlap", func() (*ipam.Allocator, error) {
			return ipam.NewPool([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.0.0.128/25")})
		}, "ipam: new 10.0.0.128/25: invalid range: overlaps 10.0.0.0/24"},
		{"range overlap", func() (*ipam.Allocator, error) {
			return ipam.NewRanges([]ipam.Range{ipam.MustParseRange("192.0.2.1-192.0.2.9"), ipam.MustParseRange("192.0.2.9-192.0.2.20")})
		}, "overlaps 192.0.2.1-192.0.2.9"},
		{"reversed range", func() (*ipam.Allocator, error) {
			return ipam.NewRanges([]ipam.Range{{First: netip.MustParseAddr("192.0.2.9"), Last: netip.MustParseAddr("192.0.2.1")}})
		}, "last address before first"},
		{"huge range", func() (*ipam.Allocator, error) {
			return ipam.NewRanges([]ipam.Range{{First: netip.MustParseAddr("fd00::"), Last: netip.MustParseAddr("fd00::1:0:0:0:0")}})
		}, "more than 2^64-1 addresses"},
		{"empty ranges", func() (*ipam.Allocator, error) { return ipam.NewRanges(nil) }, "no range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.new()
			require.Nil(t, a)
			require.ErrorIs(t, err, ipam.ErrInvalidRange)
			require.Contains(t, err.Error(), tt.msg)
			var e *ipam.Error
			require.ErrorAs(t, err, &e)
			require.True(t, strings.HasPrefix(err.Error(), "ipam: "), err.Error())
		})
	}
	// The largest IPv6 range is exactly 2^64-1 addresses.
	a, err := ipam.NewRanges([]ipam.Range{ipam.MustParseRange("fd00::-fd00::ffff:ffff:ffff:fffe")})
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint64), a.Size())
}

func TestErrorMessages(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/30"))
	require.NoError(t, err)
	err = a.Allocate(netip.MustParseAddr("10.0.1.1"))
	require.EqualError(t, err, "ipam: allocate 10.0.1.1: address is not in range 10.0.0.0/30")
	require.ErrorIs(t, a.Allocate(netip.MustParseAddr("10.0.0.3")), ipam.ErrNotInRange, "broadcast")
	require.ErrorIs(t, a.Allocate(netip.MustParseAddr("::ffff:10.0.0.1")), ipam.ErrNotInRange, "IPv4-mapped IPv6 is IPv6")
	require.ErrorIs(t, a.Allocate(netip.Addr{}), ipam.ErrNotInRange)
	require.NoError(t, a.Allocate(netip.MustParseAddr("10.0.0.1")))
	require.EqualError(t, a.Allocate(netip.MustParseAddr("10.0.0.1")), "ipam: allocate 10.0.0.1: address is already allocated")
	_, err = a.AllocateNext()
	require.NoError(t, err)
	_, err = a.AllocateNext()
	require.EqualError(t, err, "ipam: allocate next 10.0.0.0/30: range is full")
	require.ErrorIs(t, err, ipam.ErrFull)
	require.ErrorIs(t, a.Release(netip.MustParseAddr("10.0.0.0")), ipam.ErrNotInRange)
	require.NoError(t, a.Release(netip.MustParseAddr("10.0.0.1")))
	require.NoError(t, a.Release(netip.MustParseAddr("10.0.0.1")), "releasing a free address is a no-op")
	require.Equal(t, uint64(1), a.Used())

	b, err := ipam.New(netip.MustParsePrefix("fe80::/120"))
	require.NoError(t, err)
	require.ErrorIs(t, b.Allocate(netip.MustParseAddr("fe80::1%eth0")), ipam.ErrNotInRange, "zoned")
}

// TestBandOrder fills a /24 and checks KEP-3070: the 238 addresses of the
// upper band come first, then the 16 of the lower band, then ErrFull.
func TestBandOrder(t *testing.T) {
	for _, opt := range []ipam.Option{seeded(1), ipam.Sequential()} {
		a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/24"), opt)
		require.NoError(t, err)
		boundary := netip.MustParseAddr("10.0.0.17") // first + 16
		seen := map[netip.Addr]bool{}
		for i := range 254 {
			ip, err := a.AllocateNext()
			require.NoError(t, err)
			require.False(t, seen[ip])
			seen[ip] = true
			require.Equal(t, i < 238, !ip.Less(boundary), "allocation %d: %v", i, ip)
		}
		_, err = a.AllocateNext()
		require.ErrorIs(t, err, ipam.ErrFull)
		require.Zero(t, a.Free())
	}
}

func TestSequential(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/24"), ipam.Sequential())
	require.NoError(t, err)
	for _, want := range []string{"10.0.0.17", "10.0.0.18", "10.0.0.19"} {
		ip, err := a.AllocateNext()
		require.NoError(t, err)
		require.Equal(t, want, ip.String())
	}
	require.NoError(t, a.Release(netip.MustParseAddr("10.0.0.18")))
	ip, _ := a.AllocateNext()
	require.Equal(t, "10.0.0.18", ip.String())
}

func TestDeterministic(t *testing.T) {
	draw := func(prefix string, seed uint64) []netip.Addr {
		a, err := ipam.New(netip.MustParsePrefix(prefix), seeded(seed))
		require.NoError(t, err)
		var out []netip.Addr
		for range 200 {
			ip, err := a.AllocateNext()
			require.NoError(t, err)
			out = append(out, ip)
		}
		return out
	}
	for _, p := range []string{"10.0.0.0/16", "10.0.0.0/8", "fd00::/64"} {
		require.Equal(t, draw(p, 7), draw(p, 7), p)
		require.NotEqual(t, draw(p, 7), draw(p, 8), p)
	}
}

// TestNearlyFull checks that AllocateNext finds the last free addresses of
// a large range, dense and sparse alike.
func TestNearlyFull(t *testing.T) {
	for _, p := range []string{"10.0.0.0/16", "fd00::/108"} {
		a, err := ipam.New(netip.MustParsePrefix(p), seeded(3))
		require.NoError(t, err)
		var all []netip.Addr
		for {
			ip, err := a.AllocateNext()
			if errors.Is(err, ipam.ErrFull) {
				break
			}
			require.NoError(t, err)
			all = append(all, ip)
		}
		require.Equal(t, a.Size(), uint64(len(all)))
		r := rand.New(rand.NewPCG(1, 2))
		for range 100 {
			want := all[r.IntN(len(all))]
			require.NoError(t, a.Release(want))
			got, err := a.AllocateNext()
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	}
}

// TestIPv6Slash64 allocates at random in a /64 and checks uniqueness.
func TestIPv6Slash64(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:1:2::/64")
	a, err := ipam.New(p, seeded(5))
	require.NoError(t, err)
	seen := map[netip.Addr]bool{}
	for range 20000 {
		ip, err := a.AllocateNext()
		require.NoError(t, err)
		require.True(t, p.Contains(ip))
		require.NotEqual(t, p.Addr(), ip)
		require.False(t, seen[ip])
		seen[ip] = true
	}
	require.Equal(t, uint64(20000), a.Used())
	require.Equal(t, uint64(math.MaxUint64-20000), a.Free())
	last := netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff")
	require.NoError(t, a.Allocate(last))
	got := slices.Collect(a.All())
	require.Len(t, got, 20001)
	require.True(t, slices.IsSortedFunc(got, netip.Addr.Compare))
	require.Equal(t, last, got[len(got)-1])
}

func TestPoolOrder(t *testing.T) {
	a, err := ipam.NewPool([]netip.Prefix{netip.MustParsePrefix("10.1.0.0/28"), netip.MustParsePrefix("10.0.0.0/29")}, seeded(1))
	require.NoError(t, err)
	require.Equal(t, uint64(14+6), a.Size())
	first := netip.MustParsePrefix("10.1.0.0/28")
	for i := range 20 {
		ip, err := a.AllocateNext()
		require.NoError(t, err)
		require.Equal(t, i < 14, first.Contains(ip), "allocation %d: %v", i, ip)
	}
	_, err = a.AllocateNext()
	require.ErrorIs(t, err, ipam.ErrFull)
	got := slices.Collect(a.All())
	require.Equal(t, "10.0.0.1", got[0].String(), "All is in address order, not pool order")
	require.Equal(t, "10.1.0.14", got[len(got)-1].String())
}

func TestRanges(t *testing.T) {
	r := ipam.MustParseRange("192.0.2.0-192.0.2.3")
	require.Equal(t, "192.0.2.0-192.0.2.3", r.String())
	require.Equal(t, uint64(4), r.Size())
	a, err := ipam.NewRanges([]ipam.Range{r}, ipam.Sequential())
	require.NoError(t, err)
	for _, want := range []string{"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		ip, err := a.AllocateNext()
		require.NoError(t, err)
		require.Equal(t, want, ip.String(), "no band and no reserved network or broadcast address")
	}
	for _, bad := range []string{"", "192.0.2.1", "192.0.2.1-", "192.0.2.9-192.0.2.1", "192.0.2.1-fd00::1", "x-y"} {
		_, err := ipam.ParseRange(bad)
		require.ErrorIs(t, err, ipam.ErrInvalidRange, bad)
	}
}

func TestSnapshotErrors(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/24"), seeded(1))
	require.NoError(t, err)
	for range 100 {
		_, err := a.AllocateNext()
		require.NoError(t, err)
	}
	data, err := a.Snapshot()
	require.NoError(t, err)
	want := slices.Collect(a.All())

	for _, other := range []string{"10.0.1.0/24", "10.0.0.0/23", "fd00::/120"} {
		b, err := ipam.New(netip.MustParsePrefix(other))
		require.NoError(t, err)
		require.ErrorIs(t, b.Restore(data), ipam.ErrSnapshot, other)
		require.Zero(t, b.Used())
	}
	bad := slices.Clone(data)
	bad[4] = 2
	require.ErrorContains(t, a.Restore(bad), "unknown version 2")
	for i := range data {
		require.ErrorIs(t, a.Restore(data[:i]), ipam.ErrSnapshot, "truncated at %d", i)
	}
	require.Equal(t, want, slices.Collect(a.All()), "failed restores changed nothing")

	b, err := ipam.New(netip.MustParsePrefix("10.0.0.0/24"))
	require.NoError(t, err)
	require.NoError(t, b.Restore(data))
	require.Equal(t, want, slices.Collect(b.All()))
	require.Equal(t, uint64(100), b.Used())
}

// TestConcurrent hammers one allocator from several goroutines; run under
// -race it also checks the locking.
func TestConcurrent(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/22"), seeded(9))
	require.NoError(t, err)
	alloctest.Hammer(t, a, ipam.ErrFull, netip.Addr.Compare)
}

// TestNoAllocs checks that churn on a dense range does not allocate.
func TestNoAllocs(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("10.0.0.0/16"), seeded(1))
	require.NoError(t, err)
	ips := make([]netip.Addr, 60000)
	for i := range ips {
		ips[i], _ = a.AllocateNext()
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		_ = a.Release(ips[i])
		ips[i], _ = a.AllocateNext()
		_ = a.Has(ips[i])
		i = (i + 1) % len(ips)
	})
	require.Zero(t, allocs, "churn allocates")
}

// TestSparseAllocs reports the allocations of churn in a /64 (the run tree);
// they come from B-tree node splits and stay well below one per operation.
func TestSparseAllocs(t *testing.T) {
	a, err := ipam.New(netip.MustParsePrefix("fd00::/64"), seeded(1))
	require.NoError(t, err)
	ips := make([]netip.Addr, 10000)
	for i := range ips {
		ips[i], _ = a.AllocateNext()
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		_ = a.Release(ips[i])
		ips[i], _ = a.AllocateNext()
		i = (i + 1) % len(ips)
	})
	t.Logf("allocations per churn operation in a /64: %v", allocs)
	require.Less(t, allocs, 1.0)
}
