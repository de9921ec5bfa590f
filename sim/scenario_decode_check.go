package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/lb"
	"github.com/svcnet/svcnet/proxy"
	"github.com/svcnet/svcnet/service"
)

// The checks a decoded scenario stream gets beyond each object's own
// validation: the Scenario's enumerations and its references to the
// objects it defines, each reported with its field path. Run checks again
// what needs the whole cluster (address ranges, capacities).

const algorithmAnnotation = proxy.AlgorithmAnnotation

func lbAlgorithms() []string { return lb.Algorithms() }

func knownAlgorithm(a string) bool { return slices.Contains(lb.Algorithms(), a) }

// zoneLabel is the well-known topology label a node's zone is read from.
const zoneLabel = "topology.kubernetes.io/zone"

// refKey reads "namespace/name", or "name" in default.
func refKey(s string) service.NamespacedName {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return service.NamespacedName{Namespace: ns, Name: name}
	}
	return service.NamespacedName{Namespace: "default", Name: s}
}

// scenarioNames is what a scenario defines, by kind, for its references.
type scenarioNames struct {
	services, deployments, pods map[service.NamespacedName]bool
	nodes, zones                map[string]bool
	// workloads holds every workload by kind and key.
	workloads map[objectKey]bool
}

// workload resolves a target to a workload the scenario defines.
func (n scenarioNames) workload(ref string) (string, error) {
	kind, _, err := resolveWorkload(ref, func(kind string, key service.NamespacedName) bool {
		return n.workloads[objectKey{kind, key}]
	})
	return kind, err
}

func (d *decoder) scenarioNames() scenarioNames {
	s := &d.s
	n := scenarioNames{
		services:    map[service.NamespacedName]bool{},
		deployments: map[service.NamespacedName]bool{},
		pods:        map[service.NamespacedName]bool{},
		nodes:       map[string]bool{},
		zones:       map[string]bool{},
		workloads:   map[objectKey]bool{},
	}
	for _, o := range s.StatefulSets {
		n.workloads[objectKey{kindStatefulSet, o.Key()}] = true
	}
	for _, o := range s.DaemonSets {
		n.workloads[objectKey{kindDaemonSet, o.Key()}] = true
	}
	for _, o := range s.ReplicaSets {
		n.workloads[objectKey{kindReplicaSet, o.Key()}] = true
	}
	for _, o := range s.Services {
		n.services[o.Key()] = true
	}
	for _, o := range s.Deployments {
		n.deployments[o.Key()] = true
		n.workloads[objectKey{kindDeployment, o.Key()}] = true
	}
	for _, o := range s.Pods {
		n.pods[o.Key()] = true
	}
	for _, o := range s.Nodes {
		n.nodes[o.Name] = true
		if z := o.Labels[zoneLabel]; z != "" {
			n.zones[z] = true
		}
	}
	// Generated objects, named as Run names them.
	def := defaultsOf(s)
	for i := range min(def.workload.services, 1_000_000) {
		k := def.workload.key(i)
		n.services[k], n.deployments[k] = true, true
		n.workloads[objectKey{kindDeployment, k}] = true
	}
	for i := range min(def.nodes, 1_000_000) {
		n.nodes[nodeName(i)] = true
	}
	for _, z := range def.zones {
		n.zones[z] = true
	}
	return n
}

func supportedValues(values ...string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return "supported values: " + strings.Join(q, ", ")
}

// checkScenario checks the Scenario document's enumerations and
// references, section by section; the references are to the objects the
// scenario defines or generates (scenarioNames).
func (d *decoder) checkScenario() service.ErrorList {
	s := &d.s
	n := d.scenarioNames()
	var errs service.ErrorList
	errs = append(errs, checkScenarioCluster(s)...)
	errs = append(errs, checkScenarioTraffic(s, n)...)
	errs = append(errs, checkScenarioChurn(s, n)...)
	errs = append(errs, checkScenarioTimeline(s, n)...)
	errs = append(errs, checkScenarioVariants(s)...)
	return errs
}

// algorithmValues is the rule of a field naming an lb algorithm.
func algorithmValues() string { return "supported values: " + strings.Join(lbAlgorithms(), ", ") }

