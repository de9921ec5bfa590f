package carry

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

type inner struct {
	Name string `json:"name"`
	N    int    `json:"n,omitempty"`
}

type object struct {
	Kind  string           `json:"kind,omitempty"`
	Spec  spec             `json:"spec,omitzero"`
	List  []inner          `json:"list,omitempty"`
	Map   map[string]inner `json:"map,omitempty"`
	Raw   json.RawMessage  `json:"raw,omitempty"`
	extra Remainder
}

type spec struct {
	Replicas int    `json:"replicas,omitempty"`
	Inner    *inner `json:"inner,omitempty"`
}

func (o object) MarshalJSON() ([]byte, error) {
	type plain object
	return Marshal(plain(o), o.extra)
}

func (o *object) UnmarshalJSON(b []byte) error {
	type plain object
	return Unmarshal(b, (*plain)(o), &o.extra)
}

func generic(t require.TestingT, b []byte) any {
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// TestRoundTrip: unmodelled keys at every depth (a struct's, a list
// item's, a map entry's) come back where they were; what is modelled is
// decoded as usual; a raw value is modelled whole.
func TestRoundTrip(t *testing.T) {
	in := `{"kind":"K","top":{"a":[1,2]},"spec":{"replicas":3,"paused":true,"inner":{"name":"x","deep":1}},
		"list":[{"name":"a"},{"name":"b","tty":true}],"map":{"k":{"name":"m","z":"y"}},"raw":{"anything":1}}`
	var o object
	require.NoError(t, json.Unmarshal([]byte(in), &o))
	require.Equal(t, 3, o.Spec.Replicas)
	require.Equal(t, "b", o.List[1].Name)
	require.Equal(t, []string{"list[1].tty", "map[k].z", "spec.inner.deep", "spec.paused", "top"}, o.extra.Paths())
	out, err := json.Marshal(o)
	require.NoError(t, err)
	require.JSONEq(t, in, string(out))
	v, ok := o.extra.Get("spec", "paused")
	require.True(t, ok)
	require.Equal(t, true, v)
}

// TestNothingCarried: without unmodelled fields the Remainder is zero
// and Marshal is json.Marshal, byte for byte.
func TestNothingCarried(t *testing.T) {
	var o object
	require.NoError(t, json.Unmarshal([]byte(`{"kind":"K","list":[{"name":"a","n":2}]}`), &o))
	require.True(t, o.extra.IsZero())
	type plain object
	want, _ := json.Marshal(plain(o))
	got, err := json.Marshal(o)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

// TestAligned: carried fields follow the object as it is when encoded:
// an omitted struct is re-created to hold them, a list item that is gone
// takes its carried fields with it, and a modelled value set since wins.
func TestAligned(t *testing.T) {
	var o object
	require.NoError(t, json.Unmarshal([]byte(`{"spec":{"paused":true},"list":[{"name":"a"},{"name":"b","tty":true}]}`), &o))
	out, _ := json.Marshal(o)
	require.JSONEq(t, `{"spec":{"paused":true},"list":[{"name":"a"},{"name":"b","tty":true}]}`, string(out))
	o.List = o.List[:1]
	out, _ = json.Marshal(o)
	require.JSONEq(t, `{"spec":{"paused":true},"list":[{"name":"a"}]}`, string(out))
	o.List = nil
	out, _ = json.Marshal(o)
	require.JSONEq(t, `{"spec":{"paused":true}}`, string(out))
}

// TestWithout: Without drops one carried field and leaves the original
// Remainder as it was (copies share it).
func TestWithout(t *testing.T) {
	var o object
	require.NoError(t, json.Unmarshal([]byte(`{"spec":{"paused":true,"x":1},"top":2}`), &o))
	r := o.extra.Without("spec", "paused")
	require.Equal(t, []string{"spec.x", "top"}, r.Paths())
	require.Equal(t, []string{"spec.paused", "spec.x", "top"}, o.extra.Paths())
	r = r.Without("spec", "x").Without("top")
	require.True(t, r.IsZero())
	require.Equal(t, o.extra, o.extra.Without("nothing", "here"))
}

// TestCarrier: a type with a Remainder (directly or in an embedded
// struct) is a Carrier; others are not.
func TestCarrier(t *testing.T) {
	type embeds struct{ object }
	require.True(t, Carrier(reflectType[object]()))
	require.True(t, Carrier(reflectType[*object]()))
	require.False(t, Carrier(reflectType[inner]()))
	require.True(t, Carrier(reflectType[embeds]()))
}

// TestRoundTripProperty: for random documents of object's shape with
// unmodelled keys added at random places, Unmarshal then Marshal gives
// the document back (the naive model: the document itself).
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		extra := func(label string) map[string]any {
			m := map[string]any{}
			for i := range rapid.IntRange(0, 2).Draw(t, label) {
				m["x"+string(rune('a'+i))] = rapid.OneOf(rapid.Just[any]("s"), rapid.Just[any](1.5), rapid.Just[any](map[string]any{"k": []any{true}})).Draw(t, label+"v")
			}
			return m
		}
		item := func(label string) map[string]any {
			m := extra(label)
			m["name"] = rapid.StringMatching(`[a-z]{1,3}`).Draw(t, label+"name")
			return m
		}
		doc := extra("top")
		doc["kind"] = "K"
		sp := extra("spec")
		sp["replicas"] = float64(rapid.IntRange(1, 9).Draw(t, "replicas"))
		sp["inner"] = item("inner")
		doc["spec"] = sp
		var list []any
		for i := range rapid.IntRange(1, 3).Draw(t, "items") {
			list = append(list, item("item"+string(rune('0'+i))))
		}
		doc["list"] = list
		doc["map"] = map[string]any{"k": item("entry")}
		b, _ := json.Marshal(doc)
		var o object
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		require.Equal(t, generic(t, b), generic(t, out))
	})
}

func reflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }

// TestGetCopies: what Get returns is the caller's; changing it changes
// nothing carried.
func TestGetCopies(t *testing.T) {
	var o object
	require.NoError(t, json.Unmarshal([]byte(`{"status":{"replicas":3}}`), &o))
	v, ok := o.extra.Get("status")
	require.True(t, ok)
	v.(map[string]any)["replicas"] = 4.0
	out, _ := json.Marshal(o)
	require.JSONEq(t, `{"status":{"replicas":3}}`, string(out))
}

// TestSub: the remainder under a modelled object is that object's own.
func TestSub(t *testing.T) {
	var o object
	require.NoError(t, json.Unmarshal([]byte(`{"spec":{"inner":{"name":"x","deep":1},"paused":true}}`), &o))
	require.Equal(t, []string{"deep"}, o.extra.Sub("spec", "inner").Paths())
	require.Equal(t, []string{"inner.deep", "paused"}, o.extra.Sub("spec").Paths())
	require.True(t, o.extra.Sub("spec", "nothing").IsZero())
	require.True(t, o.extra.Sub("list").IsZero())
}
