package service

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

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
func PrintServices(w io.Writer, svcs []*Service, now time.Time, opts PrintOptions) error {
	// kubectl's printers.GetNewTabWriter: minwidth 6, tabwidth 4, padding 3.
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
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

func serviceRow(svc *Service, now time.Time, opts PrintOptions) []string {
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	ports := portsString(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	row := []string{svc.Name, string(svc.Spec.Type), clusterIP, externalIPString(svc, opts.Wide), ports, Age(svc.CreationTimestamp, now)}
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
func externalIPString(svc *Service, wide bool) string {
	switch svc.Spec.Type {
	case ServiceTypeClusterIP, ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case ServiceTypeLoadBalancer:
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
	case ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// portsString is kubectl's makePortString: 80/TCP, or 80:30080/TCP with a
// nodePort.
func portsString(ports []ServicePort) string {
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
func selectorString(ls Labels) string {
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

// Age formats the time from created to now as kubectl's AGE column does,
// or "<unknown>" when created is zero.
func Age(created, now time.Time) string {
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
