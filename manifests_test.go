package svcnet

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
	"sigs.k8s.io/yaml"
)

// discoveryV1Fields are the JSON field names of discovery.k8s.io/v1's
// types (k8s.io/api discovery/v1 types.go: EndpointSlice, Endpoint,
// EndpointConditions, EndpointHints, ForZone, ForNode, EndpointPort, and
// core/v1 ObjectReference for targetRef), written out by hand from the
// API so that a misspelt or invented field fails here.
var discoveryV1Fields = map[string][]string{
	"slice":      {"apiVersion", "kind", "metadata", "addressType", "endpoints", "ports"},
	"endpoint":   {"addresses", "conditions", "hostname", "targetRef", "deprecatedTopology", "nodeName", "zone", "hints"},
	"conditions": {"ready", "serving", "terminating"},
	"hints":      {"forZones", "forNodes"},
	"port":       {"name", "protocol", "port", "appProtocol"},
	"targetRef":  {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"},
}

func requireFields(t *testing.T, what string, m map[string]any) {
	t.Helper()
	for k := range m {
		require.Contains(t, discoveryV1Fields[what], k, "%s: field %q is not discovery.k8s.io/v1's", what, k)
	}
}

// serverSet are the metadata fields only an API server sets on create.
var serverSet = []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"}

func TestObjectListIsKubernetes(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	c := lbCluster(t, true, &now)
	for i := range 3 {
		apply(t, c, testPod("web-"+itoa(i), "node-"+itoa(i), "10.244."+itoa(i)+".5", i != 2))
	}
	lbSvc := webService("web", service.ServiceTypeLoadBalancer)
	lbSvc.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	created := create(t, c, lbSvc)
	require.NotZero(t, created.Spec.HealthCheckNodePort)
	create(t, c, externalDB(false))
	_, err := c.ApplyEndpointSlice(dbSlice("db-1", "192.0.2.50"))
	require.NoError(t, err)

	l, err := c.ObjectList(ListOptions{})
	require.NoError(t, err)
	y, err := l.YAML()
	require.NoError(t, err)
	j, err := l.JSON()
	require.NoError(t, err)
	var fromYAML, fromJSON map[string]any
	require.NoError(t, yaml.Unmarshal(y, &fromYAML))
	require.NoError(t, json.Unmarshal(j, &fromJSON))
	require.Equal(t, fromJSON, fromYAML, "YAML and JSON say the same")
	require.Equal(t, "v1", fromYAML["apiVersion"])
	require.Equal(t, "List", fromYAML["kind"])

	items := fromYAML["items"].([]any)
	kinds := map[string]int{}
	var order []string
	for _, it := range items {
		m := it.(map[string]any)
		kind := m["kind"].(string)
		kinds[kind]++
		if len(order) == 0 || order[len(order)-1] != kind {
			order = append(order, kind)
		}
		md := m["metadata"].(map[string]any)
		for _, f := range serverSet {
			require.NotContains(t, md, f, "%s %v: server-set metadata.%s written", kind, md["name"], f)
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		switch kind {
		case "Service", "Pod", "Node":
			// svcnet's strict decoder reads them back, status and all.
			obj, err := service.Decode(b)
			require.NoError(t, err, "%s %v", kind, md["name"])
			if s, ok := obj.(*service.Service); ok {
				want, err := c.Service(s.Key())
				require.NoError(t, err)
				require.Equal(t, want.Spec, s.Spec)
				require.Equal(t, want.Status, s.Status)
			}
		case "EndpointSlice":
			require.Equal(t, "discovery.k8s.io/v1", m["apiVersion"])
			requireFields(t, "slice", m)
			for _, e := range m["endpoints"].([]any) {
				em := e.(map[string]any)
				requireFields(t, "endpoint", em)
				requireFields(t, "conditions", em["conditions"].(map[string]any))
				if tr, ok := em["targetRef"].(map[string]any); ok {
					requireFields(t, "targetRef", tr)
					require.Equal(t, "Pod", tr["kind"])
				}
				if h, ok := em["hints"].(map[string]any); ok {
					requireFields(t, "hints", h)
				}
			}
			for _, p := range m["ports"].([]any) {
				requireFields(t, "port", p.(map[string]any))
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			var sl endpoints.Slice
			require.NoError(t, dec.Decode(&sl))
			labels := md["labels"].(map[string]any)
			if sl.ServiceName() == "web" {
				// As Kubernetes' controller labels and owns its slices
				// (endpointslice reconciler newEndpointSlice).
				require.Equal(t, endpoints.DefaultManagedBy, labels[endpoints.LabelManagedBy])
				owners := md["ownerReferences"].([]any)
				require.Len(t, owners, 1)
				o := owners[0].(map[string]any)
				require.Equal(t, "v1", o["apiVersion"])
				require.Equal(t, "Service", o["kind"])
				require.Equal(t, "web", o["name"])
				require.Equal(t, created.UID, o["uid"])
				require.Equal(t, true, o["controller"])
				require.Equal(t, true, o["blockOwnerDeletion"])
				var addrs []string
				for _, e := range sl.Endpoints {
					addrs = append(addrs, e.Address().String())
					require.Equal(t, e.Address().String() != "10.244.2.5", e.Conditions.Ready)
					require.NotEmpty(t, e.NodeName)
					require.NotEmpty(t, e.Zone)
				}
				slices.Sort(addrs)
				require.Equal(t, []string{"10.244.0.5", "10.244.1.5", "10.244.2.5"}, addrs)
			} else {
				require.Equal(t, "db", sl.ServiceName())
				require.Equal(t, "staff", labels[endpoints.LabelManagedBy], "a user slice is written as given")
			}
		default:
			t.Fatalf("unexpected kind %q", kind)
		}
	}
	require.Equal(t, []string{"Node", "Service", "EndpointSlice", "Pod"}, order)
	require.Equal(t, map[string]int{"Node": 3, "Service": 2, "EndpointSlice": 2, "Pod": 3}, kinds)

	// The Service's status holds its load balancer's ingress.
	svcs, err := c.ObjectList(ListOptions{Kinds: []string{KindService}, Namespace: "default"})
	require.NoError(t, err)
	require.Len(t, svcs.Items, 2)
	web := svcs.Items[1].(*service.Service)
	require.Equal(t, "web", web.Name)
	require.Len(t, web.Status.LoadBalancer.Ingress, 1)
	require.Equal(t, "192.0.2.100", web.Status.LoadBalancer.Ingress[0].IP)

	_, err = c.ObjectList(ListOptions{Kinds: []string{"Deployment"}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorContains(t, err, `"Deployment"`)
	// Copies: editing the list leaves the cluster alone.
	web.Spec.Ports[0].Port = 1
	again, err := c.Service(web.Key())
	require.NoError(t, err)
	require.Equal(t, int32(80), again.Spec.Ports[0].Port)
}

// What ObjectList writes applies: a new cluster given the Nodes, Pods and
// Services gets the same Services (their allocated addresses requested
// as given) and computes the same endpoints.
func TestObjectListApplies(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	c := lbCluster(t, true, &now)
	for i := range 3 {
		apply(t, c, testPod("web-"+itoa(i), "node-"+itoa(i), "10.244."+itoa(i)+".5", i != 1))
	}
	np := webService("web-np", service.ServiceTypeNodePort)
	create(t, c, np)
	create(t, c, webService("web", ""))
	l, err := c.ObjectList(ListOptions{Kinds: []string{KindNode, KindPod, KindService}})
	require.NoError(t, err)
	y, err := l.YAML()
	require.NoError(t, err)

	other := lbCluster(t, true, &now)
	_, err = other.Apply(y)
	require.NoError(t, err)
	for _, svc := range c.Services("") {
		got, err := other.Service(svc.Key())
		require.NoError(t, err)
		require.Equal(t, svc.Spec, got.Spec, svc.Name)
		require.Equal(t, sliceAddrs(c, svc.Key()), sliceAddrs(other, svc.Key()), svc.Name)
	}
}
