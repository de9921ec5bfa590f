package dnsname

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every name it accepts is
// valid, and that the canonical form parses back to the same Name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"my-svc.default.svc.cluster.local.",                                        // a Service
		"web-0.web.prod.svc.cluster.local",                                         // a StatefulSet pod behind a headless Service
		"_http._tcp.web.prod.svc.cluster.local",                                    // a named port
		"1.0.96.10.in-addr.arpa.",                                                  // IPv4 PTR
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", // IPv6 PTR
		"dns-version.cluster.local",                                                // schema version
		"10-244-1-7.default.pod.cluster.local",                                     // IPv4 pod
		"fd00--7.default.pod.cluster.local",                                        // IPv6 pod
		"cluster.local", "svc.cluster.local", "default.svc.cluster.local",          // structural names
		"a..b", ".", "", "foo.cluster.local", "example.com", // errors
		"--ffff-a00-1.default.pod.cluster.local", // IPv4-mapped pod address
	} {
		f.Add(s, "cluster.local")
	}
	f.Add("web.default.svc.k8s.example.org", "k8s.example.org.")
	// Large inputs: a name of 253 bytes in 63-byte labels, one of 127
	// one-byte labels, one a byte too long, and a long label string.
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".default.svc." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 34)
	f.Add(long, strings.Repeat("c", 63)+"."+strings.Repeat("d", 34))
	f.Add(strings.Repeat("a.", 114)+"default.svc.cluster.local", "cluster.local")
	f.Add(long+"x", strings.Repeat("c", 63)+"."+strings.Repeat("d", 34))
	f.Add(strings.Repeat("x", 5000)+".default.svc.cluster.local", "cluster.local")
	f.Fuzz(func(t *testing.T, name, zone string) {
		n, err := Parse(name, zone)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) && !errors.Is(err, ErrNotInZone) && !errors.Is(err, ErrUndefinedName) {
				t.Fatalf("Parse(%q, %q): unexpected error kind: %v", name, zone, err)
			}
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("Parse(%q, %q) = %#v, which is invalid: %v", name, zone, n, err)
		}
		again, err := Parse(n.String(), n.Zone)
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %#v, but Parse(%q) = %#v, %v", name, n, n.String(), again, err)
		}
	})
}
