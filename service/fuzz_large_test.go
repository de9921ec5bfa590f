package service

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// largeManifests are the large-input seeds of FuzzDecodeAll: each near
// a limit (Kubernetes' or the parser's) but small enough that the seed
// run of go test stays fast (well under a second for all of them).
// want says whether the seed decodes.
func largeManifests() []struct {
	name string
	doc  []byte
	want bool
} {
	var ports, labels, list, exprs strings.Builder
	ports.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: many-ports}\nspec:\n  type: NodePort\n  ports:\n")
	for i := range 1000 {
		fmt.Fprintf(&ports, "  - {name: p%d, port: %d, targetPort: %d, protocol: %s}\n", i, i+1, i+1, []string{"TCP", "UDP", "SCTP"}[i%3])
	}
	labels.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: many-labels\n  namespace: default\n  labels:\n")
	for i := range 2000 {
		fmt.Fprintf(&labels, "    example.com/k%04d: %s\n", i, strings.Repeat("v", 63))
	}
	labels.WriteString("spec: {containers: [{name: c}]}\n")
	list.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := range 1000 {
		fmt.Fprintf(&list, "- {apiVersion: v1, kind: Service, metadata: {name: s%d, namespace: n%d}, spec: {selector: {app: s%d}, ports: [{port: 80}]}}\n", i, i%10, i)
	}
	exprs.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: long-selector}\nspec:\n  ports: [{port: 80}]\n  selector:\n")
	for i := range 3000 {
		fmt.Fprintf(&exprs, "    k%05d: %s\n", 3000-i, strings.Repeat("x", 40))
	}
	deep := "apiVersion: v1\nkind: Service\nmetadata: {name: deep, annotations: {a: x}}\nspec: {ports: [{port: 80}]}\nx: " + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + "\n"
	tooDeep := "a: " + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "\n"
	annotation := "apiVersion: v1\nkind: Service\nmetadata:\n  name: big-annotation\n  annotations: {a: " + strings.Repeat("y", 256*1024-10) + "}\nspec: {ports: [{port: 80}]}\n"
	return []struct {
		name string
		doc  []byte
		want bool
	}{
		{"1000 ports", []byte(ports.String()), true},
		{"2000 labels of 63 bytes", []byte(labels.String()), true},
		{"a List of 1000 Services", []byte(list.String()), true},
		{"3000 selector keys, descending", []byte(exprs.String()), true},
		{"nesting just under the parser's depth limit", []byte(deep), false}, // an unknown field, found after the parse
		{"nesting over the parser's depth limit", []byte(tooDeep), false},    // the parser refuses it
		{"an annotation at the 256 KiB total", []byte(annotation), true},
	}
}

// TestLargeManifests: the large seeds reach what they are meant to
// exercise: the valid ones decode (and validate), the others fail with a
// DecodeError, not a panic or a hang.
func TestLargeManifests(t *testing.T) {
	for _, c := range largeManifests() {
		t.Run(c.name, func(t *testing.T) {
			objs, err := DecodeAll(c.doc)
			if !c.want {
				require.True(t, errors.Is(err, ErrDecode), "%v", err)
				return
			}
			require.NoError(t, err)
			for _, o := range objs {
				switch o := o.(type) {
				case *Service:
					Default(o)
					require.NoError(t, o.Validate())
				case *Pod:
					require.NoError(t, o.Validate())
				}
			}
		})
	}
}

// largeSelectors are the large-input seeds of FuzzParseSelector: many
// requirements in the worst order for a sort, a long set, keys and
// values at their length limits, and one too long.
func largeSelectors() []string {
	desc := make([]string, 3000)
	for i := range desc {
		desc[i] = fmt.Sprintf("k%05d!=v", len(desc)-i)
	}
	set := make([]string, 2000)
	for i := range set {
		set[i] = fmt.Sprintf("v%d", len(set)-i)
	}
	prefix := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61) // 253 bytes
	return []string{
		strings.Join(desc, ","),
		"k in (" + strings.Join(set, ",") + ")",
		prefix + "/" + strings.Repeat("n", 63) + "=" + strings.Repeat("v", 63),
		prefix + "x/" + strings.Repeat("n", 64) + "=" + strings.Repeat("v", 64),
		strings.Repeat("!a,", 5000) + "b",
	}
}

// TestLargeSelectors: the large selector seeds parse (the last two but
// one, over the limits, do not) and print back to themselves' meaning.
func TestLargeSelectors(t *testing.T) {
	for i, in := range largeSelectors() {
		sel, err := ParseSelector(in)
		if i == 3 {
			require.ErrorIs(t, err, ErrInvalid)
			require.Less(t, len(err.Error()), 2*maxQuoted+200, "the error quotes a bounded prefix")
			continue
		}
		require.NoError(t, err, "seed %d", i)
		again, err := ParseSelector(sel.String())
		require.NoError(t, err)
		require.True(t, sel.Equal(again))
	}
}
