// Command externalname creates the ExternalName Service of the Kubernetes
// documentation in a svcnet.Cluster, and connects to it from a pod: the
// name is a CNAME that leaves the cluster, so the pod's resolver hands it
// to the upstream DNS and no kube-proxy is involved. Then it moves the
// database into the cluster: the Service becomes a NodePort Service,
// which allocates a clusterIP and a nodePort, and the same name now
// routes to the database pod; finally it becomes an ExternalName again,
// which releases both (its EndpointSlices stay, unsynced, as in
// Kubernetes). After each step it lists the Services as
// `kubectl get services -n prod -o wide` does.
//
//	go run ./examples/externalname
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
var manifest []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

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
	objs, err := service.DecodeAll(manifest)
	if err != nil {
		return err
	}
	var ch svcnet.Changes
	for _, o := range objs {
		switch o := o.(type) {
		case *service.Service:
			ch, err = c.CreateService(o)
		case *service.Node:
			_, err = c.AddNode(o)
		case *service.Pod:
			_, err = c.ApplyPod(o)
		}
		if err != nil {
			return err
		}
	}
	report := func(ch svcnet.Changes) error {
		sc := ch.Services[0]
		s := sc.New
		fmt.Fprintf(w, "%s %s (resourceVersion %s): type %s, clusterIPs %v\n", sc.Type, s.Key(), s.ResourceVersion, s.Spec.Type, s.Spec.ClusterIPs)
		fmt.Fprintln(w, "$ kubectl get services -n prod -o wide")
		err := c.PrintServices(w, "prod")
		fmt.Fprintln(w)
		return err
	}
	// billing-0 connects to "my-service:5432", as its configuration says.
	connect := func() error {
		res, err := c.Resolve(svcnet.Source{Pod: service.NamespacedName{Namespace: "prod", Name: "billing-0"}}, "my-service", dnsname.TypeA)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "billing-0 asks the cluster DNS for my-service (A), through its search path:\n%s\n", indent(res.Response.String()))
		tr, err := c.Dial(svcnet.FromPod("prod", "billing-0"), "my-service:5432")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "billing-0 → my-service:5432:\n%s\n\n", indent(tr.String()))
		return nil
	}
	if err := report(ch); err != nil {
		return err
	}
	if err := connect(); err != nil {
		return err
	}

	// The database moves into the cluster, behind a NodePort Service.
	now = now.Add(24 * time.Hour)
	svc := ch.Services[0].New
	svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeNodePort, ""
	svc.Spec.Selector = service.Labels{"app.kubernetes.io/name": "my-database"}
	svc.Spec.Ports = []service.ServicePort{{Name: "postgres", Port: 5432}}
	if ch, err = c.UpdateService(svc); err != nil {
		return err
	}
	if err := report(ch); err != nil {
		return err
	}
	if err := connect(); err != nil {
		return err
	}
	np := ch.Services[0].New.Spec.Ports[0].NodePort
	tr, err := c.Dial(svcnet.FromAddr(netip.MustParseAddr("203.0.113.7")), fmt.Sprintf("192.168.1.11:%d", np))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "from outside, node-1's nodePort %d:\n%s\n\n", np, indent(tr.String()))

	// And back out: the clusterIP and the nodePort are released. The
	// slices stay as they were, as Kubernetes' EndpointSlice controller
	// stops syncing a Service that becomes ExternalName (syncService);
	// they go when the Service is deleted.
	now = now.Add(3 * time.Hour)
	svc = ch.Services[0].New
	svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeExternalName, "my.database.example.com"
	svc.Spec.Selector = nil
	if ch, err = c.UpdateService(svc); err != nil {
		return err
	}
	sc := ch.Services[0]
	fmt.Fprintf(w, "released clusterIP %s and nodePort %d\n", sc.Old.Spec.ClusterIP, sc.Old.Spec.Ports[0].NodePort)
	for _, slc := range ch.Slices {
		fmt.Fprintf(w, "endpointslice/%s %s\n", slc.Old.Name, slc.Kind)
	}
	if err := report(ch); err != nil {
		return err
	}
	return connect()
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
