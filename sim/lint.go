package sim

import (
	"fmt"
	"strconv"

	"github.com/svcnet/svcnet/endpoints"
	"github.com/svcnet/svcnet/service"
)

// Warning is something a scenario does that runs, but likely not as its
// author meant: a Service whose named targetPort no pod has (every
// connection to it is rejected, as in a real cluster), a traffic flow
// that starts after the end. Object and Field say where; Message what
// follows.
type Warning struct {
	// Object names the object, as errors do: `Service "default/web"`, or
	// "" for the Scenario's own fields.
	Object string `json:"object,omitempty"`
	// Field is the field path: spec.ports[0].targetPort, traffic[1].start.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String formats as `Service "default/web": spec.ports[0].targetPort: ...`.
func (w Warning) String() string {
	s := w.Field + ": " + w.Message
	if w.Object != "" {
		s = w.Object + ": " + s
	}
	return s
}

// Lint returns the warnings of a scenario that Run accepts (it checks
// nothing Run rejects), in the scenario's order. Run does not call it:
// a warning does not stop a run.
func Lint(s Scenario) []Warning {
	var out []Warning
	for _, svc := range s.Services {
		out = append(out, lintTargetPorts(s, svc)...)
	}
	out = append(out, lintServiceNames(s)...)
	for i, f := range s.Traffic {
		if s.Duration > 0 && f.Start >= s.Duration {
			out = append(out, Warning{Field: fmt.Sprintf("traffic[%d].start", i),
				Message: fmt.Sprintf("%v is not before the end of the run (duration %v): the flow sends nothing", f.Start, s.Duration)})
		}
		if f.Stop > 0 && f.Stop <= f.Start {
			out = append(out, Warning{Field: fmt.Sprintf("traffic[%d].stop", i),
				Message: fmt.Sprintf("%v is not after start %v: the flow sends nothing", f.Stop, f.Start)})
		}
	}
	return out
}

// lintTargetPorts warns of each named targetPort of svc that matches no
// container port of any pod it selects: the EndpointSlice controller
// then leaves every pod out of the port's endpoints (FindPort fails),
// and kube-proxy rejects every connection to it. A Service that selects
// no pod at all is not warned of here: that can be meant (pods come
// later), and a flow to it shows as failed connections.
func lintTargetPorts(s Scenario, svc *service.Service) []Warning {
	if svc == nil || len(svc.Spec.Selector) == 0 || svc.Spec.Type == service.ServiceTypeExternalName {
		return nil
	}
	ns := orDefault(svc.Namespace)
	sel := service.SelectorFromSet(svc.Spec.Selector)
	var specs []*service.PodSpec
	for _, d := range s.Deployments {
		if d != nil && orDefault(d.Namespace) == ns && sel.Matches(d.Spec.Template.Labels) {
			specs = append(specs, &d.Spec.Template.Spec)
		}
	}
	tmpl := func(tns string, t *PodTemplateSpec) {
		if orDefault(tns) == ns && sel.Matches(t.Labels) {
			specs = append(specs, &t.Spec)
		}
	}
	for _, o := range s.StatefulSets {
		if o != nil {
			tmpl(o.Namespace, &o.Spec.Template)
		}
	}
	for _, o := range s.DaemonSets {
		if o != nil {
			tmpl(o.Namespace, &o.Spec.Template)
		}
	}
	for _, o := range s.ReplicaSets {
		if o != nil {
			tmpl(o.Namespace, &o.Spec.Template)
		}
	}
	for _, p := range s.Pods {
		if p != nil && orDefault(p.Namespace) == ns && sel.Matches(p.Labels) {
			specs = append(specs, &p.Spec)
		}
	}
	if len(specs) == 0 {
		return nil
	}
	var out []Warning
	for i, sp := range svc.Spec.Ports {
		if !sp.TargetPort.IsString {
			continue
		}
		found := false
		for _, spec := range specs {
			if _, ok := endpoints.FindPort(spec, sp.TargetPort, sp.Protocol); ok {
				found = true
				break
			}
		}
		if !found {
			proto := sp.Protocol
			if proto == "" {
				proto = service.ProtocolTCP
			}
			out = append(out, Warning{Object: "Service " + strconv.Quote(ns+"/"+svc.Name), Field: fmt.Sprintf("spec.ports[%d].targetPort", i),
				Message: fmt.Sprintf("%q matches no %s container port of the pods it selects (%s): the port has no endpoints and every connection to it is rejected",
					sp.TargetPort.StrVal, proto, plural(len(specs), "pod template"))})
		}
	}
	return out
}

// lintServiceNames warns of each StatefulSet whose serviceName names no
// Service of its namespace, or one that does not select its pods: the
// pods' hostnames are then in no Service's endpoints, and the cluster
// DNS gives them no name.
func lintServiceNames(s Scenario) []Warning {
	var out []Warning
	for _, o := range s.StatefulSets {
		if o == nil || o.Spec.ServiceName == "" {
			continue
		}
		ns := orDefault(o.Namespace)
		obj := "StatefulSet " + strconv.Quote(ns+"/"+o.Name)
		var svc *service.Service
		for _, c := range s.Services {
			if c != nil && orDefault(c.Namespace) == ns && c.Name == o.Spec.ServiceName {
				svc = c
			}
		}
		switch {
		case svc == nil:
			out = append(out, Warning{Object: obj, Field: "spec.serviceName",
				Message: fmt.Sprintf("%q: no such Service in namespace %s: the pods get no DNS names", o.Spec.ServiceName, ns)})
		case len(svc.Spec.Selector) == 0 || !service.SelectorFromSet(svc.Spec.Selector).Matches(o.Spec.Template.Labels):
			out = append(out, Warning{Object: obj, Field: "spec.serviceName",
				Message: fmt.Sprintf("Service %q does not select the pods: they are not its endpoints and get no DNS names", o.Spec.ServiceName)})
		}
	}
	return out
}

// plural is "1 pod template", "2 pod templates".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// orDefault is a namespace, "default" when empty, as the API server
// defaults it.
func orDefault(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
