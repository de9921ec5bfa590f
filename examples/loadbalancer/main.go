// Command loadbalancer creates LoadBalancer Services in a
// service.Registry whose embedded PoolProvider hands out addresses from
// 192.0.2.127-192.0.2.130, as MetalLB does on a bare-metal cluster: one
// from the Kubernetes documentation, one with externalTrafficPolicy Local
// (and so a health-check nodePort), and one of another loadBalancerClass,
// which stays <pending> until its controller reports an address. It shows
// an external IP denied by policy (CVE-2020-8554), and lists the Services
// as `kubectl get services -o wide` does.
//
//	go run ./examples/loadbalancer
package main

import (
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/svcnet/svcnet/ipam"
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
	pool, err := service.NewPoolProvider(service.PoolProviderConfig{
		Ranges: []ipam.Range{ipam.MustParseRange("192.0.2.127-192.0.2.130")},
	})
	if err != nil {
		return err
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, err := service.NewRegistry(service.RegistryConfig{
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		LoadBalancer: pool,
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
		fmt.Fprintf(w, "created %s: ingress %v, healthCheckNodePort %d\n", s.Name, ingress(s), s.Spec.HealthCheckNodePort)
		now = now.Add(30 * time.Second)
	}
	get := func() error {
		fmt.Fprintln(w, "\n$ kubectl get services -o wide")
		return service.PrintServices(w, reg.List("default", service.Everything()), now, service.PrintOptions{Wide: true})
	}
	if err := get(); err != nil {
		return err
	}

	// The controller of example.com/cloud-lb reports its address through
	// the status subresource.
	now = now.Add(time.Minute)
	cloud, err := reg.Get("default", "cloud-lb")
	if err != nil {
		return err
	}
	cloud.Status.LoadBalancer.Ingress = []service.LoadBalancerIngress{{IP: "203.0.113.10"}}
	if _, err := reg.UpdateStatus(cloud); err != nil {
		return err
	}

	// Nobody but the provider sets the ingress of its own Services, and
	// no Service gains an external IP the policy does not allow.
	mine, err := reg.Get("default", "my-service")
	if err != nil {
		return err
	}
	mine.Status.LoadBalancer.Ingress[0].IP = "192.0.2.200"
	_, err = reg.UpdateStatus(mine)
	fmt.Fprintln(w, "\n"+err.Error())
	mine, err = reg.Get("default", "my-service")
	if err != nil {
		return err
	}
	mine.Spec.ExternalIPs = []string{"198.51.100.7"}
	_, err = reg.Update(mine)
	fmt.Fprintln(w, err)

	// Deleting a Service returns its address to the pool.
	if _, err := reg.Delete("default", "ingress-nginx"); err != nil {
		return err
	}
	fmt.Fprintf(w, "pool after deleting ingress-nginx: %v\n", pool.Allocated())
	return get()
}

func ingress(s *service.Service) []string {
	var out []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out
}
