package convert

// NotCarried lists, per kind, the fields of the Kubernetes v1.37 schemas
// (k8s.io/api v0.37) that a conversion from Kubernetes drops, as JSON
// paths with "[*]" for every element of a list; the conversion back
// leaves them unset. Everything else converts both ways unchanged: the
// kinds converted through JSON carry every field (service.Carried), so
// their lists are empty; the EndpointSlice, converted field by field to
// endpoints.Slice, drops the deprecated topology map, the parts of an
// endpoint's targetRef other than kind, namespace, name and uid, and
// metadata.selfLink (deprecated and empty since Kubernetes 1.20). The
// package's tests check the list against both schemas and against the
// conversions (exactly these paths change in a round trip of objects with
// every field set). Do not modify it.
var NotCarried = map[string][]string{
	"Service": {}, "Pod": {}, "Node": {}, "Namespace": {}, "Deployment": {},
	"EndpointSlice": {
		"endpoints[*].deprecatedTopology",
		"endpoints[*].targetRef.apiVersion",
		"endpoints[*].targetRef.fieldPath",
		"endpoints[*].targetRef.resourceVersion",
		"metadata.selfLink",
	},
}
