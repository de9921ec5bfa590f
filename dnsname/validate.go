package dnsname

import "github.com/svcnet/svcnet/internal/k8sname"

// Length limits of DNS names (RFC 1035 §2.3.4) and of Kubernetes names.
const (
	// MaxLabelLength is the longest label: 63 octets.
	MaxLabelLength = 63
	// MaxNameLength is the longest name in presentation form without the
	// trailing dot: 253 octets (255 on the wire).
	MaxNameLength = 253
)

// ValidateDNS1123Label returns nil when s is an RFC 1123 label as
// Kubernetes defines it (namespaces, Service port names, pod hostnames):
// at most 63 of [a-z0-9-], alphanumeric at both ends. Otherwise it
// returns a *NameError wrapping ErrInvalidName with Kubernetes' own
// wording. The verdicts equal apimachinery's IsDNS1123Label.
func ValidateDNS1123Label(s string) error {
	return check(s, "DNS-1123 label", k8sname.DNS1123Label)
}

// ValidateDNS1123Subdomain returns nil when s is an RFC 1123 subdomain as
// Kubernetes defines it (pod names, externalName, the cluster domain): at
// most 253 characters of dot-separated DNS-1123 labels. The verdicts equal
// apimachinery's IsDNS1123Subdomain, which, unlike DNS, does not limit a
// single label to 63 characters; Parse does.
func ValidateDNS1123Subdomain(s string) error {
	return check(s, "DNS-1123 subdomain", k8sname.DNS1123Subdomain)
}

// ValidateDNS1035Label returns nil when s is an RFC 1035 label as
// Kubernetes defines it (Service names): a DNS-1123 label that starts
// with a letter. The verdicts equal apimachinery's IsDNS1035Label.
func ValidateDNS1035Label(s string) error {
	return check(s, "DNS-1035 label", k8sname.DNS1035Label)
}

func check(s, rule string, f func(string) string) error {
	if msg := f(s); msg != "" {
		return nameErr(ErrInvalidName, s, "is not a valid "+rule+": "+msg)
	}
	return nil
}
