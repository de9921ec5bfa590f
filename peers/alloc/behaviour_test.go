package alloc

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/kubernetes/pkg/registry/core/service/ipallocator"
	"k8s.io/kubernetes/pkg/registry/core/service/portallocator"

	"github.com/svcnet/svcnet/ipam"
	"github.com/svcnet/svcnet/portalloc"
)

// trials is the number of times a band probe must give the same answer.
const trials = 20

// bandCandidates are the band sizes probed on every range, on top of the one
// svcnet expects: both ends of every KEP-3070 and KEP-3668 clamp and step.
var bandCandidates = []int{1, 2, 15, 16, 17, 32, 64, 86, 127, 128, 129, 255, 256, 257}

// observeBand infers the static band of a range of n offsets from
// behaviour. probe(s, trial) must return the offset that AllocateNext
// hands out when every offset but s-1 and s is allocated.
//
// With a static band of S offsets, probe(S) always returns S: S-1 is in
// the lower band, S in the upper band, which AllocateNext serves first. For
// s != S both free offsets lie in the same band and the random pick returns
// s with probability at most 1/2 (far less but on the smallest ranges), so s
// survives trials probes with probability at most 2^-20. The observed band
// is the candidate that always returns s, or 0 if none does.
func observeBand(n int, candidates []int, probe func(s, trial int) int) []int {
	var passed []int
	for _, s := range candidates {
		if s < 1 || s >= n || slices.Contains(passed, s) {
			continue
		}
		ok := true
		for trial := 0; ok && trial < trials; trial++ {
			ok = probe(s, trial) == s
		}
		if ok {
			passed = append(passed, s)
		}
	}
	return passed
}

func bandOf(passed []int) int {
	if len(passed) == 0 {
		return 0
	}
	return passed[0]
}

func offsetOf(base netip.Addr, ip netip.Addr) int {
	d := new(big.Int).Sub(new(big.Int).SetBytes(ip.AsSlice()), new(big.Int).SetBytes(base.AsSlice()))
	return int(d.Int64())
}

// TestIPRangesMatchKubernetes checks, for IPv4 /8 to /32 and IPv6 /108 to
// /128, that both allocators have the same usable addresses (count and
// bounds) and the same KEP-3070 band, observed through their behaviour.
// Kubernetes' bitmap caps IPv6 at 65535 usable addresses, reached from /112
// on; svcnet serves /108 to /111 whole, with the same band.
func TestIPRangesMatchKubernetes(t *testing.T) {
	var prefixes []netip.Prefix
	for bits := 8; bits <= 32; bits++ {
		prefixes = append(prefixes, netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), bits))
	}
	for bits := 108; bits <= 128; bits++ {
		prefixes = append(prefixes, netip.PrefixFrom(netip.MustParseAddr("fd00:10:96::"), bits))
	}
	for _, p := range prefixes {
		t.Run(fmt.Sprintf("prefix=%d", p.Bits()), func(t *testing.T) {
			t.Parallel()
			_, cidr, err := net.ParseCIDR(p.String())
			require.NoError(t, err)
			k, err := ipallocator.NewInMemory(cidr)
			require.NoError(t, err)
			s, err := ipam.New(p)
			require.NoError(t, err)

			host := p.Addr().BitLen() - p.Bits()
			capped := p.Addr().Is6() && host > 16
			kn, sn := k.Free(), int(s.Size())
			if capped {
				require.Equal(t, 65535, kn, "Kubernetes' IPv6 cap")
				require.Equal(t, 1<<host-1, sn, "svcnet serves the whole prefix")
			} else {
				require.Equal(t, kn, sn, "usable addresses")
			}

			// Bounds: never the network address; the first and last
			// usable; never the next one (broadcast, or outside).
			network := p.Addr()
			base := network.Next()
			require.Error(t, k.Allocate(network.AsSlice()))
			require.ErrorIs(t, s.Allocate(network), ipam.ErrNotInRange)
			if sn == 0 {
				require.Zero(t, kn)
				_, kerr := k.AllocateNext()
				require.ErrorIs(t, kerr, ipallocator.ErrFull)
				_, serr := s.AllocateNext()
				require.ErrorIs(t, serr, ipam.ErrFull)
				return
			}
			kLast, sLast := addrAt(base, kn-1), addrAt(base, sn-1)
			for _, a := range slices.Compact([]netip.Addr{base, kLast}) {
				require.NoError(t, k.Allocate(a.AsSlice()), "Kubernetes: %v", a)
			}
			for _, a := range slices.Compact([]netip.Addr{base, sLast}) {
				require.NoError(t, s.Allocate(a), "svcnet: %v", a)
			}
			var notIn *ipallocator.ErrNotInRange
			require.ErrorAs(t, k.Allocate(kLast.Next().AsSlice()), &notIn, "Kubernetes: %v", kLast.Next())
			require.ErrorIs(t, s.Allocate(sLast.Next()), ipam.ErrNotInRange, "svcnet: %v", sLast.Next())

			want := int(s.Bands()[0].Static)
			candidates := append([]int{want}, bandCandidates...)

			// Kubernetes: restore its own bitmap format (bit i set for
			// offset i) with everything but s-1 and s allocated.
			full := new(big.Int).Lsh(big.NewInt(1), uint(kn))
			full.Sub(full, big.NewInt(1))
			kPassed := observeBand(kn, candidates, func(s, _ int) int {
				bits := new(big.Int).SetBit(full, s-1, 0)
				bits.SetBit(bits, s, 0)
				k, err := ipallocator.NewInMemory(cidr)
				require.NoError(t, err)
				require.NoError(t, k.Restore(cidr, bits.Bytes()))
				ip, err := k.AllocateNext()
				require.NoError(t, err)
				a, _ := netip.AddrFromSlice(ip)
				if p.Addr().Is4() {
					a = a.Unmap()
				}
				return offsetOf(base, a)
			})

			// svcnet: restore a full allocator, release s-1 and s.
			filled, err := ipam.New(p, ipam.Sequential())
			require.NoError(t, err)
			for range sn {
				_, err := filled.AllocateNext()
				require.NoError(t, err)
			}
			snap, err := filled.Snapshot()
			require.NoError(t, err)
			sPassed := observeBand(sn, candidates, func(off, trial int) int {
				a, err := ipam.New(p, ipam.WithRand(rand.New(rand.NewPCG(uint64(trial), uint64(off)))))
				require.NoError(t, err)
				require.NoError(t, a.Restore(snap))
				for _, ip := range []netip.Addr{addrAt(base, off-1), addrAt(base, off)} {
					require.NoError(t, a.Release(ip))
				}
				ip, err := a.AllocateNext()
				require.NoError(t, err)
				return offsetOf(base, ip)
			})
			require.LessOrEqual(t, len(kPassed), 1, "Kubernetes: several bands observed: %v", kPassed)
			require.LessOrEqual(t, len(sPassed), 1, "svcnet: several bands observed: %v", sPassed)
			require.Equal(t, bandOf(kPassed), bandOf(sPassed), "observed bands: Kubernetes vs svcnet")
			require.Equal(t, want, bandOf(sPassed), "svcnet's observed band vs its configured band")
		})
	}
}

