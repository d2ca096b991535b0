package engine

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"aviary.dev/aviary/api/v1beta1"
)

// The status writers of Flagger's canary/status.go (docs/flagger-semantics.md#status-writers). Each
// writes a copy of the tick's canary through the status subresource, re-reading the
// canary and retrying on a conflict, and stamps lastTransitionTime. Like Flagger's,
// they leave the tick's in-memory canary as it was read: the rest of the tick (event
// and webhook payloads included) sees the status the tick started with. What was
// written is kept in t.status for the tick's record.

// updateStatus applies mutate to a copy of the canary and writes its status.
func (t *tick) updateStatus(ctx context.Context, what string, mutate func(cd *v1beta1.Canary)) error {
	base := t.cd
	first := true
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if !first {
			fresh := &v1beta1.Canary{}
			if err := t.e.Client.Get(ctx, t.key, fresh); err != nil {
				return err
			}
			base = fresh
		}
		first = false
		cd := base.DeepCopy()
		mutate(cd)
		if err := t.e.Client.Status().Update(ctx, cd); err != nil {
			return err
		}
		t.status = cd.Status.DeepCopy()
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (t *tick) now() metav1.Time { return metav1.NewTime(t.e.Clock.Now()) }

// syncStatus is Flagger's SyncStatus: phase and counters as given, lastAppliedSpec and
// trackedConfigs from the current target (lastPromotedSpec too when Initialized).
func (t *tick) syncStatus(ctx context.Context, s v1beta1.CanaryStatus) error {
	hash, err := t.workload.Hash(ctx, t.cd)
	if err != nil {
		return fmt.Errorf("SyncStatus: %w", err)
	}
	configs, err := t.workload.TrackedConfigs(ctx, t.cd)
	if err != nil {
		return fmt.Errorf("SyncStatus: %w", err)
	}
	return t.updateStatus(ctx, "SyncStatus", func(cd *v1beta1.Canary) {
		st := &cd.Status
		st.Phase, st.CanaryWeight, st.FailedChecks, st.Iterations = s.Phase, s.CanaryWeight, s.FailedChecks, s.Iterations
		st.LastAppliedSpec = hash
		if s.Phase == v1beta1.CanaryPhaseInitialized {
			st.LastPromotedSpec = hash
		}
		st.LastTransitionTime = t.now()
		// Flagger always writes the map, empty when the target uses no configs.
		tracked := map[string]string{}
		maps.Copy(tracked, configs)
		st.TrackedConfigs = &tracked
		t.setCondition(cd, s.Phase)
	})
}

// setStatusPhase is Flagger's SetStatusPhase.
func (t *tick) setStatusPhase(ctx context.Context, phase v1beta1.CanaryPhase) error {
	return t.updateStatus(ctx, "SetStatusPhase", func(cd *v1beta1.Canary) {
		st := &cd.Status
		st.Phase = phase
		st.LastTransitionTime = t.now()
		switch phase {
		case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaiting, v1beta1.CanaryPhasePromoting:
		default:
			st.CanaryWeight = 0
			st.Iterations = 0
			if phase == v1beta1.CanaryPhaseWaitingPromotion {
				st.Iterations = analysisOf(cd).Iterations - 1
			}
		}
		if phase == v1beta1.CanaryPhaseInitialized || phase == v1beta1.CanaryPhaseSucceeded {
			st.LastPromotedSpec = st.LastAppliedSpec
		}
		t.setCondition(cd, phase)
	})
}

// setStatusWeight is Flagger's SetStatusWeight.
func (t *tick) setStatusWeight(ctx context.Context, w int) error {
	return t.updateStatus(ctx, "SetStatusWeight", func(cd *v1beta1.Canary) {
		cd.Status.CanaryWeight = w
		cd.Status.LastTransitionTime = t.now()
	})
}

// setStatusIterations is Flagger's SetStatusIterations.
func (t *tick) setStatusIterations(ctx context.Context, n int) error {
	return t.updateStatus(ctx, "SetStatusIterations", func(cd *v1beta1.Canary) {
		cd.Status.Iterations = n
		cd.Status.LastTransitionTime = t.now()
	})
}

// setStatusFailedChecks is Flagger's SetStatusFailedChecks.
func (t *tick) setStatusFailedChecks(ctx context.Context, n int) error {
	return t.updateStatus(ctx, "SetStatusFailedChecks", func(cd *v1beta1.Canary) {
		cd.Status.FailedChecks = n
		cd.Status.LastTransitionTime = t.now()
	})
}

// setPhaseInitializing marks a new canary (no conditions yet) as Initializing.
func (t *tick) setPhaseInitializing(ctx context.Context) error {
	return t.updateStatus(ctx, "SetPhaseInitializing", func(cd *v1beta1.Canary) {
		cd.Status.Phase = v1beta1.CanaryPhaseInitializing
		cd.Status.LastTransitionTime = t.now()
		t.setCondition(cd, v1beta1.CanaryPhaseInitializing)
	})
}

// setCondition is Flagger's MakeStatusConditions: the single Promoted condition, left
// alone when status and reason are unchanged; lastTransitionTime kept while the status is.
func (t *tick) setCondition(cd *v1beta1.Canary, phase v1beta1.CanaryPhase) {
	status, message := promotedCondition(cd.Spec.TargetRef.Kind, phase)
	var current *v1beta1.CanaryCondition
	for i := range cd.Status.Conditions {
		if cd.Status.Conditions[i].Type == v1beta1.PromotedType {
			current = &cd.Status.Conditions[i]
		}
	}
	if current != nil && current.Status == status && current.Reason == string(phase) {
		return
	}
	now := t.now()
	c := v1beta1.CanaryCondition{
		Type: v1beta1.PromotedType, Status: status, Reason: string(phase), Message: message,
		LastUpdateTime: now, LastTransitionTime: now,
	}
	if current != nil && current.Status == status {
		c.LastTransitionTime = current.LastTransitionTime
	}
	cd.Status.Conditions = []v1beta1.CanaryCondition{c}
}

// promotedCondition gives the Promoted condition's status and message for a phase.
func promotedCondition(kind string, phase v1beta1.CanaryPhase) (corev1.ConditionStatus, string) {
	switch phase {
	case v1beta1.CanaryPhaseInitialized:
		return corev1.ConditionTrue, kind + " initialization completed."
	case v1beta1.CanaryPhaseWaiting, v1beta1.CanaryPhaseWaitingPromotion:
		return corev1.ConditionUnknown, "Waiting for approval."
	case v1beta1.CanaryPhaseProgressing:
		return corev1.ConditionUnknown, "New revision detected, progressing canary analysis."
	case v1beta1.CanaryPhasePromoting:
		return corev1.ConditionUnknown, "Canary analysis completed, starting primary rolling update."
	case v1beta1.CanaryPhaseFinalising:
		return corev1.ConditionUnknown, "Canary analysis completed, routing all traffic to primary."
	case v1beta1.CanaryPhaseSucceeded:
		return corev1.ConditionTrue, "Canary analysis completed successfully, promotion finished."
	case v1beta1.CanaryPhaseFailed:
		return corev1.ConditionFalse, "Canary analysis failed, " + kind + " scaled to zero."
	}
	return corev1.ConditionUnknown, "New " + kind + " detected, starting initialization."
}
