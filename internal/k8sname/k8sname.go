// Package k8sname holds the name rules of Kubernetes' apimachinery
// validation (k8s.io/apimachinery/pkg/util/validation and
// pkg/api/validate/content), written as byte loops instead of regular
// expressions so that they never allocate.
//
// Each check returns the empty string when the value is valid, or a short
// lowercase description of the first rule it breaks. The verdicts equal
// Kubernetes' own; peers/selector checks that on generated inputs.
package k8sname

import "strings"

// Length limits from apimachinery's validation package.
const (
	// DNS1123LabelMaxLength is the longest RFC 1123 label (and DNS-1035 label).
	DNS1123LabelMaxLength = 63
	// DNS1123SubdomainMaxLength is the longest RFC 1123 subdomain.
	DNS1123SubdomainMaxLength = 253
	// LabelValueMaxLength is the longest label value and qualified-name part.
	LabelValueMaxLength = 63
	// PortNameMaxLength is the longest IANA service name (RFC 6335 §5.1).
	PortNameMaxLength = 15
)

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// dns1123Label reports whether s matches [a-z0-9]([-a-z0-9]*[a-z0-9])?
// (length not checked).
func dns1123Label(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// dns1123Subdomain reports whether s is dot-separated RFC 1123 labels
// (length not checked).
func dns1123Subdomain(s string) bool {
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return dns1123Label(s)
		}
		if !dns1123Label(s[:i]) {
			return false
		}
		s = s[i+1:]
	}
}

// DNS1123Label checks an RFC 1123 label: at most 63 lower-case
// alphanumerics or '-', starting and ending with an alphanumeric.
func DNS1123Label(s string) string {
	if len(s) > DNS1123LabelMaxLength {
		return "must be no more than 63 characters"
	}
	if !dns1123Label(s) {
		if dns1123Subdomain(s) {
			return "must not contain dots"
		}
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
	}
	return ""
}

// DNS1123Subdomain checks an RFC 1123 subdomain: at most 253 characters
// of dot-separated RFC 1123 labels (each label's own length is not limited
// here, as in Kubernetes).
func DNS1123Subdomain(s string) string {
	if len(s) > DNS1123SubdomainMaxLength {
		return "must be no more than 253 characters"
	}
	if !dns1123Subdomain(s) {
		return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
	}
	return ""
}

// DNS1035Label checks an RFC 1035 label: at most 63 lower-case
// alphanumerics or '-', starting with a letter and ending with an
// alphanumeric. Service names follow this rule.
func DNS1035Label(s string) string {
	if len(s) > DNS1123LabelMaxLength {
		return "must be no more than 63 characters"
	}
	if s == "" || s[0] < 'a' || s[0] > 'z' || !dns1123Label(s) {
		return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
	}
	return ""
}

// labelName reports whether s matches ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
func labelName(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// QualifiedName checks a label key or annotation key: an optional
// DNS-1123 subdomain prefix and '/', then a name of at most 63
// alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric.
func QualifiedName(s string) string {
	name := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		prefix := s[:i]
		name = s[i+1:]
		if strings.IndexByte(name, '/') >= 0 {
			return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"
		}
		if prefix == "" {
			return "prefix part must be non-empty"
		}
		if msg := DNS1123Subdomain(prefix); msg != "" {
			return "prefix part " + msg
		}
	}
	if name == "" {
		return "name part must be non-empty"
	}
	if len(name) > LabelValueMaxLength {
		return "name part must be no more than 63 characters"
	}
	if !labelName(name) {
		return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	}
	return ""
}

// LabelValue checks a label value: empty, or at most 63 alphanumerics,
// '-', '_' or '.', starting and ending with an alphanumeric.
func LabelValue(s string) string {
	if len(s) > LabelValueMaxLength {
		return "must be no more than 63 characters"
	}
	if s != "" && !labelName(s) {
		return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	}
	return ""
}

// PortName checks an IANA service name (RFC 6335 §5.1) as Kubernetes does
// for container port names: 1–15 characters of [-a-z0-9], at least one
// letter, no leading, trailing or adjacent hyphens.
func PortName(s string) string {
	if len(s) > PortNameMaxLength {
		return "must be no more than 15 characters"
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(s)-1 {
				return "must not begin or end with a hyphen"
			}
			if s[i-1] == '-' {
				return "must not contain consecutive hyphens"
			}
		default:
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
		}
	}
	if !letter {
		if s == "" {
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
		}
		return "must contain at least one letter (a-z)"
	}
	return ""
}
