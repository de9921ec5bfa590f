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
