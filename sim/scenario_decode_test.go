package sim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
	"sigs.k8s.io/yaml"
)

const scenarioDoc = `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: t}
seed: 4
duration: 2m
cluster: {nodes: 3}
traffic: [{service: web, rate: 10}]
timeline: [{at: 30s, action: rollout, target: web}]
`

const webService = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, build: 42}}
    spec:
      containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]
`

func stream(docs ...string) []byte { return []byte(strings.Join(docs, "---\n")) }

func TestDecodeScenario(t *testing.T) {
	s, err := DecodeScenario(stream("# leading comment\n", scenarioDoc, webService, webDeployment))
	require.NoError(t, err)
	require.Equal(t, "t", s.Metadata.Name)
	require.Equal(t, uint64(4), s.Seed)
	require.Equal(t, Duration(2*time.Minute), s.Duration)
	require.Len(t, s.Services, 1)
	require.Len(t, s.Deployments, 1)
	require.Equal(t, "default", s.Services[0].Namespace, "namespaced objects default to default, as kubectl does")
	require.Equal(t, "default", s.Deployments[0].Namespace)
	require.Equal(t, "42", s.Deployments[0].Spec.Template.Labels["build"], "a number in a string field is read as a string, as kubectl reads it")
	require.Equal(t, int32(3), s.Deployments[0].ReplicaCount())

	r, err := Run(s)
	require.NoError(t, err)
	require.Positive(t, r.Connections.Total)
	require.Equal(t, int64(3), r.Cluster.PodsCreated, "the rollout replaced the three pods")
}

// TestDecodeScenarioOrder: the Scenario document's own objects come
// first, then the manifests in stream order, whatever file holds them;
// a v1 List's items are expanded in place.
func TestDecodeScenarioOrder(t *testing.T) {
	inline := scenarioDoc + `services:
- metadata: {name: api}
  spec: {selector: {app: api}, ports: [{port: 80}]}
`
	list := `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {selector: {app: b}, ports: [{port: 80}]}}
