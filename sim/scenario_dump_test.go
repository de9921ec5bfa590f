package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svcnet/svcnet/service"
)

// dumpedDeployment is a Deployment as `kubectl get deploy -o yaml`
// writes it: server-set metadata, defaulted fields svcnet does not
// model, and status.
const dumpedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  uid: 5a1c0000-0000-4000-8000-000000000001
  resourceVersion: "123456"
  generation: 3
  creationTimestamp: "2026-11-01T10:00:00Z"
  annotations: {deployment.kubernetes.io/revision: "3"}
spec:
  replicas: 3
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
  template:
    metadata:
      creationTimestamp: null
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
        ports: [{name: http, containerPort: 8080, protocol: TCP}]
        resources: {}
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
      enableServiceLinks: true
status:
  availableReplicas: 3
  observedGeneration: 3
  readyReplicas: 3
  replicas: 3
  updatedReplicas: 3
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable, lastTransitionTime: "2026-11-01T10:00:09Z", lastUpdateTime: "2026-11-01T10:00:09Z"}
`

// TestDecodeScenarioDump: a dumped Deployment decodes in a scenario
// stream as it is: its status and the fields sim does not model are
// carried, its server-set metadata cleared; the decoded Scenario encodes
// and decodes back to itself (the Scenario document's own deployments:
// list is checked against Kubernetes' schema too), and a field
// Kubernetes does not define is still an error, there as well.
func TestDecodeScenarioDump(t *testing.T) {
	s, err := DecodeScenario(stream(scenarioDoc, webService, dumpedDeployment))
	require.NoError(t, err)
	require.Len(t, s.Deployments, 1)
	d := s.Deployments[0]
	require.Equal(t, int32(3), d.ReplicaCount())
	require.Empty(t, d.ResourceVersion)
	require.Empty(t, d.UID)
	require.Zero(t, d.Generation)
	require.Equal(t, []string{
		"spec.template.spec.containers[0].terminationMessagePath",
		"spec.template.spec.containers[0].terminationMessagePolicy",
		"spec.template.spec.enableServiceLinks",
		"status",
	}, d.Carried().Paths())
	v, ok := d.Carried().Get("status")
	require.True(t, ok)
	require.Equal(t, json.Number("3"), v.(map[string]any)["readyReplicas"])

	j, err := json.Marshal(s)
	require.NoError(t, err)
	back, err := DecodeScenario(j)
	require.NoError(t, err, "%s", j)
	j2, err := json.Marshal(back)
	require.NoError(t, err)
	require.JSONEq(t, string(j), string(j2))
	require.Equal(t, d.Carried().Paths(), back.Deployments[0].Carried().Paths())

	// Misspelled, in the manifest and in the Scenario document's list.
	_, err = DecodeScenario(stream(scenarioDoc, webService, strings.Replace(dumpedDeployment, "enableServiceLinks", "enableServiceLink", 1)))
	require.ErrorContains(t, err, `Deployment "default/web": spec.template.spec.enableServiceLink: unknown field`)
	var m map[string]any
	require.NoError(t, json.Unmarshal(j, &m))
	tmpl := m["deployments"].([]any)[0].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	tmpl["enableServiceLink"] = tmpl["enableServiceLinks"]
	delete(tmpl, "enableServiceLinks")
	bad, _ := json.Marshal(m)
	_, err = DecodeScenario(bad)
	require.ErrorContains(t, err, "deployments[0].spec.template.spec.enableServiceLink: unknown field")
}

// TestDecodeScenarioDumpKinds: Namespaces and EndpointSlices of a dump
// decode (strictly) and are not simulated; a pod with podIP alone is
// accepted.
func TestDecodeScenarioDumpKinds(t *testing.T) {
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: default, uid: u, resourceVersion: \"1\"}\nstatus: {phase: Active}\n"
	es := "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-x, namespace: default}\naddressType: IPv4\nendpoints: [{addresses: [10.244.0.5], conditions: {ready: true}}]\nports: [{port: 8080}]\n"
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, resourceVersion: \"5\"}\nspec: {containers: [{name: c, tty: false}]}\nstatus: {podIP: 10.244.0.9}\n"
	s, err := DecodeScenario(stream(scenarioDoc, webService, webDeployment, ns, es, pod))
	require.NoError(t, err)
	require.Len(t, s.Pods, 1)
	require.Equal(t, []service.PodIP{{IP: "10.244.0.9"}}, s.Pods[0].Status.PodIPs)
	_, err = DecodeScenario(stream(scenarioDoc, webService, webDeployment, strings.Replace(es, "addressType", "adressType", 1)))
	require.ErrorContains(t, err, "adressType: unknown field")
}

// TestDeploymentTemplateCarried: what a Deployment's pod template
// carries is a pod's own, so that a pod made from the template encodes
// with it.
func TestDeploymentTemplateCarried(t *testing.T) {
	s, err := DecodeScenario(stream(scenarioDoc, webService, dumpedDeployment))
	require.NoError(t, err)
	d := s.Deployments[0]
	pod := &service.Pod{
		TypeMeta:   service.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: service.ObjectMeta{Name: "web-1", Namespace: "default", Labels: d.Spec.Template.Labels},
		Spec:       d.Spec.Template.Spec,
	}
	pod.SetCarried(d.Carried().Sub("spec", "template"))
	require.Equal(t, []string{
		"spec.containers[0].terminationMessagePath", "spec.containers[0].terminationMessagePolicy", "spec.enableServiceLinks",
	}, pod.Carried().Paths())
	j, err := json.Marshal(pod)
	require.NoError(t, err)
	back, err := service.Decode(j)
	require.NoError(t, err, "%s", j)
	require.Equal(t, pod.Carried().Paths(), back.(*service.Pod).Carried().Paths())
	v, _ := back.(*service.Pod).Carried().Get("spec", "enableServiceLinks")
	require.Equal(t, true, v)
}
