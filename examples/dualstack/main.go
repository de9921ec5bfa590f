// Command dualstack runs Services of both IP families in a dual-stack
// svcnet.Cluster (KEP-563): the ClusterIPs each family policy gets, the
// EndpointSlices per address family, the A and AAAA records, and
// connections over each family — from a dual-stack pod, and from an
// IPv6-only pod, which reaches the Services that have an IPv6 address and
// not the one that has none.
//
//	go run ./examples/dualstack
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

func run(w io.Writer) error {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		// --service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112: IPv4 is primary.
		ServiceCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16"), netip.MustParsePrefix("fd00:10:96::/112")},
		PodCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:244::/56")},
		Rand:          rand.New(rand.NewPCG(2025, 3)),
		Clock:         func() time.Time { return now },
		ImmediateSync: true,
	})
	if err != nil {
		return err
	}
	ch, err := c.Apply(manifests)
	if err != nil {
		return err
	}
	for _, sc := range ch.Services {
		s := sc.New
		fmt.Fprintf(w, "created %s: %s %v, clusterIPs %v\n", s.Name, *s.Spec.IPFamilyPolicy, s.Spec.IPFamilies, s.Spec.ClusterIPs)
	}
	now = now.Add(time.Minute)
	fmt.Fprintln(w, "\n$ kubectl get services -o wide")
	if err := c.PrintServices(w, "default"); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get endpointslices   # one slice per family; myapp-legacy has no IPv6 address")
	if err := c.PrintEndpointSlices(w, "default"); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nDNS:")
	for _, s := range c.Services("default") {
		name := dnsname.ServiceName(s.Name, s.Namespace, "")
		for _, qt := range []dnsname.Type{dnsname.TypeA, dnsname.TypeAAAA} {
			resp := c.DNS().Resolve(name, qt)
			if len(resp.Answer) == 0 {
				fmt.Fprintf(w, "  %s %s: no records (%s)\n", name, qt, noData(resp))
			}
			for _, r := range resp.Answer {
				fmt.Fprintf(w, "  %s\n", r)
			}
		}
	}

	dual, err := c.Service(service.NamespacedName{Namespace: "default", Name: "my-service-dual"})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nFrom the dual-stack pod client, 12 connections each:")
	for _, target := range []string{
		"my-service-dual:80",                  // A first, the client's primary family: IPv4
		hostPort(dual.Spec.ClusterIPs[1], 80), // the IPv6 ClusterIP
		"my-service-v6-first:80",              // A first still: the Service's order does not matter
		"my-service-v6:80",                    // no A record: AAAA
	} {
		if err := spread(w, c, "client", target); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nFrom the IPv6-only pod client-v6, which asks for AAAA records only:")
	for _, target := range []string{"my-service-dual:80", "my-service-v6-first:80", "my-service:80"} {
		if err := spread(w, c, "client-v6", target); err != nil {
			return err
		}
	}
	tr, err := c.Dial(svcnet.FromPod("default", "client-v6"), "my-service:80")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, indent(tr.String()))
	return nil
}

// spread makes 12 connections from a pod to target and prints the
// backends they reached.
func spread(w io.Writer, c *svcnet.Cluster, pod, target string) error {
	got := map[string]int{}
	var order []string
	var dst netip.AddrPort
	for range 12 {
		tr, err := c.Dial(svcnet.FromPod("default", pod), target)
		if err != nil {
			return err
		}
		where := "no answer"
		if tr.DNSFailure {
			where = "DNS: no address"
		} else if tr.Served() {
			where = tr.Route.Backend.Addr.String()
		} else {
			where = tr.Route.Verdict.String()
		}
		dst = tr.Dst
		if got[where] == 0 {
			order = append(order, where)
		}
		got[where]++
	}
	var parts []string
	for _, o := range order {
		parts = append(parts, fmt.Sprintf("%d× %s", got[o], o))
	}
	via := ""
	if dst.IsValid() && dst.String() != target {
		via = " (" + dst.String() + ")"
	}
	fmt.Fprintf(w, "  %s%s: %s\n", target, via, strings.Join(parts, ", "))
	return nil
}

func noData(r dnsname.Response) string {
	if r.NoData() {
		return "NODATA"
	}
	return r.Rcode.String()
}

func hostPort(ip string, port uint16) string {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), port).String()
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
