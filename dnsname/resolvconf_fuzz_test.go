package dnsname

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseResolvConf: no input panics; an error always wraps
// ErrInvalidResolvConf; and what parses prints to a file that parses back
// to the same nameservers and options, and search domains that lose one
// more trailing dot per round (kubelet trims one per parse; one left
// empty is dropped), so round trips settle.
func FuzzParseResolvConf(f *testing.F) {
	for _, s := range []string{
		"nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n", // a ClusterFirst pod
		"# comment\n; comment\ndomain example.com\nnameserver 192.0.2.53\n",                                          // comments and an ignored domain line
		"search a.. . b.\nsearch c\n",              // the last search line wins; trailing dots
		"nameserver fe80::1%eth0\n",                // a zoned address
		"nameserver\n",                             // an error
		"nameserver not-an-ip\n",                   // an error
		"options ndots:2 timeout:1\noptions edns0", // the last options line wins
	} {
		f.Add(s)
	}
	// Large inputs: 32 search domains of 253 bytes, three nameservers
	// and a thousand comment lines, and a line of 64 KiB.
	var big strings.Builder
	for range 1000 {
		big.WriteString("# a comment line of the kind a generated file has\n")
	}
	big.WriteString("nameserver 10.96.0.10\nnameserver 10.96.0.11\nnameserver fd00::10\nsearch")
	for i := range 32 {
		fmt.Fprintf(&big, " %s.d%02d", strings.Repeat("x", 249), i)
	}
	big.WriteString("\noptions ndots:15 timeout:30 attempts:5 edns0\n")
	f.Add(big.String())
	f.Add("search " + strings.Repeat("a", 64<<10) + "\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseResolvConf(text)
		if err != nil {
			if !errors.Is(err, ErrInvalidResolvConf) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidResolvConf", text, err)
			}
			return
		}
		// Each round trip may trim one more trailing dot from a search
		// domain (kubelet trims one per parse); nothing else may change.
		for range len(text) + 1 {
			next, err := ParseResolvConf(c.String())
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", text, c.String(), err)
			}
			// The model of one more parse: each search domain loses one
			// trailing dot, and one left empty (".") is dropped.
			var want []string
			for _, d := range c.Search {
				if d = strings.TrimSuffix(d, "."); d != "" {
					want = append(want, d)
				}
			}
			if !reflect.DeepEqual(next.Nameservers, c.Nameservers) || !reflect.DeepEqual(next.Options, c.Options) ||
				!slices.Equal(next.Search, want) {
				t.Fatalf("%q: round trip changed %#v into %#v", text, c, next)
			}
			if slices.Equal(next.Search, c.Search) {
				return
			}
			c = next
		}
		t.Fatalf("%q: round trips never settle", text)
	})
}
