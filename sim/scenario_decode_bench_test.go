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

// largeScenarios are the large-input seeds of FuzzDecodeScenario, each
// small enough that the seed run stays fast: a List of 300 Services and
// 300 Pods, a Service of 1000 ports, a Deployment of 1000 labels, 500
// timeline events, and nesting near the parser's depth limit.
func largeScenarios() [][]byte {
	var ports, labels, events strings.Builder
	ports.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n")
	for i := range 1000 {
		fmt.Fprintf(&ports, "  - {name: p%d, port: %d, targetPort: 8080}\n", i, i+1)
	}
	labels.WriteString("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n      labels:\n        app: web\n")
	for i := range 1000 {
		fmt.Fprintf(&labels, "        k%04d: v%d\n", i, i)
	}
	labels.WriteString("    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}\n")
	events.WriteString(strings.Replace(scenarioDoc, "timeline: [{at: 30s, action: rollout, target: web}]\n", "timeline:\n", 1))
	for i := range 500 {
		fmt.Fprintf(&events, "- {at: %dms, action: rollout, target: web}\n", 100*i+1)
	}
	deep := scenarioDoc + "x: " + strings.Repeat("{a: ", 5000) + "b" + strings.Repeat("}", 5000) + "\n"
	return [][]byte{
		stream(scenarioDoc, webService, webDeployment, benchList(300)),
		stream(scenarioDoc, ports.String(), webDeployment),
		stream(scenarioDoc, webService, labels.String()),
		stream(events.String(), webService, webDeployment),
		[]byte(deep),
	}
}

// TestLargeScenarios: the large seeds decode (the deep one fails on its
// unknown field, after the parse), so that they exercise the whole
// decoder.
func TestLargeScenarios(t *testing.T) {
	seeds := largeScenarios()
	for i, in := range seeds[:len(seeds)-1] {
		if _, err := DecodeScenario(in); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	_, err := DecodeScenario(seeds[len(seeds)-1])
	if err == nil || !strings.Contains(err.Error(), "x: unknown field") {
		t.Fatalf("deep seed: %v", err)
	}
}
