// Command quickstart decodes a Service manifest and some Pods, defaults
// and validates the Service as an API server would, and shows which Pods
// its selector picks and where each would receive traffic.
//
//	go run ./examples/quickstart                 # the bundled manifests
//	go run ./examples/quickstart my-manifests.yaml
package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"

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

func run(w io.Writer, data []byte) error {
	objs, err := service.DecodeAll(data)
	if err != nil {
		return err
	}
	var svcs []*service.Service
	var pods []*service.Pod
	for _, o := range objs {
		switch o := o.(type) {
		case *service.Service:
			svcs = append(svcs, o)
		case *service.Pod:
			pods = append(pods, o)
		}
	}
	for _, svc := range svcs {
		service.Default(svc)
		if err := svc.Validate(); err != nil {
			return err
		}
		sel := service.SelectorFromSet(svc.Spec.Selector)
		fmt.Fprintf(w, "Service %s/%s: type %s, selector %q\n", svc.Namespace, svc.Name, svc.Spec.Type, sel.String())
		for _, p := range svc.Spec.Ports {
			fmt.Fprintf(w, "  port %s %d/%s -> targetPort %s\n", p.Name, p.Port, p.Protocol, p.TargetPort)
		}
		for _, pod := range pods {
			if pod.Namespace == "" {
				pod.Namespace = "default"
			}
			verdict := "selected"
			switch {
			case pod.Namespace != svc.Namespace:
				verdict = "skipped: namespace " + pod.Namespace
			case !sel.Matches(pod.Labels):
				verdict = "skipped: labels do not match"
			case pod.Validate() != nil:
				verdict = "skipped: " + pod.Validate().Error()
			}
			fmt.Fprintf(w, "  pod %-14s %s", pod.Name, verdict)
			if verdict == "selected" {
				for _, p := range svc.Spec.Ports {
					if port, ok := resolve(pod, p); ok {
						fmt.Fprintf(w, " (%s -> %s:%d)", p.Name, pod.Status.PodIP, port)
					}
				}
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// resolve finds the container port a Service port's targetPort names, as
// the endpoints controller does: a number as is, a name looked up among
// the pod's container ports with the same protocol.
func resolve(pod *service.Pod, p service.ServicePort) (int32, bool) {
	if !p.TargetPort.IsString {
		return p.TargetPort.IntVal, true
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = service.ProtocolTCP
			}
			if cp.Name == p.TargetPort.StrVal && proto == p.Protocol {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}
