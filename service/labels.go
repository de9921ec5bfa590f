package service

import (
	"fmt"
	"slices"

	"github.com/svcnet/svcnet/internal/k8sname"
)

// Labels are an object's labels: keys are qualified names (an optional
// DNS-1123 subdomain prefix and '/', then a name of at most 63 characters)
// and values are label values (empty, or at most 63 characters). A nil
// Labels is an empty set.
type Labels map[string]string

// ValidateLabels reports every invalid key and value of ls, each as a
// FieldError under path (for example "metadata.labels"), in key order.
// It returns nil when all are valid.
func ValidateLabels(ls Labels, path string) error {
	var errs ErrorList
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if msg := k8sname.QualifiedName(k); msg != "" {
			errs = append(errs, Invalid(path, k, "label key "+msg))
		}
		if msg := k8sname.LabelValue(ls[k]); msg != "" {
			errs = append(errs, Invalid(fmt.Sprintf("%s[%s]", path, k), ls[k], "label value "+msg))
		}
	}
	return errs.Err()
}
