package convert

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/svcnet/svcnet/service"
)

// ServiceFromKube returns svcnet's form of a core/v1 Service: every field
// of service.Service (spec, status, metadata with the server-set fields,
// which Cluster.CreateService refuses: see the informer package for how
// they are dropped first). A nil Service gives an *Error.
func ServiceFromKube(in *corev1.Service) (*service.Service, error) {
	if in == nil {
		return nil, &Error{Kind: "Service", Reason: "nil Service"}
	}
	out := new(service.Service)
	if err := viaJSON("Service", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ServiceToKube returns the core/v1 form of a svcnet Service, with
// apiVersion v1 and kind Service set.
func ServiceToKube(in *service.Service) (*corev1.Service, error) {
	if in == nil {
		return nil, &Error{Kind: "Service", Reason: "nil Service"}
	}
	out := new(corev1.Service)
	if err := viaJSON("Service", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "v1", "Service"
	return out, nil
}

// PodFromKube returns svcnet's form of a core/v1 Pod, every field kept:
// those service.Pod does not model are carried.
func PodFromKube(in *corev1.Pod) (*service.Pod, error) {
	if in == nil {
		return nil, &Error{Kind: "Pod", Reason: "nil Pod"}
	}
	out := new(service.Pod)
	if err := viaJSON("Pod", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// PodToKube returns the core/v1 form of a svcnet Pod, with apiVersion v1
// and kind Pod set.
func PodToKube(in *service.Pod) (*corev1.Pod, error) {
	if in == nil {
		return nil, &Error{Kind: "Pod", Reason: "nil Pod"}
	}
	out := new(corev1.Pod)
	if err := viaJSON("Pod", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "v1", "Pod"
	return out, nil
}

// NodeFromKube returns svcnet's form of a core/v1 Node.
func NodeFromKube(in *corev1.Node) (*service.Node, error) {
	if in == nil {
		return nil, &Error{Kind: "Node", Reason: "nil Node"}
	}
	out := new(service.Node)
	if err := viaJSON("Node", in.Name, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// NodeToKube returns the core/v1 form of a svcnet Node, with apiVersion
// v1 and kind Node set.
func NodeToKube(in *service.Node) (*corev1.Node, error) {
	if in == nil {
		return nil, &Error{Kind: "Node", Reason: "nil Node"}
	}
	out := new(corev1.Node)
	if err := viaJSON("Node", in.Name, in, out); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "v1", "Node"
	return out, nil
}

// NamespaceFromKube converts a core/v1 Namespace: its metadata, spec
// (finalizers) and status phase are modelled, its conditions carried.
func NamespaceFromKube(in *corev1.Namespace) (*service.Namespace, error) {
	if in == nil {
		return nil, &Error{Kind: "Namespace", Reason: "nil Namespace"}
	}
	out := new(service.Namespace)
	if err := viaJSON("Namespace", in.Name, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// NamespaceToKube converts a Namespace to core/v1, with apiVersion v1 and
// kind Namespace set.
func NamespaceToKube(in *service.Namespace) (*corev1.Namespace, error) {
	if in == nil {
		return nil, &Error{Kind: "Namespace", Reason: "nil Namespace"}
	}
	out := new(corev1.Namespace)
	if err := viaJSON("Namespace", in.Name, in, out); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "v1", "Namespace"
	return out, nil
}
