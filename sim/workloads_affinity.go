package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// nodeAffinity is the required node affinity of a pod template
// (spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution),
// which a DaemonSet's node choice reads as NodeShouldRunDaemonPod does
// (nodeaffinity.GetRequiredNodeAffinity in
// k8s.io/component-helpers/scheduling/corev1/nodeaffinity): the terms are
// ORed, a term's requirements ANDed, and an empty term matches no node.
type nodeAffinity struct {
	terms []nodeSelectorTerm
	set   bool
}

type nodeSelectorTerm struct {
	MatchExpressions []nodeSelectorRequirement `json:"matchExpressions,omitempty"`
	MatchFields      []nodeSelectorRequirement `json:"matchFields,omitempty"`
}

type nodeSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// parseNodeAffinity reads the required node affinity of spec.affinity
// (carried as JSON); what it does not need is ignored.
func parseNodeAffinity(raw json.RawMessage) (nodeAffinity, error) {
	if len(raw) == 0 {
		return nodeAffinity{}, nil
	}
	var a struct {
		NodeAffinity *struct {
			Required *struct {
				Terms []nodeSelectorTerm `json:"nodeSelectorTerms"`
			} `json:"requiredDuringSchedulingIgnoredDuringExecution"`
		} `json:"nodeAffinity"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nodeAffinity{}, err
	}
	if a.NodeAffinity == nil || a.NodeAffinity.Required == nil {
		return nodeAffinity{}, nil
	}
	na := nodeAffinity{terms: a.NodeAffinity.Required.Terms, set: true}
	for i, t := range na.terms {
		for j, r := range append(slices.Clone(t.MatchExpressions), t.MatchFields...) {
			switch r.Operator {
			case "In", "NotIn", "Exists", "DoesNotExist":
			case "Gt", "Lt":
				if len(r.Values) != 1 {
					return nodeAffinity{}, fmt.Errorf("nodeSelectorTerms[%d] requirement %d: operator %s takes one value", i, j, r.Operator)
				}
				if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
					return nodeAffinity{}, fmt.Errorf("nodeSelectorTerms[%d] requirement %d: %q is not an integer", i, j, r.Values[0])
				}
			default:
				return nodeAffinity{}, fmt.Errorf("nodeSelectorTerms[%d] requirement %d: unknown operator %q", i, j, r.Operator)
			}
		}
	}
	return na, nil
}

// matches reports whether a node with these labels and name satisfies
// the affinity; no affinity matches every node.
func (a nodeAffinity) matches(labels map[string]string, name string) bool {
	if !a.set {
		return true
	}
	for _, t := range a.terms {
		if len(t.MatchExpressions)+len(t.MatchFields) == 0 {
			continue // an empty term matches nothing
		}
		ok := true
		for _, r := range t.MatchExpressions {
			v, has := labels[r.Key]
			ok = ok && r.matches(v, has)
		}
		for _, r := range t.MatchFields {
			// Only metadata.name is a node field selector can name.
			ok = ok && r.Key == "metadata.name" && r.matches(name, true)
		}
		if ok {
			return true
		}
	}
	return false
}

func (r nodeSelectorRequirement) matches(v string, has bool) bool {
	switch r.Operator {
	case "In":
		return has && slices.Contains(r.Values, v)
	case "NotIn":
		return !has || !slices.Contains(r.Values, v)
	case "Exists":
		return has
	case "DoesNotExist":
		return !has
	case "Gt", "Lt":
		n, err := strconv.ParseInt(v, 10, 64)
		want, _ := strconv.ParseInt(r.Values[0], 10, 64)
		if !has || err != nil {
			return false
		}
		if r.Operator == "Gt" {
			return n > want
		}
		return n < want
	}
	return false
}
