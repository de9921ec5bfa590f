package lb

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrepareConditions(t *testing.T) {
	a, b, c := addr4(0), addr4(1), addr4(2)
	tests := []struct {
		name string
		in   []Backend
		want []netip.AddrPort
	}{
		{"ready only", []Backend{{Addr: a, Ready: true}, {Addr: b}, {Addr: c, Ready: true, Serving: true}}, []netip.AddrPort{a, c}},
		{"sorted", []Backend{{Addr: c, Ready: true}, {Addr: a, Ready: true}}, []netip.AddrPort{a, c}},
		// KEP-1669: with no ready endpoint, fall back to serving terminating ones.
		{"terminating fallback", []Backend{{Addr: a, Serving: true, Terminating: true}, {Addr: b, Serving: true}, {Addr: c, Terminating: true}}, []netip.AddrPort{a}},
		{"ready wins over terminating", []Backend{{Addr: a, Serving: true, Terminating: true}, {Addr: b, Ready: true, Serving: true}}, []netip.AddrPort{b}},
		{"none", []Backend{{Addr: a}}, nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prepare(tt.in)
			require.NoError(t, err)
			var addrs []netip.AddrPort
			for _, g := range got {
				addrs = append(addrs, g.Addr)
			}
			require.Equal(t, tt.want, addrs)
		})
	}
}

