package selector

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/svcnet/svcnet/service"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// pieces are the fragments selector strings are built from: every token
// of the grammar, keys and values valid and broken, and the whitespace
// Kubernetes accepts and some it does not.
var pieces = []string{
	"a", "b", "app", "web", "in", "notin", "IN", "x.y", "a-b", "a_b", "-a", "a-", "_", ".", "1", "01", "-1", "+1",
	"9223372036854775807", "9223372036854775808", "example.com/", "Ex.com/", "/", "a/b/c",
	strings.Repeat("k", 63), strings.Repeat("k", 64),
	"=", "==", "!=", "!", ">", "<", ">=", "(", ")", ",", " ", " ", "\t", "\n", "\r", "\v", "\f", "é", "<none>",
}

func randomSelector(r *rand.Rand) string {
	n := r.IntN(9)
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// structured selectors are valid more often than random token soup.
func randomStructured(r *rand.Rand) string {
	keys := []string{"a", "b", "app", "in", "example.com/k"}
	vals := []string{"", "x", "y", "1", "10", "007", "in", "web"}
	n := 1 + r.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		k := keys[r.IntN(len(keys))]
		v := vals[r.IntN(len(vals))]
		switch r.IntN(8) {
		case 0:
			parts[i] = k + "=" + v
		case 1:
			parts[i] = k + " != " + v
		case 2:
			parts[i] = k + " in (" + v + "," + vals[r.IntN(len(vals))] + ")"
		case 3:
			parts[i] = k + " notin (" + v + ")"
		case 4:
			parts[i] = k
		case 5:
			parts[i] = "!" + k
		case 6:
			parts[i] = k + ">" + v
		case 7:
			parts[i] = k + "<" + v
		}
	}
	return strings.Join(parts, ",")
}

func randomLabels(r *rand.Rand) map[string]string {
	keys := []string{"a", "b", "app", "in", "example.com/k", "x.y"}
	vals := []string{"", "x", "y", "1", "10", "007", "-3", "in", "web"}
	m := map[string]string{}
	for range r.IntN(5) {
		m[keys[r.IntN(len(keys))]] = vals[r.IntN(len(vals))]
	}
	return m
}

// TestSelectorVerdicts: thousands of generated selector strings, valid
// and broken, get the same accept/reject verdict from svcnet and from
// apimachinery, and the accepted ones match the same label sets.
func TestSelectorVerdicts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	accepted, total := 0, 0
	for i := range 20000 {
		var in string
		if i%2 == 0 {
			in = randomSelector(r)
		} else {
			in = randomStructured(r)
		}
		if strings.Contains(in, "<none>") && strings.TrimSpace(in) == "<none>" {
			continue // svcnet's spelling of Nothing, documented
		}
		total++
		ks, kerr := labels.Parse(in)
		ss, serr := service.ParseSelector(in)
		if (kerr == nil) != (serr == nil) {
			t.Fatalf("%q: kubernetes err=%v, svcnet err=%v", in, kerr, serr)
		}
		if kerr != nil {
			continue
		}
		accepted++
		for range 20 {
			ls := randomLabels(r)
			if k, s := ks.Matches(labels.Set(ls)), ss.Matches(ls); k != s {
				t.Fatalf("%q on %v: kubernetes %v, svcnet %v", in, ls, k, s)
			}
		}
		// svcnet's canonical form means the same to Kubernetes.
		again, err := labels.Parse(ss.String())
		if err != nil && !ss.MatchesNothing() {
			t.Fatalf("%q prints as %q, which kubernetes rejects: %v", in, ss.String(), err)
		}
		for range 5 {
			ls := randomLabels(r)
			if again.Matches(labels.Set(ls)) != ss.Matches(ls) {
				t.Fatalf("%q printed as %q matches differently on %v", in, ss.String(), ls)
			}
		}
	}
	if accepted < total/10 {
		t.Fatalf("only %d of %d generated selectors were valid: the generator is too weak", accepted, total)
	}
	t.Logf("%d selectors, %d valid", total, accepted)
}

var namePieces = []string{"a", "z", "A", "0", "9", "-", ".", "_", "/", "é", " ", "ab", "x-y", strings.Repeat("a", 62), strings.Repeat("b.", 60)}

func randomName(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(7) {
		b.WriteString(namePieces[r.IntN(len(namePieces))])
	}
	return b.String()
}

// TestNameVerdicts: names get the same verdicts as
// k8s.io/apimachinery/pkg/util/validation for every rule svcnet checks.
func TestNameVerdicts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		s := randomName(r)
		check := func(rule string, k []string, svc error) {
			if (len(k) == 0) != (svc == nil) {
				t.Fatalf("%s(%q): kubernetes %v, svcnet %v", rule, s, k, svc)
			}
		}
		check("DNS1123Label", validation.IsDNS1123Label(s), service.ValidateName(service.DNS1123Label, s))
		check("DNS1123Subdomain", validation.IsDNS1123Subdomain(s), service.ValidateName(service.DNS1123Subdomain, s))
		check("DNS1035Label", validation.IsDNS1035Label(s), service.ValidateName(service.DNS1035Label, s))
		check("QualifiedName", validation.IsQualifiedName(s), service.ValidateName(service.QualifiedName, s))
		check("LabelValue", validation.IsValidLabelValue(s), service.ValidateName(service.LabelValue, s))
		check("PortName", validation.IsValidPortName(s), service.ValidateName(service.PortName, s))
	}
}

const benchSelector = "app=web,tier in (frontend,edge),env!=dev,!canary,version"

var benchLabels = map[string]string{"app": "web", "tier": "edge", "env": "prod", "version": "v2", "pod-template-hash": "5d9c7b", "team": "a"}

func BenchmarkParseSelector(b *testing.B) {
	b.Run("impl=svcnet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := service.ParseSelector(benchSelector); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=kubernetes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := labels.Parse(benchSelector); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMatchSelector(b *testing.B) {
	b.Run("impl=svcnet", func(b *testing.B) {
		sel := service.MustParseSelector(benchSelector)
		ls := service.Labels(benchLabels)
		b.ReportAllocs()
		for b.Loop() {
			if !sel.Matches(ls) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("impl=kubernetes", func(b *testing.B) {
		sel, _ := labels.Parse(benchSelector)
		ls := labels.Set(benchLabels)
		b.ReportAllocs()
		for b.Loop() {
			if !sel.Matches(ls) {
				b.Fatal("no match")
			}
		}
	})
}
