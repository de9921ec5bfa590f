package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/svcnet/svcnet/sim"
)

// A StatefulSet of four pods under a headless Service rolls out with
// partition 1 and scales to five: the update replaces web-3, web-2 and
// web-1, highest ordinal first, each after the one before is ready
// again, keeps web-0 (below the partition), and then web-4 joins.
func Example_statefulSet() {
	s, err := sim.DecodeScenario([]byte(`apiVersion: sim.svcnet.dev/v1alpha1
kind: Scenario
seed: 1
duration: 2m
cluster: {nodes: 3}
traffic: [{service: web, hostname: web-0.web, rate: 10, clients: 2}]
timeline:
- {at: 10s, action: rollout, target: statefulset/web}
- {at: 60s, action: scale, target: statefulset/web, replicas: 5}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 4
  updateStrategy: {rollingUpdate: {partition: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]}
`))
	if err != nil {
		panic(err)
	}
	var events bytes.Buffer
	r, err := sim.RunWithOptions(s, sim.RunOptions{Events: &events})
	if err != nil {
		panic(err)
	}
	var replaced, ready []string
	for line := range strings.Lines(events.String()) {
		var e sim.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			panic(err)
		}
		switch {
		case e.Kind == sim.EventPodDeleted:
			replaced = append(replaced, e.Pod)
		case e.Kind == sim.EventPod && e.State == "ready":
			ready = append(ready, e.Pod)
		}
	}
	fmt.Println("replaced:", strings.Join(replaced, " "))
	fmt.Println("ready:   ", strings.Join(ready, " "))
	fmt.Println("web-0.web failed:", r.Flows[0].Connections.Failed())
	// Output:
	// replaced: default/web-3 default/web-2 default/web-1
	// ready:    default/web-3 default/web-2 default/web-1 default/web-4
	// web-0.web failed: 0
}

// Workload targets name a kind when two kinds share a name.
func ExampleParseWorkloadRef() {
	for _, s := range []string{"web", "shop/web", "statefulset/web", "sts/shop/web"} {
		r, err := sim.ParseWorkloadRef(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-16s kind %q, %s\n", s, r.Kind, r.Key)
	}
	// Output:
	// web              kind "", default/web
	// shop/web         kind "", shop/web
	// statefulset/web  kind "StatefulSet", default/web
	// sts/shop/web     kind "StatefulSet", shop/web
}
