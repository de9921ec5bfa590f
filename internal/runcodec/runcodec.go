// Package runcodec holds the binary snapshot machinery shared by ipam and
// portalloc: a header (magic, version byte), sets of allocated offsets
// written as varint runs, and a little-endian CRC-32C trailer.
//
// A set of offsets is written as its number of maximal runs k, then k times
// the gap from the end of the previous run (from 0 for the first run; at
// least 1 after it, since runs are maximal) and the run's length minus 1, all
// as unsigned varints (encoding/binary.AppendUvarint). Each set thus has
// exactly one encoding.
package runcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// ErrTruncated reports a snapshot that ends too early.
var ErrTruncated = errors.New("truncated")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumLen is the length of the CRC-32C trailer.
const checksumLen = 4

// AppendHeader appends magic and the version byte to b.
func AppendHeader(b []byte, magic string, version byte) []byte {
	b = append(b, magic...)
	return append(b, version)
}

// AppendRuns appends the run encoding of the set whose maximal runs of
// consecutive offsets [start, end) runs yields in increasing order. It
// iterates runs twice: once to count, once to write.
func AppendRuns(b []byte, runs func(yield func(start, end uint64) bool)) []byte {
	var k uint64
	runs(func(_, _ uint64) bool { k++; return true })
	b = binary.AppendUvarint(b, k)
	prev := uint64(0)
	runs(func(start, end uint64) bool {
		b = binary.AppendUvarint(b, start-prev)
		b = binary.AppendUvarint(b, end-start-1)
		prev = end
		return true
	})
	return b
}

// Seal appends the little-endian CRC-32C of b to b.
func Seal(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// Reader decodes a snapshot body; every read reports truncation. The
// checksum trailer is not part of the body and is checked by Finish.
type Reader struct {
	data []byte // the whole snapshot
	body []byte // data without the checksum trailer
	off  int
}

// NewReader checks the header of data and returns a Reader positioned after
// it. Data must hold the header, at least minBody more bytes and the
// checksum, or NewReader reports ErrTruncated; then it checks the magic
// ("bad magic") and the version ("unknown version %d"), in that order.
func NewReader(data []byte, magic string, version byte, minBody int) (*Reader, error) {
	if len(data) < len(magic)+1+minBody+checksumLen {
		return nil, ErrTruncated
	}
	if string(data[:len(magic)]) != magic {
		return nil, errors.New("bad magic")
	}
	if v := data[len(magic)]; v != version {
		return nil, fmt.Errorf("unknown version %d", v)
	}
	return &Reader{data: data, body: data[:len(data)-checksumLen], off: len(magic) + 1}, nil
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.body[r.off:])
	if n <= 0 {
		if n == 0 {
			return 0, ErrTruncated
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	r.off += n
	return v, nil
}

// Bytes reads n bytes; the result aliases the snapshot.
func (r *Reader) Bytes(n int) ([]byte, error) {
	if len(r.body)-r.off < n {
		return nil, ErrTruncated
	}
	v := r.body[r.off : r.off+n]
	r.off += n
	return v, nil
}

// Runs reads a set of offsets in [0, size) written by AppendRuns and calls
// add for each of its runs [start, end), in increasing order, once the run
// is checked. It returns the number of offsets in the set and how many of
// them are below static. The number of runs is bounded by the bytes left
// (each run takes at least two) before any run is read, so hostile input
// cannot make it loop long. A run past size is reported as "run out of
// range", followed by a space and where if where is not empty.
func (r *Reader) Runs(size, static uint64, where string, add func(start, end uint64)) (used, staticUsed uint64, err error) {
	k, err := r.Uvarint()
	if err != nil {
		return 0, 0, err
	}
	if k > uint64(len(r.body)-r.off)/2 { // each run takes at least two bytes
		return 0, 0, ErrTruncated
	}
	prev := uint64(0)
	for j := uint64(0); j < k; j++ {
		gap, err := r.Uvarint()
		if err != nil {
			return 0, 0, err
		}
		l, err := r.Uvarint()
		if err != nil {
			return 0, 0, err
		}
		if j > 0 && gap == 0 {
			return 0, 0, errors.New("runs not maximal")
		}
		if gap >= size-prev || l >= size-prev-gap {
			if where == "" {
				return 0, 0, errors.New("run out of range")
			}
			return 0, 0, fmt.Errorf("run out of range %s", where)
		}
		start := prev + gap
		end := start + l + 1
		add(start, end)
		used += end - start
		if start < static {
			staticUsed += min(end, static) - start
		}
		prev = end
	}
	return used, staticUsed, nil
}

// Finish checks that the whole body has been read ("%d trailing bytes"),
// then the checksum ("checksum mismatch").
func (r *Reader) Finish() error {
	if r.off != len(r.body) {
		return fmt.Errorf("%d trailing bytes", len(r.body)-r.off)
	}
	if got, want := binary.LittleEndian.Uint32(r.data[len(r.body):]), crc32.Checksum(r.body, castagnoli); got != want {
		return errors.New("checksum mismatch")
	}
	return nil
}
