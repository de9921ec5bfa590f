package sim

import (
	"encoding/json"
	"fmt"

	"github.com/svcnet/svcnet/service"
)

// StatefulSet is an apps/v1 StatefulSet with the fields the simulator
// acts on, under Kubernetes' field names, so that a real manifest
// decodes: replicas, selector, template, serviceName (the headless
// Service that gives the pods their DNS names), podManagementPolicy
// (OrderedReady or Parallel), updateStrategy (RollingUpdate with
// partition and maxUnavailable, or OnDelete), minReadySeconds and
// ordinals.start. Its pods are named <name>-<ordinal>, with
// spec.hostname their name and spec.subdomain the serviceName, so that
// the cluster DNS answers <name>-0.<serviceName>.<namespace>.svc.<zone>.
type StatefulSet struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
	Spec               StatefulSetSpec `json:"spec"`
}

// StatefulSetSpec is a StatefulSet's desired state.
type StatefulSetSpec struct {
	// Replicas is the desired number of pods; nil means 1.
	Replicas *int32 `json:"replicas,omitempty"`
	// Selector selects the pods; it must match the template's labels.
	Selector *service.LabelSelector `json:"selector"`
	// Template is the pod template.
	Template PodTemplateSpec `json:"template"`
	// ServiceName is the headless Service that governs the pods: it is
	// each pod's spec.subdomain. "" gives the pods no subdomain.
	ServiceName string `json:"serviceName,omitempty"`
	// PodManagementPolicy is PodManagementOrderedReady (the default, "")
	// or PodManagementParallel.
	PodManagementPolicy string `json:"podManagementPolicy,omitempty"`
	// UpdateStrategy is how pods are replaced on a template change.
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy,omitzero"`
	// MinReadySeconds is how long a pod must be ready before it counts
	// as available.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// Ordinals sets the first ordinal; nil means 0.
	Ordinals *StatefulSetOrdinals `json:"ordinals,omitempty"`
	// RevisionHistoryLimit, VolumeClaimTemplates and
	// PersistentVolumeClaimRetentionPolicy are carried, not interpreted
	// (the simulator has no volumes).
	RevisionHistoryLimit                 *int32          `json:"revisionHistoryLimit,omitempty"`
	VolumeClaimTemplates                 json.RawMessage `json:"volumeClaimTemplates,omitempty"`
	PersistentVolumeClaimRetentionPolicy json.RawMessage `json:"persistentVolumeClaimRetentionPolicy,omitempty"`
}

// StatefulSetOrdinals is spec.ordinals.
type StatefulSetOrdinals struct {
	// Start is the ordinal of the first pod.
	Start int32 `json:"start,omitempty"`
}

// The pod management policies of a StatefulSet.
const (
	// PodManagementOrderedReady creates pods in ordinal order, each only
	// when the one before is Running and Ready, and deletes them from the
	// highest ordinal down, one at a time.
	PodManagementOrderedReady = "OrderedReady"
	// PodManagementParallel creates and deletes pods without waiting.
	PodManagementParallel = "Parallel"
)

// The update strategies of StatefulSets and DaemonSets.
const (
	// UpdateRollingUpdate replaces pods automatically (also
	// StrategyRollingUpdate).
	UpdateRollingUpdate = "RollingUpdate"
	// UpdateOnDelete replaces a pod only when it is deleted.
	UpdateOnDelete = "OnDelete"
)

// StatefulSetUpdateStrategy is a StatefulSet's update strategy.
type StatefulSetUpdateStrategy struct {
	// Type is UpdateRollingUpdate (the default, "") or UpdateOnDelete.
	Type string `json:"type,omitempty"`
	// RollingUpdate configures UpdateRollingUpdate.
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateStatefulSetStrategy bounds a StatefulSet's rolling update.
type RollingUpdateStatefulSetStrategy struct {
	// Partition: pods with an ordinal index below it keep the current
	// revision; nil means 0.
	Partition *int32 `json:"partition,omitempty"`
	// MaxUnavailable is how many pods may be unavailable during the
	// update, a number or a percentage of replicas rounded down, at
	// least 1; nil means 1 (the MaxUnavailableStatefulSet feature, beta
	// and on by default since Kubernetes 1.35).
	MaxUnavailable *service.IntOrString `json:"maxUnavailable,omitempty"`
}

// GroupVersionKind returns "apps/v1", "StatefulSet".
func (s *StatefulSet) GroupVersionKind() (string, string) { return apiVersionApps, kindStatefulSet }

// Meta returns the StatefulSet's metadata.
func (s *StatefulSet) Meta() *service.ObjectMeta { return &s.ObjectMeta }

// ReplicaCount returns spec.replicas, or 1 when it is nil.
func (s *StatefulSet) ReplicaCount() int32 {
	if s.Spec.Replicas == nil {
		return 1
	}
	return *s.Spec.Replicas
}

// StartOrdinal returns spec.ordinals.start, or 0.
func (s *StatefulSet) StartOrdinal() int32 {
	if s.Spec.Ordinals == nil {
		return 0
	}
	return s.Spec.Ordinals.Start
}

// Partition returns spec.updateStrategy.rollingUpdate.partition, or 0.
func (s *StatefulSet) Partition() int32 {
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return *ru.Partition
	}
	return 0
}

// MaxUnavailable returns the rolling update's maxUnavailable as a pod
// count for replicas, as getStatefulSetMaxUnavailable in
// pkg/controller/statefulset/stateful_set_utils.go does: default 1, a
// percentage rounded down, and at least 1.
func (s *StatefulSet) MaxUnavailable(replicas int32) (int32, error) {
	v := service.FromInt(1)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v = *ru.MaxUnavailable
	}
	n, err := scaledValue(v, replicas, false)
	if err != nil {
		return 0, fmt.Errorf("sim: statefulset %s: spec.updateStrategy.rollingUpdate.maxUnavailable: %w", s.Key(), err)
	}
	return max(n, 1), nil
}
