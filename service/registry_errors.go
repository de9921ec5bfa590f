package service

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors of the Registry. Every error a Registry returns either is
// a *ValidationError (errors.Is(err, ErrInvalid): the Service breaks a rule,
// each problem with its field path) or wraps one of these, or an
// allocator's sentinel (ipam.ErrFull, portalloc.ErrFull) when a range is
// exhausted; callers test with errors.Is.
var (
	// ErrNotFound reports that no Service has the given namespace and name.
	ErrNotFound = errors.New("service: not found")
	// ErrAlreadyExists reports a Create of a namespace/name already taken.
	ErrAlreadyExists = errors.New("service: already exists")
	// ErrConflict reports an Update, UpdateStatus or Delete whose
	// metadata.resourceVersion or metadata.uid is not the stored one: the
	// caller worked from a stale copy (Kubernetes' 409 Conflict).
	ErrConflict = errors.New("service: conflict")
	// ErrForbidden reports a Service that policy denies, such as a new
	// externalIP under DenyServiceExternalIPs. The error also carries a
	// *ValidationError naming each denied field.
	ErrForbidden = errors.New("service: forbidden")
	// ErrProvider reports that the LoadBalancer provider failed; the call
	// changed nothing.
	ErrProvider = errors.New("service: load-balancer provider failed")
	// ErrSnapshot reports a registry snapshot that cannot be restored:
	// not JSON, of an unknown version, with an invalid Service or
	// allocator state, or taken with other ranges.
	ErrSnapshot = errors.New("service: invalid snapshot")
	// ErrInvalidConfig reports a RegistryConfig or PoolProviderConfig that
	// cannot be used.
	ErrInvalidConfig = errors.New("service: invalid config")
)

// RegistryError is the error of a Registry operation that is not a
// validation failure. It names the operation and the Service and wraps the
// cause: one of the sentinels above or an allocator's error. Its zero value
// is not useful.
type RegistryError struct {
	// Op is the operation: "create", "update", "update status", "delete",
	// "get", "restore", "repair", "new registry".
	Op string
	// Key is the Service concerned; empty for whole-registry operations.
	Key NamespacedName
	// Err is the cause; errors.Is(Err, sentinel) holds for one sentinel.
	Err error
}

// Error formats the error as `service: <op> "namespace/name": <cause>`.
func (e *RegistryError) Error() string {
	var b strings.Builder
	b.WriteString("service: ")
	b.WriteString(e.Op)
	if e.Key != (NamespacedName{}) {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Key.String()))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "service: "))
	}
	return b.String()
}

// Unwrap returns the cause, so that errors.Is sees the sentinel.
func (e *RegistryError) Unwrap() error { return e.Err }

// forbiddenError is a policy denial: errors.Is(err, ErrForbidden) holds,
// and errors.As gives the *ValidationError that names each denied field.
// It is not ErrInvalid: the Service is valid, policy refuses it.
type forbiddenError struct{ ve *ValidationError }

// Error formats the denial as `service: forbidden Service "ns/name": <field errors>`.
func (e *forbiddenError) Error() string {
	return "service: forbidden" + strings.TrimPrefix(e.ve.Error(), "service: invalid")
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *forbiddenError) Unwrap() error { return ErrForbidden }

// As makes errors.As(err, &ve) give the field errors.
func (e *forbiddenError) As(target any) bool {
	if p, ok := target.(**ValidationError); ok {
		*p = e.ve
		return true
	}
	return false
}
