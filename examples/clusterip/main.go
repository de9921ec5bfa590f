// Command clusterip creates ClusterIP Services in a dual-stack
// service.Registry — one from the Kubernetes documentation, a headless
// one, one with a chosen clusterIP and a dual-stack one — shows that a
// taken clusterIP is refused, and lists them as
// `kubectl get services -A -o wide` does.
//
//	go run ./examples/clusterip
package main

import (
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
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
	reg, err := service.NewRegistry(service.RegistryConfig{
		// kube-apiserver --service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:10:96::/112")},
		Rand:         rand.New(rand.NewPCG(2025, 3)),
		Clock:        func() time.Time { return now },
	})
	if err != nil {
		return err
	}
	objs, err := service.DecodeAll(manifests)
	if err != nil {
		return err
	}
	for _, o := range objs {
		ch, err := reg.Create(o.(*service.Service))
		if err != nil {
			return err
		}
		s := ch.New
		fmt.Fprintf(w, "created %s: clusterIPs %v, %s %v\n", s.Key(), s.Spec.ClusterIPs, *s.Spec.IPFamilyPolicy, s.Spec.IPFamilies)
		now = now.Add(90 * time.Second)
	}

	// The DNS Service's address is taken: a second Service may not have it.
	clash := objs[2].(*service.Service).DeepCopy()
	clash.Name = "dns-copy"
	_, err = reg.Create(clash)
	fmt.Fprintln(w, err)

	now = now.Add(10 * time.Minute)
	fmt.Fprintln(w, "\n$ kubectl get services -A -o wide")
	return svcnet.PrintServices(w, reg.List("", service.Everything()), now, svcnet.PrintOptions{Wide: true, AllNamespaces: true})
}
