// Command headless runs the headless Service of the Kubernetes tutorial
// "StatefulSet Basics" in a svcnet.Cluster. A headless Service has no
// ClusterIP and no kube-proxy rules: its name answers the addresses of
// its ready pods, each pod of the StatefulSet has a stable name of its own
// (web-0.nginx), and connections go to the pods directly. It shows a pod
// joining the answers when it turns ready, and a pod that the StatefulSet
// replaces keeping its name under a new address.
//
//	go run ./examples/headless
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
	"github.com/svcnet/svcnet/dnsname"
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

var dnsutils = service.NamespacedName{Namespace: "default", Name: "dnsutils"}

func run(w io.Writer) error {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
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
	now = now.Add(2 * time.Minute)
	fmt.Fprintln(w, "$ kubectl get service nginx")
	if err := c.PrintServices(w, "default"); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get endpointslices")
	if err := c.PrintEndpointSlices(w, "default"); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nweb-1 is not ready yet, so only web-0 answers:")
	for _, q := range []struct {
		name  string
		qtype dnsname.Type
	}{{"nginx", dnsname.TypeA}, {"web-0.nginx", dnsname.TypeA}, {"web-1.nginx", dnsname.TypeA}, {"_web._tcp.nginx", dnsname.TypeSRV}} {
		if err := lookup(w, c, q.name, q.qtype); err != nil {
			return err
		}
	}

	// web-1 passes its readiness probe.
	now = now.Add(10 * time.Second)
	web1, err := c.Pod(service.NamespacedName{Namespace: "default", Name: "web-1"})
	if err != nil {
		return err
	}
	web1.SetReady(true)
	if _, err := c.ApplyPod(web1); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nweb-1 is ready:")
	for _, name := range []string{"nginx", "web-1.nginx"} {
		if err := lookup(w, c, name, dnsname.TypeA); err != nil {
			return err
		}
	}
	if err := lookup(w, c, "_web._tcp.nginx", dnsname.TypeSRV); err != nil {
		return err
	}

	// Connections go to the pods themselves: no Service address, no
	// kube-proxy choice.
	fmt.Fprintln(w)
	for _, target := range []string{"web-1.nginx:80", "nginx:80"} {
		tr, err := c.Dial(svcnet.FromPod("default", "dnsutils"), target)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "dnsutils → %s:\n%s\n", target, indent(tr.String()))
	}

	// The StatefulSet replaces web-0 (its node is drained): the new pod has
	// the same name and hostname, on another node, with another address.
	now = now.Add(time.Minute)
	fmt.Fprintln(w, "\n$ kubectl delete pod web-0   # the StatefulSet makes it again on node-2")
	old, err := c.Pod(service.NamespacedName{Namespace: "default", Name: "web-0"})
	if err != nil {
		return err
	}
	if _, err := c.DeletePod(old.Key()); err != nil {
		return err
	}
	if err := lookup(w, c, "web-0.nginx", dnsname.TypeA); err != nil {
		return err
	}
	web0 := old.DeepCopy()
	web0.CreationTimestamp = time.Time{}
	web0.Spec.NodeName = "node-2"
	web0.Status.PodIP, web0.Status.PodIPs = "10.244.2.7", []service.PodIP{{IP: "10.244.2.7"}}
	now = now.Add(5 * time.Second)
	if _, err := c.ApplyPod(web0); err != nil {
		return err
	}
	if err := lookup(w, c, "web-0.nginx", dnsname.TypeA); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get pods -o wide")
	return c.PrintPods(w, "default")
}

// lookup resolves name from the dnsutils pod, as `nslookup` there would,
// and prints the answer.
func lookup(w io.Writer, c *svcnet.Cluster, name string, qtype dnsname.Type) error {
	res, err := c.Resolve(svcnet.Source{Pod: dnsutils}, name, qtype)
	if err != nil {
		return err
	}
	if res.Name == "" {
		// No candidate answered: show the one inside the pod's namespace.
		q := res.Queries[0]
		fmt.Fprintf(w, "  %s %s: %s\n", q.Name, qtype, q.Rcode)
		return nil
	}
	for _, r := range res.Response.Answer {
		fmt.Fprintf(w, "  %s\n", r)
	}
	return nil
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
