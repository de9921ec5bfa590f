package portalloc_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/svcnet/svcnet/portalloc"
)

// FuzzParseRange checks ParseRange against a naive oracle and that String
// round-trips through it.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"30000-32767", // Kubernetes' default NodePort range
		"1-65535",     // every port
		"30000+100",   // min+offset notation
		"8080",        // a single port
		" 30000-30001 ",
		"0-10", "30000-", "-1", "65535+1", "30000-29999", "1-2-3", "+", "", "٣",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := portalloc.ParseRange(s)
		want, ok := oracle(s)
		if ok != (err == nil) || ok && r != want {
			t.Fatalf("ParseRange(%q) = %v, %v; oracle %v, %v", s, r, err, want, ok)
		}
		if err != nil {
			if !errors.Is(err, portalloc.ErrInvalidRange) {
				t.Fatalf("ParseRange(%q) error %v does not wrap ErrInvalidRange", s, err)
			}
			return
		}
		if !r.IsValid() {
			t.Fatalf("ParseRange(%q) = %+v, invalid", s, r)
		}
		back, err := portalloc.ParseRange(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRange(%q).String() = %q does not round-trip: %v, %v", s, r.String(), back, err)
		}
	})
}

// oracle parses like Kubernetes' PortRange.Set with strconv.Atoi, minus
// signs, and the svcnet rules (no empty range, no port 0).
func oracle(s string) (portalloc.Range, bool) {
	s = strings.TrimSpace(s)
	num := func(x string) (int, bool) {
		if x == "" || strings.ContainsAny(x, "+-") {
			return 0, false
		}
		if len(x) > 10 {
			x = strings.TrimLeft(x, "0")
			if len(x) > 5 {
				return 0, false
			}
			if x == "" {
				x = "0"
			}
		}
		n, err := strconv.Atoi(x)
		return n, err == nil && n <= 65535
	}
	i := strings.IndexAny(s, "+-")
	lo, hi := s, ""
	if i >= 0 {
		lo, hi = s[:i], s[i+1:]
	}
	low, ok := num(lo)
	if !ok {
		return portalloc.Range{}, false
	}
	high := low
	if i >= 0 {
		n, ok := num(hi)
		if !ok {
			return portalloc.Range{}, false
		}
		high = n
		if s[i] == '+' {
			high = low + n
		}
	}
	if low == 0 || high > 65535 || high < low {
		return portalloc.Range{}, false
	}
	return portalloc.Range{Base: low, Size: high - low + 1}, true
}

// FuzzRestore feeds arbitrary bytes to Restore: it must never panic, and a
// failed Restore must leave the allocator unchanged.
func FuzzRestore(f *testing.F) {
	a, _ := portalloc.New(portalloc.DefaultRange, portalloc.Sequential())
	snap, _ := a.Snapshot()
	f.Add(snap)
	for range 100 {
		_, _ = a.AllocateNext()
	}
	_ = a.Release(30050)
	_ = a.Allocate(30001)
	snap, _ = a.Snapshot()
	f.Add(snap)
	// Large: the whole default range allocated, then every third port
	// released.
	for {
		if _, err := a.AllocateNext(); err != nil {
			break
		}
	}
	snap, _ = a.Snapshot()
	f.Add(snap)
	for p := portalloc.DefaultRange.Base; p < portalloc.DefaultRange.Base+portalloc.DefaultRange.Size; p += 3 {
		_ = a.Release(p)
	}
	snap, _ = a.Snapshot()
	f.Add(snap)
	f.Add([]byte{})
	f.Add([]byte("SVPA\x01"))
	f.Add([]byte("SVPA\x01\xb0\xea\x01\xd0\x15\x56\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := portalloc.New(portalloc.DefaultRange)
		_ = a.Allocate(30009)
		before := slices.Collect(a.All())
		if err := a.Restore(data); err != nil {
			if !errors.Is(err, portalloc.ErrSnapshot) {
				t.Fatalf("Restore error %v does not wrap ErrSnapshot", err)
			}
			if after := slices.Collect(a.All()); !slices.Equal(before, after) {
				t.Fatalf("failed Restore changed the allocator")
			}
			return
		}
		got := slices.Collect(a.All())
		if len(got) != a.Used() || a.Used()+a.Free() != portalloc.DefaultRange.Size {
			t.Fatalf("inconsistent after Restore")
		}
		again, _ := a.Snapshot()
		if !slices.Equal(again, data) {
			t.Fatalf("snapshot of a restored allocator differs from the input")
		}
	})
}
