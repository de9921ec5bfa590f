// Command externalname creates the ExternalName Service of the Kubernetes
// documentation in a service.Registry, then moves the database into the
// cluster: the Service becomes a NodePort Service, which allocates a
// clusterIP and a nodePort, and finally an ExternalName again, which
// releases both. After each step it lists the Services as
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
	"time"

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
	reg, err := service.NewRegistry(service.RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		Rand:         rand.New(rand.NewPCG(2025, 3)),
		Clock:        func() time.Time { return now },
	})
	if err != nil {
		return err
	}
	obj, err := service.Decode(manifest)
	if err != nil {
		return err
	}
	ch, err := reg.Create(obj.(*service.Service))
	if err != nil {
		return err
	}
	report := func(ch service.Change) error {
		s := ch.New
		fmt.Fprintf(w, "%s %s (resourceVersion %s): type %s, clusterIPs %v\n", ch.Type, s.Key(), s.ResourceVersion, s.Spec.Type, s.Spec.ClusterIPs)
		fmt.Fprintln(w, "$ kubectl get services -n prod -o wide")
		err := service.PrintServices(w, reg.List("prod", service.Everything()), now, service.PrintOptions{Wide: true})
		fmt.Fprintln(w)
		return err
	}
	if err := report(ch); err != nil {
		return err
	}

	// The database moves into the cluster, behind a NodePort Service.
	now = now.Add(24 * time.Hour)
	svc := ch.New
	svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeNodePort, ""
	svc.Spec.Selector = service.Labels{"app.kubernetes.io/name": "my-database"}
	svc.Spec.Ports = []service.ServicePort{{Name: "postgres", Port: 5432}}
	if ch, err = reg.Update(svc); err != nil {
		return err
	}
	if err := report(ch); err != nil {
		return err
	}

	// And back out: the clusterIP and the nodePort are released.
	now = now.Add(3 * time.Hour)
	svc = ch.New
	svc.Spec.Type, svc.Spec.ExternalName = service.ServiceTypeExternalName, "my.database.example.com"
	svc.Spec.Selector = nil
	if ch, err = reg.Update(svc); err != nil {
		return err
	}
	fmt.Fprintf(w, "released clusterIP %s and nodePort %d\n", ch.Old.Spec.ClusterIP, ch.Old.Spec.Ports[0].NodePort)
	return report(ch)
}
