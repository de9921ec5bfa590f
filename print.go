package svcnet

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// PrintServices writes the Services of namespace ("" for all) as
// `kubectl get services -o wide` prints them.
func (c *Cluster) PrintServices(w io.Writer, namespace string) error {
	return service.PrintServices(w, c.Services(namespace), c.now(), service.PrintOptions{Wide: true, AllNamespaces: namespace == ""})
}

// kubectl's printers.GetNewTabWriter: minwidth 6, tabwidth 4, padding 3.
func newTabWriter(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) }

// PrintEndpointSlices writes the EndpointSlices of a namespace's Services
// as `kubectl get endpointslices` prints them (printEndpointSlice in
// kubectl's printers): NAME, ADDRESSTYPE, PORTS (the port numbers, or
// <unset>), ENDPOINTS (the first three addresses and "+ N more...") and
// AGE.
func (c *Cluster) PrintEndpointSlices(w io.Writer, namespace string) error {
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "NAME\tADDRESSTYPE\tPORTS\tENDPOINTS\tAGE")
	for _, svc := range c.Services(namespace) {
		for _, sl := range c.ctl.Slices(svc.Key()) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sl.Name, sl.AddressType, slicePorts(sl), sliceEndpoints(sl),
				service.Age(sl.CreationTimestamp, c.now()))
		}
	}
	return tw.Flush()
}

func slicePorts(sl *endpoints.Slice) string {
	if len(sl.Ports) == 0 {
		return "<unset>"
	}
	ps := make([]string, len(sl.Ports))
	for i, p := range sl.Ports {
		ps[i] = strconv.Itoa(int(p.Port))
	}
	return strings.Join(ps, ",")
}

func sliceEndpoints(sl *endpoints.Slice) string {
	var addrs []string
	for _, e := range sl.Endpoints {
		for _, a := range e.Addresses {
			addrs = append(addrs, a.String())
		}
	}
	if len(addrs) == 0 {
		return "<unset>"
	}
	if len(addrs) > 3 {
		return strings.Join(addrs[:3], ",") + " + " + strconv.Itoa(len(addrs)-3) + " more..."
	}
	return strings.Join(addrs, ",")
}

// PrintPods writes the pods of namespace ("" for all) as `kubectl get
// pods -o wide` prints them: NAME, READY (ready containers of all: svcnet
// knows the pod's Ready condition, so all or none), STATUS (the phase, or
// Terminating), RESTARTS, AGE, IP, NODE, NOMINATED NODE, READINESS GATES.
func (c *Cluster) PrintPods(w io.Writer, namespace string) error {
	tw := newTabWriter(w)
	if namespace == "" {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "NAME\tREADY\tSTATUS\tRESTARTS\tAGE\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES")
	for _, p := range c.Pods(namespace) {
		n := len(p.Spec.Containers)
		ready := 0
		if p.IsReady() {
			ready = n
		}
		status := string(p.Status.Phase)
		if status == "" {
			status = "Pending"
		}
		if p.IsTerminating() {
			status = "Terminating"
		}
		ip, node := orNone(p.Status.PodIP), orNone(p.Spec.NodeName)
		if namespace == "" {
			fmt.Fprintf(tw, "%s\t", p.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t0\t%s\t%s\t%s\t<none>\t<none>\n", p.Name, ready, n, status,
			service.Age(p.CreationTimestamp, c.now()), ip, node)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
