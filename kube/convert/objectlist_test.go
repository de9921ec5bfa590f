package convert

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/yaml"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/sim"
)

// TestObjectListDecodesStrictly imports the shipped cluster dump, takes
// the simulated cluster's state halfway through its run, and decodes what
// Cluster.ObjectList writes, as YAML and as JSON, with k8s.io/api's types
// strictly (an unknown field or a value of the wrong type is an error),
// as kubectl apply --dry-run=client would: every item is a Kubernetes
// object, Services keep their allocated clusterIPs and EndpointSlices
// list addresses.
func TestObjectListDecodesStrictly(t *testing.T) {
	dump, err := os.ReadFile("../../examples/cluster-dump/dump.yaml")
	require.NoError(t, err)
	res, err := sim.Import(sim.ScenarioSource{Name: "dump.yaml", Data: dump})
	require.NoError(t, err)
	s := res.Scenario
	st, err := sim.StateAt(s, time.Duration(s.Duration)/2)
	require.NoError(t, err)
	l, err := st.Cluster.ObjectList(svcnet.ListOptions{})
	require.NoError(t, err)
	y, err := l.YAML()
	require.NoError(t, err)
	j, err := l.JSON()
	require.NoError(t, err)

	for name, data := range map[string][]byte{"yaml": y, "json": j} {
		t.Run(name, func(t *testing.T) {
			if name == "yaml" {
				data, err = yaml.YAMLToJSON(data)
				require.NoError(t, err)
			}
			var list struct {
				APIVersion string            `json:"apiVersion"`
				Kind       string            `json:"kind"`
				Items      []json.RawMessage `json:"items"`
			}
			require.NoError(t, strict(data, &list))
			require.Equal(t, "v1", list.APIVersion)
			require.Equal(t, "List", list.Kind)
			counts := map[string]int{}
			ips, addrs := 0, 0
			for i, raw := range list.Items {
				var tm struct{ APIVersion, Kind string }
				require.NoError(t, json.Unmarshal(raw, &tm), "item %d", i)
				counts[tm.Kind]++
				switch tm.Kind {
				case "Node":
					require.Equal(t, "v1", tm.APIVersion)
					require.NoError(t, strict(raw, new(corev1.Node)), "item %d", i)
				case "Pod":
					require.Equal(t, "v1", tm.APIVersion)
					require.NoError(t, strict(raw, new(corev1.Pod)), "item %d", i)
				case "Service":
					require.Equal(t, "v1", tm.APIVersion)
					var svc corev1.Service
					require.NoError(t, strict(raw, &svc), "item %d", i)
					if svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
						ips++
					}
				case "EndpointSlice":
					require.Equal(t, "discovery.k8s.io/v1", tm.APIVersion)
					var sl discoveryv1.EndpointSlice
					require.NoError(t, strict(raw, &sl), "item %d", i)
					require.NotEmpty(t, sl.Labels[discoveryv1.LabelServiceName], "item %d %s: no service-name label", i, sl.Name)
					for _, e := range sl.Endpoints {
						addrs += len(e.Addresses)
					}
				default:
					t.Fatalf("item %d: kind %q", i, tm.Kind)
				}
			}
			for _, k := range []string{"Node", "Pod", "Service", "EndpointSlice"} {
				require.Positive(t, counts[k], "no %s written", k)
			}
			require.Positive(t, ips, "no Service with an allocated clusterIP")
			require.Positive(t, addrs, "no endpoint address in any slice")
		})
	}
	// The dump's workloads are Kubernetes objects too; the simulator's
	// Deployments convert to apps/v1 and decode strictly.
	for _, d := range s.Deployments {
		k, err := DeploymentToKube(d)
		require.NoError(t, err)
		b, err := json.Marshal(k)
		require.NoError(t, err)
		require.NoError(t, strict(b, new(appsv1.Deployment)), "Deployment %s", d.Name)
	}
}

// strict decodes JSON into out refusing unknown fields, as the API
// server's strict field validation does.
func strict(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}
