package dnsname

import (
	"errors"
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
