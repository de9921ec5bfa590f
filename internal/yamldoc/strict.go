package yamldoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/svcnet/svcnet/internal/k8sschema"
)

// Problem says where a strict decode failed and why: Field is the field
// path ("spec.ports[0].port", "" for the whole object), Text what is
// wrong ("unknown field").
type Problem struct {
	Field, Text string
}

// DecodeKind decodes one object of a Kubernetes kind into out (a
// pointer to an object type whose UnmarshalJSON carries what it does not
// model, service.UnmarshalCarried) from m, its generic JSON. m is first
// checked against the kind's schema, k (k8sschema.Type.Check): the first
// field Kubernetes does not define, in sorted order, or a value of the
// wrong type for Kubernetes, is a Problem naming its path; numbers and
// booleans where Kubernetes has a string become strings, as kubectl's
// decoding makes them. Then m is decoded into out, and a value out's
// type cannot hold is a Problem naming its field. prefix ("" or
// "items[2].") starts every path. DecodeKind changes m.
//
// This is the one strict decoding of Kubernetes objects behind
// service.Decode and sim's scenario decoder.
func DecodeKind(m map[string]any, k *k8sschema.Type, out any, prefix string) *Problem {
	if p := k.Check(m, strings.TrimSuffix(prefix, ".")); p != nil {
		return &Problem{Field: p.Field, Text: p.Text}
	}
	j, err := json.Marshal(m)
	if err != nil {
		return &Problem{Text: err.Error()}
	}
	if err := json.Unmarshal(j, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Problem{Field: prefix + te.Field, Text: fmt.Sprintf("cannot hold a JSON %s, want %s", te.Value, te.Type)}
		}
		return &Problem{Text: err.Error()}
	}
	return nil
}
