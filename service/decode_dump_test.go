package service

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// dump is a `kubectl get -o yaml` List as a real cluster writes it:
// server-set metadata, fields svcnet does not model at every depth, a
// pod with only status.podIP, a Namespace and an EndpointSlice.
const dump = `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
    uid: 0b4f8e2c-1111-4a0e-9c1d-000000000001
    resourceVersion: "17"
    creationTimestamp: "2026-11-01T10:00:00Z"
    labels: {kubernetes.io/metadata.name: shop}
  spec:
    finalizers: [kubernetes]
  status:
    phase: Active
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
    uid: 0b4f8e2c-1111-4a0e-9c1d-000000000002
    resourceVersion: "4242"
    creationTimestamp: "2026-11-01T10:00:01Z"
    selfLink: /api/v1/namespaces/shop/services/web
    managedFields:
    - manager: kubectl-client-side-apply
      operation: Update
      apiVersion: v1
      time: "2026-11-01T10:00:01Z"
      fieldsType: FieldsV1
      fieldsV1: {f:spec: {f:ports: {}}}
  spec:
    clusterIP: 10.96.0.10
    clusterIPs: [10.96.0.10]
    ipFamilies: [IPv4]
    ipFamilyPolicy: SingleStack
    internalTrafficPolicy: Cluster
    ports:
    - {name: http, port: 80, protocol: TCP, targetPort: http}
    selector: {app: web}
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-0
    namespace: shop
    labels: {app: web}
    ownerReferences:
    - {apiVersion: apps/v1, kind: ReplicaSet, name: web-5d, uid: u-rs, controller: true, blockOwnerDeletion: true}
  spec:
    enableServiceLinks: true
    preemptionPolicy: PreemptLowerPriority
    priority: 0
    serviceAccount: default
    serviceAccountName: default
    automountServiceAccountToken: false
    runtimeClassName: runc
    nodeName: node-a
    containers:
    - name: web
      image: nginx:1.27
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
      stdin: false
      tty: false
      env:
      - {name: WORKERS, value: 42}
      ports:
      - {name: http, containerPort: 8080, protocol: TCP}
      readinessProbe:
        httpGet: {path: /healthz, port: http, scheme: HTTP}
      resources:
        requests: {cpu: 100m, memory: 64Mi}
    volumes:
    - name: config
      configMap: {name: web-config, defaultMode: 420}
  status:
    phase: Running
    podIP: 10.244.1.7
    hostIP: 192.168.0.11
    conditions:
    - {type: Ready, status: "True"}
    containerStatuses:
    - {name: web, ready: true, restartCount: 0, image: nginx:1.27, imageID: "", started: true, state: {running: {startedAt: "2026-11-01T10:00:05Z"}}}
- apiVersion: v1
  kind: Node
  metadata:
    name: node-a
    labels: {topology.kubernetes.io/zone: zone-a}
  status:
    addresses:
    - {type: InternalIP, address: 192.168.0.11}
    daemonEndpoints:
      kubeletEndpoint: {Port: 10250}
    nodeInfo: {kubeletVersion: v1.37.2, architecture: amd64}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: web-abcde
    namespace: shop
    labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}
  addressType: IPv4
  endpoints:
  - addresses: [10.244.1.7]
    conditions: {ready: true, serving: true, terminating: false}
    nodeName: node-a
    zone: zone-a
    targetRef: {kind: Pod, namespace: shop, name: web-0, uid: u-pod}
  ports:
  - {name: http, port: 8080, protocol: TCP}
`

