package convert

// NotCarried lists, per kind, the fields of the Kubernetes v1.37 schemas
// (k8s.io/api v0.37) that svcnet's types do not declare, as JSON paths
// with "[*]" for every element of a list: a conversion from Kubernetes
// drops them, and the conversion back leaves them unset. Everything else
// converts both ways unchanged. The package's tests check the list
// against both schemas (each path is declared by Kubernetes' type and not
// by svcnet's) and against the conversions (exactly these paths change
// in a round trip of objects with every field set). Do not modify it.
//
// metadata.selfLink is deprecated and empty since Kubernetes 1.20. A
// Deployment's pod template drops what a Pod's spec drops; its status is
// the simulator's to compute.
var NotCarried = map[string][]string{
	"Service": {"metadata.selfLink"},
	"Pod": append(append([]string{"metadata.selfLink"}, podSpecNotCarried("spec.")...),
		"status.allocatedResources",
		"status.conditions[*].observedGeneration",
		"status.ephemeralContainerStatuses",
		"status.extendedResourceClaimStatus",
		"status.initContainerStatuses",
		"status.nodeAllocatableResourceClaimStatuses",
		"status.nominatedNodeName",
		"status.observedGeneration",
		"status.resize",
		"status.resourceClaimStatuses",
		"status.resources",
		"status.volumeHealth",
	),
	"Node": {
		"metadata.selfLink",
		"spec.configSource",
		"spec.externalID",
		"spec.podPreemptionPolicy",
		"status.config",
		"status.daemonEndpoints",
		"status.declaredFeatures",
		"status.features",
		"status.phase",
		"status.runtimeHandlers",
		"status.volumesAttached",
		"status.volumesInUse",
	},
	// svcnet has no Namespace type: NamespaceFromKube keeps the metadata.
	"Namespace": {"metadata.selfLink", "spec", "status"},
	"EndpointSlice": {
		"endpoints[*].deprecatedTopology",
		"endpoints[*].targetRef.apiVersion",
		"endpoints[*].targetRef.fieldPath",
		"endpoints[*].targetRef.resourceVersion",
		"metadata.selfLink",
	},
	"Deployment": append([]string{"metadata.selfLink", "spec.template.metadata.selfLink", "status"},
		podSpecNotCarried("spec.template.spec.")...),
}

// podSpecNotCarried is the fields of a pod spec svcnet does not carry,
// under prefix.
func podSpecNotCarried(prefix string) []string {
	var out []string
	for _, p := range []string{
		"activeDeadlineSeconds",
		"automountServiceAccountToken",
		"containers[*].lifecycle.stopSignal",
		"containers[*].resizePolicy",
		"containers[*].restartPolicyRules",
		"containers[*].stdin",
		"containers[*].stdinOnce",
		"containers[*].terminationMessagePath",
		"containers[*].terminationMessagePolicy",
		"containers[*].tty",
		"containers[*].volumeDevices",
		"enableServiceLinks",
		"ephemeralContainers",
		"evictionResponders",
		"hostAliases",
		"hostIPC",
		"hostPID",
		"hostUsers",
		"hostnameOverride",
		"initContainers[*].lifecycle.stopSignal",
		"initContainers[*].resizePolicy",
		"initContainers[*].restartPolicyRules",
		"initContainers[*].stdin",
		"initContainers[*].stdinOnce",
		"initContainers[*].terminationMessagePath",
		"initContainers[*].terminationMessagePolicy",
		"initContainers[*].tty",
		"initContainers[*].volumeDevices",
		"os",
		"overhead",
		"preemptionPolicy",
		"priority",
		"readinessGates",
		"resourceClaims",
		"resources",
		"runtimeClassName",
		"schedulingGates",
		"schedulingGroup",
		"serviceAccount",
		"setHostnameAsFQDN",
		"shareProcessNamespace",
	} {
		out = append(out, prefix+p)
	}
	return out
}
