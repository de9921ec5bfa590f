package convert

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/svcnet/svcnet/sim"
)

// DeploymentFromKube returns the simulator's form of an apps/v1
// Deployment: its metadata and the spec fields sim.Deployment declares
// (replicas, selector, template, strategy, minReadySeconds,
// revisionHistoryLimit, progressDeadlineSeconds, paused). Its status is
// not carried: the simulator computes its own.
func DeploymentFromKube(in *appsv1.Deployment) (*sim.Deployment, error) {
	if in == nil {
		return nil, &Error{Kind: "Deployment", Reason: "nil Deployment"}
	}
	out := new(sim.Deployment)
	if err := viaJSON("Deployment", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeploymentToKube returns the apps/v1 form of a simulator Deployment,
// with apiVersion apps/v1 and kind Deployment set, and no status.
func DeploymentToKube(in *sim.Deployment) (*appsv1.Deployment, error) {
	if in == nil {
		return nil, &Error{Kind: "Deployment", Reason: "nil Deployment"}
	}
	out := new(appsv1.Deployment)
	if err := viaJSON("Deployment", key(in.Namespace, in.Name), in, out); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "apps/v1", "Deployment"
	return out, nil
}
