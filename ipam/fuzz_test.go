package ipam_test

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/svcnet/svcnet/ipam"
)

// FuzzRestore feeds arbitrary bytes to Restore: it must never panic, and a
// failed Restore must leave the allocator unchanged.
func FuzzRestore(f *testing.F) {
	build := func() (*ipam.Allocator, *ipam.Allocator) {
		d, _ := ipam.New(netip.MustParsePrefix("10.0.0.0/24"), ipam.Sequential())
		s, _ := ipam.New(netip.MustParsePrefix("fd00::/64"), ipam.Sequential())
		return d, s
	}
	d, s := build()
	// Seeds: valid snapshots of an empty, a partly used and a full range,
	// dense and sparse, and a few broken headers.
	for _, a := range []*ipam.Allocator{d, s} {
		snap, _ := a.Snapshot()
		f.Add(snap)
		for range 20 {
			_, _ = a.AllocateNext()
		}
		_ = a.Release(slices.Collect(a.All())[3])
		snap, _ = a.Snapshot()
		f.Add(snap)
	}
	for range 300 {
		_, _ = d.AllocateNext()
	}
	snap, _ := d.Snapshot()
	f.Add(snap)
	// Large: a sparse IPv6 snapshot of 5000 addresses, every other one
	// released (the sparse encoding at its largest for this test).
	for range 5000 {
		_, _ = s.AllocateNext()
	}
	for i, addr := range slices.Collect(s.All()) {
		if i%2 == 0 {
			_ = s.Release(addr)
		}
	}
	snap, _ = s.Snapshot()
	f.Add(snap)
	f.Add([]byte{})
	f.Add([]byte("SVIP"))
	f.Add([]byte("SVIP\x01\x04\x01"))
	f.Add([]byte("SVIP\x02\x04\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, s := build()
		for _, a := range []*ipam.Allocator{d, s} {
			_ = a.Allocate(netip.MustParseAddr("10.0.0.9"))
			_ = a.Allocate(netip.MustParseAddr("fd00::9"))
			before := slices.Collect(a.All())
			err := a.Restore(data)
			if err != nil {
				if !errors.Is(err, ipam.ErrSnapshot) {
					t.Fatalf("Restore error %v does not wrap ErrSnapshot", err)
				}
				if after := slices.Collect(a.All()); !slices.Equal(before, after) {
					t.Fatalf("failed Restore changed the allocator: %v -> %v", before, after)
				}
				continue
			}
			// A restored allocator is consistent and snapshots back to
			// the same bytes (the encoding is canonical).
			got := slices.Collect(a.All())
			if uint64(len(got)) != a.Used() || a.Used()+a.Free() != a.Size() {
				t.Fatalf("inconsistent after Restore: %d listed, used %d, free %d", len(got), a.Used(), a.Free())
			}
			again, _ := a.Snapshot()
			if !slices.Equal(again, data) {
				t.Fatalf("snapshot of a restored allocator differs from the input")
			}
		}
	})
}

// FuzzParseRange checks that ParseRange never panics and that String
// round-trips through it.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"192.0.2.10-192.0.2.20", // a MetalLB-style IPv4 range
		"2001:db8::10-2001:db8::ff",
		"10.0.0.1-10.0.0.1",        // a single address
		"10.0.0.9-10.0.0.1",        // reversed
		"10.0.0.1-fd00::1",         // mixed families
		"fe80::1%eth0-fe80::2",     // zone
		"fd00::-fd00::1:0:0:0:0",   // 2^64+1 addresses
		"", "-", "10.0.0.1", "a-b", // malformed
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ipam.ParseRange(s)
		if err != nil {
			if !errors.Is(err, ipam.ErrInvalidRange) {
				t.Fatalf("ParseRange(%q) error %v does not wrap ErrInvalidRange", s, err)
			}
			return
		}
		if r.Size() == 0 || r.Last.Less(r.First) {
			t.Fatalf("ParseRange(%q) = %v, size %d", s, r, r.Size())
		}
		r2, err := ipam.ParseRange(r.String())
		if err != nil || r2 != r {
			t.Fatalf("ParseRange(%q).String() = %q does not round-trip: %v, %v", s, r.String(), r2, err)
		}
	})
}
