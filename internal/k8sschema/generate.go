package k8sschema

// schema.txt is generated in the kube module, which imports k8s.io/api;
// kube/internal/schemagen's TestSchemaUpToDate fails when it is stale.
//go:generate sh -c "cd ../../kube && go run ./internal/schemagen/cmd/k8sschemagen -o ../internal/k8sschema/schema.txt"
