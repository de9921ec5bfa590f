// Command traffic-policy shows where a svcnet.Cluster's kube-proxies send
// connections under each traffic policy of a Service: externalTrafficPolicy
// Cluster and Local for clients outside the cluster coming in through a
// nodePort, internalTrafficPolicy Local for pods, and topology-aware
// routing (trafficDistribution: PreferClose, KEP-4444), which keeps
// traffic in the client's zone when the zone has backends.
//
//	go run ./examples/traffic-policy
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

// connections is how many connections each row of a table counts.
const connections = 300

var columns = []string{"web-1", "web-2", "web-3", "dropped"}

func run(w io.Writer) error {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")},
		Rand:          rand.New(rand.NewPCG(2025, 3)),
		Clock:         func() time.Time { return now },
		ImmediateSync: true,
	})
	if err != nil {
		return err
	}
	if _, err := c.Apply(manifests); err != nil {
		return err
	}
	fmt.Fprintln(w, "$ kubectl get pods -o wide")
	if err := c.PrintPods(w, "default"); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nweb-1 and web-2 run on node-a1 (zone-a), web-3 on node-b1 (zone-b); zone-c has none.\n")
	fmt.Fprintf(w, "Each row counts %d connections.\n", connections)

	outside := func(i int) svcnet.Source {
		return svcnet.FromAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%200)}))
	}
	fmt.Fprintln(w, "\nexternalTrafficPolicy: Cluster (Service web), from outside to each node's nodePort 30080:")
	if err := table(w, c, c.Nodes(), func(n *service.Node) (string, string, func(int) svcnet.Source) {
		return label(n), n.Status.Addresses[0].Address + ":30080", outside
	}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nexternalTrafficPolicy: Local (Service web-local), nodePort 30081: a node answers with its own")
	fmt.Fprintln(w, "backends, or drops (a cloud load balancer's health check would skip it):")
	if err := table(w, c, c.Nodes(), func(n *service.Node) (string, string, func(int) svcnet.Source) {
		return label(n), n.Status.Addresses[0].Address + ":30081", outside
	}); err != nil {
		return err
	}

	clients := c.Pods("default")[:4]
	fromPod := func(p *service.Pod) func(int) svcnet.Source {
		return func(int) svcnet.Source { return svcnet.FromPod(p.Namespace, p.Name) }
	}
	podLabel := func(p *service.Pod) string {
		for _, n := range c.Nodes() {
			if n.Name == p.Spec.NodeName {
				return p.Name + " on " + label(n)
			}
		}
		return p.Name
	}
	fmt.Fprintln(w, "\ninternalTrafficPolicy: Cluster (Service web), from each client pod:")
	if err := table(w, c, clients, func(p *service.Pod) (string, string, func(int) svcnet.Source) {
		return podLabel(p), "web:80", fromPod(p)
	}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ninternalTrafficPolicy: Local (Service web-node-local): the client's own node only:")
	if err := table(w, c, clients, func(p *service.Pod) (string, string, func(int) svcnet.Source) {
		return podLabel(p), "web-node-local:80", fromPod(p)
	}); err != nil {
		return err
	}

	fmt.Fprintln(w, "\ntrafficDistribution: PreferClose (Service web-close): the endpoints carry zone hints,")
	for _, sl := range c.Slices(service.NamespacedName{Namespace: "default", Name: "web-close"}) {
		for _, e := range sl.Endpoints {
			var zones []string
			if e.Hints != nil {
				for _, z := range e.Hints.ForZones {
					zones = append(zones, z.Name)
				}
			}
			fmt.Fprintf(w, "  %s %s (%s): hint %s\n", sl.Name, e.Address(), e.TargetRef.Name, strings.Join(zones, ","))
		}
	}
	fmt.Fprintln(w, "and each node's kube-proxy keeps to its zone's endpoints, if its zone has any:")
	return table(w, c, clients, func(p *service.Pod) (string, string, func(int) svcnet.Source) {
		return podLabel(p), "web-close:80", fromPod(p)
	})
}

// table prints, for each row, where connections to its target went.
func table[T any](w io.Writer, c *svcnet.Cluster, rows []T, row func(T) (label, target string, from func(int) svcnet.Source)) error {
	fmt.Fprintf(w, "  %-28s %-20s", "", "")
	for _, col := range columns {
		fmt.Fprintf(w, " %7s", col)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		label, target, from := row(r)
		counts := map[string]int{}
		for i := range connections {
			tr, err := c.Dial(from(i), target)
			if err != nil {
				return err
			}
			if tr.Served() {
				counts[tr.Pod.Name]++
			} else {
				counts["dropped"]++
			}
		}
		fmt.Fprintf(w, "  %-28s %-20s", label, target)
		for _, col := range columns {
			fmt.Fprintf(w, " %7d", counts[col])
		}
		fmt.Fprintln(w)
	}
	return nil
}

func label(n *service.Node) string { return n.Name + " (" + n.Zone() + ")" }