// checkScenarioCluster checks the algorithms, the dataplane, the duration
// and the zones.
func checkScenarioCluster(s *Scenario) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	algos := algorithmValues()
	if a := s.Cluster.Algorithm; a != "" && !knownAlgorithm(a) {
		bad("cluster.algorithm", a, algos)
	}
	if a := s.Workload.Algorithm; a != "" && !knownAlgorithm(a) {
		bad("workload.algorithm", a, algos)
	}
	switch s.Cluster.Dataplane {
	case "", DataplaneConntrack, DataplaneStateless:
	default:
		bad("cluster.dataplane", s.Cluster.Dataplane, supportedValues(DataplaneConntrack, DataplaneStateless))
	}
	if s.Duration < 0 {
		bad("duration", s.Duration.String(), "must be positive")
	}
	for i, z := range s.Cluster.Zones {
		if z == "" || slices.Contains(s.Cluster.Zones[:i], z) {
			bad(fmt.Sprintf("cluster.zones[%d]", i), z, "must be a non-empty, unique zone name")
		}
	}
	return errs
}

// checkScenarioTraffic checks each traffic flow and the Service it
// connects to.
func checkScenarioTraffic(s *Scenario, n scenarioNames) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	for i, f := range s.Traffic {
		p := fmt.Sprintf("traffic[%d]", i)
		if f.Service == "" {
			errs = append(errs, service.Required(p+".service", "the Service the flow connects to"))
		} else if !n.services[refKey(f.Service)] {
			bad(p+".service", f.Service, "no such Service in the scenario")
		}
		switch f.From {
		case "", FromPods, FromExternal:
		default:
			bad(p+".from", f.From, supportedValues(FromPods, FromExternal))
		}
		switch f.Via {
		case "", ViaDNS, ViaClusterIP, ViaNodePort, ViaLoadBalancer:
		default:
			bad(p+".via", f.Via, supportedValues(ViaDNS, ViaClusterIP, ViaNodePort, ViaLoadBalancer))
		}
		if f.From == FromExternal && (f.Via == ViaDNS || f.Via == ViaClusterIP) {
			bad(p+".via", f.Via, "external clients reach a Service by nodePort or loadBalancer")
		}
		if f.Rate < 0 {
			bad(p+".rate", f.Rate, "must not be negative")
		}
		switch f.Length.Kind {
		case "", DistExponential, DistLogNormal, DistPareto, DistConstant:
		default:
			bad(p+".length.kind", f.Length.Kind, supportedValues(DistExponential, DistLogNormal, DistPareto, DistConstant))
		}
		if f.ClientSelector != "" {
			if _, err := service.ParseSelector(f.ClientSelector); err != nil {
				bad(p+".clientSelector", f.ClientSelector, err.Error())
			}
		}
		for _, svc := range s.Services {
			if svc != nil && f.Service != "" && svc.Key() == refKey(f.Service) && svc.IsHeadless() {
				switch {
				case f.From == FromExternal:
					bad(p+".from", f.From, "a headless Service has no ClusterIP or NodePort: pods reach it by DNS")
				case f.Via != "" && f.Via != ViaDNS:
					bad(p+".via", f.Via, "a headless Service has no ClusterIP or NodePort: pods reach it by DNS")
				}
			}
		}
		if h := f.Hostname; h != "" {
			if err := service.ValidateName(service.DNS1123Subdomain, strings.TrimSuffix(h, ".")); err != nil {
				bad(p+".hostname", h, "must be a DNS name such as web-0.web")
			}
			if f.From == FromExternal {
				bad(p+".hostname", h, "a pod's DNS name is resolved by pods: not with from: external")
			} else if f.Via != "" && f.Via != ViaDNS {
				bad(p+".via", f.Via, "a hostname is reached by dns")
			}
		}
		if f.Stop != 0 && f.Stop < f.Start {
			bad(p+".stop", f.Stop.String(), "must not be before start")
		}
	}
	return errs
}

// checkScenarioChurn checks each churn process and its Deployment.
func checkScenarioChurn(s *Scenario, n scenarioNames) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	for i, c := range s.Churn {
		p := fmt.Sprintf("churn[%d]", i)
		switch c.Action {
		case "", ActionDeletePod, ActionCrashPod, ActionRollout:
		default:
			bad(p+".action", c.Action, supportedValues(ActionDeletePod, ActionCrashPod, ActionRollout))
		}
		if c.Rate < 0 {
			bad(p+".rate", c.Rate, "must not be negative")
		}
		if c.Target != "" {
			if kind, err := n.workload(c.Target); err != nil {
				bad(p+".target", c.Target, err.Error())
			} else if msg := actionRefusal(c.Action, kind); msg != "" {
				bad(p+".target", c.Target, msg)
			}
		}
	}
	return errs
}

