package sim

import (
	"reflect"
	"strings"
	"sync"

	"github.com/svcnet/svcnet"
	"github.com/svcnet/svcnet/internal/k8sschema"
	"github.com/svcnet/svcnet/service"
)

// manifestKind is one Kubernetes kind a scenario stream reads: its
// apiVersion, its Go type's constructor, and what the decoder does with
// a decoded object (check it and add it to the Scenario; nil: decode it
// strictly and skip it). Its schema is k8sschema's for the apiVersion
// and kind, so every field Kubernetes defines decodes and what the Go
// type does not model is carried (service.Carried).
type manifestKind struct {
	apiVersion string
	new        func() service.Object
	add        func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool)
}

// manifestKinds are the kinds of a scenario stream beside Scenario and
// List. Registering a new kind (a StatefulSet, say) takes
//
//  1. an entry here: "StatefulSet": {apiVersionApps, func() service.Object { return new(StatefulSet) }, addStatefulSet},
//  2. the type embedding service.TypeMeta and service.ObjectMeta, with
//     Meta and GroupVersionKind methods and the two carrying methods
//     (MarshalJSON and UnmarshalJSON through service.MarshalCarried and
//     service.UnmarshalCarried, three lines each; see Deployment's),
//  3. a field for it in Scenario if a Scenario document may list it
//     (scenarioKindTypes below then gives it the schema check there).
//
// k8sschema already knows apps/v1 StatefulSet, DaemonSet and ReplicaSet.
var manifestKinds = map[string]manifestKind{
	"Service": {"v1", func() service.Object { return new(service.Service) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addService(ref, o.(*service.Service), prefix, manifest)
	}},
	"Pod": {"v1", func() service.Object { return new(service.Pod) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addPod(ref, o.(*service.Pod), prefix, manifest)
	}},
	"Node": {"v1", func() service.Object { return new(service.Node) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addNode(ref, o.(*service.Node), prefix, manifest)
	}},
	kindDeployment: {apiVersionApps, func() service.Object { return new(Deployment) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addDeployment(ref, o.(*Deployment), prefix, manifest)
	}},
	kindStatefulSet: {apiVersionApps, func() service.Object { return new(StatefulSet) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addStatefulSet(ref, o.(*StatefulSet), prefix, manifest)
	}},
	kindDaemonSet: {apiVersionApps, func() service.Object { return new(DaemonSet) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addDaemonSet(ref, o.(*DaemonSet), prefix, manifest)
	}},
	kindReplicaSet: {apiVersionApps, func() service.Object { return new(ReplicaSet) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addReplicaSet(ref, o.(*ReplicaSet), prefix, manifest)
	}},
	// A dump lists its namespaces and the cluster's own EndpointSlices:
	// they decode (strictly) and are not simulated — the simulator's
	// controller computes the slices.
	"Namespace": {"v1", func() service.Object { return new(service.Namespace) }, nil},
	"EndpointSlice": {"discovery.k8s.io/v1", func() service.Object { return new(service.EndpointSlice) }, func(d *decoder, ref docRef, o service.Object, prefix string, manifest bool) {
		d.addDumpSlice(ref, o.(*service.EndpointSlice), prefix, manifest)
	}},
}

// scenarioKindTypes maps the object types a Scenario document lists
// (services:, deployments:, pods:, nodes:) to their Kubernetes schema,
// so that the fields Kubernetes defines are accepted there too.
// It is made on first use: the schema table is parsed only when a
// scenario is decoded.
var scenarioKindTypes = sync.OnceValue(func() map[reflect.Type]*k8sschema.Type {
	m := map[reflect.Type]*k8sschema.Type{}
	for kind, k := range manifestKinds {
		if s, ok := k8sschema.Lookup(k.apiVersion, kind); ok {
			m[reflect.TypeOf(k.new()).Elem()] = s
		}
	}
	return m
})

// MarshalJSON encodes the Deployment with what it carries
// (service.Carried): the fields of a real manifest it does not model.
func (d Deployment) MarshalJSON() ([]byte, error) {
	type plain Deployment
	return service.MarshalCarried(plain(d), d.Carried())
}

// UnmarshalJSON decodes a Deployment, carrying the fields it does not
// model.
func (d *Deployment) UnmarshalJSON(b []byte) error {
	type plain Deployment
	return service.UnmarshalCarried(b, (*plain)(d), &d.TypeMeta)
}

// addDumpSlice carries a user-managed EndpointSlice (svcnet.CarriedSlice:
// the simulator computes the controller's) into the scenario, converted
// as svcnet.Cluster.Apply converts it (svcnet.SliceFromManifest).
func (d *decoder) addDumpSlice(ref docRef, in *service.EndpointSlice, prefix string, manifest bool) {
	if !svcnet.CarriedSlice(in, false) {
		return
	}
	sl, err := svcnet.SliceFromManifest(in)
	if err != nil {
		d.fail(ref, kindEndpointSlice, in.Namespace+"/"+in.Name, strings.TrimSuffix(prefix, "."), err.Error(), err)
		return
	}
	d.addSlice(ref, sl, prefix, manifest)
}

// MarshalJSON encodes the StatefulSet with what it carries.
func (o StatefulSet) MarshalJSON() ([]byte, error) {
	type plain StatefulSet
	return service.MarshalCarried(plain(o), o.Carried())
}

// UnmarshalJSON decodes a StatefulSet, carrying the fields it does not model.
func (o *StatefulSet) UnmarshalJSON(b []byte) error {
	type plain StatefulSet
	return service.UnmarshalCarried(b, (*plain)(o), &o.TypeMeta)
}

// MarshalJSON encodes the DaemonSet with what it carries.
func (o DaemonSet) MarshalJSON() ([]byte, error) {
	type plain DaemonSet
	return service.MarshalCarried(plain(o), o.Carried())
}

// UnmarshalJSON decodes a DaemonSet, carrying the fields it does not model.
func (o *DaemonSet) UnmarshalJSON(b []byte) error {
	type plain DaemonSet
	return service.UnmarshalCarried(b, (*plain)(o), &o.TypeMeta)
}

// MarshalJSON encodes the ReplicaSet with what it carries.
func (o ReplicaSet) MarshalJSON() ([]byte, error) {
	type plain ReplicaSet
	return service.MarshalCarried(plain(o), o.Carried())
}

// UnmarshalJSON decodes a ReplicaSet, carrying the fields it does not model.
func (o *ReplicaSet) UnmarshalJSON(b []byte) error {
	type plain ReplicaSet
	return service.UnmarshalCarried(b, (*plain)(o), &o.TypeMeta)
}