func TestPrepareErrors(t *testing.T) {
	a := addr4(0)
	tests := []struct {
		name string
		in   []Backend
		want error
		msg  string
	}{
		{"zero address", []Backend{{Ready: true}}, ErrInvalidBackend, `lb: invalid backend: address "invalid AddrPort"`},
		{"port zero", []Backend{{Addr: netip.MustParseAddrPort("10.0.0.1:0"), Ready: true}}, ErrInvalidBackend, `lb: invalid backend: address "10.0.0.1:0"`},
		{"zone", []Backend{{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:80"), Ready: true}}, ErrInvalidBackend, `lb: invalid backend: address "[fe80::1%eth0]:80"`},
		{"weight", []Backend{{Addr: a, Weight: MaxWeight + 1, Ready: true}}, ErrInvalidWeight, "lb: invalid weight: 1000001 for 10.0.0.1:8080 exceeds 1000000"},
		{"duplicate", []Backend{{Addr: a, Ready: true}, {Addr: a, Ready: true}}, ErrDuplicateBackend, "lb: duplicate backend: 10.0.0.1:8080"},
		{"duplicate unusable", []Backend{{Addr: a, Ready: true}, {Addr: a}}, ErrDuplicateBackend, "lb: duplicate backend: 10.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := prepare(tt.in)
			require.ErrorIs(t, err, tt.want)
			require.EqualError(t, err, tt.msg)
			// Every picker rejects the list and keeps its backends.
			for name, p := range allPickers(1) {
				require.NoError(t, p.Update(testBackends(3)), name)
				require.ErrorIs(t, p.Update(tt.in), tt.want, name)
				got, ok := p.Pick(Key{})
				require.True(t, ok, name)
				require.Contains(t, testBackends(3), got, name)
			}
		})
	}
}

func TestConstructorErrors(t *testing.T) {
	for _, m := range []int{-7, 1, 4, 65536, 65541, MaxMaglevTableSize + 2} {
		_, err := NewMaglev(MaglevConfig{TableSize: m})
		require.ErrorIs(t, err, ErrInvalidTableSize, "M=%d", m)
	}
	_, err := NewMaglev(MaglevConfig{TableSize: 4})
	require.EqualError(t, err, "lb: invalid table size: 4 is not a prime in [2, 5000011]")
	// Cilium's and IPVS's table sizes, Envoy's default and maximum.
	for _, m := range []int{251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 65537, MaxMaglevTableSize} {
		g, err := NewMaglev(MaglevConfig{TableSize: m})
		require.NoError(t, err, "M=%d", m)
		require.Equal(t, m, g.TableSize())
	}
	g, err := NewMaglev(MaglevConfig{})
	require.NoError(t, err)
	require.Equal(t, DefaultMaglevTableSize, g.TableSize())

	for _, c := range []RingHashConfig{{MinRingSize: -1}, {MaxRingSize: DefaultMaxRingSize + 1}, {MinRingSize: 10, MaxRingSize: 5}} {
		_, err := NewRingHash(c)
		require.ErrorIs(t, err, ErrInvalidRingSize, "%+v", c)
		_, err = NewBoundedLoad(BoundedLoadConfig{Ring: c})
		require.ErrorIs(t, err, ErrInvalidRingSize, "%+v", c)
	}
	_, err = NewBoundedLoad(BoundedLoadConfig{BalanceFactor: 99})
	require.EqualError(t, err, "lb: invalid config: balance factor 99%, want at least 100%")
	for _, c := range []int{-1, 1} {
		_, err = NewLeastRequest(LeastRequestConfig{ChoiceCount: c})
		require.ErrorIs(t, err, ErrInvalidConfig)
	}
	for _, s := range []int32{-1, MaxAffinityTimeoutSeconds + 1} {
		_, err = NewAffinity(NewRandom(RandomConfig{}), AffinityConfig{TimeoutSeconds: s})
		require.ErrorIs(t, err, ErrInvalidConfig)
	}
	_, err = NewAffinity(NewRandom(RandomConfig{}), AffinityConfig{TimeoutSeconds: 86401})
	require.EqualError(t, err, "lb: invalid config: affinity timeout 86401 s, want 1..86400")
}

func TestMaglevTooManyBackends(t *testing.T) {
	g := mustMaglev(7)
	require.NoError(t, g.Update(testBackends(7)))
	err := g.Update(testBackends(8))
	require.ErrorIs(t, err, ErrTooManyBackends)
	require.EqualError(t, err, "lb: too many backends: 8 backends for a Maglev table of 7 slots")
	require.Len(t, g.AppendTable(nil), 7)
}

func TestEmpty(t *testing.T) {
	for name, p := range allPickers(1) {
		_, ok := p.Pick(Key{})
		require.False(t, ok, name)
		require.NoError(t, p.Update(nil), name)
		_, ok = p.Pick(Key{})
		require.False(t, ok, name)
		// Only unusable backends: nothing to pick either.
		require.NoError(t, p.Update([]Backend{{Addr: addr4(0)}}), name)
		_, ok = p.Pick(Key{})
		require.False(t, ok, name)
		if c, ok := p.(ConnPicker); ok {
			c.Done(Backend{Addr: addr4(0)}) // unknown: no-op
		}
	}
}

func TestSingleBackend(t *testing.T) {
	bs := []Backend{{Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Ready: true, Zone: "z", Node: "n"}}
	for name, p := range allPickers(1) {
		require.NoError(t, p.Update(bs), name)
		for _, k := range testKeys(10, 1) {
			got, ok := p.Pick(k)
			require.True(t, ok, name)
			require.Equal(t, bs[0], got, name)
		}
	}
}

func TestFrozenKeyOrder(t *testing.T) {
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("[::1]:80"),
		netip.MustParseAddrPort("10.0.0.2:80"),
		netip.MustParseAddrPort("10.0.0.10:80"),
		netip.MustParseAddrPort("10.0.0.2:79"),
		netip.MustParseAddrPort("[::ffff:10.0.0.2]:80"),
		netip.MustParseAddrPort("9.255.255.255:65535"),
	}
	byKey := slices.Clone(addrs)
	slices.SortFunc(byKey, func(a, b netip.AddrPort) int {
		ka, kb := frozenKey(a), frozenKey(b)
		return slices.Compare(ka[:], kb[:])
	})
	byCompare := slices.Clone(addrs)
	slices.SortFunc(byCompare, netip.AddrPort.Compare)
	require.Equal(t, byCompare, byKey)
	// An IPv4 address and its IPv4-mapped IPv6 form are different keys.
	k4, k6 := frozenKey(addrs[1]), frozenKey(addrs[4])
	require.NotEqual(t, k4, k6)
}

func TestProtocolString(t *testing.T) {
	require.Equal(t, "TCP", TCP.String())
	require.Equal(t, "UDP", UDP.String())
	require.Equal(t, "SCTP", SCTP.String())
	require.Equal(t, "0", Protocol(0).String())
}

// TestHashFrozen pins the frozen hashes: changing them would change every
// node's tables during an upgrade.
func TestHashFrozen(t *testing.T) {
	require.Equal(t, uint64(0xbc62f58df4b9e70b), hashBytes(nil, 0))
	k := frozenKey(netip.MustParseAddrPort("10.0.0.1:8080"))
	require.Equal(t, uint64(0x565cc9f61527be81), hashBytes(k[:], seedMaglevOffset))
	require.Equal(t, uint64(0xd0955f78c5ebf42a), Key{Src: netip.MustParseAddrPort("192.0.2.1:40000"), Proto: TCP}.sum())
	require.Equal(t, uint64(0x5057114851d00095), Key{Hash: 1}.sum())
}

func TestKeyHashSpreads(t *testing.T) {
	// Consecutive caller hashes and consecutive client ports must not
	// collide in the top bits that fastrange uses.
	seen := map[uint64]bool{}
	for i := range 1024 {
		seen[Key{Hash: uint64(i + 1)}.sum()>>52] = true
	}
	require.Greater(t, len(seen), 850) // 906 expected of a random function
	seen = map[uint64]bool{}
	for i := range 1024 {
		seen[Key{Src: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(i)), Proto: TCP}.sum()>>52] = true
	}
	require.Greater(t, len(seen), 850)
}