// checkScenarioTimeline checks each timeline event and its target.
func checkScenarioTimeline(s *Scenario, n scenarioNames) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	for i, e := range s.Timeline {
		p := fmt.Sprintf("timeline[%d]", i)
		if e.At < 0 {
			bad(p+".at", e.At.String(), "must not be negative")
		}
		if e.For != nil && *e.For < 0 {
			bad(p+".for", e.For.String(), "must not be negative")
		}
		if e.Count < 0 {
			bad(p+".count", e.Count, "must not be negative")
		}
		need := func(what string, ok bool) {
			switch {
			case e.Target == "":
				errs = append(errs, service.Required(p+".target", e.Action+" acts on a "+what))
			case !ok:
				bad(p+".target", e.Target, "no such "+what+" in the scenario")
			}
		}
		workload := func() {
			if e.Target == "" {
				errs = append(errs, service.Required(p+".target", e.Action+" acts on a workload"))
				return
			}
			kind, err := n.workload(e.Target)
			if err != nil {
				bad(p+".target", e.Target, err.Error())
			} else if msg := actionRefusal(e.Action, kind); msg != "" {
				bad(p+".target", e.Target, msg)
			}
		}
		switch e.Action {
		case ActionRollout:
			workload()
		case ActionScale:
			workload()
			if e.Replicas == nil {
				errs = append(errs, service.Required(p+".replicas", "scale sets a replica count"))
			} else if *e.Replicas < 0 {
				bad(p+".replicas", *e.Replicas, "must not be negative")
			}
		case ActionDeletePod, ActionCrashPod:
			// A pod a Deployment creates has a generated name, so any
			// name may turn out to be a pod's: Run checks it.
			need("Deployment or pod", true)
		case ActionKillNode, ActionRestartNode, ActionCutNode, ActionHealNode, ActionDeleteNode, ActionAddNode:
			need("node", n.nodes[e.Target])
		case ActionZoneDown, ActionZoneUp:
			need("zone", n.zones[e.Target])
		case ActionDeleteService, ActionCreateService:
			need("Service", n.services[refKey(e.Target)])
		case ActionCrashControlPlane:
		case "":
			errs = append(errs, service.Required(p+".action", "one of the timeline's actions"))
		default:
			bad(p+".action", e.Action, supportedValues(ActionRollout, ActionScale, ActionDeletePod, ActionCrashPod,
				ActionKillNode, ActionRestartNode, ActionCutNode, ActionHealNode, ActionZoneDown, ActionZoneUp,
				ActionCrashControlPlane, ActionDeleteService, ActionCreateService, ActionDeleteNode, ActionAddNode))
		}
	}
	return errs
}

// checkScenarioVariants checks each variant: a unique name, known settings.
func checkScenarioVariants(s *Scenario) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	algos := algorithmValues()
	for i, v := range s.Variants {
		p := fmt.Sprintf("variants[%d]", i)
		if v.Name == "" {
			errs = append(errs, service.Required(p+".name", "a variant is named in the results"))
		} else if slices.ContainsFunc(s.Variants[:i], func(o Variant) bool { return o.Name == v.Name }) {
			bad(p+".name", v.Name, "duplicate value")
		}
		if v.Algorithm != "" && !knownAlgorithm(v.Algorithm) {
			bad(p+".algorithm", v.Algorithm, algos)
		}
		switch v.Dataplane {
		case "", DataplaneConntrack, DataplaneStateless:
		default:
			bad(p+".dataplane", v.Dataplane, supportedValues(DataplaneConntrack, DataplaneStateless))
		}
		if v.PreStopSleep != nil && *v.PreStopSleep < 0 {
			bad(p+".preStopSleep", v.PreStopSleep.String(), "must not be negative")
		}
	}
	return errs
}