// TestDecodeDump: every field of a real dump decodes; what svcnet models
// is in the typed fields, the rest is carried and encodes again.
func TestDecodeDump(t *testing.T) {
	objs, err := DecodeAll([]byte(dump))
	require.NoError(t, err)
	require.Len(t, objs, 5)

	ns := objs[0].(*Namespace)
	require.Equal(t, "Active", ns.Status.Phase)
	require.Equal(t, []string{"kubernetes"}, ns.Spec.Finalizers)

	svc := objs[1].(*Service)
	require.Equal(t, "4242", svc.ResourceVersion, "Decode keeps what the dump says")
	require.Equal(t, []string{"metadata.selfLink"}, svc.Carried().Paths())

	pod := objs[2].(*Pod)
	require.Equal(t, []PodIP{{IP: "10.244.1.7"}}, pod.Status.PodIPs, "podIP alone fills podIPs")
	require.Equal(t, []PodIP{{IP: "192.168.0.11"}}, pod.Status.HostIPs)
	require.True(t, pod.IsReady())
	require.Equal(t, []string{
		"spec.automountServiceAccountToken", "spec.containers[0].stdin", "spec.containers[0].terminationMessagePath",
		"spec.containers[0].terminationMessagePolicy", "spec.containers[0].tty", "spec.enableServiceLinks",
		"spec.preemptionPolicy", "spec.priority", "spec.runtimeClassName", "spec.serviceAccount",
	}, pod.Carried().Paths())
	// env is carried raw in the typed struct; YAML's 42 is read as
	// EnvVar.value's string, as kubectl reads it.
	require.JSONEq(t, `[{"name":"WORKERS","value":"42"}]`, string(pod.Spec.Containers[0].Env))

	node := objs[3].(*Node)
	require.Equal(t, "zone-a", node.Zone())
	require.Equal(t, []string{"status.daemonEndpoints"}, node.Carried().Paths())

	es := objs[4].(*EndpointSlice)
	require.Equal(t, "web", es.ServiceName())
	require.Equal(t, "IPv4", es.AddressType)
	require.Equal(t, []string{"10.244.1.7"}, es.Endpoints[0].Addresses)
	require.True(t, *es.Endpoints[0].Conditions.Ready)
	require.False(t, *es.Endpoints[0].Conditions.Terminating)
	require.Equal(t, "web-0", es.Endpoints[0].TargetRef.Name)
	require.Equal(t, int32(8080), *es.Ports[0].Port)
	require.True(t, es.Carried().IsZero(), "svcnet models every field of an EndpointSlice: %v", es.Carried().Paths())

	// Re-encoded, each object holds what the dump held (compared with
	// the dump's own items as JSON; the pod gains podIPs and hostIPs).
	var list struct{ Items []json.RawMessage }
	j, err := yaml.YAMLToJSON([]byte(dump))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &list))
	for i, o := range objs {
		out, err := json.Marshal(o)
		require.NoError(t, err)
		want := string(list.Items[i])
		if i == 1 {
			// An empty struct (status.loadBalancer: {}) is omitted,
			// which Kubernetes decodes alike: the one difference.
			want = strings.Replace(want, `,"status":{"loadBalancer":{}}`, "", 1)
		}
		if i == 2 {
			var m map[string]any
			require.NoError(t, json.Unmarshal(list.Items[i], &m))
			st := m["status"].(map[string]any)
			st["podIPs"] = []any{map[string]any{"ip": "10.244.1.7"}}
			st["hostIPs"] = []any{map[string]any{"ip": "192.168.0.11"}}
			c := m["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			c["env"] = []any{map[string]any{"name": "WORKERS", "value": "42"}}
			b, _ := json.Marshal(m)
			want = string(b)
		}
		require.JSONEq(t, want, string(out), "item %d", i)
	}
}

