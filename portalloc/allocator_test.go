package portalloc_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svcnet/svcnet/internal/alloctest"
	"github.com/svcnet/svcnet/portalloc"
)

func seeded(seed uint64) portalloc.Option {
	return portalloc.WithRand(rand.New(rand.NewPCG(seed, seed)))
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in     string
		want   portalloc.Range
		str    string
		static int // KEP-3668, as Kubernetes' calculateRangeOffset
	}{
		{"30000-32767", portalloc.Range{Base: 30000, Size: 2768}, "30000-32767", 86},
		{"20000-32767", portalloc.Range{Base: 20000, Size: 12768}, "20000-32767", 128},
		{"32567-32767", portalloc.Range{Base: 32567, Size: 201}, "32567-32767", 16},
		{"30000-30015", portalloc.Range{Base: 30000, Size: 16}, "30000-30015", 0},
		{"30000-30016", portalloc.Range{Base: 30000, Size: 17}, "30000-30016", 16},
		{"1-65535", portalloc.Range{Base: 1, Size: 65535}, "1-65535", 128},
		{"30000+100", portalloc.Range{Base: 30000, Size: 101}, "30000-30100", 16},
		{"8080", portalloc.Range{Base: 8080, Size: 1}, "8080-8080", 0},
		{" 30000-30001\n", portalloc.Range{Base: 30000, Size: 2}, "30000-30001", 0},
		{"030000-032767", portalloc.Range{Base: 30000, Size: 2768}, "30000-32767", 86},
	}
	for _, tt := range tests {
		r, err := portalloc.ParseRange(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, r, tt.in)
		require.Equal(t, tt.str, r.String())
		require.Equal(t, tt.static, r.StaticBand(), tt.in)
		back, err := portalloc.ParseRange(r.String())
		require.NoError(t, err)
		require.Equal(t, r, back)
	}
	require.Equal(t, portalloc.DefaultRange, portalloc.MustParseRange("30000-32767"))
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", `portalloc: parse range "": invalid range: empty`},
		{"30000-", `portalloc: parse range "30000-": invalid range: missing port at offset 6`},
		{"-30000", `missing port at offset 0`},
		{"30000-3x", `unexpected character 'x' at offset 7`},
		{"  3a", `unexpected character 'a' at offset 3`},
		{"30000-29999", `end port 29999 is less than start port 30000`},
		{"30000-65536", `port 65536 is greater than 65535`},
		{"65535+1", `the port range cannot be greater than 65535`},
		{"0-10", `port 0 is not a valid port`},
		{"+1-2", `missing port at offset 0`},
		{"1-+2", `unexpected character '+' at offset 2`},
		{"99999999999999999999", `greater than 65535`},
	}
	for _, tt := range tests {
		_, err := portalloc.ParseRange(tt.in)
		require.ErrorIs(t, err, portalloc.ErrInvalidRange, tt.in)
		require.ErrorContains(t, err, tt.msg, tt.in)
	}
}

func TestNewInvalid(t *testing.T) {
	for _, r := range []portalloc.Range{{}, {Base: 0, Size: 10}, {Base: 65535, Size: 2}, {Base: 1, Size: -1}, {Base: -5, Size: 10}} {
		a, err := portalloc.New(r)
		require.Nil(t, a)
		require.ErrorIs(t, err, portalloc.ErrInvalidRange, "%+v", r)
	}
}

func TestErrorMessages(t *testing.T) {
	a, err := portalloc.New(portalloc.MustParseRange("30000-30001"))
	require.NoError(t, err)
	require.EqualError(t, a.Allocate(29999), "portalloc: allocate 29999: port is not in range 30000-30001")
	require.NoError(t, a.Allocate(30000))
	require.EqualError(t, a.Allocate(30000), "portalloc: allocate 30000: port is already allocated")
	p, err := a.AllocateNext()
	require.NoError(t, err)
	require.Equal(t, 30001, p)
	_, err = a.AllocateNext()
	require.EqualError(t, err, "portalloc: allocate next 30000-30001: range is full")
	require.ErrorIs(t, a.Release(30002), portalloc.ErrNotInRange)
	require.NoError(t, a.Release(30001))
	require.NoError(t, a.Release(30001), "releasing a free port is a no-op")
	require.Equal(t, 1, a.Used())
	require.False(t, a.Has(-1))
}

// TestBandOrder fills the default range: the 2682 ports above the 86-port
// static band come first (KEP-3668), then the band, then ErrFull.
func TestBandOrder(t *testing.T) {
	for _, opt := range []portalloc.Option{seeded(1), portalloc.Sequential()} {
		a, err := portalloc.New(portalloc.DefaultRange, opt)
		require.NoError(t, err)
		seen := map[int]bool{}
		for i := range 2768 {
			p, err := a.AllocateNext()
			require.NoError(t, err)
			require.False(t, seen[p])
			seen[p] = true
			require.Equal(t, i < 2682, p >= 30086, "allocation %d: %d", i, p)
		}
		_, err = a.AllocateNext()
		require.ErrorIs(t, err, portalloc.ErrFull)
	}
}

