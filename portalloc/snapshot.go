package portalloc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/svcnet/svcnet/internal/bitmap"
)

// Snapshot format, version 1. Integers are unsigned varints
// (encoding/binary.AppendUvarint) unless stated otherwise.
//
//	magic   "SVPA"
//	version 1 byte, 1
//	base, size, static band size
//	k       number of runs, then k times: gap, length-1
//	crc     4 bytes, little-endian CRC-32C of everything before
//
// Allocated ports are written as maximal runs of consecutive offsets from
// base, each as the gap from the end of the previous run (from 0 for the
// first; at least 1 after it, since runs are maximal) and its length, so
// each state has exactly one encoding.
const (
	snapshotMagic   = "SVPA"
	snapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot returns the allocator's state in a versioned binary format that
// Restore reads back: the range (to check that a snapshot is restored into
// an allocator of the same range) and the allocated ports. The error is
// always nil; it is part of the signature so that other encodings can fail.
func (a *Allocator) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := make([]byte, 0, 32)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
	b = binary.AppendUvarint(b, uint64(a.r.Base))
	b = binary.AppendUvarint(b, uint64(a.r.Size))
	b = binary.AppendUvarint(b, uint64(a.static))
	var k uint64
	a.bits.Runs(func(_, _ uint64) bool { k++; return true })
	b = binary.AppendUvarint(b, k)
	prev := uint64(0)
	a.bits.Runs(func(start, end uint64) bool {
		b = binary.AppendUvarint(b, start-prev)
		b = binary.AppendUvarint(b, end-start-1)
		prev = end
		return true
	})
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

var errTruncated = errors.New("truncated")

// Restore replaces the allocator's state with the one in data, which must
// come from Snapshot of an allocator of the same range. On any error,
// wrapping ErrSnapshot, the allocator is left as it was: the snapshot is
// decoded and checked completely (structure, bounds, checksum) before
// anything is replaced. Random or hostile input never panics.
func (a *Allocator) Restore(data []byte) error {
	bits, used, staticUsed, err := a.decode(data)
	if err != nil {
		return &Error{Op: "restore", Err: fmt.Errorf("%w: %v", ErrSnapshot, err)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bits, a.used, a.staticUsed = bits, used, staticUsed
	return nil
}

func (a *Allocator) decode(data []byte) (*bitmap.Bitmap, int, int, error) {
	if len(data) < len(snapshotMagic)+1+4 {
		return nil, 0, 0, errTruncated
	}
	if string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, 0, 0, errors.New("bad magic")
	}
	if v := data[len(snapshotMagic)]; v != snapshotVersion {
		return nil, 0, 0, fmt.Errorf("unknown version %d", v)
	}
	body := data[:len(data)-4]
	off := len(snapshotMagic) + 1
	next := func() (uint64, error) {
		v, n := binary.Uvarint(body[off:])
		if n <= 0 {
			if n == 0 {
				return 0, errTruncated
			}
			return 0, errors.New("varint overflows 64 bits")
		}
		off += n
		return v, nil
	}
	var hdr [3]uint64
	for i := range hdr {
		v, err := next()
		if err != nil {
			return nil, 0, 0, err
		}
		hdr[i] = v
	}
	if hdr[0] != uint64(a.r.Base) || hdr[1] != uint64(a.r.Size) || hdr[2] != uint64(a.static) {
		return nil, 0, 0, fmt.Errorf("range mismatch: allocator has %s", a.label)
	}
	k, err := next()
	if err != nil {
		return nil, 0, 0, err
	}
	if k > uint64(len(body)-off)/2 { // each run takes at least two bytes
		return nil, 0, 0, errTruncated
	}
	size := uint64(a.r.Size)
	bits := bitmap.New(size)
	var used, staticUsed uint64
	prev := uint64(0)
	for j := uint64(0); j < k; j++ {
		gap, err := next()
		if err != nil {
			return nil, 0, 0, err
		}
		l, err := next()
		if err != nil {
			return nil, 0, 0, err
		}
		if j > 0 && gap == 0 {
			return nil, 0, 0, errors.New("runs not maximal")
		}
		if gap >= size-prev || l >= size-prev-gap {
			return nil, 0, 0, errors.New("run out of range")
		}
		start := prev + gap
		end := start + l + 1
		bits.AddRun(start, end)
		used += end - start
		if s := uint64(a.static); start < s {
			staticUsed += min(end, s) - start
		}
		prev = end
	}
	if off != len(body) {
		return nil, 0, 0, fmt.Errorf("%d trailing bytes", len(body)-off)
	}
	if got, want := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); got != want {
		return nil, 0, 0, errors.New("checksum mismatch")
	}
	return bits, int(used), int(staticUsed), nil
}