- {apiVersion: v1, kind: Node, metadata: {name: big, labels: {topology.kubernetes.io/zone: zone-a}}}
`
	s, err := DecodeScenarioSources(
		ScenarioSource{Name: "app.yaml", Data: stream(webService, webDeployment)},
		ScenarioSource{Name: "scenario.yaml", Data: []byte(inline)},
		ScenarioSource{Name: "more.yaml", Data: []byte(list)},
	)
	require.NoError(t, err)
	var names []string
	for _, svc := range s.Services {
		names = append(names, svc.Name)
	}
	require.Equal(t, []string{"api", "web", "b"}, names)
	require.Len(t, s.Nodes, 1)
	require.Equal(t, "big", s.Nodes[0].Name)
	require.Empty(t, s.Nodes[0].Namespace, "nodes are not namespaced")
}

// TestDecodeScenarioErrors: every kind of mistake is an error that says
// where (file, document, line), which object, which field and what
// value.
func TestDecodeScenarioErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want []string
	}{
		{"no scenario", stream(webService), []string{"no Scenario document"}},
		{"two scenarios", stream(scenarioDoc, webService, webDeployment, scenarioDoc), []string{
			"document 4 (line 28): Scenario: a second Scenario document (the first is document 1)"}},
		{"unknown field", stream(scenarioDoc, webService, strings.Replace(webDeployment, "replicas: 3", "replicas: 3\n  replica: 3", 1)), []string{
			`document 3 (line 17): Deployment "default/web": spec.replica: unknown field`}},
		{"unknown nested field", stream(scenarioDoc, webService, strings.Replace(webDeployment, "image: web", "image: web, imagePolicy: x", 1)), []string{
			`spec.template.spec.containers[0].imagePolicy: unknown field`}},
		{"wrong type", stream(scenarioDoc, webService, strings.Replace(webDeployment, "replicas: 3", "replicas: three", 1)), []string{
			`Deployment "default/web": spec.replicas: invalid value "three": must be an integer`}},
		{"out of range", stream(strings.Replace(scenarioDoc, "seed: 4", "seed: -4", 1), webService, webDeployment), []string{
			`Scenario "t": seed: invalid value -4: must be a non-negative 64-bit integer`}},
		{"bad duration", stream(strings.Replace(scenarioDoc, "duration: 2m", "duration: soon", 1), webService, webDeployment), []string{
			`Scenario "t": duration: invalid value "soon": must be a duration`}},
		{"duplicate key", stream(scenarioDoc+"seed: 5\n", webService, webDeployment), []string{
			`document 1 (line 1): not YAML or JSON`, `"seed" already set`}},
		{"wrong kind", stream(scenarioDoc, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), []string{
			`document 2 (line 10): kind: invalid value "ConfigMap": want Scenario, Service, Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Node, Namespace, EndpointSlice or List`}},
		{"wrong apiVersion", stream(scenarioDoc, webService, strings.Replace(webDeployment, "apps/v1", "extensions/v1beta1", 1)), []string{
			`Deployment: apiVersion: invalid value "extensions/v1beta1": want "apps/v1" for kind Deployment`}},
		{"invalid service", stream(scenarioDoc, strings.Replace(webService, "port: 80", "port: 80000", 1), webDeployment), []string{
			`Service "default/web": spec.ports[0].port: invalid value 80000: must be between 1 and 65535, inclusive`}},
		{"selector does not match", stream(scenarioDoc, webService, strings.Replace(webDeployment, "{app: web, build", "{app: api, build", 1)), []string{
			`spec.template.metadata.labels: invalid value "app=api,build=42": ` + "`selector` does not match template `labels`"}},
		{"both bounds zero", stream(scenarioDoc, webService, strings.Replace(webDeployment, "replicas: 3", "replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}", 1)), []string{
			"spec.strategy.rollingUpdate.maxUnavailable: invalid value \"0%\": may not be 0 when `maxSurge` is 0"}},
		{"invalid container", stream(scenarioDoc, webService, strings.Replace(webDeployment, "name: web, image", "name: Web_1, image", 1)), []string{
			`spec.template.spec.containers[0].name: invalid value "Web_1"`}},
		{"duplicate object", stream(scenarioDoc, webService, webDeployment, webService), []string{
			`document 4 (line 28): Service "default/web": metadata.name: duplicate value "web": already defined in document 2 (line 10)`}},
		{"unknown action", stream(strings.Replace(scenarioDoc, "action: rollout", "action: explode", 1), webService, webDeployment), []string{
			`Scenario "t": timeline[0].action: invalid value "explode": supported values: "rollout"`}},
		{"unknown target", stream(strings.Replace(scenarioDoc, "target: web", "target: api", 1), webService, webDeployment), []string{
			`timeline[0].target: invalid value "api": no such workload (Deployment, StatefulSet, DaemonSet or ReplicaSet) in the scenario`}},
		{"unknown node", stream(strings.Replace(scenarioDoc, "action: rollout, target: web", "action: killNode, target: node-3", 1), webService, webDeployment), []string{
			`timeline[0].target: invalid value "node-3": no such node in the scenario`}},
		{"unknown service", stream(strings.Replace(scenarioDoc, "service: web", "service: shop/web", 1), webService, webDeployment), []string{
			`traffic[0].service: invalid value "shop/web": no such Service in the scenario`}},
		{"bad algorithm", stream(strings.Replace(scenarioDoc, "cluster: {nodes: 3}", "cluster: {nodes: 3, algorithm: best}", 1), webService, webDeployment), []string{
			`cluster.algorithm: invalid value "best": supported values: boundedload, leastconn, maglev`}},
		{"bad annotation", stream(scenarioDoc, strings.Replace(webService, "metadata: {name: web}", "metadata: {name: web, annotations: {lb.svcnet.dev/algorithm: best}}", 1), webDeployment), []string{
			`metadata.annotations[lb.svcnet.dev/algorithm]: invalid value "best": want one of`}},
		{"every problem at once", stream(strings.Replace(scenarioDoc, "rate: 10", "rate: -1, via: pigeon", 1), webService, strings.Replace(webDeployment, "replicas: 3", "replicas: -1", 1)), []string{
			"spec.replicas: invalid value -1", "traffic[0].via: invalid value \"pigeon\"", "traffic[0].rate: invalid value -1"}},
		{"not an object", []byte("- a\n- b\n"), []string{"document 1 (line 1): a list, want an object with apiVersion and kind"}},
		{"null inline object", []byte(scenarioDoc + "services: [null]\n"), []string{"services[0]: null: want a Service"}},
		{"inline object invalid", []byte(scenarioDoc + "pods: [{metadata: {name: p}, spec: {containers: []}}]\n"), []string{
			`Pod "default/p": pods[0].spec.containers: required value`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeScenario(c.in)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidScenario)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
		})
	}
}

// TestDecodeGeneratedNames: references to generated objects follow
// their names, namespaces spread included.
func TestDecodeGeneratedNames(t *testing.T) {
	doc := `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
