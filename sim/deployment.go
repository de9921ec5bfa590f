package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/svcnet/svcnet/service"
)

// Deployment is an apps/v1 Deployment with the fields the simulator acts
// on, under Kubernetes' field names, so that a real manifest decodes:
// replicas, selector, template, strategy (RollingUpdate with maxSurge and
// maxUnavailable, or Recreate) and minReadySeconds.
type Deployment struct {
	service.TypeMeta   `json:",inline"`
	service.ObjectMeta `json:"metadata,omitempty"`
	Spec               DeploymentSpec `json:"spec"`
}

// DeploymentSpec is a Deployment's desired state.
type DeploymentSpec struct {
	// Replicas is the desired number of pods; nil means 1.
	Replicas *int32 `json:"replicas,omitempty"`
	// Selector selects the Deployment's pods; it must match the
	// template's labels.
	Selector *service.LabelSelector `json:"selector"`
	// Template is the pod template.
	Template PodTemplateSpec `json:"template"`
	// Strategy is how pods are replaced on a template change.
	Strategy DeploymentStrategy `json:"strategy,omitzero"`
	// MinReadySeconds is how long a new pod must be ready before it
	// counts as available.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit and ProgressDeadlineSeconds are carried, not
	// interpreted.
	RevisionHistoryLimit    *int32 `json:"revisionHistoryLimit,omitempty"`
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
	Paused                  bool   `json:"paused,omitempty"`
}

// PodTemplateSpec is a pod template: the metadata and spec of the pods a
// Deployment creates.
type PodTemplateSpec struct {
	service.ObjectMeta `json:"metadata,omitempty"`
	Spec               service.PodSpec `json:"spec"`
}

// The deployment strategy types.
const (
	StrategyRollingUpdate = "RollingUpdate"
	StrategyRecreate      = "Recreate"
)

// DeploymentStrategy is a Deployment's replacement strategy.
type DeploymentStrategy struct {
	// Type is StrategyRollingUpdate (the default, "") or StrategyRecreate.
	Type string `json:"type,omitempty"`
	// RollingUpdate configures StrategyRollingUpdate.
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// RollingUpdateDeployment bounds a rolling update.
type RollingUpdateDeployment struct {
	// MaxUnavailable is how many pods may be unavailable during the
	// update, a number or a percentage of replicas rounded down; nil
	// means 25%.
	MaxUnavailable *service.IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge is how many pods may exist above replicas, a number or a
	// percentage rounded up; nil means 25%.
	MaxSurge *service.IntOrString `json:"maxSurge,omitempty"`
}

// GroupVersionKind returns "apps/v1", "Deployment".
func (d *Deployment) GroupVersionKind() (string, string) { return "apps/v1", "Deployment" }

// Meta returns the Deployment's metadata.
func (d *Deployment) Meta() *service.ObjectMeta { return &d.ObjectMeta }

// ReplicaCount returns spec.replicas, or 1 when it is nil.
func (d *Deployment) ReplicaCount() int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// RollingBounds returns the rolling update's maxSurge and maxUnavailable
// as pod counts for the current replicas, as the Deployment controller's
// ResolveFenceposts does: a percentage of replicas, surge rounded up and
// unavailable rounded down, defaults 25% each, and maxUnavailable 1 when
// both come out 0.
func (d *Deployment) RollingBounds() (surge, unavailable int32, err error) {
	replicas := d.ReplicaCount()
	pct := service.FromString("25%")
	s, u := &pct, &pct
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			s = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			u = ru.MaxUnavailable
		}
	}
	if surge, err = scaledValue(*s, replicas, true); err != nil {
		return 0, 0, fmt.Errorf("sim: deployment %s: spec.strategy.rollingUpdate.maxSurge: %w", d.Key(), err)
	}
	if unavailable, err = scaledValue(*u, replicas, false); err != nil {
		return 0, 0, fmt.Errorf("sim: deployment %s: spec.strategy.rollingUpdate.maxUnavailable: %w", d.Key(), err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}

// scaledValue is intstr.GetScaledValueFromIntOrPercent.
func scaledValue(v service.IntOrString, total int32, roundUp bool) (int32, error) {
	if !v.IsString {
		if v.IntVal < 0 {
			return 0, fmt.Errorf("must be non-negative, got %d", v.IntVal)
		}
		return v.IntVal, nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("invalid value %q: must be an integer or a percentage", v.StrVal)
	}
	f := float64(n) * float64(total) / 100
	if roundUp {
		return int32(math.Ceil(f)), nil
	}
	return int32(math.Floor(f)), nil
}
