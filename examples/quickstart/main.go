// Command quickstart runs a small cluster in a svcnet.Cluster: it applies
// a manifest stream of Nodes, Pods and a Service, lists them as kubectl
// does, resolves the Service's name from a pod through its search path,
// routes 10 000 connections through the pod's node and prints how they
// spread over the backends; then it kills a backend pod and shows the
// EndpointSlice, the DNS and each node's kube-proxy follow, each at its
// own sync.
//
//	go run ./examples/quickstart                 # the bundled manifests
//	go run ./examples/quickstart my-manifests.yaml
//
// Your manifests need a Service and the pods behind it (with status:
// podIP, podIPs, a Ready condition and spec.nodeName) and their Nodes. The
// client is the first pod of the Service's namespace that the Service does
// not select. The run is deterministic: a seeded random source and a fixed
// clock.
package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/dnsname"
	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

//go:embed manifests.yaml
var bundled []byte

func main() {
	data := bundled
	if len(os.Args) > 1 {
		var err error
		if data, err = os.ReadFile(os.Args[1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := run(os.Stdout, data); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// connections is how many connections the spread is measured over.
const connections = 10_000

func run(w io.Writer, data []byte) error {
	objs, err := service.DecodeAll(data)
	if err != nil {
		return err
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := svcnet.NewCluster(svcnet.Config{
		// kubeadm's --service-cidr, and a second family for dual-stack manifests.
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("fd00:10:96::/112")},
		PodCIDRs:     podCIDRs(objs),
		NodeCIDRs:    nodeAddrs(objs),
		Rand:         rand.New(rand.NewPCG(2025, 3)),
		Clock:        func() time.Time { return now },
		// Nodes and the DNS apply changes when told (SyncAllNodes,
		// SyncDNS), so that the run can show them lag and catch up.
	})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "$ kubectl apply -f manifests.yaml")
	if _, err := c.Apply(data); err != nil {
		return err
	}
	var svc *service.Service
	for _, o := range objs {
		_, kind := o.GroupVersionKind()
		fmt.Fprintf(w, "%s/%s created\n", strings.ToLower(kind), o.Meta().Name)
		if s, ok := o.(*service.Service); ok && svc == nil {
			ns := cmpOr(s.Namespace, "default")
			if svc, err = c.Service(service.NamespacedName{Namespace: ns, Name: s.Name}); err != nil {
				return err
			}
		}
	}
	if svc == nil {
		return errors.New("quickstart: the manifests hold no Service")
	}
	c.SyncAllNodes()
	if err := c.SyncDNS(); err != nil {
		return err
	}
	now = now.Add(time.Minute)
	if err := get(w, c, svc.Namespace); err != nil {
		return err
	}

	client, err := clientOf(c, svc)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFrom pod %s, %q resolves through the pod's search path:\n", client, svc.Name)
	res, err := c.Resolve(svcnet.Source{Pod: client}, svc.Name, dnsname.TypeA)
	if err != nil {
		return err
	}
	for _, q := range res.Queries {
		fmt.Fprintln(w, "  "+q.String())
	}
	for _, r := range res.Response.Answer {
		fmt.Fprintln(w, "  "+r.String())
	}

	if len(svc.Spec.Ports) == 0 {
		return fmt.Errorf("quickstart: Service %s has no port", svc.Key())
	}
	target := fmt.Sprintf("%s:%d", svc.Name, svc.Spec.Ports[0].Port)
	fmt.Fprintf(w, "\n%d connections from %s to %s (kube-proxy's random choice, as its iptables mode):\n", connections, client, target)
	first, err := c.Dial(svcnet.FromPod(client.Namespace, client.Name), target)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "  one of them:")
	for _, s := range first.Steps {
		fmt.Fprintln(w, "    "+s)
	}
	if err := spread(w, c, client, target, connections); err != nil {
		return err
	}

	// Kill a backend: the controller rewrites the slice at once; the DNS
	// and the nodes follow at their own sync.
	victim, ok := backend(c, svc, client)
	if !ok {
		fmt.Fprintln(w, "\nno backend pod to kill")
		return nil
	}
	pod, err := c.Pod(victim)
	if err != nil {
		return err
	}
	now = now.Add(time.Minute)
	fmt.Fprintf(w, "\n$ kubectl delete pod %s\n", victim.Name)
	ch, err := c.DeletePod(victim)
	if err != nil {
		return err
	}
	for _, sc := range ch.Slices {
		fmt.Fprintf(w, "endpointslice/%s %s: %s\n", sliceName(sc), sc.Kind, addrs(sc.Slice))
	}
	fmt.Fprintln(w, "\n$ kubectl get endpointslices")
	if err := c.PrintEndpointSlices(w, svc.Namespace); err != nil {
		return err
	}

	ip := pod.Status.PodIPs[0].IP
	epName := dnsname.EndpointName(strings.NewReplacer(".", "-", ":", "-").Replace(ip), svc.Name, svc.Namespace, c.DNS().Zone())
	fmt.Fprintf(w, "\nThe DNS has %d changes to apply; until it does, %s's endpoint name still answers:\n", c.DNSPending(), victim.Name)
	fmt.Fprintln(w, "  "+answer(c, epName))
	if err := c.SyncDNS(); err != nil {
		return err
	}
	fmt.Fprintln(w, "after the DNS syncs:")
	fmt.Fprintln(w, "  "+answer(c, epName))

	fmt.Fprintln(w, "\nThe nodes have not synced either:")
	for _, n := range c.Nodes() {
		stale, err := c.NodeStale(n.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s is %d table %s behind\n", n.Name, stale, plural(stale, "version", "versions"))
	}
	stale := 0
	for range 1000 {
		tr, err := c.Dial(svcnet.FromPod(client.Namespace, client.Name), target)
		if err != nil {
			return err
		}
		if tr.Served() && tr.Route.Backend.Addr.Addr().String() == ip {
			stale++
		}
	}
	fmt.Fprintf(w, "so %d of 1000 connections from %s still go to %s's address, which answers no more.\n", stale, client, victim.Name)
	c.SyncAllNodes()
	fmt.Fprintf(w, "\nAfter every node syncs, %d connections:\n", connections)
	return spread(w, c, client, target, connections)
}

func get(w io.Writer, c *svcnet.Cluster, ns string) error {
	fmt.Fprintln(w, "\n$ kubectl get services -o wide")
	if err := c.PrintServices(w, ns); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get pods -A -o wide")
	if err := c.PrintPods(w, ""); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n$ kubectl get endpointslices")
	return c.PrintEndpointSlices(w, ns)
}

// spread makes n connections and prints where they went.
func spread(w io.Writer, c *svcnet.Cluster, from service.NamespacedName, target string, n int) error {
	type row struct {
		pod, addr, node string
		count           int
	}
	rows := map[string]*row{}
	for range n {
		tr, err := c.Dial(svcnet.FromPod(from.Namespace, from.Name), target)
		if err != nil {
			return err
		}
		key := tr.Route.Verdict.String()
		r := &row{pod: "(" + key + ")"}
		if tr.Served() {
			key = tr.Pod.String()
			r = &row{pod: tr.Pod.Name, addr: tr.Route.Backend.Addr.String(), node: tr.Route.Backend.Node}
			if tr.Direct {
				r.addr = tr.Dst.String()
			}
		}
		if rows[key] == nil {
			rows[key] = r
		}
		rows[key].count++
	}
	for _, k := range slices.Sorted(mapKeys(rows)) {
		r := rows[k]
		fmt.Fprintf(w, "  %-14s %-18s %-8s %5d  %4.1f%%\n", r.pod, r.addr, r.node, r.count, 100*float64(r.count)/float64(n))
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// clientOf returns the pod to connect from: the first of the Service's
// namespace that it does not select, or else the first pod at all.
func clientOf(c *svcnet.Cluster, svc *service.Service) (service.NamespacedName, error) {
	sel := service.SelectorFromSet(svc.Spec.Selector)
	pods := c.Pods(svc.Namespace)
	for _, p := range pods {
		if svc.Spec.Selector == nil || !sel.Matches(p.Labels) {
			return p.Key(), nil
		}
	}
	if all := c.Pods(""); len(all) > 0 {
		return all[0].Key(), nil
	}
	return service.NamespacedName{}, errors.New("quickstart: the manifests hold no pod to connect from")
}

// backend returns the Service's second ready backend pod (the first if
// there is one only), other than the client.
func backend(c *svcnet.Cluster, svc *service.Service, client service.NamespacedName) (service.NamespacedName, bool) {
	var keys []service.NamespacedName
	for _, sl := range c.Slices(svc.Key()) {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready && e.TargetRef != nil {
				k := service.NamespacedName{Namespace: e.TargetRef.Namespace, Name: e.TargetRef.Name}
				if k != client && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.SortFunc(keys, func(a, b service.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	switch len(keys) {
	case 0:
		return service.NamespacedName{}, false
	case 1:
		return keys[0], true
	}
	return keys[1], true
}

func answer(c *svcnet.Cluster, name string) string {
	resp := c.DNS().Resolve(name, dnsname.TypeA)
	if len(resp.Answer) == 0 {
		return fmt.Sprintf("%s A: %s", name, resp.Rcode)
	}
	return resp.Answer[0].String()
}

func sliceName(sc endpoints.Change) string {
	if sc.Slice != nil {
		return sc.Slice.Name
	}
	return sc.Old.Name
}

func addrs(sl *endpoints.Slice) string {
	if sl == nil {
		return "(gone)"
	}
	var out []string
	for _, e := range sl.Endpoints {
		out = append(out, e.Address().String())
	}
	if len(out) == 0 {
		return "(no endpoints)"
	}
	return strings.Join(out, ",")
}

// podCIDRs returns the pod ranges: the nodes' spec.podCIDRs, and the
// address of any pod outside them, so that every pod of the manifests is
// inside the cluster.
func podCIDRs(objs []service.Object) []netip.Prefix {
	var out []netip.Prefix
	for _, o := range objs {
		if n, ok := o.(*service.Node); ok {
			for _, s := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
				if p, err := netip.ParsePrefix(s); err == nil && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	for _, o := range objs {
		if p, ok := o.(*service.Pod); ok {
			for _, ip := range p.Status.PodIPs {
				a, err := netip.ParseAddr(ip.IP)
				if err == nil && !slices.ContainsFunc(out, func(p netip.Prefix) bool { return p.Contains(a) }) {
					out = append(out, netip.PrefixFrom(a, a.BitLen()))
				}
			}
		}
	}
	return out
}

// nodeAddrs returns the nodes' addresses, as single-address ranges.
func nodeAddrs(objs []service.Object) []netip.Prefix {
	var out []netip.Prefix
	for _, o := range objs {
		if n, ok := o.(*service.Node); ok {
			for _, a := range n.Status.Addresses {
				if ip, err := netip.ParseAddr(a.Address); err == nil {
					out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
				}
			}
		}
	}
	return out
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
