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

// PrintEndpointSlices writes the EndpointSlices of the Services of
// namespace ("" for all, with a NAMESPACE column) as `kubectl get
// endpointslices` prints them (printEndpointSlice in kubectl's printers):
// NAME, ADDRESSTYPE, PORTS (the first three port numbers), ENDPOINTS (the
// first three addresses), each list followed by "+ N more..." when
// longer and <unset> when empty, and AGE, since the cluster's clock saw
// the slice created.
func (c *Cluster) PrintEndpointSlices(w io.Writer, namespace string) error {
	tw := newTabWriter(w)
	if namespace == "" {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "NAME\tADDRESSTYPE\tPORTS\tENDPOINTS\tAGE")
	for _, svc := range c.Services(namespace) {
		for _, sl := range c.ctl.Slices(svc.Key()) {
			if namespace == "" {
				fmt.Fprintf(tw, "%s\t", sl.Namespace)
			}
			born := c.sliceBorn[service.NamespacedName{Namespace: sl.Namespace, Name: sl.Name}]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sl.Name, sl.AddressType, slicePorts(sl), sliceEndpoints(sl),
				service.Age(born, c.now()))
		}
	}
	return tw.Flush()
}

// slicePorts is kubectl's formatDiscoveryPorts: a port without a number
// prints its name, or "*".
func slicePorts(sl *endpoints.Slice) string {
	ps := make([]string, 0, len(sl.Ports))
	for _, p := range sl.Ports {
		switch {
		case p.Port != 0:
			ps = append(ps, strconv.Itoa(int(p.Port)))
		case p.Name != "":
			ps = append(ps, p.Name)
		default:
			ps = append(ps, "*")
		}
	}
	return listWithMore(ps)
}

// sliceEndpoints is kubectl's formatDiscoveryEndpoints.
func sliceEndpoints(sl *endpoints.Slice) string {
	var addrs []string
	for _, e := range sl.Endpoints {
		for _, a := range e.Addresses {
			addrs = append(addrs, a.String())
		}
	}
	return listWithMore(addrs)
}

// listWithMore is kubectl's listWithMoreString with its maximum of three.
func listWithMore(list []string) string {
	switch {
	case len(list) == 0:
		return "<unset>"
	case len(list) > 3:
		return strings.Join(list[:3], ",") + " + " + strconv.Itoa(len(list)-3) + " more..."
	}
	return strings.Join(list, ",")
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
