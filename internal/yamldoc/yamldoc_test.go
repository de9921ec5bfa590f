package yamldoc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

type inner struct {
	Name  string            `json:"name"`
	Port  int32             `json:"port"`
	Flag  bool              `json:"flag"`
	Raw   json.RawMessage   `json:"raw,omitempty"`
	Tags  map[string]string `json:"tags,omitempty"`
	Ratio float64           `json:"ratio"`
}

type outer struct {
	Kind    string   `json:"kind"`
	Version string   `json:"version"`
	Items   []inner  `json:"items"`
	Ptr     *inner   `json:"ptr,omitempty"`
	Names   []string `json:"names"`
	Any     any      `json:"any"`
}

// parityInputs are documents at the edges of YAML 1.1's scalars and of
// the JSON conversion.
var parityInputs = []string{
	"kind: x\nversion: 1.10\nnames: [1, 2.5, yes, no, on, off, y, n, ~, 0x1F, 1e3, -0.0, 18446744073709551616]\n",
	"items: [{name: 42, port: 80, flag: yes, tags: {a: 1, b: true, c: 1.5}, ratio: 3}]\n",
	"ptr: {name: no, raw: {x: [1, 2]}}\nany: {1: a, 2.5: b, true: c}\n",
	"{\"kind\": \"Service\", \"items\": [{\"name\": \"a\", \"port\": 1}], \"any\": [1, 1.5, 1e400]}\n",
	"version: \"\\xff\\xfe\"\nnames: [\"\\xe2\\x28\\xa1\"]\n",
	"any: .nan\n",
	"any: [.inf, -.inf]\n",
	"kind: [a]\n",
	"items: {name: x}\n",
	"ptr: {port: 99999999999}\n",
	"a: &x [1, 2]\nany: *x\n",
	"? [a]\n: b\n",
	"~: x\n",
	"",
	"just a string\n",
	"- 1\n- 2\n",
}

// TestParity: JSON is sigs.k8s.io/yaml.YAMLToJSONStrict followed by a
// UseNumber decode, and Decode is sigs.k8s.io/yaml.Unmarshal, value for
// value and error for error, on one parse instead of two.
func TestParity(t *testing.T) {
	for _, in := range parityInputs {
		checkParity(t, []byte(in))
	}
}

func FuzzParity(f *testing.F) {
	for _, in := range parityInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkParity(t, in) })
}

func checkParity(t *testing.T, in []byte) {
	t.Helper()
	v, gerr := Parse(in)
	var got any
	if gerr == nil {
		got, gerr = v.JSON()
	}
	var want any
	j, werr := yaml.YAMLToJSONStrict(in)
	if werr == nil {
		d := json.NewDecoder(bytes.NewReader(j))
		d.UseNumber()
		werr = d.Decode(&want)
	}
	switch {
	case gerr != nil && werr != nil:
		if gerr.Error() != werr.Error() {
			t.Fatalf("%q: error %q, want %q", in, gerr, werr)
		}
		return
	case gerr != nil:
		// A key twice once stringified ("1" and 1) is an error here;
		// sigs.k8s.io/yaml keeps one of them at random.
		if !twoKeysOneString(in) {
			t.Fatalf("%q: error %v, want %s", in, gerr, j)
		}
		return
	case werr != nil:
		t.Fatalf("%q: JSON = %v, want error %v", in, got, werr)
	case !reflect.DeepEqual(got, want):
		t.Fatalf("%q: JSON = %#v, want %#v", in, got, want)
	}
	var a, b outer
	aerr := v.Decode(&a)
	berr := yaml.Unmarshal(in, &b)
	if (aerr != nil) != (berr != nil) {
		t.Fatalf("%q: Decode error %v, yaml.Unmarshal error %v", in, aerr, berr)
	}
	if aerr == nil && !reflect.DeepEqual(a, b) {
		t.Fatalf("%q: Decode = %+v, want %+v", in, a, b)
	}
}

// twoKeysOneString reports whether in has a mapping whose keys collide
// once made strings, which only JSON reports.
func twoKeysOneString(in []byte) bool {
	v, err := Parse(in)
	if err != nil {
		return false
	}
	var walk func(any) bool
	walk = func(x any) bool {
		switch x := x.(type) {
		case map[any]any:
			seen := map[string]bool{}
			for k, e := range x {
				ks, err := keyString(k, e)
				if err == nil && seen[ks] {
					return true
				}
				seen[ks] = true
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v.v)
}
