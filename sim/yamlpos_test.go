package sim

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
	"sigs.k8s.io/yaml"
)

func TestYAMLLine(t *testing.T) {
	doc := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web}
  spec:
    ports:
      - name: http
        port: 80
      # a comment
      - name: "dns"
        'port': 0
- apiVersion: apps/v1
  kind: Deployment
  spec:
    replicas: -2
    template: {spec: {containers: []}}
`
	for path, want := range map[string]int{
		"items":                       3,
		"items[0]":                    4,
		"items[0].spec.ports[0].port": 10,
		"items[0].spec.ports[1]":      12,
		"items[0].spec.ports[1].port": 13,
		"items[0].metadata.name":      6, // flow style: the enclosing key
		"items[1]":                    14,
		"items[1].spec.replicas":      17,
		"items[1].spec.template.spec": 18,
		"items[2].spec":               3, // no such item: the deepest found
		"kind":                        2,
		"nope":                        0,
	} {
		require.Equal(t, want, yamlLine([]byte(doc), path), path)
	}
}

// TestYAMLLineProperty: in any document sigs.k8s.io/yaml writes (block
// style, as kubectl get -o yaml), every leaf's path locates the line
// that holds its key and value.
func TestYAMLLineProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var leaves []string
		var gen func(path string, depth int) any
		n := 0
		gen = func(path string, depth int) any {
			kind := rapid.IntRange(0, 2).Draw(t, "kind")
			switch {
			case depth == 0:
				kind = 1 // a document is a mapping
			case depth > 3:
				kind = 0
			}
			switch kind {
			case 1:
				m := map[string]any{}
				for i := range rapid.IntRange(1, 3).Draw(t, "keys") {
					k := fmt.Sprintf("k%d", i)
					p := k
					if path != "" {
						p = path + "." + k
					}
					m[k] = gen(p, depth+1)
				}
				return m
			case 2:
				var l []any
				for i := range rapid.IntRange(1, 3).Draw(t, "items") {
					l = append(l, gen(fmt.Sprintf("%s[%d]", path, i), depth+1))
				}
				return l
			}
			n++
			leaves = append(leaves, path)
			return fmt.Sprintf("leaf%d", n)
		}
		b, err := yaml.Marshal(gen("", 0))
		require.NoError(t, err)
		lines := strings.Split(string(b), "\n")
		for _, p := range leaves {
			l := yamlLine(b, p)
			require.Positive(t, l, "%s in\n%s", p, b)
			segs := pathSegments(p)
			last := segs[len(segs)-1]
			text := lines[l-1]
			if last.index < 0 {
				require.Contains(t, text, last.key+": leaf", "%s in\n%s", p, b)
			} else {
				require.Contains(t, text, "- leaf", "%s in\n%s", p, b)
			}
		}
	})
}

func TestListItemErrorLines(t *testing.T) {
	list, err := os.ReadFile("../cmd/svcsim/testdata/bad-list.yaml")
	require.NoError(t, err)
	_, err = DecodeScenarioSources(
		ScenarioSource{Name: "scenario.yaml", Data: []byte("apiVersion: sim.svcnet.dev/v1alpha1\nkind: Scenario\nduration: 10s\ncluster: {nodes: 2}\n")},
		ScenarioSource{Name: "list.yaml", Data: list})
	var de *DecodeError
	require.True(t, errors.As(err, &de), "%v", err)
	require.Equal(t, "items[1]", de.Item)
	require.Equal(t, 12, de.ItemLine)
	require.Equal(t, 17, de.FieldLine)
	require.Equal(t, "items[1].spec.replicas", de.Field)
	require.Equal(t, `sim: list.yaml: document 1 (line 3): items[1] (line 12): Deployment "default/web": spec.replicas (line 17): invalid value -2: must be greater than or equal to 0`, de.Error())
}
