package jsonfield

import (
	"reflect"
	"testing"
)

type Inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type Ptr struct {
	C bool `json:"c"`
}

type outer struct {
	Inner
	*Ptr
	Named   Inner `json:"named"`
	Plain   float64
	Skipped int `json:"-"`
	hidden  int
}

func TestFields(t *testing.T) {
	_ = outer{}.hidden
	got := Fields(reflect.TypeFor[outer]())
	want := map[string]reflect.Type{
		"a":     reflect.TypeFor[int](),
		"b":     reflect.TypeFor[string](),
		"c":     reflect.TypeFor[bool](),
		"named": reflect.TypeFor[Inner](),
		"Plain": reflect.TypeFor[float64](),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Fields = %v, want %v", got, want)
	}
}

type walkItem struct {
	Name string `json:"name"`
}

type walkDoc struct {
	Items []*walkItem           `json:"items"`
	ByKey map[string]walkItem   `json:"byKey"`
	Inner *Inner                `json:"inner"`
	Any   any                   `json:"any"`
	Deep  map[string][]walkItem `json:"deep"`
}

// TestWalk checks the paths and the order Walk visits, that an unknown
// key is visited with a nil type and not descended into, and what Skip,
// Stop and a value of the wrong shape do.
func TestWalk(t *testing.T) {
	doc := map[string]any{
		"zzz":   map[string]any{"x": 1}, // unknown: visited, not walked into
		"items": []any{map[string]any{"name": "a"}, map[string]any{"name": "b", "extra": true}},
		"byKey": map[string]any{"k2": map[string]any{"name": "c"}, "k1": map[string]any{"bad": 1}},
		"inner": map[string]any{"a": 1, "b": "x"},
		"any":   map[string]any{"free": "form"},
		"deep":  map[string]any{"d": []any{map[string]any{"nope": 0}}},
		"Items": "not a list", // JSON names are case-sensitive here: unknown
	}
	var visits []string
	ok := Walk(doc, reflect.TypeFor[*walkDoc](), "spec", func(_ any, t reflect.Type, path string) Action {
		if t == nil {
			visits = append(visits, path+" ?")
			return Skip
		}
		visits = append(visits, path+" "+t.String())
		return Descend
	})
	if !ok {
		t.Fatal("Walk stopped without a Stop")
	}
	want := []string{
		"spec jsonfield.walkDoc",
		"spec.Items ?",
		"spec.any interface {}",
		"spec.byKey map[string]jsonfield.walkItem",
		"spec.byKey[k1] jsonfield.walkItem",
		"spec.byKey[k1].bad ?",
		"spec.byKey[k2] jsonfield.walkItem",
		"spec.byKey[k2].name string",
		"spec.deep map[string][]jsonfield.walkItem",
		"spec.deep[d] []jsonfield.walkItem",
		"spec.deep[d][0] jsonfield.walkItem",
		"spec.deep[d][0].nope ?",
		"spec.inner jsonfield.Inner",
		"spec.inner.a int",
		"spec.inner.b string",
		"spec.items []*jsonfield.walkItem",
		"spec.items[0] jsonfield.walkItem", // pointers removed
		"spec.items[0].name string",
		"spec.items[1] jsonfield.walkItem",
		"spec.items[1].extra ?",
		"spec.items[1].name string",
		"spec.zzz ?",
	}
	if !reflect.DeepEqual(visits, want) {
		t.Fatalf("visits:\n%q\nwant:\n%q", visits, want)
	}

	// Skip keeps out of a subtree; Stop ends the walk at once.
	visits = nil
	ok = Walk(doc, reflect.TypeFor[walkDoc](), "", func(_ any, t reflect.Type, path string) Action {
		visits = append(visits, path)
		switch {
		case path == "byKey":
			return Skip
		case t == nil && path == "deep[d][0].nope":
			return Stop
		}
		return Descend
	})
	if ok {
		t.Fatal("Walk ran to the end through a Stop")
	}
	want = []string{"", "Items", "any", "byKey", "deep", "deep[d]", "deep[d][0]", "deep[d][0].nope"}
	if !reflect.DeepEqual(visits, want) {
		t.Fatalf("visits = %q, want %q", visits, want)
	}

	// A value of the wrong shape is visited and not walked into.
	visits = nil
	Walk([]any{1}, reflect.TypeFor[walkItem](), "x", func(_ any, _ reflect.Type, path string) Action {
		visits = append(visits, path)
		return Descend
	})
	if !reflect.DeepEqual(visits, []string{"x"}) {
		t.Fatalf("visits = %q", visits)
	}
}
