package svcnet

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// The kubectl get tables of the model's objects live here, in the one
// package that imports both service (Services, Pods, Nodes) and
// endpoints (EndpointSlices). The Cluster's Print methods print its own
// state; PrintServices prints any list of Services, such as a bare
// service.Registry's.

// PrintServices writes the Services of namespace ("" for all) as
// `kubectl get services -o wide` prints them.
func (c *Cluster) PrintServices(w io.Writer, namespace string) error {
	return PrintServices(w, c.Services(namespace), c.now(), PrintOptions{Wide: true, AllNamespaces: namespace == ""})
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
		for _, sl := range c.Slices(svc.Key()) {
			if namespace == "" {
				fmt.Fprintf(tw, "%s\t", sl.Namespace)
			}
			born := c.sliceBorn[service.NamespacedName{Namespace: sl.Namespace, Name: sl.Name}]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sl.Name, sl.AddressType, slicePorts(sl), sliceEndpoints(sl),
				age(born, c.now()))
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
			age(p.CreationTimestamp, c.now()), ip, node)
	}
	return tw.Flush()
}

// PrintNodes writes the nodes, sorted by name, as `kubectl get nodes -o
// wide` prints them (printNode in kubectl's printers): NAME; STATUS, the
// Ready condition as Ready, NotReady or Unknown when the node has none,
// then SchedulingDisabled when spec.unschedulable; ROLES, the
// node-role.kubernetes.io/<role> and kubernetes.io/role labels, sorted,
// or <none>; AGE; VERSION, INTERNAL-IP and EXTERNAL-IP (the first address
// of each type, or <none>), OS-IMAGE, KERNEL-VERSION and
// CONTAINER-RUNTIME, from status.nodeInfo, <unknown> when unset.
func (c *Cluster) PrintNodes(w io.Writer) error {
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "NAME\tSTATUS\tROLES\tAGE\tVERSION\tINTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME")
	for _, n := range c.Nodes() {
		var info struct {
			KubeletVersion          string `json:"kubeletVersion"`
			OSImage                 string `json:"osImage"`
			KernelVersion           string `json:"kernelVersion"`
			ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
		}
		if len(n.Status.NodeInfo) > 0 {
			_ = json.Unmarshal(n.Status.NodeInfo, &info) // unreadable: printed as unset
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, nodeStatus(n), nodeRoles(n),
			age(n.CreationTimestamp, c.now()), info.KubeletVersion,
			orNone(nodeAddress(n, service.NodeInternalIP)), orNone(nodeAddress(n, service.NodeExternalIP)),
			orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion))
	}
	return tw.Flush()
}

