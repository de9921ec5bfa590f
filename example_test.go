package svcnet_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/service"
)

// manifests are two nodes, two pods behind a Service, and a client pod.
const manifests = `
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
status: {addresses: [{type: InternalIP, address: 192.168.0.10}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {topology.kubernetes.io/zone: zone-b}}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec: {nodeName: node-a, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec: {nodeName: node-b, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.244.1.5, podIPs: [{ip: 10.244.1.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {nodeName: node-a, containers: [{name: curl}]}
status: {phase: Running, podIP: 10.244.0.9, podIPs: [{ip: 10.244.0.9}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
`

func newCluster(immediate bool) *svcnet.Cluster {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:          rand.New(rand.NewPCG(1, 2)),
		Clock:         func() time.Time { return now },
		ImmediateSync: immediate,
	})
	if err != nil {
		panic(err)
	}
	if _, err := c.Apply([]byte(manifests)); err != nil {
		panic(err)
	}
	return c
}

// A pod connects to a Service by name: its resolver walks the search
// path, the node's kube-proxy picks a backend pod, and the named
// targetPort resolves to the pod's container port.
func ExampleCluster_Dial() {
	c := newCluster(true)
	tr, err := c.Dial(svcnet.FromPod("default", "client"), "my-service:80")
	if err != nil {
		panic(err)
	}
	fmt.Println(tr)
	// From outside, through a node's NodePort.
	tr, err = c.Dial(svcnet.FromAddr(netip.MustParseAddr("203.0.113.7")), "192.168.0.11:30080")
	if err != nil {
		panic(err)
	}
	fmt.Println(tr)
	// Output:
	// DNS: my-service → my-service.default.svc.cluster.local. 10.96.148.177 (1 query)
	// client pod default/client (10.244.0.9:32769) on node node-a
	// node node-a kube-proxy: ClusterIP 10.96.148.177:80 (Service default/my-service, port http) → 10.244.1.5:8080
	// backend pod default/web-1 on node node-b
	// client 203.0.113.7:32770 outside the cluster
	// node node-b kube-proxy: NodePort 192.168.0.11:30080 (Service default/my-service, port http) → 10.244.1.5:8080
	// backend pod default/web-1 on node node-b
}

// Without ImmediateSync, nodes and the DNS change only when told, so a
// stale node keeps routing with the table it last applied.
func ExampleCluster_SyncNode() {
	c := newCluster(false)
	c.SyncAllNodes()
	if err := c.SyncDNS(); err != nil {
		panic(err)
	}
	// web-0 goes away; only node-b hears of it.
	if _, err := c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"}); err != nil {
		panic(err)
	}
	if err := c.SyncNode("node-b"); err != nil {
		panic(err)
	}
	for _, node := range []string{"node-a", "node-b"} {
		stale, _ := c.NodeStale(node)
		p, _ := c.Proxy(node)
		backends := p.Table().Backends(service.NamespacedName{Namespace: "default", Name: "my-service"}, "http", service.ProtocolTCP, false)
		fmt.Printf("%s: %d versions behind, %d backends\n", node, stale, len(backends))
	}
	// Output:
	// node-a: 1 versions behind, 2 backends
	// node-b: 0 versions behind, 1 backends
}

