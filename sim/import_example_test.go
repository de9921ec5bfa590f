package sim_test

import (
	"fmt"

	"github.com/svcnet/svcnet/sim"
)

// Import turns a dump into a scenario: the Service keeps its ClusterIP,
// the Deployment runs, and its ReplicaSet's pod is the Deployment's to
// make, not a bare pod.
func ExampleImport() {
	dump := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: default, uid: 4b7c, resourceVersion: "7"}
  spec:
    clusterIP: 10.96.0.80
    clusterIPs: [10.96.0.80]
    selector: {app: web}
    ports: [{port: 80, targetPort: 8080, protocol: TCP}]
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: default, generation: 1}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec: {containers: [{name: web, image: web}]}
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-5d8f
    namespace: default
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: 1a2b, controller: true}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8f-x7k2q
    namespace: default
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: 3c4d, controller: true}]
  spec: {containers: [{name: web, image: web}]}
`
	res, err := sim.Import(sim.ScenarioSource{Name: "dump.yaml", Data: []byte(dump)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res.Report)
	fmt.Println(res.Scenario.Services[0].Spec.ClusterIP, *res.Scenario.Deployments[0].Spec.Replicas, len(res.Scenario.Pods))
	// Output:
	// import: 2 kept, 1 changed, 2 dropped
	// kept             Deployment default/web: 2 replicas from its pod template
	// kept             Service default/web: ClusterIP, clusterIPs 10.96.0.80
	// changed          Scenario cluster.nodes: the dump has no Node: the scenario generates 3 (node-0, node-1, node-2)
	// dropped          Pod default/web-5d8f-x7k2q: made by Deployment default/web (through ReplicaSet web-5d8f): the scenario's Deployment makes its pods
	// dropped          ReplicaSet default/web-5d8f: made by Deployment default/web, which the scenario runs
	// 10.96.0.80 2 0
}