func TestDeterministic(t *testing.T) {
	draw := func(seed uint64) []int {
		a, err := portalloc.New(portalloc.DefaultRange, seeded(seed))
		require.NoError(t, err)
		var out []int
		for range 100 {
			p, err := a.AllocateNext()
			require.NoError(t, err)
			out = append(out, p)
		}
		return out
	}
	require.Equal(t, draw(3), draw(3))
	require.NotEqual(t, draw(3), draw(4))
}

func TestNearlyFull(t *testing.T) {
	a, err := portalloc.New(portalloc.MustParseRange("1-65535"), seeded(2))
	require.NoError(t, err)
	for range 65535 {
		_, err := a.AllocateNext()
		require.NoError(t, err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		want := 1 + r.IntN(65535)
		require.NoError(t, a.Release(want))
		got, err := a.AllocateNext()
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestSnapshotErrors(t *testing.T) {
	a, err := portalloc.New(portalloc.DefaultRange, seeded(1))
	require.NoError(t, err)
	for range 100 {
		_, err := a.AllocateNext()
		require.NoError(t, err)
	}
	data, err := a.Snapshot()
	require.NoError(t, err)
	want := slices.Collect(a.All())
	for _, other := range []string{"30000-32766", "30001-32767"} {
		b, err := portalloc.New(portalloc.MustParseRange(other))
		require.NoError(t, err)
		require.ErrorIs(t, b.Restore(data), portalloc.ErrSnapshot, other)
		require.Zero(t, b.Used())
	}
	for i := range data {
		require.ErrorIs(t, a.Restore(data[:i]), portalloc.ErrSnapshot)
	}
	bad := slices.Clone(data)
	bad[4] = 9
	require.ErrorContains(t, a.Restore(bad), "unknown version 9")
	require.Equal(t, want, slices.Collect(a.All()))
	b, _ := portalloc.New(portalloc.DefaultRange)
	require.NoError(t, b.Restore(data))
	require.Equal(t, want, slices.Collect(b.All()))
}

// TestConcurrent hammers one allocator from several goroutines; run under
// -race it also checks the locking.
func TestConcurrent(t *testing.T) {
	a, err := portalloc.New(portalloc.MustParseRange("30000-30999"), seeded(9))
	require.NoError(t, err)
	alloctest.Hammer(t, a, portalloc.ErrFull, cmp.Compare[int])
}

func TestNoAllocs(t *testing.T) {
	a, err := portalloc.New(portalloc.DefaultRange, seeded(1))
	require.NoError(t, err)
	ports := make([]int, 2700)
	for i := range ports {
		ports[i], _ = a.AllocateNext()
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		_ = a.Release(ports[i])
		ports[i], _ = a.AllocateNext()
		_ = a.Has(ports[i])
		i = (i + 1) % len(ports)
	})
	require.Zero(t, allocs)
}

func TestRepair(t *testing.T) {
	a, err := portalloc.New(portalloc.DefaultRange)
	require.NoError(t, err)
	require.NoError(t, a.Allocate(30010))
	r := portalloc.NewRepair(a, portalloc.RepairConfig{})
	for pass := 1; pass <= 2; pass++ {
		rep, err := r.Pass([]int{30020, 30020, 80})
		require.NoError(t, err)
		require.Equal(t, []int{30010}, rep.Leaked, "pass %d", pass)
		require.Equal(t, []int{30020}, rep.Duplicate)
		require.Equal(t, []int{80}, rep.OutOfRange)
		require.Equal(t, pass == 1, len(rep.Missing) == 1)
	}
	rep, err := r.Pass([]int{30020})
	require.NoError(t, err)
	require.Equal(t, []int{30010}, rep.Released)
	require.False(t, a.Has(30010))
	require.True(t, a.Has(30020))
	rep, _ = r.Pass([]int{30020})
	require.True(t, rep.Clean(), "%+v", rep)

	// DryRun keeps reporting without changing anything.
	require.NoError(t, a.Allocate(30030))
	d := portalloc.NewRepair(a, portalloc.RepairConfig{LeakPasses: 1, DryRun: true})
	for range 2 {
		rep, _ = d.Pass([]int{30040})
		require.Equal(t, []int{30020, 30030}, rep.Released)
		require.Equal(t, []int{30040}, rep.Missing)
	}
	require.True(t, a.Has(30030))
	require.False(t, a.Has(30040))
}
