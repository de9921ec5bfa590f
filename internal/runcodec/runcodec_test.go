package runcodec

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

type run struct{ start, end uint64 }

func seq(runs []run) func(func(start, end uint64) bool) {
	return func(yield func(start, end uint64) bool) {
		for _, r := range runs {
			if !yield(r.start, r.end) {
				return
			}
		}
	}
}

// encode builds a snapshot: header, one extra header varint, the body
// appended by body, and the checksum.
func encode(body func([]byte) []byte) []byte {
	b := AppendHeader(nil, "TEST", 1)
	b = binary.AppendUvarint(b, 300)
	return Seal(body(b))
}

func decode(data []byte, size, static uint64, where string) ([]run, uint64, uint64, error) {
	r, err := NewReader(data, "TEST", 1, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	if v, err := r.Uvarint(); err != nil || v != 300 {
		return nil, 0, 0, errors.Join(err, errors.New("bad extra header"))
	}
	var got []run
	used, staticUsed, err := r.Runs(size, static, where, func(start, end uint64) { got = append(got, run{start, end}) })
	if err != nil {
		return nil, 0, 0, err
	}
	return got, used, staticUsed, r.Finish()
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		runs             []run
		size, static     uint64
		used, staticUsed uint64
	}{
		{nil, 10, 3, 0, 0},
		{[]run{{0, 10}}, 10, 3, 10, 3},
		{[]run{{0, 1}, {2, 5}, {9, 10}}, 10, 3, 5, 2},
		{[]run{{5, 6}, {1 << 40, 1<<40 + 2}}, 1 << 62, 0, 3, 0},
		{[]run{{1, 2}, {3, 4}}, 4, 4, 2, 2},
	} {
		data := encode(func(b []byte) []byte { return AppendRuns(b, seq(tc.runs)) })
		got, used, staticUsed, err := decode(data, tc.size, tc.static, "x")
		if err != nil {
			t.Fatalf("%v: %v", tc.runs, err)
		}
		if !slices.Equal(got, tc.runs) || used != tc.used || staticUsed != tc.staticUsed {
			t.Errorf("%v: got %v used %d static %d, want used %d static %d", tc.runs, got, used, staticUsed, tc.used, tc.staticUsed)
		}
	}
}

func TestFormat(t *testing.T) {
	// Runs [1,3) and [5,6): k=2, gap 1 len-1 1, gap 2 len-1 0.
	b := AppendRuns(nil, seq([]run{{1, 3}, {5, 6}}))
	if want := []byte{2, 1, 1, 2, 0}; !slices.Equal(b, want) {
		t.Errorf("AppendRuns = %v, want %v", b, want)
	}
	if b := AppendHeader(nil, "AB", 7); string(b) != "AB\x07" {
		t.Errorf("AppendHeader = %q", b)
	}
	// CRC-32C of "123456789" is 0xe3069283, stored little-endian.
	if b := Seal([]byte("123456789")); string(b[9:]) != "\x83\x92\x06\xe3" {
		t.Errorf("Seal trailer = % x", b[9:])
	}
}

func TestErrors(t *testing.T) {
	raw := func(vs ...uint64) func([]byte) []byte {
		return func(b []byte) []byte {
			for _, v := range vs {
				b = binary.AppendUvarint(b, v)
			}
			return b
		}
	}
	good := encode(raw(1, 0, 0))
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	for _, tc := range []struct {
		name  string
		data  []byte
		where string
		want  string
	}{
		{"short", []byte("TEST\x01abc"), "x", "truncated"},
		{"magic", []byte("TSET\x01abcd"), "x", "bad magic"},
		{"version", []byte("TEST\x02abcd"), "x", "unknown version 2"},
		{"varint truncated", encode(raw()), "x", "truncated"},
		{"varint overflow", encode(func(b []byte) []byte {
			return append(b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)
		}), "x", "varint overflows 64 bits"},
		{"k too large", encode(raw(3, 0, 0, 2, 0)), "x", "truncated"},
		{"run truncated", encode(func(b []byte) []byte { return append(raw(2, 0, 0)(b), 0x80, 0x80) }), "x", "truncated"},
		{"not maximal", encode(raw(2, 0, 0, 0, 0)), "x", "runs not maximal"},
		{"gap out of range", encode(raw(1, 10, 0)), "r/8", "run out of range r/8"},
		{"length out of range", encode(raw(1, 5, 5)), "", "run out of range"},
		{"second run out of range", encode(raw(2, 0, 8, 1, 0)), "", "run out of range"},
		{"huge length", encode(raw(1, 1, 1<<64-1)), "", "run out of range"},
		// Trailing bytes are reported before the checksum is checked.
		{"trailing", func() []byte { b := slices.Clone(badCRC); return append(b[:len(b)-4], 0, 1, 2, 3, 4) }(), "x", "1 trailing bytes"},
		{"checksum", badCRC, "x", "checksum mismatch"},
	} {
		_, _, _, err := decode(tc.data, 10, 3, tc.where)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, _, err := decode(good, 10, 3, "x"); err != nil {
		t.Errorf("good: %v", err)
	}
	if _, err := NewReader([]byte("TEST\x01abcd"), "TEST", 1, 1); !errors.Is(err, ErrTruncated) {
		t.Errorf("minBody: err %v, want ErrTruncated", err)
	}
}

func TestBytes(t *testing.T) {
	r, err := NewReader(Seal(AppendHeader(nil, "M", 1)), "M", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bytes(1); !errors.Is(err, ErrTruncated) {
		t.Errorf("Bytes past end: %v", err)
	}
	r, _ = NewReader(Seal(append(AppendHeader(nil, "M", 1), 4, 5)), "M", 1, 0)
	if b, err := r.Bytes(2); err != nil || string(b) != "\x04\x05" {
		t.Errorf("Bytes = %v, %v", b, err)
	}
	if err := r.Finish(); err != nil {
		t.Error(err)
	}
}