// nodeStatus is printNode's STATUS: of the conditions kubectl shows
// (Ready only), "Ready" or "NotReady", "Unknown" without any, then
// "SchedulingDisabled" for a cordoned node.
func nodeStatus(n *service.Node) string {
	var status []string
	for _, cond := range n.Status.Conditions {
		if cond.Type == service.NodeReady {
			if cond.Status == service.ConditionTrue {
				status = []string{"Ready"}
			} else {
				status = []string{"NotReady"}
			}
		}
	}
	if len(status) == 0 {
		status = []string{"Unknown"}
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// nodeRoles is kubectl's findNodeRoles, joined with commas or <none>.
func nodeRoles(n *service.Node) string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	return orNone(strings.Join(slices.Compact(roles), ","))
}

// nodeAddress returns the node's first address of the type, or "".
func nodeAddress(n *service.Node, typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// PrintOptions chooses the columns of PrintServices.
type PrintOptions struct {
	// Wide adds the SELECTOR column and stops shortening EXTERNAL-IP, as
	// kubectl's -o wide.
	Wide bool
	// AllNamespaces adds the NAMESPACE column first, as kubectl's -A.
	AllNamespaces bool
}

// PrintServices writes svcs as `kubectl get services` prints them
// (printService in pkg/printers/internalversion/printers.go), in the
// given order, aligned as kubectl's tab writer aligns them:
//
//	NAME         TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)        AGE   SELECTOR
//	my-service   LoadBalancer   10.0.171.239  192.0.2.127   80:30007/TCP   5m    app=web
//
// CLUSTER-IP is the first clusterIP (None for headless, <none> for
// ExternalName); EXTERNAL-IP is the externalIPs, the load balancer's
// ingress (sorted, with the externalIPs after them) or <pending> for a
// LoadBalancer, and the externalName for an ExternalName Service; PORT(S)
// is port[:nodePort]/protocol, comma-separated; AGE is measured from
// metadata.creationTimestamp to now in kubectl's human form (<unknown>
// when the timestamp is zero); SELECTOR (Wide) is the selector's
// key=value pairs, sorted, or <none>. It returns the first write error.
func PrintServices(w io.Writer, svcs []*service.Service, now time.Time, opts PrintOptions) error {
	tw := newTabWriter(w)
	header := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}
	if opts.AllNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if opts.Wide {
		header = append(header, "SELECTOR")
	}
	if _, err := io.WriteString(tw, strings.Join(header, "\t")+"\n"); err != nil {
		return err
	}
	for _, svc := range svcs {
		if _, err := io.WriteString(tw, strings.Join(serviceRow(svc, now, opts), "\t")+"\n"); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func serviceRow(svc *service.Service, now time.Time, opts PrintOptions) []string {
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	ports := portsString(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	row := []string{svc.Name, string(svc.Spec.Type), clusterIP, externalIPString(svc, opts.Wide), ports, age(svc.CreationTimestamp, now)}
	if opts.AllNamespaces {
		row = append([]string{svc.Namespace}, row...)
	}
	if opts.Wide {
		row = append(row, selectorString(svc.Spec.Selector))
	}
	return row
}

// loadBalancerWidth is the width kubectl cuts EXTERNAL-IP to without -o wide.
const loadBalancerWidth = 16

// externalIPString is kubectl's getServiceExternalIP.
func externalIPString(svc *service.Service, wide bool) string {
	switch svc.Spec.Type {
	case service.ServiceTypeClusterIP, service.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case service.ServiceTypeLoadBalancer:
		var ing []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			switch {
			case in.IP != "":
				ing = append(ing, in.IP)
			case in.Hostname != "":
				ing = append(ing, in.Hostname)
			}
		}
		slices.Sort(ing)
		ing = slices.Compact(ing)
		lb := strings.Join(ing, ",")
		if !wide && len(lb) > loadBalancerWidth {
			lb = lb[:loadBalancerWidth-3] + "..."
		}
		if len(svc.Spec.ExternalIPs) > 0 {
			var all []string
			if lb != "" {
				all = strings.Split(lb, ",")
			}
			return strings.Join(append(all, svc.Spec.ExternalIPs...), ",")
		}
		if lb != "" {
			return lb
		}
		return "<pending>"
	case service.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// portsString is kubectl's makePortString: 80/TCP, or 80:30080/TCP with a
// nodePort.
func portsString(ports []service.ServicePort) string {
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(p.Port)))
		if p.NodePort > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(int(p.NodePort)))
		}
		b.WriteByte('/')
		b.WriteString(string(p.Protocol))
	}
	return b.String()
}

// selectorString is apimachinery's labels.FormatLabels: key=value pairs
// sorted, or <none>.
func selectorString(ls service.Labels) string {
	if len(ls) == 0 {
		return "<none>"
	}
	pairs := make([]string, 0, len(ls))
	for k, v := range ls {
		pairs = append(pairs, k+"="+v)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// age formats the time from created to now as kubectl's AGE column does,
// or "<unknown>" when created is zero.
func age(created, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return humanDuration(now.Sub(created))
}

// humanDuration is apimachinery's duration.HumanDuration, which kubectl
// prints AGE with: about two significant figures.
func humanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < -1 {
		return "<invalid>"
	} else if seconds < 0 {
		return "0s"
	} else if seconds < 60*2 {
		return fmt.Sprintf("%ds", seconds)
	}
	minutes := int(d / time.Minute)
	if minutes < 10 {
		if s := int(d/time.Second) % 60; s != 0 {
			return fmt.Sprintf("%dm%ds", minutes, s)
		}
		return fmt.Sprintf("%dm", minutes)
	} else if minutes < 60*3 {
		return fmt.Sprintf("%dm", minutes)
	}
	hours := int(d / time.Hour)
	switch {
	case hours < 8:
		if m := int(d/time.Minute) % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", hours, m)
		}
		return fmt.Sprintf("%dh", hours)
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	case hours < 24*8:
		if h := hours % 24; h != 0 {
			return fmt.Sprintf("%dd%dh", hours/24, h)
		}
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*2:
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*8:
		if dy := (hours / 24) % 365; dy != 0 {
			return fmt.Sprintf("%dy%dd", hours/24/365, dy)
		}
		return fmt.Sprintf("%dy", hours/24/365)
	}
	return fmt.Sprintf("%dy", hours/24/365)
}
