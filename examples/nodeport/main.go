// Command nodeport creates NodePort Services in a svcnet.Cluster — the
// one from the Kubernetes documentation with its nodePort 30007, and a DNS
// Service whose TCP and UDP ports share one nodePort — shows the requests
// the Registry refuses, turns a ClusterIP Service into a NodePort one and
// back, and lists the Services as `kubectl get services -o wide` does
// after each step. Then it connects from outside the cluster to every
// node's nodePort, shows the ClusterIP is not reachable from there, and
// sets externalTrafficPolicy: Local, after which only the nodes that run
// a backend answer, and only with their own.
//
//	go run ./examples/nodeport
package main

import (
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/service"
)

//go:embed manifests.yaml
var manifests []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:    []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")},
		// NodePortRange left zero: Kubernetes' default, 30000-32767.
		Rand:          rand.New(rand.NewPCG(2025, 3)),
		Clock:         func() time.Time { return now },
		ImmediateSync: true,
	})
	if err != nil {
		return err
	}
	objs, err := service.DecodeAll(manifests)
	if err != nil {
		return err
	}
	var first *service.Service
	var nodes []*service.Node
	for _, o := range objs {
		switch o := o.(type) {
		case *service.Service:
			if _, err := c.CreateService(o); err != nil {
				return err
			}
			if first == nil {
				first = o
			}
			now = now.Add(time.Minute)
		case *service.Node:
			if _, err := c.AddNode(o); err != nil {
				return err
			}
			nodes = append(nodes, o)
		case *service.Pod:
			if _, err := c.ApplyPod(o); err != nil {
				return err
			}
		}
	}
	get := func() error {
		fmt.Fprintln(w, "$ kubectl get services -o wide")
		err := c.PrintServices(w, "default")
		fmt.Fprintln(w)
		return err
	}
	if err := get(); err != nil {
		return err
	}

	// Requests the Registry refuses: a nodePort another Service holds, one
	// outside the range.
	bad := first.DeepCopy()
	bad.Name = "taken"
	_, err = c.CreateService(bad)
	fmt.Fprintln(w, err)
	bad.Name, bad.Spec.Ports[0].NodePort = "out-of-range", 40000
	_, err = c.CreateService(bad)
	fmt.Fprintln(w, err)
	fmt.Fprintln(w)

	// ClusterIP -> NodePort allocates a nodePort per port...
	web, err := c.Service(service.NamespacedName{Namespace: "default", Name: "web"})
	if err != nil {
		return err
	}
	web.Spec.Type = service.ServiceTypeNodePort
	ch, err := c.UpdateService(web)
	if err != nil {
		return err
	}
	sc := ch.Services[0]
	fmt.Fprintf(w, "web %s -> %s: nodePorts %d, %d\n", sc.Old.Spec.Type, sc.New.Spec.Type, sc.New.Spec.Ports[0].NodePort, sc.New.Spec.Ports[1].NodePort)

	// ...and NodePort -> ClusterIP releases them.
	web = sc.New
	web.Spec.Type = service.ServiceTypeClusterIP
	if ch, err = c.UpdateService(web); err != nil {
		return err
	}
	sc = ch.Services[0]
	fmt.Fprintf(w, "web %s -> %s: nodePorts %d, %d\n\n", sc.Old.Spec.Type, sc.New.Spec.Type, sc.New.Spec.Ports[0].NodePort, sc.New.Spec.Ports[1].NodePort)

	now = now.Add(2 * time.Hour)
	if err := get(); err != nil {
		return err
	}

	// Traffic. A client outside the cluster reaches my-service on any
	// node's address at nodePort 30007; the node's kube-proxy sends it to
	// a backend anywhere in the cluster.
	client := svcnet.FromAddr(netip.MustParseAddr("203.0.113.7"))
	mine, err := c.Service(service.NamespacedName{Namespace: "default", Name: "my-service"})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "From 203.0.113.7, outside the cluster:")
	tr, err := c.Dial(client, nodeAddr(nodes[0])+":30007")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, indent(tr.String()))
	if err := curlEach(w, c, client, nodes, 30007, 6); err != nil {
		return err
	}
	tr, err = c.Dial(client, mine.Spec.ClusterIP+":80")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s:80 (the ClusterIP): %s\n", mine.Spec.ClusterIP, tr.Route.Verdict)

	// Inside, the ClusterIP and the name work.
	tr, err = c.Dial(svcnet.FromPod("default", "coredns-0"), "my-service:80")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nFrom pod coredns-0, inside:")
	fmt.Fprintln(w, indent(tr.String()))

	// externalTrafficPolicy: Local keeps the client's source address by
	// answering only with the node's own backends; node-3 has none.
	mine.Spec.ExternalTrafficPolicy = service.TrafficPolicyLocal
	if _, err := c.UpdateService(mine); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nWith externalTrafficPolicy: Local, from 203.0.113.7:")
	return curlEach(w, c, client, nodes, 30007, 6)
}

// curlEach connects n times to each node's address at port and prints
// where the connections went.
func curlEach(w io.Writer, c *svcnet.Cluster, from svcnet.Source, nodes []*service.Node, port, n int) error {
	for _, node := range nodes {
		target := fmt.Sprintf("%s:%d", nodeAddr(node), port)
		got := map[string]int{}
		var order []string
		for range n {
			tr, err := c.Dial(from, target)
			if err != nil {
				return err
			}
			where := tr.Route.Verdict.String()
			if tr.Served() {
				where = tr.Pod.Name + " on " + tr.Route.Backend.Node
			}
			if got[where] == 0 {
				order = append(order, where)
			}
			got[where]++
		}
		var parts []string
		for _, o := range order {
			parts = append(parts, fmt.Sprintf("%d× %s", got[o], o))
		}
		fmt.Fprintf(w, "  %s (%s): %s\n", target, node.Name, strings.Join(parts, ", "))
	}
	return nil
}

func nodeAddr(n *service.Node) string { return n.Status.Addresses[0].Address }

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
