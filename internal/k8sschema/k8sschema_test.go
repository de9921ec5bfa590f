package k8sschema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKinds: the table has every kind svcnet reads, and fields that
// k8s.io/api v0.37 defines (and svcnet does not model) are in it.
func TestKinds(t *testing.T) {
	for _, k := range [][2]string{
		{"v1", "Pod"}, {"v1", "Service"}, {"v1", "Node"}, {"v1", "Namespace"}, {"v1", "List"},
		{"apps/v1", "Deployment"}, {"apps/v1", "StatefulSet"}, {"apps/v1", "DaemonSet"}, {"apps/v1", "ReplicaSet"},
		{"discovery.k8s.io/v1", "EndpointSlice"},
	} {
		_, ok := Lookup(k[0], k[1])
		require.True(t, ok, "%v", k)
	}
	require.Len(t, Kinds(), 10)
	c, ok := Named("core/v1.Container")
	require.True(t, ok)
	for _, f := range []string{"terminationMessagePath", "terminationMessagePolicy", "stdin", "tty", "name", "resources"} {
		require.Contains(t, c.Fields, f)
	}
	require.Equal(t, Bool, c.Fields["tty"].Kind)
	require.Equal(t, "core/v1.ResourceRequirements", c.Fields["resources"].Name)
	ps, _ := Named("core/v1.PodSpec")
	for _, f := range []string{"enableServiceLinks", "preemptionPolicy", "priority", "serviceAccount", "automountServiceAccountToken", "runtimeClassName"} {
		require.Contains(t, ps.Fields, f)
	}
	ns, _ := Named("core/v1.NodeStatus")
	require.Contains(t, ns.Fields, "daemonEndpoints")
	// The special leaves: metav1.Time, Quantity, IntOrString.
	om, _ := Named("meta/v1.ObjectMeta")
	require.Equal(t, Time, om.Fields["creationTimestamp"].Kind)
	rr, _ := Named("core/v1.ResourceRequirements")
	require.Equal(t, Map, rr.Fields["limits"].Kind)
	require.Equal(t, Quantity, rr.Fields["limits"].Elem.Kind)
	sp, _ := Named("core/v1.ServicePort")
	require.Equal(t, IntOrString, sp.Fields["targetPort"].Kind)
	_, ok = Lookup("v1", "ConfigMap")
	require.False(t, ok)
}

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(stringsReader(s))
	d.UseNumber()
	require.NoError(t, d.Decode(&m))
	return m
}

// TestCheck: unknown fields anywhere (also below what svcnet models),
// values of the wrong type for Kubernetes, and what is accepted.
func TestCheck(t *testing.T) {
	pod, _ := Lookup("v1", "Pod")
	tests := []struct {
		name, doc, field, text string
	}{
		{"volume source misspelled", `{"spec":{"volumes":[{"name":"v","configMap":{"nmae":"x"}}]}}`, "spec.volumes[0].configMap.nmae", "unknown field"},
		{"httpGet under a probe", `{"spec":{"containers":[{"name":"c","readinessProbe":{"httpGet":{"port":80,"pth":"/"}}}]}}`, "spec.containers[0].readinessProbe.httpGet.pth", "unknown field"},
		{"first in sorted order", `{"spec":{"zz":1,"aa":2}}`, "spec.aa", "unknown field"},
		{"affinity", `{"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpresions":[]}]}}}}}`,
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpresions", "unknown field"},
		{"bool", `{"spec":{"containers":[{"name":"c","tty":"yes"}]}}`, "spec.containers[0].tty", `invalid value "yes": must be true or false`},
		{"int32 range", `{"spec":{"priority":4294967296}}`, "spec.priority", "invalid value 4294967296: must be a 32-bit integer"},
		{"list", `{"spec":{"containers":{"name":"c"}}}`, "spec.containers", "invalid value an object: must be a list"},
		{"time", `{"metadata":{"creationTimestamp":"yesterday"}}`, "metadata.creationTimestamp", `invalid value "yesterday": must be an RFC 3339 time`},
		{"intorstring", `{"spec":{"containers":[{"name":"c","livenessProbe":{"tcpSocket":{"port":true}}}]}}`, "spec.containers[0].livenessProbe.tcpSocket.port", "invalid value true: must be an integer or a string"},
		{"quantity", `{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":[1]}}}]}}`, "spec.containers[0].resources.limits[cpu]", `invalid value a list: must be a quantity such as "100m" or "1Gi"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod.Check(doc(t, tt.doc), "")
			require.NotNil(t, p)
			require.Equal(t, tt.field, p.Field)
			require.Equal(t, tt.text, p.Text)
		})
	}
	ok := []string{
		`{"metadata":{"labels":{"any-key":"v"},"creationTimestamp":null}}`,
		`{"spec":{"containers":[{"name":"c","terminationMessagePath":"/dev/termination-log","stdin":false,"resources":{"requests":{"cpu":"100m","memory":1024}}}],"nodeSelector":{"x":"y"}}}`,
		`{"spec":{"containers":null,"volumes":[{"name":"v","emptyDir":{}}]},"status":{"podIP":"10.0.0.1"}}`,
	}
	for _, d := range ok {
		require.Nil(t, pod.Check(doc(t, d), ""), d)
	}
	require.Equal(t, "items[0].spec.x", pod.Check(doc(t, `{"spec":{"x":1}}`), "items[0]").Field)
}

// TestCheckCoerces: a number or a boolean where Kubernetes has a string
// becomes the string sigs.k8s.io/yaml makes of it (kubectl reads `value:
// 42` in an env var as "42", `1.10` as "1.1", as a float32 prints).
func TestCheckCoerces(t *testing.T) {
	pod, _ := Lookup("v1", "Pod")
	m := doc(t, `{"spec":{"containers":[{"name":7,"env":[{"name":"A","value":42},{"name":"B","value":true},{"name":"C","value":1.10},{"name":"D","value":3.14159265358979}]}]}}`)
	require.Nil(t, pod.Check(m, ""))
	c := m["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	require.Equal(t, "7", c["name"])
	var got []any
	for _, e := range c["env"].([]any) {
		got = append(got, e.(map[string]any)["value"])
	}
	require.Equal(t, []any{"42", "true", "1.1", "3.1415927"}, got)
	// A quantity stays a number: resource.Quantity reads JSON numbers.
	m = doc(t, `{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":2}}}]}}`)
	require.Nil(t, pod.Check(m, ""))
	lim := m["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["resources"].(map[string]any)["limits"].(map[string]any)
	require.Equal(t, json.Number("2"), lim["cpu"])
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
