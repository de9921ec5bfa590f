package service

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeGrowthCases are manifests of n of something: a List of n
// Services, a Service of n ports, a Service of n labels and as long a
// selector.
var decodeGrowthCases = []struct {
	name string
	n    int
	doc  func(n int) []byte
}{
	{"List items", 100, func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
		for i := range n {
			fmt.Fprintf(&b, "- {apiVersion: v1, kind: Service, metadata: {name: s%d}, spec: {selector: {app: s%d}, ports: [{port: 80}]}}\n", i, i)
		}
		return []byte(b.String())
	}},
	{"ports", 100, func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: many}\nspec:\n  ports:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: p%d, port: %d, targetPort: %d}\n", i, i+1, i+1)
		}
		return []byte(b.String())
	}},
	{"labels and selector", 100, func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Service\nmetadata:\n  name: many\n  labels:\n")
		for i := range n {
			fmt.Fprintf(&b, "    k%d: v%d\n", i, i)
		}
		b.WriteString("spec:\n  ports: [{port: 80}]\n  selector:\n")
		for i := range n {
			fmt.Fprintf(&b, "    k%d: v%d\n", i, i)
		}
		return []byte(b.String())
	}},
}

// TestDecodeGrowth counts the allocations of DecodeAll at n and 10n:
// 10× the input may cost at most 20×.
func TestDecodeGrowth(t *testing.T) {
	for _, c := range decodeGrowthCases {
		t.Run(c.name, func(t *testing.T) {
			allocs := func(n int) float64 {
				doc := c.doc(n)
				return testing.AllocsPerRun(3, func() {
					if _, err := DecodeAll(doc); err != nil {
						t.Fatal(err)
					}
				})
			}
			small, large := allocs(c.n), allocs(10*c.n)
			t.Logf("%s: %.0f allocs at n=%d, %.0f at 10n: %.1f×", c.name, small, c.n, large, large/small)
			require.LessOrEqual(t, large, 20*small)
		})
	}
}

// BenchmarkDecodeGrowth decodes each case at n and 10n.
func BenchmarkDecodeGrowth(b *testing.B) {
	for _, c := range decodeGrowthCases {
		for _, n := range []int{c.n, 10 * c.n} {
			doc := c.doc(n)
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(doc)))
				for b.Loop() {
					if _, err := DecodeAll(doc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
