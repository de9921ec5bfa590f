package schemagen

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSchemaUpToDate: the table checked in under the core module is the
// one Generate makes from the k8s.io/api this module builds with.
func TestSchemaUpToDate(t *testing.T) {
	want, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "..", "internal", "k8sschema", "schema.txt")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s is not what schemagen generates from k8s.io/api %s; regenerate it:\n\tcd kube && go run ./internal/schemagen/cmd/k8sschemagen -o ../internal/k8sschema/schema.txt", path, apiVersion)
	}
}
