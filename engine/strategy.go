package engine

import (
	"context"
	"fmt"

	"aviary.dev/aviary/api/v1beta1"
)

// totalWeight is the sum of primary and canary weights; Flagger hard-codes 100.
const totalWeight = 100

// nextStepWeight is Flagger's nextStepWeight (docs/flagger-semantics.md#canary-weights): stepWeight when
// set (or when there are no stepWeights), else the distance to the next listed weight.
// An off-list weight jumps to 100, as in Flagger.
func nextStepWeight(cd *v1beta1.Canary, canaryWeight int) int {
	a := analysisOf(cd)
	if a.StepWeight > 0 || len(a.StepWeights) == 0 {
		return a.StepWeight
	}
	maxStep := totalWeight - canaryWeight
	if maxStep == 0 {
		return 1
	}
	if canaryWeight == 0 {
		return min(maxStep, a.StepWeights[0])
	}
	for i := 0; i < len(a.StepWeights)-1; i++ {
		if a.StepWeights[i] == canaryWeight {
			return min(maxStep, a.StepWeights[i+1]-canaryWeight)
		}
	}
	return maxStep
}

// stepWeights are runCanary's weights after a step of step (no mirroring): the
// canary gains it, the primary loses it, each kept within 0 and 100.
func stepWeights(primary, canary, step int) (int, int) {
	return max(primary-step, 0), min(canary+step, totalWeight)
}

// promotionWeights are runPromotionTrafficShift's weights after a step of
// stepWeightPromotion: the primary gains it (up to 100), the canary loses it (down to
// 0); neither is bounded on the other side, as in Flagger.
func promotionWeights(primary, canary, step int) (int, int) {
	return min(primary+step, totalWeight), max(canary-step, 0)
}

// advanceCanary is Flagger's runCanary: one weight step (a mirroring step first when
// mirror is set), or, at maxWeight, the promotion gate and the promotion. The weight
// can overshoot maxWeight because the check happens before the step (Flagger quirk).
func (t *tick) advanceCanary(ctx context.Context) error {
	if t.canaryWeight < t.maxWeight {
		step := nextStepWeight(t.cd, t.canaryWeight)
		primary, canary, mirrored := t.primaryWeight, t.canaryWeight, t.mirrored
		if analysisOf(t.cd).Mirror && canary == 0 {
			if !mirrored {
				primary, canary, mirrored = totalWeight, 0, true
			} else {
				primary, canary, mirrored = totalWeight-step, step, false
			}
		} else {
			primary, canary = stepWeights(primary, canary, step)
		}
		if err := t.setRoutes(ctx, primary, canary, mirrored); err != nil {
			return errStop
		}
		if err := t.setStatusWeight(ctx, canary); err != nil {
			return err
		}
		t.normal("Advance %s.%s canary weight %v", t.cd.Name, t.cd.Namespace, canary)
		return errStop
	}
	if !t.confirmPromotion(ctx) {
		return errStop
	}
	return t.promote(ctx)
}

// advanceABTesting is Flagger's runAB: all matched traffic goes to the canary for
// `iterations` ticks, then promotion.
func (t *tick) advanceABTesting(ctx context.Context) error {
	a := analysisOf(t.cd)
	if a.Iterations > t.cd.Status.Iterations {
		if err := t.setRoutes(ctx, 0, totalWeight, false); err != nil {
			return errStop
		}
		next := t.cd.Status.Iterations + 1
		if err := t.setStatusIterations(ctx, next); err != nil {
			return err
		}
		t.normal("Advance %s.%s canary iteration %v/%v", t.cd.Name, t.cd.Namespace, next, a.Iterations)
		return errStop
	}
	if !t.confirmPromotion(ctx) {
		return errStop
	}
	if a.Iterations == t.cd.Status.Iterations {
		return t.promote(ctx)
	}
	return nil
}

// advanceBlueGreen is Flagger's runBlueGreen: `iterations` ticks of analysis (mirrored
// when mirror is set), then all traffic to the canary, then promotion on the next tick.
func (t *tick) advanceBlueGreen(ctx context.Context) error {
	a := analysisOf(t.cd)
	it := t.cd.Status.Iterations
	if a.Iterations > it {
		if t.provider != "kubernetes" && a.Mirror && !t.mirrored {
			_ = t.setRoutes(ctx, totalWeight, 0, true) // a failure is a warning; the iteration still counts
		}
		if err := t.setStatusIterations(ctx, it+1); err != nil {
			return err
		}
		t.normal("Advance %s.%s canary iteration %v/%v", t.cd.Name, t.cd.Namespace, it+1, a.Iterations)
		return errStop
	}
	if !t.confirmPromotion(ctx) {
		return errStop
	}
	switch {
	case a.Iterations == it:
		if t.provider != "kubernetes" {
			if a.Mirror {
				t.normal("Stop traffic mirroring and route all traffic to canary")
			} else {
				t.normal("Routing all traffic to canary")
			}
			if err := t.setRoutes(ctx, 0, totalWeight, false); err != nil {
				return errStop
			}
		}
		return t.setStatusIterations(ctx, it+1)
	case a.Iterations < it:
		return t.promote(ctx)
	}
	return nil
}

