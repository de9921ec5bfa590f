package service

import (
	"time"

	"github.com/svcnet/svcnet/internal/carry"
)

// Carried holds the fields of a decoded object that svcnet's types do
// not model (a container's terminationMessagePath, a pod's volumes'
// contents, a Node's status.daemonEndpoints), each at its path, so that
// the object encodes again with them: json.Marshal of a decoded Pod
// gives back every field Kubernetes defined in the input. The zero
// Carried holds nothing. A Carried is immutable: copies of an object
// (DeepCopy, a Registry's snapshots) share it.
//
// What is carried is aligned with the object as decoded: a carried field
// of spec.containers[1] is written into whatever spec.containers[1] is
// at encoding time, and dropped when that list has become shorter. The
// one thing that does not come back is an empty object where a modelled
// struct was (status: {loadBalancer: {}}): it is omitted, which
// Kubernetes decodes alike. A pod made from a workload's template
// carries the template's unmodelled fields only when given them (Sub);
// sim's controllers do not do that today.
type Carried struct{ r carry.Remainder }

// IsZero reports whether c holds nothing.
func (c Carried) IsZero() bool { return c.r.IsZero() }

// Paths lists the carried fields' paths, sorted:
// ["spec.containers[0].tty", "spec.enableServiceLinks"].
func (c Carried) Paths() []string { return c.r.Paths() }

// Get returns the carried value (as encoding/json decodes into any,
// numbers as json.Number) at a path of object keys, and whether there is
// one: Get("spec", "enableServiceLinks").
func (c Carried) Get(keys ...string) (any, bool) { return c.r.Get(keys...) }

// Carried returns what the object carries beside its modelled fields.
func (t *TypeMeta) Carried() Carried { return t.carried }

// SetCarried replaces what the object carries; the zero Carried drops it.
func (t *TypeMeta) SetCarried(c Carried) { t.carried = c }

// MarshalCarried encodes plain — a pointer to (or value of) an object
// type without MarshalJSON of its own, usually `type plain T` — as
// encoding/json does and merges c into it. It is the MarshalJSON of
// every object type that embeds TypeMeta; a new kind's is
//
//	func (d StatefulSet) MarshalJSON() ([]byte, error) {
//		type plain StatefulSet
//		return service.MarshalCarried(plain(d), d.Carried())
//	}
//
// With nothing carried the bytes are json.Marshal's, unchanged; with
// something carried the object's keys come out sorted.
func MarshalCarried(plain any, c Carried) ([]byte, error) { return carry.Marshal(plain, c.r) }

// UnmarshalCarried decodes b into plain (a pointer to a method-less copy
// of the object type, as for MarshalCarried) as encoding/json does, and
// stores in *c every field plain's type does not model. It is the
// UnmarshalJSON of every object type that embeds TypeMeta:
//
//	func (d *StatefulSet) UnmarshalJSON(b []byte) error {
//		type plain StatefulSet
//		return service.UnmarshalCarried(b, (*plain)(d), &d.TypeMeta)
//	}
//
// Unlike Decode it does not check fields against Kubernetes' schema:
// like encoding/json it accepts any key, but keeps the ones it does not
// know instead of dropping them.
func UnmarshalCarried(b []byte, plain any, t *TypeMeta) error {
	return carry.Unmarshal(b, plain, &t.carried.r)
}

// MarshalJSON encodes the Service with what it carries.
func (s Service) MarshalJSON() ([]byte, error) {
	type plain Service
	return MarshalCarried(plain(s), s.carried)
}

// UnmarshalJSON decodes a Service, carrying the fields it does not model.
func (s *Service) UnmarshalJSON(b []byte) error {
	type plain Service
	return UnmarshalCarried(b, (*plain)(s), &s.TypeMeta)
}

// MarshalJSON encodes the Pod with what it carries.
func (p Pod) MarshalJSON() ([]byte, error) {
	type plain Pod
	return MarshalCarried(plain(p), p.carried)
}

