package service

import (
	"strconv"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// NameRule is one of Kubernetes' naming rules
// (k8s.io/apimachinery/pkg/util/validation).
type NameRule uint8

// The naming rules.
const (
	// DNS1123Label: at most 63 of [a-z0-9-], alphanumeric at both ends
	// (namespaces, port names of Services, pod hostnames).
	DNS1123Label NameRule = iota + 1
	// DNS1123Subdomain: at most 253 characters of dot-separated DNS-1123
	// labels (pod and node names, externalName).
	DNS1123Subdomain
	// DNS1035Label: a DNS-1123 label that starts with a letter (Service names).
	DNS1035Label
	// QualifiedName: an optional DNS-1123 subdomain prefix and '/', then
	// at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends (label keys).
	QualifiedName
	// LabelValue: empty, or at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends.
	LabelValue
	// PortName: an IANA service name (RFC 6335): 1–15 of [a-z0-9-], at
	// least one letter, no hyphen at either end or twice in a row
	// (container port names, named targetPorts).
	PortName
)

var nameRules = [...]struct {
	name  string
	check func(string) string
}{
	DNS1123Label:     {"DNS-1123 label", k8sname.DNS1123Label},
	DNS1123Subdomain: {"DNS-1123 subdomain", k8sname.DNS1123Subdomain},
	DNS1035Label:     {"DNS-1035 label", k8sname.DNS1035Label},
	QualifiedName:    {"qualified name", k8sname.QualifiedName},
	LabelValue:       {"label value", k8sname.LabelValue},
	PortName:         {"IANA port name", k8sname.PortName},
}

// String names the rule ("DNS-1123 label").
func (r NameRule) String() string {
	if r == 0 || int(r) >= len(nameRules) {
		return "NameRule(" + strconv.Itoa(int(r)) + ")"
	}
	return nameRules[r].name
}

// NameError is a name that breaks a NameRule.
type NameError struct {
	Rule    NameRule
	Value   string
	Problem string
}

// Error formats as `service: "My-Name" is not a valid DNS-1123 label: ...`.
func (e *NameError) Error() string {
	return "service: " + strconv.Quote(e.Value) + " is not a valid " + e.Rule.String() + ": " + e.Problem
}

// Unwrap makes errors.Is(e, ErrInvalid) true.
func (e *NameError) Unwrap() error { return ErrInvalid }

// ValidateName returns nil when s satisfies rule, and a *NameError saying
// why not otherwise. The verdicts equal apimachinery's (peers/selector
// checks them on generated names). It panics on an unknown rule, which
// is a programming error.
func ValidateName(rule NameRule, s string) error {
	if rule == 0 || int(rule) >= len(nameRules) {
		panic("service: unknown NameRule " + strconv.Itoa(int(rule)))
	}
	if msg := nameRules[rule].check(s); msg != "" {
		return &NameError{Rule: rule, Value: s, Problem: msg}
	}
	return nil
}
