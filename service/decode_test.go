package service

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

const manifests = `# a Service and its pods
apiVersion: v1
kind: Service
metadata:
  name: my-service
  namespace: shop
  labels: {app: web}
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: metrics
    port: 9090
    targetPort: 9090
    protocol: TCP
---
---   # an empty document is skipped
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels: {app: web}
spec:
  nodeName: node-a
  containers:
  - name: app
    image: nginx:1.27
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 10
    resources:
      limits: {cpu: 500m}
    lifecycle:
      preStop:
        sleep: {seconds: 5}
status:
  phase: Running
  podIP: 10.244.1.5
  podIPs: [{ip: 10.244.1.5}]
  conditions: [{type: Ready, status: "True"}]
---
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a", "labels": {"topology.kubernetes.io/zone": "zone-a"}}}
`

func TestDecodeAll(t *testing.T) {
	objs, err := DecodeAll([]byte(manifests))
	require.NoError(t, err)
	require.Len(t, objs, 3)
	svc := objs[0].(*Service)
	require.Equal(t, "my-service", svc.Name)
	require.Equal(t, FromString("http"), svc.Spec.Ports[0].TargetPort)
	require.Equal(t, FromInt(9090), svc.Spec.Ports[1].TargetPort)
	Default(svc)
	require.NoError(t, svc.Validate())
	pod := objs[1].(*Pod)
	require.True(t, pod.IsReady())
	require.Equal(t, int64(5), pod.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds)
	require.JSONEq(t, `{"limits":{"cpu":"500m"}}`, string(pod.Spec.Containers[0].Resources))
	require.NoError(t, pod.Validate())
	node := objs[2].(*Node)
	require.Equal(t, "zone-a", node.Zone())
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  selecter: {app: web}\n", "spec.selecter"},
		{"unknown nested field", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: 80\n    nodeport: 30000\n", "spec.ports[0].nodeport"},
		{"case matters", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nSpec: {}\n", "Spec"},
		{"wrong kind", "apiVersion: v1\nkind: Deployment\nmetadata: {name: a}\n", "kind"},
		{"wrong apiVersion", "apiVersion: apps/v1\nkind: Service\n", "apiVersion"},
		{"missing kind", "apiVersion: v1\nmetadata: {name: a}\n", "kind"},
		{"wrong type", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: eighty\n", "spec.ports[0].port"}, // the index of the bad item, as the schema check walks to it
		{"list item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: [], bogus: 1}\n", "items[0].spec.bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAll([]byte("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n---\n" + tt.doc))
			var de *DecodeError
			require.True(t, errors.As(err, &de), "got %v", err)
			require.ErrorIs(t, err, ErrDecode)
			require.Equal(t, 2, de.Doc)
			require.Equal(t, tt.field, de.Field, de.Error())
		})
	}
	_, err := Decode([]byte("just a string"))
	require.ErrorIs(t, err, ErrDecode)
	_, err = Decode([]byte(":\n  - ]"))
	require.ErrorIs(t, err, ErrDecode)
}

func TestDecodeList(t *testing.T) {
	objs, err := DecodeAll([]byte(`apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: a}}
- {apiVersion: v1, kind: Node, metadata: {name: b}}
`))
	require.NoError(t, err)
	require.Len(t, objs, 2)
	require.Equal(t, "b", objs[1].Meta().Name)
}

func FuzzDecodeAll(f *testing.F) {
	f.Add([]byte(manifests))
	f.Add([]byte(dump)) // a kubectl get -o yaml List: carried fields at every depth
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [1, {}]"))
	f.Add([]byte("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"ports\":[{\"targetPort\":null}]}}"))
	f.Fuzz(fuzzDecodeAll)
}

// FuzzDecodeAllLarge is FuzzDecodeAll on large inputs (many ports,
// labels, items; deep nesting; a 256 KiB annotation), apart so that
// their cost does not slow FuzzDecodeAll's search of small ones.
func FuzzDecodeAllLarge(f *testing.F) {
	for _, c := range largeManifests() {
		f.Add(c.doc)
	}
	f.Fuzz(fuzzDecodeAll)
}

// fuzzDecodeAll: no input panics, every error wraps ErrDecode, and
// what decodes is lossless: it encodes to JSON that decodes again to an
// object that encodes the same (carried fields included).
func fuzzDecodeAll(t *testing.T, b []byte) {
	objs, err := DecodeAll(b)
	if err != nil && !errors.Is(err, ErrDecode) {
		t.Fatalf("error %v does not wrap ErrDecode", err)
	}
	for _, o := range objs {
		_ = o.Meta().Name
		j, err := json.Marshal(o)
		if err != nil {
			continue // a value encoding/json cannot write (a year past 9999)
		}
		back, err := Decode(j)
		if err != nil {
			t.Fatalf("a decoded object does not decode again: %v\n%s", err, j)
		}
		j2, err := json.Marshal(back)
		if err != nil || string(j) != string(j2) {
			t.Fatalf("not stable (%v):\n%s\n%s", err, j, j2)
		}
	}
}
