package sim

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// benchList is a v1 List of n Services and n Pods, the shape of
// `kubectl get svc,pod -o yaml`.
func benchList(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := range n {
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Service\n  metadata: {name: s%d, labels: {app: s%d, tier: web}}\n  spec:\n    selector: {app: s%d}\n    ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]\n", i, i, i)
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p%d, labels: {app: s%d}}\n  spec: {nodeName: n1, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}\n", i, i)
	}
	return b.String()
}

// BenchmarkDecodeScenario decodes svcsim's default scenario (a Scenario,
// a Service and a Deployment) and the same with a List of 20 Services
// and 20 Pods: the cost of one FuzzDecodeScenario exec on a typical input.
func BenchmarkDecodeScenario(b *testing.B) {
	def, err := os.ReadFile("../cmd/svcsim/default.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"default", def},
		{"default+list20", append(append(def, "\n---\n"...), benchList(20)...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				if _, err := DecodeScenario(c.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeScenarioGrowth counts the allocations of decoding the
// default scenario with a List of n and 10n Services and Pods: 10× the
// input may cost at most 20×.
func TestDecodeScenarioGrowth(t *testing.T) {
	def, err := os.ReadFile("../cmd/svcsim/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(n int) float64 {
		in := append(append(slices.Clone(def), "\n---\n"...), benchList(n)...)
		return testing.AllocsPerRun(2, func() {
			if _, err := DecodeScenario(in); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(50), allocs(500)
	t.Logf("%.0f allocs at n=50, %.0f at n=500: %.1f×", small, large, large/small)
	if large > 20*small {
		t.Fatalf("allocations: %.0f at n=50, %.0f at 10n", small, large)
	}
}

// BenchmarkDecodeScenarioGrowth decodes the default scenario with a List
// of n and 10n Services and Pods.
func BenchmarkDecodeScenarioGrowth(b *testing.B) {
	def, err := os.ReadFile("../cmd/svcsim/default.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{50, 500} {
		in := append(append(slices.Clone(def), "\n---\n"...), benchList(n)...)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := DecodeScenario(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
