// Command nodeport creates NodePort Services in a service.Registry — the
// one from the Kubernetes documentation with its nodePort 30007, and a DNS
// Service whose TCP and UDP ports share one nodePort — shows the requests
// the Registry refuses, turns a ClusterIP Service into a NodePort one and
// back, and lists the Services as `kubectl get services -o wide` does
// after each step.
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
	"time"

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
	reg, err := service.NewRegistry(service.RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")},
		// NodePortRange left zero: Kubernetes' default, 30000-32767.
		Rand:  rand.New(rand.NewPCG(2025, 3)),
		Clock: func() time.Time { return now },
	})
	if err != nil {
		return err
	}
	objs, err := service.DecodeAll(manifests)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if _, err := reg.Create(o.(*service.Service)); err != nil {
			return err
		}
		now = now.Add(time.Minute)
	}
	get := func() error {
		fmt.Fprintln(w, "$ kubectl get services -o wide")
		err := service.PrintServices(w, reg.List("default", service.Everything()), now, service.PrintOptions{Wide: true})
		fmt.Fprintln(w)
		return err
	}
	if err := get(); err != nil {
		return err
	}

	// Requests the Registry refuses: a nodePort another Service holds, one
	// outside the range.
	bad := objs[0].(*service.Service).DeepCopy()
	bad.Name = "taken"
	_, err = reg.Create(bad)
	fmt.Fprintln(w, err)
	bad.Name, bad.Spec.Ports[0].NodePort = "out-of-range", 40000
	_, err = reg.Create(bad)
	fmt.Fprintln(w, err)
	fmt.Fprintln(w)

	// ClusterIP -> NodePort allocates a nodePort per port...
	web, err := reg.Get("default", "web")
	if err != nil {
		return err
	}
	web.Spec.Type = service.ServiceTypeNodePort
	ch, err := reg.Update(web)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "web %s -> %s: nodePorts %d, %d\n", ch.Old.Spec.Type, ch.New.Spec.Type, ch.New.Spec.Ports[0].NodePort, ch.New.Spec.Ports[1].NodePort)

	// ...and NodePort -> ClusterIP releases them.
	web = ch.New
	web.Spec.Type = service.ServiceTypeClusterIP
	ch, err = reg.Update(web)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "web %s -> %s: nodePorts %d, %d\n\n", ch.Old.Spec.Type, ch.New.Spec.Type, ch.New.Spec.Ports[0].NodePort, ch.New.Spec.Ports[1].NodePort)

	now = now.Add(2 * time.Hour)
	return get()
}
