package lb

import "encoding/binary"

// SourceHashBuckets is the number of buckets of SourceHash: IPVS's
// IP_VS_SH_TAB_SIZE (1 << CONFIG_IP_VS_SH_TAB_BITS, 8 by default).
const SourceHashBuckets = 256

// SourceHash is IPVS's sh scheduler (net/netfilter/ipvs/ip_vs_sh.c): a
// table of 256 buckets dealt out to the backends in turn, each taking
// Weight consecutive buckets (ip_vs_sh_reassign), and a client address
// hashed to a bucket by IPVS's multiplicative hash
// ((addr · 2654435761) mod 256, IPv6 folded by XOR of its four words).
//
// It is deliberately not consistent, and the quality tests show it: any
// change of the backend list re-deals every bucket, so removing one backend
// moves most clients, not 1/n; and with more than 256 backends (or weights
// adding up to more) the backends past the 256th bucket get no traffic.
// IPVS deals in the order backends were added; svcnet deals in frozen-key
// order so every node agrees.
//
// As in IPVS, only the client address is hashed (not the port), so one
// client always lands on one backend. A Key.Hash, when set, is used instead.
// It is not safe for concurrent use.
type SourceHash struct {
	backends []Backend
	buckets  [SourceHashBuckets]int32
}

var _ Picker = (*SourceHash)(nil)

// NewSourceHash returns a SourceHash picker with no backends.
func NewSourceHash() *SourceHash {
	return &SourceHash{}
}

// Update replaces the backends and re-deals all buckets.
func (s *SourceHash) Update(backends []Backend) error {
	bs, err := prepare(backends)
	if err != nil {
		return err
	}
	s.backends = bs
	if len(bs) == 0 {
		return nil
	}
	d, count := 0, uint64(0)
	for i := range s.buckets {
		s.buckets[i] = int32(d)
		count++
		if count >= bs[d].weight() {
			d = (d + 1) % len(bs)
			count = 0
		}
	}
	return nil
}

// shBucket returns the bucket of a key: IPVS's ip_vs_sh_hashkey of the
// client address, or the top byte of the mixed Key.Hash.
func shBucket(k Key) int {
	if k.Hash != 0 {
		return int(k.sum() >> 56)
	}
	a := k.Src.Addr()
	var fold uint32
	if a.Is4() {
		b := a.As4()
		fold = binary.BigEndian.Uint32(b[:])
	} else {
		b := a.As16()
		fold = binary.BigEndian.Uint32(b[0:]) ^ binary.BigEndian.Uint32(b[4:]) ^
			binary.BigEndian.Uint32(b[8:]) ^ binary.BigEndian.Uint32(b[12:])
	}
	return int((uint64(fold) * 2654435761) & (SourceHashBuckets - 1))
}

// Pick returns the backend of the client's bucket.
func (s *SourceHash) Pick(k Key) (Backend, bool) {
	if len(s.backends) == 0 {
		return Backend{}, false
	}
	return s.backends[s.buckets[shBucket(k)]], true
}