// TestDecodeUnknownDeep: a field Kubernetes does not define is an error
// naming its path, also in what svcnet does not model.
func TestDecodeUnknownDeep(t *testing.T) {
	for _, tt := range []struct{ from, to, path string }{
		{"defaultMode: 420", "defaultMod: 420", "items[2].spec.volumes[0].configMap.defaultMod"},
		{"scheme: HTTP", "schem: HTTP", "items[2].spec.containers[0].readinessProbe.httpGet.schem"},
		{"kubeletEndpoint:", "kubeletEndpoin:", "items[3].status.daemonEndpoints.kubeletEndpoin"},
		{"terminating: false", "terminatin: false", "items[4].endpoints[0].conditions.terminatin"},
		{"tty: false", "tt: false", "items[2].spec.containers[0].tt"},
		{"fieldsType: FieldsV1", "fieldType: FieldsV1", "items[1].metadata.managedFields[0].fieldType"},
		{`resourceVersion: ""`, `resourceVersio: ""`, "metadata.resourceVersio"}, // the List's own ListMeta
	} {
		doc := strings.Replace(dump, tt.from, tt.to, 1)
		_, err := DecodeAll([]byte(doc))
		var de *DecodeError
		require.True(t, errors.As(err, &de), "%s: %v", tt.to, err)
		require.Equal(t, tt.path, de.Field)
		require.Equal(t, "unknown field", de.Problem)
	}
}

// TestDecodePodIPs: podIP and podIPs complete each other; given both,
// podIPs[0] must be podIP.
func TestDecodePodIPs(t *testing.T) {
	pod := func(status string) (*Pod, error) {
		o, err := Decode([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: c}]}\nstatus: " + status + "\n"))
		if err != nil {
			return nil, err
		}
		return o.(*Pod), nil
	}
	p, err := pod("{podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.1", p.Status.PodIP)
	require.NoError(t, p.Validate())
	p, err = pod("{podIP: 10.0.0.1}")
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	_, err = pod("{podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.2}]}")
	var de *DecodeError
	require.True(t, errors.As(err, &de), "%v", err)
	require.Equal(t, "status.podIPs[0].ip", de.Field)
	require.Contains(t, de.Problem, `invalid value "10.0.0.2": must be equal to`)
}

// TestCarriedSurvivesCopies: DeepCopy, the Registry's stored copies and
// its snapshots keep what an object carries.
func TestCarriedSurvivesCopies(t *testing.T) {
	objs, err := DecodeAll([]byte(dump))
	require.NoError(t, err)
	svc := objs[1].(*Service)
	c := svc.DeepCopy()
	require.Equal(t, svc, c)
	require.Equal(t, svc.Carried().Paths(), c.Carried().Paths())
	pod := objs[2].(*Pod).DeepCopy()
	require.Equal(t, objs[2], pod)

	// A dumped Service is refused by Create as the API server refuses
	// it (resourceVersion set); ClearSystemFields makes it a manifest.
	r := newTestRegistry(t)
	_, err = r.Create(svc)
	require.ErrorIs(t, err, ErrInvalid)
	ClearSystemFields(svc)
	require.Empty(t, svc.ResourceVersion)
	require.Empty(t, svc.UID)
	require.True(t, svc.CreationTimestamp.IsZero())
	require.Nil(t, svc.ManagedFields)
	require.True(t, svc.Carried().IsZero(), "selfLink dropped")

	// Something carried survives Create, Get and a snapshot round trip.
	var withExtra Service
	require.NoError(t, json.Unmarshal([]byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x","namespace":"shop","selfLink":"/old"},"spec":{"ports":[{"port":80}],"selector":{"app":"x"}}}`), &withExtra))
	ch, err := r.Create(&withExtra)
	require.NoError(t, err)
	require.Equal(t, []string{"metadata.selfLink"}, ch.New.Carried().Paths())
	got, err := r.Get("shop", "x")
	require.NoError(t, err)
	require.Equal(t, []string{"metadata.selfLink"}, got.Carried().Paths())
	snap, err := r.Snapshot()
	require.NoError(t, err)
	r2 := newTestRegistry(t)
	require.NoError(t, r2.Restore(snap))
	got, err = r2.Get("shop", "x")
	require.NoError(t, err)
	v, _ := got.Carried().Get("metadata", "selfLink")
	require.Equal(t, "/old", v)
}
