package lb

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// The hashes in this file are FROZEN. Maglev tables, rings, rendezvous
// scores and source-hash buckets are functions of them, and every node of a
// cluster (and every version of svcnet) must compute the same table from the
// same backends, or connections move during a rolling upgrade. Cilium states
// the same rule for its hash input (pkg/maglev/maglev.go, setHashString:
// "This MUST NOT be changed"). The golden tests pin them.
//
// They are written here rather than taken from hash/maphash, whose seed is
// per process, or from a dependency whose output may change.

// frozenKeyLen is the length of a backend's frozen key.
const frozenKeyLen = 19

// frozenKey is the byte string a backend is identified by in every hash:
// one byte of address family (4 or 6), the address as 16 bytes (IPv4 in
// its IPv4-mapped IPv6 form) and the port, big-endian. It does not depend
// on any text formatting. Its byte order equals netip.AddrPort.Compare
// order, so sorting by either gives the same table order.
func frozenKey(ap netip.AddrPort) [frozenKeyLen]byte {
	var k [frozenKeyLen]byte
	k[0] = 6
	if ap.Addr().Is4() {
		k[0] = 4
	}
	a := ap.Addr().As16()
	copy(k[1:17], a[:])
	binary.BigEndian.PutUint16(k[17:], ap.Port())
	return k
}

// Constants of the frozen hashes: odd 64-bit constants from xxHash64 and
// the golden ratio, and per-use seeds (arbitrary, fixed).
const (
	prime1 = 0x9e3779b185ebca87
	prime2 = 0xc2b2ae3d27d4eb4f
	prime3 = 0x165667b19e3779f9
	prime4 = 0x85ebca77c2b2ae63

	seedMaglevOffset = 0x6d61676c65762d6f // "maglev-o"
	seedMaglevSkip   = 0x6d61676c65762d73 // "maglev-s"
	seedRing         = 0x72696e672d686173 // "ring-has"
	seedRendezvous   = 0x72656e64657a766f // "rendezvo"
	seedKey          = 0x6b65792d68617368 // "key-hash"
)

// mix64 is the 64-bit finaliser of MurmurHash3 (fmix64): a bijection with
// full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// mum multiplies to 128 bits and folds the halves, as wyhash does.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashBytes is svcnet's frozen 64-bit string hash: each 8-byte word
// (little-endian, the tail zero-padded) is avalanched with mix64 and folded
// into a rotate-multiply chain seeded with the seed and the length; mix64
// finalises. Different seeds give independent hashes of the same input.
func hashBytes(b []byte, seed uint64) uint64 {
	h := (seed+prime3)*prime1 ^ uint64(len(b))*prime2
	for len(b) >= 8 {
		h ^= mix64(binary.LittleEndian.Uint64(b) + prime3)
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
		b = b[8:]
	}
	if len(b) > 0 {
		var t uint64
		for i, c := range b {
			t |= uint64(c) << (8 * i)
		}
		h ^= mix64(t + prime4)
		h = bits.RotateLeft64(h, 27)*prime1 + prime3
	}
	return mix64(h)
}

// sum is the hash of a key used by the hashing pickers: Hash when set,
// mixed; otherwise the client address (as 16 bytes, IPv4 mapped), port,
// address length and protocol. It costs two 64×64→128-bit multiplications
// and never allocates.
func (k Key) sum() uint64 {
	if k.Hash != 0 {
		return mix64(k.Hash ^ seedKey)
	}
	a := k.Src.Addr()
	var hi, lo, bitLen uint64
	if a.Is4() {
		// The IPv4-mapped form without going through As16, whose 16-byte
		// copy defeats store forwarding and triples the cost.
		v := a.As4()
		lo, bitLen = 0xffff<<32|uint64(binary.BigEndian.Uint32(v[:])), 32
	} else {
		v := a.As16()
		hi, lo, bitLen = binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), uint64(a.BitLen())
	}
	meta := uint64(k.Src.Port()) | uint64(k.Proto)<<16 | bitLen<<24
	return mum(mum(hi^prime1, lo^prime2)^seedKey, meta^prime3)
}

// fastrange maps a uniform 64-bit hash onto [0, n) with a multiply instead
// of a division (Lemire, "A fast alternative to the modulo reduction").
func fastrange(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}
