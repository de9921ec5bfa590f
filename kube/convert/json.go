package convert

import (
	"encoding/json"

	sigsjson "sigs.k8s.io/json"
)

// viaJSON converts in to out through in's JSON form. out is decoded
// case-sensitively, as the API server decodes (sigs.k8s.io/json), and
// fields out does not declare are dropped. On failure out is left as it
// was (a fresh value the caller throws away) and the *Error names kind
// and name.
func viaJSON(kind, name string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return &Error{Kind: kind, Name: name, Reason: "cannot encode: " + err.Error()}
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b, out); err != nil {
		return &Error{Kind: kind, Name: name, Reason: "cannot decode: " + err.Error()}
	}
	return nil
}

// key is "namespace/name", or "name" for cluster-scoped objects.
func key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
