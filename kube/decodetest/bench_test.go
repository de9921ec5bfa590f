package decodetest

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/svcnet/svcnet/service"
)

// BenchmarkDecodeRandomPod compares svcnet's strict, lossless decoding
// of a random Pod with every field set (the differential test's first
// object) with decoding the same bytes into k8s.io/api's Pod, strictly,
// by sigs.k8s.io/yaml (kubectl's reader).
func BenchmarkDecodeRandomPod(b *testing.B) {
	in := new(corev1.Pod)
	fill(&testing.T{}, 0, "v1", "Pod", in)
	js, _ := json.Marshal(in)
	ys, _ := yaml.Marshal(in)
	b.Logf("pod: %d bytes of JSON, %d of YAML", len(js), len(ys))
	for _, c := range []struct {
		name string
		data []byte
	}{{"json", js}, {"yaml", ys}} {
		b.Run("svcnet/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := service.Decode(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("k8s.io-api/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var p corev1.Pod
				if err := yaml.UnmarshalStrict(c.data, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
