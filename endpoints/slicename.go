package endpoints

import (
	"hash/fnv"
	"strconv"
)

// sliceName names a Service's seq-th slice as Kubernetes names its
// EndpointSlices: the controller asks for generateName "<service>-"
// (getEndpointSlicePrefix in pkg/controller/endpointslice), and the API
// server appends five characters of apimachinery's rand.String alphabet,
// cutting the prefix to 58 characters so the name fits 63
// (names.SimpleNameGenerator, k8s.io/apiserver/pkg/storage/names).
//
// The controller draws no random number: the five characters are the
// slice's sequence number, offset by a hash of the Service, through a
// fixed permutation of the 27^5 suffixes, so they look random, differ
// between Services, are the same for the same inputs, and never repeat
// within a Service; past 27^5 slices the count of wraps is appended.
func sliceName(s *svcState, seq uint64) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	h.Write([]byte(s.key.Namespace))
	h.Write([]byte{0})
	h.Write([]byte(s.key.Name))
	v := permuteSuffix(uint32((seq%suffixSpace + h.Sum64()%suffixSpace) % suffixSpace))
	prefix := s.key.Name + "-"
	if len(prefix) > 58 {
		prefix = prefix[:58]
	}
	b := make([]byte, 0, len(prefix)+8)
	b = append(b, prefix...)
	for range 5 {
		b = append(b, alphabet[v%27])
		v /= 27
	}
	if wraps := seq / suffixSpace; wraps > 0 {
		b = strconv.AppendUint(b, wraps, 10)
	}
	return string(b)
}

// suffixSpace is the number of five-character suffixes: 27^5.
const suffixSpace = 27 * 27 * 27 * 27 * 27

// permuteSuffix is a bijection of [0, suffixSpace): a mix of 24-bit
// words (odd multiplications and xor-shifts, each invertible mod 2^24),
// applied again while the result is outside the range (cycle walking:
// the walk returns to the range within the cycle of x, at most 2^24
// steps; about 1.2 on average as 27^5/2^24 is 0.86).
func permuteSuffix(x uint32) uint32 {
	const mask = 1<<24 - 1
	for range 1 << 24 {
		x ^= x >> 12
		x = x * 0x3779B1 & mask
		x ^= x >> 11
		x = x * 0x2545F5 & mask
		x ^= x >> 12
		if x < suffixSpace {
			return x
		}
	}
	panic("unreachable: a permutation's cycle returns to its start")
}
