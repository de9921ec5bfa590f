package service

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/svcnet/svcnet/portalloc"
)

// benchNodePort is a two-port NodePort Service, as in the docs' examples.
func benchNodePort(name string) *Service {
	return &Service{
		ObjectMeta: ObjectMeta{Name: name, Namespace: "default", Labels: Labels{"app": name}},
		Spec: ServiceSpec{
			Type:     ServiceTypeNodePort,
			Selector: Labels{"app": name},
			Ports: []ServicePort{
				{Name: "http", Port: 80, TargetPort: FromInt(8080)},
				{Name: "https", Port: 443, TargetPort: FromInt(8443)},
			},
		},
	}
}

// BenchmarkRegistryCreateDelete measures Create then Delete of a two-port
// NodePort Service (one ClusterIP, two NodePorts, defaulting, validation,
// the copies handed out) in a Registry that holds 10 000 other Services:
//
//   - present=ClusterIP: 10 000 two-port ClusterIP Services, default
//     NodePort range (30000-32767);
//   - present=NodePort: 10 000 two-port NodePort Services, so 20 000
//     NodePorts in use out of 30 000 (range 30000-59999).
//
// Both use the service CIDR 10.96.0.0/16.
func BenchmarkRegistryCreateDelete(b *testing.B) {
	benchRegistryCreateDelete(b, false)
}

// BenchmarkRegistryCreateCopies measures the part of
// BenchmarkRegistryCreateDelete that the Registry's copy contract fixes:
// the two copies of the Service that Create must make, the one it stores
// (the caller may change its input afterwards) and Change.New (the caller
// may change it), in the same Registries of 10 000 Services so that the
// garbage collector sees the same heap. Delete makes none: it hands out
// the stored Service.
func BenchmarkRegistryCreateCopies(b *testing.B) {
	benchRegistryCreateDelete(b, true)
}

var copySink *Service

func benchRegistryCreateDelete(b *testing.B, copiesOnly bool) {
	for _, tc := range []struct {
		name    string
		typ     ServiceType
		portRng portalloc.Range
	}{
		{"present=ClusterIP", ServiceTypeClusterIP, portalloc.DefaultRange},
		{"present=NodePort", ServiceTypeNodePort, portalloc.MustParseRange("30000-59999")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := NewRegistry(RegistryConfig{
				ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
				NodePortRange: tc.portRng,
				Rand:          rand.New(rand.NewPCG(1, 1)),
				Clock:         func() time.Time { return t0 },
			})
			if err != nil {
				b.Fatal(err)
			}
			for i := range 10_000 {
				svc := benchNodePort("svc-" + strconv.Itoa(i))
				svc.Spec.Type = tc.typ
				if _, err := r.Create(svc); err != nil {
					b.Fatal(err)
				}
			}
			svc := benchNodePort("bench")
			if copiesOnly {
				ch, err := r.Create(svc)
				if err != nil {
					b.Fatal(err)
				}
				stored := ch.New
				b.ReportAllocs()
				for b.Loop() {
					copySink = svc.DeepCopy()
					copySink = stored.DeepCopy()
				}
				return
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Create(svc); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Delete("default", "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
