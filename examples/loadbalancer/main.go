// Command loadbalancer creates LoadBalancer Services in a svcnet.Cluster
// whose embedded PoolProvider hands out addresses from
// 192.0.2.127-192.0.2.130, as MetalLB does on a bare-metal cluster: one
// from the Kubernetes documentation, one with externalTrafficPolicy Local
// (and so a health-check nodePort), and one of another loadBalancerClass,
// which stays <pending> until its controller reports an address. It
// connects to each EXTERNAL-IP from outside the cluster — the load
// balancer skips the nodes whose health check fails under the Local
// policy — shows an external IP denied by policy (CVE-2020-8554), and
// lists the Services as `kubectl get services -o wide` does.
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
	"strings"
	"time"

	"github.com/svcnet/svcnet"
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
	c, err := svcnet.NewCluster(svcnet.Config{
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		NodeCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")},
		LoadBalancer:  pool,
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
	for _, o := range objs {
		switch o := o.(type) {
		case *service.Service:
			ch, err := c.CreateService(o)
			if err != nil {
				return err
			}
			s := ch.Services[0].New
			fmt.Fprintf(w, "created %s: ingress %v, healthCheckNodePort %d\n", s.Name, ingress(s), s.Spec.HealthCheckNodePort)
			now = now.Add(30 * time.Second)
		case *service.Node:
			if _, err := c.AddNode(o); err != nil {
				return err
			}
		case *service.Pod:
			if _, err := c.ApplyPod(o); err != nil {
				return err
			}
		}
	}
	get := func() error {
		fmt.Fprintln(w, "\n$ kubectl get services -o wide")
		return c.PrintServices(w, "default")
	}
	if err := get(); err != nil {
		return err
	}

	// From outside: the pool's addresses answer. my-service spreads over
	// both MyApp pods; ingress-nginx keeps client addresses
	// (externalTrafficPolicy Local), so the load balancer sends only to
	// node-2, the one node whose health check passes.
	fmt.Fprintln(w, "\nFrom outside the cluster:")
	tr, err := c.Dial(svcnet.FromAddr(netip.MustParseAddr("203.0.113.6")), "192.0.2.128:443")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, indent(tr.String()))
	for _, target := range []string{"192.0.2.127:80", "192.0.2.128:80", "192.0.2.128:443"} {
		if err := curl(w, c, target); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "  (cloud-lb is <pending>: no address answers for it yet)")

	// The controller of example.com/cloud-lb reports its address through
	// the status subresource; it answers at once.
	now = now.Add(time.Minute)
	cloud, err := c.Service(service.NamespacedName{Namespace: "default", Name: "cloud-lb"})
	if err != nil {
		return err
	}
	cloud.Status.LoadBalancer.Ingress = []service.LoadBalancerIngress{{IP: "203.0.113.10"}}
	if _, err := c.UpdateServiceStatus(cloud); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nexample.com/cloud-lb reports 203.0.113.10:")
	if err := curl(w, c, "203.0.113.10:8080"); err != nil {
		return err
	}

	// Nobody but the provider sets the ingress of its own Services, and
	// no Service gains an external IP the policy does not allow.
	mine, err := c.Service(service.NamespacedName{Namespace: "default", Name: "my-service"})
	if err != nil {
		return err
	}
	mine.Status.LoadBalancer.Ingress[0].IP = "192.0.2.200"
	_, err = c.UpdateServiceStatus(mine)
	fmt.Fprintln(w, "\n"+err.Error())
	mine, err = c.Service(service.NamespacedName{Namespace: "default", Name: "my-service"})
	if err != nil {
		return err
	}
	mine.Spec.ExternalIPs = []string{"198.51.100.7"}
	_, err = c.UpdateService(mine)
	fmt.Fprintln(w, err)

	// Deleting a Service returns its address to the pool, and its
	// frontends leave every node.
	if _, err := c.DeleteService(service.NamespacedName{Namespace: "default", Name: "ingress-nginx"}); err != nil {
		return err
	}
	fmt.Fprintf(w, "pool after deleting ingress-nginx: %v\n", pool.Allocated())
	if err := curl(w, c, "192.0.2.128:80"); err != nil {
		return err
	}
	return get()
}

// curl connects to target from six clients outside the cluster and
// prints where the connections went: node→pod, or the verdict.
func curl(w io.Writer, c *svcnet.Cluster, target string) error {
	got := map[string]int{}
	var order []string
	for i := range 6 {
		tr, err := c.Dial(svcnet.FromAddr(netip.AddrFrom4([4]byte{203, 0, 113, byte(20 + i)})), target)
		if err != nil {
			return err
		}
		where := tr.Route.Verdict.String()
		if tr.Served() {
			where = tr.Node + "→" + tr.Pod.Name
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
	fmt.Fprintf(w, "  %-17s %s\n", target, strings.Join(parts, ", "))
	return nil
}

func ingress(s *service.Service) []string {
	var out []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
