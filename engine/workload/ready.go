package workload

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/api/v1beta1"
)

// IsPrimaryReady reports nil when <target>-primary has finished its rollout with at
// least primaryReadyThreshold% of its updated replicas available. Errors read
// "<target>-primary.<ns> not ready: ..."; retriable is false only when the rollout is
// stuck (progress deadline exceeded).
//
// Flagger's check that the primary is scaled to zero compares pointers
// (primary.Spec.Replicas == int32p(0)) and so never fires; it is left out.
func (d *Deployments) IsPrimaryReady(ctx context.Context, cd *v1beta1.Canary) (retriable bool, err error) {
	if err := supported(cd); err != nil {
		return true, err
	}
	_, primaryName := names(cd)
	primary, err := d.viewDeployment(ctx, cd.Namespace, primaryName)
	if err != nil {
		return true, err
	}
	retriable, err = d.isDeploymentReady(primary, cd.GetProgressDeadlineSeconds(), cd.GetAnalysisPrimaryReadyThreshold())
	if err != nil {
		return retriable, fmt.Errorf("%s.%s not ready: %w", primaryName, cd.Namespace, err)
	}
	return true, nil
}

// IsCanaryReady does the same for the target with canaryReadyThreshold; errors read
// "canary deployment <target>.<ns> not ready: ...".
func (d *Deployments) IsCanaryReady(ctx context.Context, cd *v1beta1.Canary) (retriable bool, err error) {
	if err := supported(cd); err != nil {
		return true, err
	}
	targetName, _ := names(cd)
	target, err := d.viewDeployment(ctx, cd.Namespace, targetName)
	if err != nil {
		return true, err
	}
	retriable, err = d.isDeploymentReady(target, cd.GetProgressDeadlineSeconds(), cd.GetAnalysisCanaryReadyThreshold())
	if err != nil {
		return retriable, fmt.Errorf("canary deployment %s.%s not ready: %w", targetName, cd.Namespace, err)
	}
	return true, nil
}

// isDeploymentReady is Flagger's isDeploymentReady. deadline is the canary's
// progressDeadlineSeconds, readyThreshold a percentage.
func (d *Deployments) isDeploymentReady(dep *appsv1.Deployment, deadline, readyThreshold int) (bool, error) {
	if dep.Generation > dep.Status.ObservedGeneration {
		return true, fmt.Errorf("waiting for rollout to finish: observed deployment generation less than desired generation")
	}

	retriable := true
	progress := deploymentCondition(dep.Status, appsv1.DeploymentProgressing)
	if progress != nil {
		// Stuck: minimum replicas unavailable for longer than the canary's deadline.
		available := deploymentCondition(dep.Status, appsv1.DeploymentAvailable)
		if available != nil && available.Status == corev1.ConditionFalse && available.Reason == "MinimumReplicasUnavailable" {
			from := available.LastUpdateTime
			delta := time.Duration(deadline) * time.Second
			retriable = !from.Add(delta).Before(d.now().Now())
		}
	}

	thresholdReplicas := ReadyThresholdReplicas(dep.Status.UpdatedReplicas, readyThreshold)

	switch {
	case progress != nil && progress.Reason == "ProgressDeadlineExceeded":
		return false, fmt.Errorf("deployment %q exceeded its progress deadline", dep.GetName())
	case dep.Spec.Replicas != nil && dep.Status.UpdatedReplicas < *dep.Spec.Replicas:
		return retriable, fmt.Errorf("waiting for rollout to finish: %d out of %d new replicas have been updated",
			dep.Status.UpdatedReplicas, *dep.Spec.Replicas)
	case dep.Status.Replicas > dep.Status.UpdatedReplicas:
		return retriable, fmt.Errorf("waiting for rollout to finish: %d old replicas are pending termination",
			dep.Status.Replicas-dep.Status.UpdatedReplicas)
	case dep.Status.AvailableReplicas < thresholdReplicas:
		return retriable, fmt.Errorf("waiting for rollout to finish: %d of %d (readyThreshold %d%%) updated replicas are available",
			dep.Status.AvailableReplicas, thresholdReplicas, readyThreshold)
	}
	return true, nil
}

// ReadyThresholdReplicas is how many of a Deployment's updated replicas must be
// available for it to be ready at readyThreshold percent. Flagger computes it in
// float32, truncated; kept for identical rounding.
func ReadyThresholdReplicas(updated int32, readyThreshold int) int32 {
	ratio := float32(readyThreshold) / float32(100)
	return int32(float32(updated) * ratio)
}

func deploymentCondition(status appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}
