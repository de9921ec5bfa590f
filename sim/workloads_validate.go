package sim

import (
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// Kubernetes' validation of StatefulSets, DaemonSets and ReplicaSets
// (pkg/apis/apps/validation: ValidateStatefulSetSpec,
// ValidateDaemonSetSpec, ValidateReplicaSetSpec) for the fields svcnet
// reads, each problem a FieldError naming the field and the value. The
// values are read as the API server defaults them first: an empty
// podManagementPolicy or update strategy type is the default, a missing
// maxUnavailable 1, a missing maxSurge 0.

// validateWorkloadMeta checks a workload's metadata by a pod's rules: a
// stand-in pod carries it, and only its metadata errors count.
func validateWorkloadMeta(m *service.ObjectMeta) service.ErrorList {
	meta := &service.Pod{ObjectMeta: *m, Spec: service.PodSpec{Containers: []service.Container{{Name: "c"}}}}
	return fieldErrors(meta.Validate(), func(p string) (string, bool) {
		return p, strings.HasPrefix(p, "metadata.")
	})
}

// validateSelectorTemplate checks a workload's selector (required, not
// empty, matching the template's labels) and its template as the pod it
// stamps out, with restartPolicy Always.
func validateSelectorTemplate(kind, ns string, sel *service.LabelSelector, tmpl *PodTemplateSpec) service.ErrorList {
	var errs service.ErrorList
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	switch {
	case sel == nil:
		errs = append(errs, service.Required("spec.selector", "a "+kind+" selects its pods"))
	case len(sel.MatchLabels)+len(sel.MatchExpressions) == 0:
		bad("spec.selector", "{}", "empty selector is invalid for "+strings.ToLower(kind))
	default:
		s, err := sel.Selector()
		if err != nil {
			errs = append(errs, fieldErrors(err, func(p string) (string, bool) { return "spec.selector." + p, true })...)
		} else if !s.Matches(tmpl.Labels) {
			bad("spec.template.metadata.labels", service.SelectorFromSet(tmpl.Labels).String(), "`selector` does not match template `labels`")
		}
	}
	pod := &service.Pod{
		ObjectMeta: service.ObjectMeta{Name: "template", Namespace: ns, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       tmpl.Spec,
	}
	if len(tmpl.Labels) == 0 && sel != nil {
		errs = append(errs, service.Required("spec.template.metadata.labels", "the labels the selector matches"))
	}
	errs = append(errs, fieldErrors(pod.Validate(), func(p string) (string, bool) {
		switch {
		case strings.HasPrefix(p, "metadata.labels"), strings.HasPrefix(p, "metadata.annotations"), strings.HasPrefix(p, "spec."):
			return "spec.template." + p, true
		}
		return p, false
	})...)
	switch rp := tmpl.Spec.RestartPolicy; rp {
	case "", "Always":
	default:
		bad("spec.template.spec.restartPolicy", rp, supportedValues("Always"))
	}
	return errs
}

// intOrPercent checks ValidatePositiveIntOrPercent and
// IsNotMoreThan100Percent, and returns the value (the percentage's
// number for a percentage).
func intOrPercent(path string, v *service.IntOrString, errs *service.ErrorList) int {
	if v == nil {
		return -1
	}
	if !v.IsString {
		if v.IntVal < 0 {
			*errs = append(*errs, service.Invalid(path, v.IntVal, "must be greater than or equal to 0"))
		}
		return int(v.IntVal)
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	n, err := strconv.Atoi(s)
	switch {
	case !ok || err != nil || s == "" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") && n == 0:
		*errs = append(*errs, service.Invalid(path, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%'"))
		return -1
	case n < 0:
		*errs = append(*errs, service.Invalid(path, v.StrVal, "must be greater than or equal to 0"))
	case n > 100:
		*errs = append(*errs, service.Invalid(path, v.StrVal, "must not be greater than 100%"))
	}
	return n
}

func nonNegative(errs *service.ErrorList, path string, v int32) {
	if v < 0 {
		*errs = append(*errs, service.Invalid(path, v, "must be greater than or equal to 0"))
	}
}

// validateStatefulSet is ValidateStatefulSet for the fields svcnet reads.
// The name must be a DNS-1123 label (ValidateStatefulSetName), as each
// pod's hostname is <name>-<ordinal>; serviceName, each pod's subdomain,
// too.
func validateStatefulSet(s *StatefulSet) service.ErrorList {
	errs := validateWorkloadMeta(&s.ObjectMeta)
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	if s.Name != "" && !strings.Contains(errsPaths(errs), "metadata.name") {
		if err := service.ValidateName(service.DNS1123Label, s.Name+"-0"); err != nil {
			// ValidateStatefulSetName: a DNS-1123 label. svcnet also wants
			// room for "-0" (Kubernetes' TODO there): each pod's hostname is
			// <name>-<ordinal>, and a longer one fails the pod's creation.
			bad("metadata.name", s.Name, "a StatefulSet's pods are named and hostnamed <name>-<ordinal>: it must be a DNS-1123 label with room for the ordinal")
		}
	}
	if s.Spec.Replicas != nil {
		nonNegative(&errs, "spec.replicas", *s.Spec.Replicas)
	}
	nonNegative(&errs, "spec.minReadySeconds", s.Spec.MinReadySeconds)
	if o := s.Spec.Ordinals; o != nil {
		nonNegative(&errs, "spec.ordinals.start", o.Start)
	}
	if n := s.Spec.ServiceName; n != "" {
		if err := service.ValidateName(service.DNS1123Label, n); err != nil {
			bad("spec.serviceName", n, "must be a DNS-1123 label: it is each pod's spec.subdomain")
		}
	}
	switch p := s.Spec.PodManagementPolicy; p {
	case "", PodManagementOrderedReady, PodManagementParallel:
	default:
		bad("spec.podManagementPolicy", p, supportedValues(PodManagementOrderedReady, PodManagementParallel))
	}
	st := s.Spec.UpdateStrategy
	switch st.Type {
	case "", UpdateRollingUpdate:
		if ru := st.RollingUpdate; ru != nil {
			if ru.Partition != nil {
				nonNegative(&errs, "spec.updateStrategy.rollingUpdate.partition", *ru.Partition)
			}
			path := "spec.updateStrategy.rollingUpdate.maxUnavailable"
			if n := intOrPercent(path, ru.MaxUnavailable, &errs); n == 0 {
				bad(path, ru.MaxUnavailable.String(), "cannot be 0")
			}
		}
	case UpdateOnDelete:
		if st.RollingUpdate != nil {
			bad("spec.updateStrategy.rollingUpdate", "set", "only allowed for updateStrategy '"+UpdateRollingUpdate+"'")
		}
	default:
		bad("spec.updateStrategy.type", st.Type, supportedValues(UpdateOnDelete, UpdateRollingUpdate))
	}
	return append(errs, validateSelectorTemplate(kindStatefulSet, s.Namespace, s.Spec.Selector, &s.Spec.Template)...)
}

// validateDaemonSet is ValidateDaemonSet for the fields svcnet reads,
// with ValidateRollingUpdateDaemonSet: maxUnavailable and maxSurge
// non-negative numbers or percentages up to 100%, exactly one of them
// non-zero (maxUnavailable defaults to 1, so a surge needs
// maxUnavailable: 0 written out).
func validateDaemonSet(d *DaemonSet) service.ErrorList {
	errs := validateWorkloadMeta(&d.ObjectMeta)
	bad := func(path string, v any, rule string) { errs = append(errs, service.Invalid(path, v, rule)) }
	nonNegative(&errs, "spec.minReadySeconds", d.Spec.MinReadySeconds)
	if _, err := parseNodeAffinity(d.Spec.Template.Spec.Affinity); err != nil {
		bad("spec.template.spec.affinity", "an object", err.Error())
	}
	st := d.Spec.UpdateStrategy
	switch st.Type {
	case "", UpdateRollingUpdate:
		if ru := st.RollingUpdate; ru != nil {
			u := intOrPercent("spec.updateStrategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable, &errs)
			s := intOrPercent("spec.updateStrategy.rollingUpdate.maxSurge", ru.MaxSurge, &errs)
			if ru.MaxUnavailable == nil {
				u = 1
			}
			hasU, hasS := u != 0, s > 0
			switch {
			case hasU && hasS:
				bad("spec.updateStrategy.rollingUpdate.maxSurge", ru.MaxSurge.String(), "may not be set when maxUnavailable is non-zero")
			case !hasU && !hasS:
				errs = append(errs, service.Required("spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0"))
			}
		}
	case UpdateOnDelete:
	default:
		bad("spec.updateStrategy.type", st.Type, supportedValues(UpdateOnDelete, UpdateRollingUpdate))
	}
	return append(errs, validateSelectorTemplate(kindDaemonSet, d.Namespace, d.Spec.Selector, &d.Spec.Template)...)
}

// validateReplicaSet is ValidateReplicaSet for the fields svcnet reads.
func validateReplicaSet(r *ReplicaSet) service.ErrorList {
	errs := validateWorkloadMeta(&r.ObjectMeta)
	if r.Spec.Replicas != nil {
		nonNegative(&errs, "spec.replicas", *r.Spec.Replicas)
	}
	nonNegative(&errs, "spec.minReadySeconds", r.Spec.MinReadySeconds)
	return append(errs, validateSelectorTemplate(kindReplicaSet, r.Namespace, r.Spec.Selector, &r.Spec.Template)...)
}

func errsPaths(errs service.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Path + " ")
	}
	return b.String()
}
