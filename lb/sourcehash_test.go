package lb

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSourceHashBucket(t *testing.T) {
	// ip_vs_sh_hashkey: (ntohl(addr)·2654435761) & 255. For 10.0.0.1 the
	// low byte of 0x0a000001·0x9e3779b1 is that of 0x9e3779b1: 0xb1.
	k := Key{Src: netip.MustParseAddrPort("10.0.0.1:1234")}
	require.Equal(t, 0xb1, shBucket(k))
	// The port does not matter: one client, one backend.
	k.Src = netip.MustParseAddrPort("10.0.0.1:999")
	require.Equal(t, 0xb1, shBucket(k))
	// IPv6 folds the four words by XOR: 2001:db8::1 → 0x20010db8 ^ 1.
	k.Src = netip.MustParseAddrPort("[2001:db8::1]:80")
	require.Equal(t, int((uint64(0x20010db8^1)*2654435761)&255), shBucket(k))
}

func TestSourceHashDeal(t *testing.T) {
	s := NewSourceHash()
	bs := weighted(2, 1)
	require.NoError(t, s.Update(bs))
	// ip_vs_sh_reassign: each backend takes weight consecutive buckets.
	want := []int32{0, 0, 1, 0, 0, 1}
	require.Equal(t, want, s.buckets[:6])
	require.NoError(t, s.Update(testBackends(300)))
	used := map[int32]bool{}
	for _, b := range s.buckets {
		used[b] = true
	}
	require.Len(t, used, SourceHashBuckets, "only 256 of 300 backends get buckets")
}