duration: 1m
cluster: {nodes: 2}
workload: {services: 4, namespaces: 3, namespace: t}
traffic: [{service: SVC, rate: 1}]
timeline: [{at: 1s, action: killNode, target: node-1}, {at: 2s, action: rollout, target: t-0/svc-3}]
`
	_, err := DecodeScenario([]byte(strings.Replace(doc, "SVC", "t-1/svc-1", 1)))
	require.NoError(t, err)
	_, err = DecodeScenario([]byte(strings.Replace(doc, "SVC", "t/svc-1", 1)))
	require.ErrorContains(t, err, `traffic[0].service: invalid value "t/svc-1": no such Service in the scenario`)
}

// TestDecodeErrorFields: the error's parts are there for programs too,
// and package service's sentinels show through.
func TestDecodeErrorFields(t *testing.T) {
	_, err := DecodeScenarioSources(ScenarioSource{Name: "a.yaml", Data: stream(scenarioDoc, strings.Replace(webService, "port: 80", "port: 0", 1), webDeployment)})
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, DecodeError{File: "a.yaml", Doc: 2, Line: 10, Kind: "Service", Name: "default/web", Field: "spec.ports[0].port",
		Problem: "invalid value 0: must be between 1 and 65535, inclusive", Err: de.Err}, *de)
	require.ErrorIs(t, err, service.ErrInvalid)
	require.Equal(t, `sim: a.yaml: document 2 (line 10): Service "default/web": spec.ports[0].port: invalid value 0: must be between 1 and 65535, inclusive`, de.Error())
}

func TestReadScenarioFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "scenario.yaml"), filepath.Join(dir, "app.yaml")
	require.NoError(t, os.WriteFile(a, []byte(scenarioDoc), 0o644))
	require.NoError(t, os.WriteFile(b, stream(webService, strings.Replace(webDeployment, "replicas: 3", "replicas: x", 1)), 0o644))
	_, err := ReadScenarioFiles(a, b)
	require.ErrorContains(t, err, b+": document 2 (line 8): Deployment \"default/web\": spec.replicas")
	_, err = ReadScenarioFiles(a, filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, ErrInvalidScenario)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestDecodeScenarioRoundTrip: a Scenario written as YAML by
// sigs.k8s.io/yaml decodes back to itself.
func TestDecodeScenarioRoundTrip(t *testing.T) {
	in, err := DecodeScenario(stream(scenarioDoc, webService, webDeployment))
	require.NoError(t, err)
	in.Cluster.Delays.MinSyncPeriod = D(1500 * time.Millisecond)
	in.Churn = []ChurnSpec{{Action: ActionCrashPod, Rate: 0.5, Target: "web"}}
	in.Timeline = append(in.Timeline, TimelineEvent{At: Duration(time.Minute), Action: ActionZoneDown, Target: "zone-b", For: D(20 * time.Second)})
	in.Variants = []Variant{{Name: "maglev", Algorithm: "maglev", PreStopSleep: D(5 * time.Second)}}
	out, err := yaml.Marshal(in)
	require.NoError(t, err)
	back, err := DecodeScenario(out)
	require.NoError(t, err, "%s", out)
	a, _ := json.Marshal(in)
	b, _ := json.Marshal(back)
	require.JSONEq(t, string(a), string(b))
}

// FuzzDecodeScenario: arbitrary input never panics, and what decodes
// encodes and decodes back to the same Scenario.
func FuzzDecodeScenario(f *testing.F) {
	// The corpus: a valid stream, each kind of document, and inputs at
	// the edges of YAML (anchors, tags, huge numbers, deep nesting).
	f.Add(stream(scenarioDoc, webService, webDeployment))
	f.Add(stream(scenarioDoc, webService, dumpedDeployment)) // kubectl get -o yaml: carried fields, status
	f.Add([]byte(scenarioDoc))
	// The workload kinds, as manifests and inline.
	f.Add(stream(wlScenario, dbHeadless, dbStatefulSet, agentDaemonSet, cacheReplicaSet))
	f.Add([]byte(wlScenario + "statefulSets: [{metadata: {name: db}, spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}, updateStrategy: {rollingUpdate: {partition: 1, maxUnavailable: 50%}}}}]\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: apps/v1, kind: Deployment, metadata: {name: x}}]\n"))
	f.Add([]byte("apiVersion: sim.svcnet.dev/v1alpha1\nkind: Scenario\nduration: 1e400\nseed: 99999999999999999999\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("apiVersion: sim.svcnet.dev/v1alpha1\nkind: Scenario\nmetadata: !!binary aGVsbG8=\n"))
	f.Add([]byte("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"))
	f.Add([]byte("{\"apiVersion\": \"sim.svcnet.dev/v1alpha1\", \"kind\": \"Scenario\", \"timeline\": [{\"for\": null}]}"))
	f.Add([]byte("---\n---\n...\n"))
	f.Add([]byte("apiVersion: sim.svcnet.dev/v1alpha1\nkind: Scenario\n? [a]\n: b\n"))
	f.Fuzz(fuzzDecodeScenario)
}

// FuzzDecodeScenarioLarge is FuzzDecodeScenario on large inputs (many
// ports, labels, items, events; deep nesting): apart, so that their
// cost (an exec of tens of milliseconds, a minimisation of minutes)
// does not slow FuzzDecodeScenario's search of small ones.
func FuzzDecodeScenarioLarge(f *testing.F) {
	for _, in := range largeScenarios() {
		f.Add(in)
	}
	f.Fuzz(fuzzDecodeScenario)
}

// fuzzDecodeScenario: arbitrary input never panics, and what decodes
// encodes and decodes back to the same Scenario.
func fuzzDecodeScenario(t *testing.T, in []byte) {
	s, err := DecodeScenario(in)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) && !errors.Is(err, ErrInvalidScenario) {
			t.Fatalf("error of an unknown kind: %v", err)
		}
		return
	}
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("a decoded scenario does not encode: %v", err)
	}
	back, err := DecodeScenario(j)
	if err != nil {
		t.Fatalf("a decoded scenario does not decode again: %v\n%s", err, j)
	}
	j2, _ := json.Marshal(back)
	if string(j) != string(j2) {
		t.Fatalf("not stable:\n%s\n%s", j, j2)
	}
}