// promote copies the canary's template to the primary and enters Promoting.
func (t *tick) promote(ctx context.Context) error {
	target := t.cd.Spec.TargetRef.Name
	t.normal("Copying %s.%s template spec to %s-primary.%s", target, t.cd.Namespace, target, t.cd.Namespace)
	if err := t.workload.Promote(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.setStatusPhase(ctx, v1beta1.CanaryPhasePromoting); err != nil {
		return err
	}
	return errStop
}

// shiftPromotionTraffic is step 23 (Flagger's runPromotionTrafficShift): once the
// primary runs the new template, route traffic back to it, at once or by
// stepWeightPromotion, then enter Finalising.
func (t *tick) shiftPromotionTraffic(ctx context.Context) error {
	if t.cd.Status.Phase != v1beta1.CanaryPhasePromoting {
		return nil
	}
	if err := t.syncAutoscaler(ctx); err != nil {
		return err
	}
	if t.provider == "kubernetes" {
		return t.stopWith(t.setStatusPhase(ctx, v1beta1.CanaryPhaseFinalising))
	}
	step := analysisOf(t.cd).StepWeightPromotion
	if step == 0 {
		t.normal("Routing all traffic to primary")
		if err := t.setRoutes(ctx, totalWeight, 0, false); err != nil {
			return errStop
		}
		return t.stopWith(t.setStatusPhase(ctx, v1beta1.CanaryPhaseFinalising))
	}
	// Flagger does nothing when the router reports no canary traffic (issue #1692);
	// the Istio router never does while Promoting, so this stays faithful.
	if t.canaryWeight <= 0 {
		return errStop
	}
	primary, canary := promotionWeights(t.primaryWeight, t.canaryWeight, step)
	if err := t.setRoutes(ctx, primary, canary, false); err != nil {
		return errStop
	}
	t.normal("Advance %s.%s primary weight %v", t.cd.Name, t.cd.Namespace, primary)
	if primary == totalWeight {
		return t.stopWith(t.setStatusPhase(ctx, v1beta1.CanaryPhaseFinalising))
	}
	return t.stopWith(t.setStatusWeight(ctx, canary))
}

// finalise is step 24: scale the canary down and declare success.
func (t *tick) finalise(ctx context.Context) error {
	if t.cd.Status.Phase != v1beta1.CanaryPhaseFinalising {
		return nil
	}
	if err := t.workload.ScaleToZero(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.setStatusPhase(ctx, v1beta1.CanaryPhaseSucceeded); err != nil {
		return err
	}
	t.reportAs(v1beta1.CanaryPhaseSucceeded)
	t.postRollout(ctx, v1beta1.CanaryPhaseSucceeded)
	t.normal("Promotion completed! Scaling down %s.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace)
	t.alert("info", "Canary analysis completed successfully, promotion finished.", false)
	return errStop
}

// rollback is Flagger's rollback() (docs/flagger-semantics.md#rollback). It always ends the tick.
func (t *tick) rollback(ctx context.Context) error {
	if t.cd.Status.FailedChecks >= t.cd.GetAnalysisThreshold() {
		t.warning("Rolling back %s.%s failed checks threshold reached %v", t.cd.Name, t.cd.Namespace, t.cd.Status.FailedChecks)
		t.alert("error", fmt.Sprintf("Failed checks threshold reached %v", t.cd.Status.FailedChecks), false)
	}
	if err := t.setRoutes(ctx, totalWeight, 0, false); err != nil {
		return errStop
	}
	t.eventAs(v1beta1.CanaryPhaseFailed, "Warning", "Canary failed! Scaling down %s.%s", t.cd.Name, t.cd.Namespace)
	if err := t.workload.ScaleToZero(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.syncStatus(ctx, v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseFailed}); err != nil {
		return err
	}
	t.postRollout(ctx, v1beta1.CanaryPhaseFailed)
	return errStop
}

// failPromotion is Flagger's handleFailedPromotion (PR #1931): the primary cannot
// take the new template, so traffic stays on the canary, which is kept running.
func (t *tick) failPromotion(ctx context.Context, cause error) error {
	t.warning("Promotion of %s.%s failed, primary not ready: %v", t.cd.Spec.TargetRef.Name, t.cd.Namespace, cause)
	t.alert("error", fmt.Sprintf("Promotion failed, primary not ready: %v", cause), false)
	if err := t.setRoutes(ctx, 0, totalWeight, false); err != nil {
		return errStop
	}
	if err := t.syncStatus(ctx, v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseFailed, CanaryWeight: totalWeight}); err != nil {
		return err
	}
	t.postRollout(ctx, v1beta1.CanaryPhaseFailed)
	return errStop
}

// setRoutes writes weights through the mesh router and records them, with the mirror
// the router wrote (none where it cannot mirror, though asked to: no decision of the
// tick reads t.mirrored after this); a failure is reported as a warning event, as
// Flagger does.
func (t *tick) setRoutes(ctx context.Context, primary, canary int, mirrored bool) error {
	if err := t.mesh.SetRoutes(ctx, t.cd, primary, canary, mirrored); err != nil {
		t.warning("%v", err)
		return err
	}
	mirrored = mirrored && t.mesh.CanMirror(t.cd)
	t.primaryWeight, t.canaryWeight, t.mirrored, t.routesKnown = primary, canary, mirrored, true
	t.rec.Routes = append(t.rec.Routes, RouteChange{Primary: primary, Canary: canary, Mirrored: mirrored})
	return nil
}

// stopWith ends the tick, passing a status write error on.
func (t *tick) stopWith(err error) error {
	if err != nil {
		return err
	}
	return errStop
}

// syncAutoscaler brings the primary's autoscaler in line with the target's (Flagger's
// ReconcilePrimaryScaler(cd, false), while promoting and after a skipped analysis's
// promotion). A failure is a Warning and ends the tick.
func (t *tick) syncAutoscaler(ctx context.Context) error { return t.reconcilePrimaryScaler(ctx, false) }
