package portalloc

import (
	"encoding/binary"
	"fmt"

	"github.com/svcnet/svcnet/internal/bitmap"
	"github.com/svcnet/svcnet/internal/runcodec"
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
// each state has exactly one encoding. The header, the runs and the
// checksum are those of internal/runcodec.
const (
	snapshotMagic   = "SVPA"
	snapshotVersion = 1
)

// Snapshot returns the allocator's state in a versioned binary format that
// Restore reads back: the range (to check that a snapshot is restored into
// an allocator of the same range) and the allocated ports. The error is
// always nil; it is part of the signature so that other encodings can fail.
func (a *Allocator) Snapshot() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := make([]byte, 0, 32)
	b = runcodec.AppendHeader(b, snapshotMagic, snapshotVersion)
	b = binary.AppendUvarint(b, uint64(a.r.Base))
	b = binary.AppendUvarint(b, uint64(a.r.Size))
	b = binary.AppendUvarint(b, uint64(a.static))
	b = runcodec.AppendRuns(b, a.bits.Runs)
	return runcodec.Seal(b), nil
}

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
	r, err := runcodec.NewReader(data, snapshotMagic, snapshotVersion, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	var hdr [3]uint64
	for i := range hdr {
		v, err := r.Uvarint()
		if err != nil {
			return nil, 0, 0, err
		}
		hdr[i] = v
	}
	if hdr[0] != uint64(a.r.Base) || hdr[1] != uint64(a.r.Size) || hdr[2] != uint64(a.static) {
		return nil, 0, 0, fmt.Errorf("range mismatch: allocator has %s", a.label)
	}
	size := uint64(a.r.Size)
	bits := bitmap.New(size)
	used, staticUsed, err := r.Runs(size, uint64(a.static), "", bits.AddRun)
	if err != nil {
		return nil, 0, 0, err
	}
	if err := r.Finish(); err != nil {
		return nil, 0, 0, err
	}
	return bits, int(used), int(staticUsed), nil
}