// Versioned propagation: the Cluster numbers the tables it publishes and
// keeps those of the last TableRetention, so a node whose watch lags 2 s
// applies the generation that was the newest 2 s ago, and routes with it.
func ExampleCluster_SyncNodeTo() {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:   []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:      []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")},
		Rand:           rand.New(rand.NewPCG(1, 2)),
		Clock:          func() time.Time { return now },
		TableRetention: 10 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	if _, err := c.Apply([]byte(manifests)); err != nil {
		panic(err)
	}
	c.SyncAllNodes()
	before := c.Generation()
	now = now.Add(time.Second)
	// web-0 goes away.
	if _, err := c.DeletePod(service.NamespacedName{Namespace: "default", Name: "web-0"}); err != nil {
		panic(err)
	}
	for _, lag := range []time.Duration{0, 2 * time.Second} {
		g, _ := c.GenerationAt(now.Add(-lag))
		if err := c.SyncNodeTo("node-a", g); err != nil {
			panic(err)
		}
		p, _ := c.Proxy("node-a")
		key := service.NamespacedName{Namespace: "default", Name: "my-service"}
		fmt.Printf("lag %v: generation %d (newest %d), %d backends\n", lag, g-before, c.Generation()-before,
			len(p.Table().Backends(key, "http", service.ProtocolTCP, false)))
	}
	oldest, newest := c.Generations()
	fmt.Println("history:", newest-oldest+1, "generations")
	// Output:
	// lag 0s: generation 1 (newest 1), 1 backends
	// lag 2s: generation 0 (newest 1), 2 backends
	// history: 2 generations
}

// A pod's resolver tries its search path: a short name is found in the
// pod's own namespace first, and an external name costs four queries of
// the search list before the name itself (ndots:5).
func ExampleCluster_Resolve() {
	c := newCluster(true)
	client := service.NamespacedName{Namespace: "default", Name: "client"}
	for _, name := range []string{"my-service", "my-service.default", "www.example.com"} {
		res, err := c.Resolve(svcnet.Source{Pod: client}, name, dnsname.TypeA)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s:\n", name)
		for _, q := range res.Queries {
			fmt.Println("  " + q.String())
		}
	}
	// Output:
	// my-service:
	//   my-service.default.svc.cluster.local. A: NOERROR, 1 answer
	// my-service.default:
	//   my-service.default.default.svc.cluster.local. A: NXDOMAIN
	//   my-service.default.svc.cluster.local. A: NOERROR, 1 answer
	// www.example.com:
	//   www.example.com.default.svc.cluster.local. A: NXDOMAIN
	//   www.example.com.svc.cluster.local. A: NXDOMAIN
	//   www.example.com.cluster.local. A: NXDOMAIN
	//   www.example.com. A: REFUSED
}

// The printers show the cluster as kubectl would.
func ExampleCluster_PrintServices() {
	c := newCluster(true)
	if err := c.PrintServices(os.Stdout, "default"); err != nil {
		panic(err)
	}
	if err := c.PrintEndpointSlices(os.Stdout, "default"); err != nil {
		panic(err)
	}
	if err := c.PrintPods(os.Stdout, "default"); err != nil {
		panic(err)
	}
	// Output:
	// NAME         TYPE       CLUSTER-IP      EXTERNAL-IP   PORT(S)        AGE   SELECTOR
	// my-service   NodePort   10.96.148.177   <none>        80:30080/TCP   0s    app=web
	// NAME               ADDRESSTYPE   PORTS   ENDPOINTS               AGE
	// my-service-v9nnl   IPv4          8080    10.244.0.5,10.244.1.5   0s
	// NAME     READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
	// client   1/1     Running   0          0s    10.244.0.9   node-a   <none>           <none>
	// web-0    1/1     Running   0          0s    10.244.0.5   node-a   <none>           <none>
	// web-1    1/1     Running   0          0s    10.244.1.5   node-b   <none>           <none>
}

// Concurrent shares a Cluster between goroutines; DNS queries need no
// lock.
func ExampleConcurrent() {
	w := svcnet.NewConcurrent(newCluster(true))
	done := make(chan string)
	go func() {
		tr, err := w.Dial(svcnet.FromPod("default", "client"), "my-service:80")
		if err != nil {
			panic(err)
		}
		done <- fmt.Sprint("served: ", tr.Served())
	}()
	resp := w.DNS().Resolve("my-service.default.svc.cluster.local", dnsname.TypeA)
	fmt.Println(resp.Answer[0])
	fmt.Println(<-done)
	// Output:
	// my-service.default.svc.cluster.local. 5 IN A 10.96.148.177
	// served: true
}