// validateDeployment applies Kubernetes' Deployment validation
// (ValidateDeployment in pkg/apis/apps/validation) to the fields svcnet
// reads: metadata, a non-empty selector that matches the template's
// labels, non-negative counts, the strategy and its bounds, and the pod
// template as a pod.
func validateDeployment(d *Deployment) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }

	// The Deployment's metadata, by the rules of a pod's: a stand-in pod
	// carries it, and only its metadata errors count.
	meta := &service.Pod{ObjectMeta: d.ObjectMeta, Spec: service.PodSpec{Containers: []service.Container{{Name: "c"}}}}
	errs = append(errs, fieldErrors(meta.Validate(), func(p string) (string, bool) {
		return p, strings.HasPrefix(p, "metadata.")
	})...)

	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		bad("spec.replicas", *d.Spec.Replicas, "must be greater than or equal to 0")
	}
	if d.Spec.MinReadySeconds < 0 {
		bad("spec.minReadySeconds", d.Spec.MinReadySeconds, "must be greater than or equal to 0")
	}
	switch {
	case d.Spec.Selector == nil:
		errs = append(errs, service.Required("spec.selector", "a Deployment selects its pods"))
	case len(d.Spec.Selector.MatchLabels)+len(d.Spec.Selector.MatchExpressions) == 0:
		bad("spec.selector", "{}", "empty selector is invalid for deployment")
	default:
		sel, err := d.Spec.Selector.Selector()
		if err != nil {
			errs = append(errs, fieldErrors(err, func(p string) (string, bool) { return "spec.selector." + p, true })...)
		} else if !sel.Matches(d.Spec.Template.Labels) {
			bad("spec.template.metadata.labels", service.SelectorFromSet(d.Spec.Template.Labels).String(), "`selector` does not match template `labels`")
		}
	}

	st := d.Spec.Strategy
	switch st.Type {
	case "", StrategyRollingUpdate:
		if ru := st.RollingUpdate; ru != nil {
			_, _, err := d.RollingBounds()
			if err != nil {
				field := "spec.strategy.rollingUpdate.maxSurge"
				if strings.Contains(err.Error(), "maxUnavailable") {
					field = "spec.strategy.rollingUpdate.maxUnavailable"
				}
				_, msg, _ := strings.Cut(err.Error(), field+": ")
				bad(field, intOrString(ru, field), msg)
			} else {
				zero := func(v *service.IntOrString) bool {
					return v != nil && (v.IsZero() || v.IsString && strings.TrimLeft(strings.TrimSuffix(v.StrVal, "%"), "0") == "")
				}
				if zero(ru.MaxSurge) && zero(ru.MaxUnavailable) {
					bad("spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0")
				}
				if u := ru.MaxUnavailable; u != nil && u.IsString {
					if pct, _ := strconv.Atoi(strings.TrimSuffix(u.StrVal, "%")); pct > 100 {
						bad("spec.strategy.rollingUpdate.maxUnavailable", u.StrVal, "must not be greater than 100%")
					}
				}
			}
		}
	case StrategyRecreate:
		if st.RollingUpdate != nil {
			errs = append(errs, &service.FieldError{Path: "spec.strategy.rollingUpdate", Value: "set", Rule: "may not be specified when strategy `type` is 'Recreate'"})
		}
	default:
		bad("spec.strategy.type", st.Type, supportedValues(StrategyRecreate, StrategyRollingUpdate))
	}

	// The template, as the pod it stamps out.
	tmpl := &service.Pod{
		ObjectMeta: service.ObjectMeta{
			Name: "template", Namespace: d.Namespace,
			Labels: d.Spec.Template.Labels, Annotations: d.Spec.Template.Annotations,
		},
		Spec: d.Spec.Template.Spec,
	}
	if len(d.Spec.Template.Labels) == 0 && d.Spec.Selector != nil {
		errs = append(errs, service.Required("spec.template.metadata.labels", "the labels the selector matches"))
	}
	errs = append(errs, fieldErrors(tmpl.Validate(), func(p string) (string, bool) {
		switch {
		case strings.HasPrefix(p, "metadata.labels"), strings.HasPrefix(p, "metadata.annotations"):
			return "spec.template." + p, true
		case strings.HasPrefix(p, "spec."):
			return "spec.template." + p, true
		}
		return p, false
	})...)
	switch rp := d.Spec.Template.Spec.RestartPolicy; rp {
	case "", "Always":
	default:
		bad("spec.template.spec.restartPolicy", rp, supportedValues("Always"))
	}
	return errs
}

func intOrString(ru *RollingUpdateDeployment, field string) string {
	v := ru.MaxSurge
	if strings.HasSuffix(field, "maxUnavailable") {
		v = ru.MaxUnavailable
	}
	if v == nil {
		return "25%"
	}
	return v.String()
}

// fieldErrors returns the FieldErrors of a validation error whose paths
// keep says to keep, rewritten as it says.
func fieldErrors(err error, keep func(string) (string, bool)) service.ErrorList {
	if err == nil {
		return nil
	}
	ve, ok := err.(*service.ValidationError)
	if !ok {
		return service.ErrorList{{Path: "", Value: err.Error(), Rule: "invalid"}}
	}
	var out service.ErrorList
	for _, fe := range ve.Errors {
		if p, ok := keep(fe.Path); ok {
			out = append(out, &service.FieldError{Path: p, Value: fe.Value, Rule: fe.Rule})
		}
	}
	return out
}
