package service

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeLimit: a document over the limit is refused before it is
// parsed, with the sizes in the message; a Decoder can move the limit.
func TestDecodeLimit(t *testing.T) {
	big := "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    a: \"" + strings.Repeat("x", MaxDocumentBytes) + "\"\n"
	_, err := Decode([]byte(big))
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Contains(t, de.Problem, "larger than the limit of 3145728 bytes")
	_, err = DecodeAll([]byte("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n---\n" + big))
	require.ErrorAs(t, err, &de)
	require.Equal(t, 2, de.Doc)

	small := Decoder{MaxDocumentBytes: 64}
	_, err = small.Decode([]byte(big[:200]))
	require.ErrorContains(t, err, "larger than the limit of 64 bytes")
	obj, err := small.Decode([]byte("apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n"))
	require.NoError(t, err)
	require.Equal(t, "node-a", obj.Meta().Name)
}

// TestDecodeDuplicateKeys: a key twice in one mapping is an error, in
// YAML and in JSON, as with kubectl's strict decoding.
func TestDecodeDuplicateKeys(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: a, name: b}\nspec: {ports: [{port: 80}]}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  selector: {app: a}\n  selector: {app: b}\n",
		`{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"},"metadata":{"name":"b"}}`,
	} {
		_, err := Decode([]byte(doc))
		require.ErrorIs(t, err, ErrDecode, doc)
		require.ErrorContains(t, err, "already set", doc)
	}
}
