package ipam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/svcnet/svcnet/internal/bitmap"
)

// Snapshot format, version 1. All integers are unsigned varints
// (encoding/binary.AppendUvarint) unless stated otherwise.
//
//	magic   "SVIP"
//	version 1 byte, 1
//	family  1 byte, 4 or 6
//	n       number of ranges
//	n times: first address (4 or 16 bytes), size, static band size
//	n times: number of runs k, then k times: gap, length-1
//	crc     4 bytes, little-endian CRC-32C of everything before
//
// The allocated offsets of a range are written as maximal runs of
// consecutive offsets, each as the gap from the end of the previous run (from
// 0 for the first run; at least 1 after it, since runs are maximal) and its
// length. A snapshot is thus small for a sparse IPv6 range and for a dense
// block alike, and has one encoding for each state.
const (
	snapshotMagic   = "SVIP"
	snapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot returns the allocator's state in a versioned binary format that
// Restore reads back: the ranges (to check that a snapshot is restored into
// an allocator of the same ranges) and the allocated addresses. The error is
// always nil; it is part of the signature so that other encodings can fail.
func (a *Allocator) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := make([]byte, 0, 64)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
	if a.is4 {
		b = append(b, 4)
	} else {
		b = append(b, 6)
	}
	b = binary.AppendUvarint(b, uint64(len(a.segs)))
	for _, s := range a.segs {
		b = appendAddr(b, s)
		b = binary.AppendUvarint(b, s.size)
		b = binary.AppendUvarint(b, s.static)
	}
	for _, s := range a.segs {
		var k uint64
		s.set.Runs(func(_, _ uint64) bool { k++; return true })
		b = binary.AppendUvarint(b, k)
		prev := uint64(0)
		s.set.Runs(func(start, end uint64) bool {
			b = binary.AppendUvarint(b, start-prev)
			b = binary.AppendUvarint(b, end-start-1)
			prev = end
			return true
		})
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func appendAddr(b []byte, s *segment) []byte {
	a := s.first.addr(s.is4)
	if s.is4 {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

// snapReader decodes a snapshot; every read reports truncation.
type snapReader struct {
	b   []byte
	off int
}

var errTruncated = errors.New("truncated")

func (r *snapReader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		if n == 0 {
			return 0, errTruncated
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	r.off += n
	return v, nil
}

func (r *snapReader) bytes(n int) ([]byte, error) {
	if len(r.b)-r.off < n {
		return nil, errTruncated
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v, nil
}

// restored is the decoded state of one segment.
type restored struct {
	set              offsetSet
	used, staticUsed uint64
}

// Restore replaces the allocator's state with the one in data, which must
// come from Snapshot of an allocator with the same ranges, in the same
// order, with the same band sizes. On any error, wrapping ErrSnapshot, the
// allocator is left as it was: the snapshot is decoded and checked
// completely (structure, bounds, checksum) before anything is replaced.
// Random or hostile input never panics, and the memory Restore allocates
// is bounded by the ranges' dense bitmaps plus a constant times len(data).
func (a *Allocator) Restore(data []byte) error {
	state, err := a.decode(data)
	if err != nil {
		return &Error{Op: "restore", Err: fmt.Errorf("%w: %v", ErrSnapshot, err)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.used = 0
	for i, s := range a.segs {
		s.set, s.used, s.staticUsed = state[i].set, state[i].used, state[i].staticUsed
		a.used += s.used
	}
	return nil
}

func (a *Allocator) decode(data []byte) ([]restored, error) {
	if len(data) < len(snapshotMagic)+2+4 {
		return nil, errTruncated
	}
	if string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("bad magic")
	}
	if v := data[len(snapshotMagic)]; v != snapshotVersion {
		return nil, fmt.Errorf("unknown version %d", v)
	}
	body := data[:len(data)-4]
	r := &snapReader{b: body, off: len(snapshotMagic) + 1}
	fam, err := r.bytes(1)
	if err != nil {
		return nil, err
	}
	if want := map[bool]byte{true: 4, false: 6}[a.is4]; fam[0] != want {
		return nil, fmt.Errorf("family IPv%d, allocator is IPv%d", fam[0], want)
	}
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n != uint64(len(a.segs)) {
		return nil, fmt.Errorf("%d ranges, allocator has %d", n, len(a.segs))
	}
	addrLen := 16
	if a.is4 {
		addrLen = 4
	}
	for _, s := range a.segs {
		first, err := r.bytes(addrLen)
		if err != nil {
			return nil, err
		}
		size, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		static, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		if string(first) != string(appendAddr(nil, s)) || size != s.size || static != s.static {
			return nil, fmt.Errorf("range mismatch: allocator has %s", s.label)
		}
	}
	state := make([]restored, len(a.segs))
	for i, s := range a.segs {
		st := &state[i]
		st.set = a.emptyLike(s)
		k, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		// Each run takes at least two bytes: bound k before looping.
		if k > uint64(len(body)-r.off)/2 {
			return nil, errTruncated
		}
		prev := uint64(0)
		for j := uint64(0); j < k; j++ {
			gap, err := r.uvarint()
			if err != nil {
				return nil, err
			}
			l, err := r.uvarint()
			if err != nil {
				return nil, err
			}
			if j > 0 && gap == 0 {
				return nil, errors.New("runs not maximal")
			}
			if gap >= s.size-prev || l >= s.size-prev-gap {
				return nil, fmt.Errorf("run out of range %s", s.label)
			}
			start := prev + gap
			end := start + l + 1
			st.set.AddRun(start, end)
			st.used += end - start
			if start < s.static {
				st.staticUsed += min(end, s.static) - start
			}
			prev = end
		}
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("%d trailing bytes", len(body)-r.off)
	}
	if got, want := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); got != want {
		return nil, errors.New("checksum mismatch")
	}
	return state, nil
}

// emptyLike returns an empty set of the kind s uses.
func (a *Allocator) emptyLike(s *segment) offsetSet {
	if _, ok := s.set.(*bitmap.Bitmap); ok {
		return bitmap.New(s.size)
	}
	return newRunSet()
}