// addrAt returns base+off.
func addrAt(base netip.Addr, off int) netip.Addr {
	v := new(big.Int).Add(new(big.Int).SetBytes(base.AsSlice()), big.NewInt(int64(off)))
	a, _ := netip.AddrFromSlice(v.FillBytes(make([]byte, base.BitLen()/8)))
	return a
}

// TestPortRangesMatchKubernetes checks that both allocators have the same
// ports and the same KEP-3668 band, observed through their behaviour.
func TestPortRangesMatchKubernetes(t *testing.T) {
	for _, spec := range []string{"30000-32767", "20000-32767", "32567-32767", "30000-30015", "30000-30016", "1-65535"} {
		t.Run("range="+spec, func(t *testing.T) {
			t.Parallel()
			pr, err := utilnet.ParsePortRange(spec)
			require.NoError(t, err)
			r, err := portalloc.ParseRange(spec)
			require.NoError(t, err)
			require.Equal(t, pr.String(), r.String())
			require.Equal(t, pr.Base, r.Base)
			require.Equal(t, pr.Size, r.Size)

			k, err := portallocator.NewInMemory(*pr)
			require.NoError(t, err)
			s, err := portalloc.New(r)
			require.NoError(t, err)
			require.Equal(t, k.Free(), s.Free(), "usable ports")
			for _, port := range []int{r.Base - 1, r.Base, r.Last(), r.Last() + 1} {
				kerr, serr := k.Allocate(port), s.Allocate(port)
				require.Equal(t, kerr == nil, serr == nil, "Allocate(%d): Kubernetes %v, svcnet %v", port, kerr, serr)
			}

			candidates := append([]int{r.StaticBand()}, bandCandidates...)
			// probe allocates every port but base+s-1 and base+s and
			// returns the offset of the next one.
			probe := func(allocate func(int) error, next func() (int, error), s int) int {
				for p := r.Base; p <= r.Last(); p++ {
					if off := p - r.Base; off != s-1 && off != s {
						require.NoError(t, allocate(p))
					}
				}
				p, err := next()
				require.NoError(t, err)
				return p - r.Base
			}
			kPassed := observeBand(r.Size, candidates, func(s, _ int) int {
				k, err := portallocator.NewInMemory(*pr)
				require.NoError(t, err)
				return probe(k.Allocate, k.AllocateNext, s)
			})
			sPassed := observeBand(r.Size, candidates, func(s, trial int) int {
				a, err := portalloc.New(r, portalloc.WithRand(rand.New(rand.NewPCG(uint64(trial), uint64(s)))))
				require.NoError(t, err)
				return probe(a.Allocate, a.AllocateNext, s)
			})
			require.LessOrEqual(t, len(kPassed), 1, "Kubernetes: several bands observed: %v", kPassed)
			require.LessOrEqual(t, len(sPassed), 1, "svcnet: several bands observed: %v", sPassed)
			require.Equal(t, bandOf(kPassed), bandOf(sPassed), "observed bands: Kubernetes vs svcnet")
			require.Equal(t, r.StaticBand(), bandOf(sPassed))
		})
	}
}
