package service

import (
	"fmt"
	"slices"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// LabelSelector is the structured selector of Kubernetes objects
// (metav1.LabelSelector), as Deployments and NetworkPolicies write it:
// matchLabels and matchExpressions, all of which must hold.
type LabelSelector struct {
	MatchLabels      Labels                     `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one entry of matchExpressions.
type LabelSelectorRequirement struct {
	Key string `json:"key"`
	// Operator is In, NotIn, Exists or DoesNotExist.
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Selector converts ls to a Selector with Kubernetes' rules
// (metav1.LabelSelectorAsSelector): a nil LabelSelector selects nothing,
// an empty one everything; keys must be qualified names and values label
// values; In and NotIn need at least one value; Exists and DoesNotExist
// take none. Every problem is reported, each with its field path, as a
// *ValidationError.
func (ls *LabelSelector) Selector() (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	if len(ls.MatchLabels)+len(ls.MatchExpressions) == 0 {
		return Everything(), nil
	}
	var v validator
	v.labels(ls.MatchLabels, "matchLabels")
	reqs := SelectorFromSet(ls.MatchLabels).reqs
	for i, e := range ls.MatchExpressions {
		path := fmt.Sprintf("matchExpressions[%d]", i)
		v.check(path+".key", e.Key, k8sname.QualifiedName(e.Key))
		var op Operator
		switch e.Operator {
		case "In":
			op = In
		case "NotIn":
			op = NotIn
		case "Exists":
			op = Exists
		case "DoesNotExist":
			op = DoesNotExist
		default:
			v.invalid(path+".operator", e.Operator, notSupported("DoesNotExist", "Exists", "In", "NotIn"))
			continue
		}
		switch {
		case (op == In || op == NotIn) && len(e.Values) == 0:
			v.required(path+".values", "must be specified when `operator` is 'In' or 'NotIn'")
		case (op == Exists || op == DoesNotExist) && len(e.Values) > 0:
			v.invalid(path+".values", e.Values, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
		}
		for j, val := range e.Values {
			v.check(fmt.Sprintf("%s.values[%d]", path, j), val, k8sname.LabelValue(val))
		}
		vals := slices.Clone(e.Values)
		slices.Sort(vals)
		reqs = append(reqs, Requirement{key: e.Key, op: op, values: slices.Compact(vals)})
	}
	if err := v.errs.Err(); err != nil {
		return Selector{}, err
	}
	return Selector{reqs: canonical(reqs)}, nil
}
