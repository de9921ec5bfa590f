package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLint(t *testing.T) {
	stream := func(targetPort, containerPort string) string {
		return `apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
metadata: {name: lint}
duration: 20s
cluster: {nodes: 2}
traffic:
- {service: web, rate: 20, length: {kind: constant, mean: 1s}}
- {service: web, rate: 20, start: 20s, length: {kind: constant, mean: 1s}}
- {service: web, rate: 20, start: 5s, stop: 5s, length: {kind: constant, mean: 1s}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: ` + targetPort + `}, {name: n, port: 81, targetPort: 8081}]
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: elsewhere}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: nowhere}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: app, ports: [{name: ` + containerPort + `, containerPort: 8080}]}]
`
	}
	s, err := DecodeScenario([]byte(stream("http", "web")))
	require.NoError(t, err)
	var got []string
	for _, w := range Lint(s) {
		got = append(got, w.String())
	}
	require.Equal(t, []string{
		`Service "default/web": spec.ports[0].targetPort: "http" matches no TCP container port of the pods it selects (1 pod template): the port has no endpoints and every connection to it is rejected`,
		"traffic[1].start: 20s is not before the end of the run (duration 20s): the flow sends nothing",
		"traffic[2].stop: 5s is not after start 5s: the flow sends nothing",
	}, got, "the Service in another namespace selects no pod: no warning")

	// The warning is right: every connection to the port is rejected.
	res, err := Run(s)
	require.NoError(t, err)
	require.Positive(t, res.Flows[0].Connections.Total)
	require.Equal(t, res.Flows[0].Connections.Total, res.Flows[0].Connections.Rejected)

	// The port named: no warning, and the connections are served.
	s, err = DecodeScenario([]byte(stream("http", "http")))
	require.NoError(t, err)
	require.Len(t, Lint(s), 2)
	res, err = Run(s)
	require.NoError(t, err)
	require.Equal(t, res.Flows[0].Connections.Total, res.Flows[0].Connections.Served)
}

func TestLintStatefulSetServiceName(t *testing.T) {
	s, err := DecodeScenario(stream(wlScenario, dbStatefulSet, strings.Replace(dbStatefulSet, "name: db}", "name: kv}", 1),
		strings.Replace(strings.Replace(dbHeadless, "name: db", "name: kv", 1), "app: db", "app: other", 1)))
	require.NoError(t, err)
	s.StatefulSets[1].Spec.ServiceName = "kv"
	require.Equal(t, []Warning{
		{Object: `StatefulSet "default/db"`, Field: "spec.serviceName", Message: `"db": no such Service in namespace default: the pods get no DNS names`},
		{Object: `StatefulSet "default/kv"`, Field: "spec.serviceName", Message: `Service "kv" does not select the pods: they are not its endpoints and get no DNS names`},
	}, Lint(s))
	s, err = DecodeScenario(stream(wlScenario, dbHeadless, dbStatefulSet))
	require.NoError(t, err)
	require.Empty(t, Lint(s), "a headless Service selecting the pods")
}
