package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, bundled))
	require.Equal(t, `Service default/my-service: type ClusterIP, selector "app.kubernetes.io/name=MyApp"
  port http 80/TCP -> targetPort http-web-svc
  pod myapp-1        selected (http -> 10.244.1.7:9376)
  pod myapp-2        selected (http -> 10.244.2.3:9376)
  pod myapp-staging  skipped: namespace staging
  pod db-0           skipped: labels do not match
`, out.String())
}

func TestQuickstartRejectsInvalid(t *testing.T) {
	var out bytes.Buffer
	err := run(&out, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 80}]}\n"))
	require.ErrorContains(t, err, `metadata.name: invalid value "Bad_Name"`)
}
