package sim

import "github.com/svcnet/svcnet/service"

// ReplicaSet is an apps/v1 ReplicaSet given as input (a Deployment's own
// ReplicaSets are the Deployment's, not input): replicas, selector,
// template and minReadySeconds, under Kubernetes' field names. Its pods
// are named <name>-<5 random characters>, as the ReplicaSet controller's
// generateName makes them. A ReplicaSet does not roll out: a template
// change leaves its pods as they are (pkg/controller/replicaset only
// counts pods), so the rollout action refuses it; scale works.
type ReplicaSet struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
	Spec               ReplicaSetSpec `json:"spec"`
}

// ReplicaSetSpec is a ReplicaSet's desired state.
type ReplicaSetSpec struct {
	// Replicas is the desired number of pods; nil means 1.
	Replicas *int32 `json:"replicas,omitempty"`
	// MinReadySeconds is how long a pod must be ready before it counts
	// as available.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// Selector selects the pods; it must match the template's labels.
	Selector *service.LabelSelector `json:"selector"`
	// Template is the pod template.
	Template PodTemplateSpec `json:"template"`
}

// GroupVersionKind returns "apps/v1", "ReplicaSet".
func (r *ReplicaSet) GroupVersionKind() (string, string) { return apiVersionApps, kindReplicaSet }

// Meta returns the ReplicaSet's metadata.
func (r *ReplicaSet) Meta() *service.ObjectMeta { return &r.ObjectMeta }

// ReplicaCount returns spec.replicas, or 1 when it is nil.
func (r *ReplicaSet) ReplicaCount() int32 {
	if r.Spec.Replicas == nil {
		return 1
	}
	return *r.Spec.Replicas
}