// UnmarshalJSON decodes a Pod, carrying the fields it does not model.
func (p *Pod) UnmarshalJSON(b []byte) error {
	type plain Pod
	return UnmarshalCarried(b, (*plain)(p), &p.TypeMeta)
}

// MarshalJSON encodes the Node with what it carries.
func (n Node) MarshalJSON() ([]byte, error) {
	type plain Node
	return MarshalCarried(plain(n), n.carried)
}

// UnmarshalJSON decodes a Node, carrying the fields it does not model.
func (n *Node) UnmarshalJSON(b []byte) error {
	type plain Node
	return UnmarshalCarried(b, (*plain)(n), &n.TypeMeta)
}

// MarshalJSON encodes the Namespace with what it carries.
func (n Namespace) MarshalJSON() ([]byte, error) {
	type plain Namespace
	return MarshalCarried(plain(n), n.carried)
}

// UnmarshalJSON decodes a Namespace, carrying the fields it does not model.
func (n *Namespace) UnmarshalJSON(b []byte) error {
	type plain Namespace
	return UnmarshalCarried(b, (*plain)(n), &n.TypeMeta)
}

// MarshalJSON encodes the EndpointSlice with what it carries.
func (s EndpointSlice) MarshalJSON() ([]byte, error) {
	type plain EndpointSlice
	return MarshalCarried(plain(s), s.carried)
}

// UnmarshalJSON decodes an EndpointSlice, carrying the fields it does
// not model.
func (s *EndpointSlice) UnmarshalJSON(b []byte) error {
	type plain EndpointSlice
	return UnmarshalCarried(b, (*plain)(s), &s.TypeMeta)
}

// Sub returns what c carries under the object at the path of keys, as
// that object's own Carried: a Deployment's Sub("spec", "template") is
// what its pod template carries, paths relative to the template
// (spec.containers[0].tty), so that a pod made from the template can
// carry it too: pod.SetCarried(dep.Carried().Sub("spec", "template")).
func (c Carried) Sub(keys ...string) Carried { return Carried{c.r.Sub(keys...)} }

// Without returns c without the carried field at the path of object
// keys: Without("metadata", "selfLink").
func (c Carried) Without(keys ...string) Carried { return Carried{c.r.Without(keys...)} }

// ClearSystemFields clears the metadata the API server sets itself and
// a `kubectl get -o yaml` dump holds, as kube-apiserver treats it when
// the object is created from that dump (k8s.io/apiserver
// pkg/registry/rest/create.go BeforeCreate, FillObjectMetaSystemFields):
//
//   - uid and creationTimestamp are cleared: the store assigns new ones;
//   - resourceVersion is cleared: the store refuses it on create
//     (k8s.io/apiserver pkg/storage/errors.go ErrResourceVersionSetOnCreate,
//     "resourceVersion should not be set on objects to be created",
//     returned by the etcd3 store's Create), and a dump's is another
//     cluster's;
//   - generation is cleared: each kind's PrepareForCreate starts it at 1
//     for the kinds that count it (svcnet's Registry does not count it);
//   - deletionTimestamp and deletionGracePeriodSeconds are cleared, as
//     BeforeCreate does: a created object is not being deleted;
//   - managedFields are cleared: svcnet does no server-side apply, and
//     the field manager rebuilds them for its own manager;
//   - selfLink (carried; no longer set since Kubernetes 1.20) is dropped.
//
// ownerReferences, finalizers, labels and annotations are kept, as the
// API server keeps them. Cluster.Apply and sim's scenario decoder call
// it for every object a manifest stream holds; Registry.Create itself
// still refuses a resourceVersion, as the API server does.
func ClearSystemFields(o Object) {
	m := o.Meta()
	m.UID, m.ResourceVersion, m.Generation = "", "", 0
	m.CreationTimestamp = time.Time{}
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = nil, nil
	m.ManagedFields = nil
	if t, ok := o.(interface {
		Carried() Carried
		SetCarried(Carried)
	}); ok {
		t.SetCarried(t.Carried().Without("metadata", "selfLink"))
	}
}
