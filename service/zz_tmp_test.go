package service

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

var sink *Service

func BenchmarkTmpParts(b *testing.B) {
	r, _ := NewRegistry(RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		Rand:         rand.New(rand.NewPCG(1, 1)),
		Clock:        func() time.Time { return t0 },
	})
	for i := range 10_000 {
		svc := benchNodePort("svc-" + strconv.Itoa(i))
		svc.Spec.Type = ServiceTypeClusterIP
		r.Create(svc)
	}
	ch, _ := r.Create(benchNodePort("bench"))
	r.Delete("default", "bench")
	full := ch.New
	in := benchNodePort("bench")
	b.Run("2xDeepCopy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = full.DeepCopy()
			sink = full.DeepCopy()
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = full.Validate()
		}
	})
	b.Run("CreateDelete", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Create(in)
			r.Delete("default", "bench")
		}
	})
}
