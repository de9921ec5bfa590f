package ipam

import (
	"encoding/binary"
	"fmt"

	"github.com/svcnet/svcnet/internal/bitmap"
	"github.com/svcnet/svcnet/internal/runcodec"
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
// block alike, and has one encoding for each state. The header, the runs and
// the checksum are those of internal/runcodec.
const (
	snapshotMagic   = "SVIP"
	snapshotVersion = 1
)

// Snapshot returns the allocator's state in a versioned binary format that
// Restore reads back: the ranges (to check that a snapshot is restored into
// an allocator of the same ranges) and the allocated addresses. The error is
// always nil; it is part of the signature so that other encodings can fail.
func (a *Allocator) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := make([]byte, 0, 64)
	b = runcodec.AppendHeader(b, snapshotMagic, snapshotVersion)
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
		b = runcodec.AppendRuns(b, s.set.Runs)
	}
	return runcodec.Seal(b), nil
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
	r, err := runcodec.NewReader(data, snapshotMagic, snapshotVersion, 1)
	if err != nil {
		return nil, err
	}
	fam, err := r.Bytes(1)
	if err != nil {
		return nil, err
	}
	if want := map[bool]byte{true: 4, false: 6}[a.is4]; fam[0] != want {
		return nil, fmt.Errorf("family IPv%d, allocator is IPv%d", fam[0], want)
	}
	n, err := r.Uvarint()
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
		first, err := r.Bytes(addrLen)
		if err != nil {
			return nil, err
		}
		size, err := r.Uvarint()
		if err != nil {
			return nil, err
		}
		static, err := r.Uvarint()
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
		st.used, st.staticUsed, err = r.Runs(s.size, s.static, s.label, st.set.AddRun)
		if err != nil {
			return nil, err
		}
	}
	if err := r.Finish(); err != nil {
		return nil, err
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
