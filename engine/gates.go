package engine

import (
	"context"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// callHook POSTs one webhook with the payload phase Flagger uses for its type and
// records the call.
func (t *tick) callHook(ctx context.Context, hook v1beta1.CanaryWebhook, phase v1beta1.CanaryPhase) error {
	return t.deliver(ctx, hook, hooks.NewPayload(t.cd, phase, metadataOf(hook)))
}

// deliver sends a payload and records the call and its outcome.
func (t *tick) deliver(ctx context.Context, hook v1beta1.CanaryWebhook, payload hooks.Payload) error {
	err := t.e.Webhooks.Call(ctx, hook, payload)
	typ := string(hook.Type)
	if typ == "" {
		typ = string(v1beta1.RolloutHook)
	}
	call := hooks.Call{Name: hook.Name, Type: typ, URL: hook.URL, Phase: payload.Phase, OK: err == nil}
	if err != nil {
		call.Error = err.Error()
	}
	t.rec.Hooks = append(t.rec.Hooks, call)
	return err
}

func metadataOf(hook v1beta1.CanaryWebhook) map[string]string {
	if hook.Metadata == nil {
		return nil
	}
	return *hook.Metadata
}

// webhooksOf returns the canary's webhooks of one type, in spec order ("" is rollout).
func webhooksOf(cd *v1beta1.Canary, typ v1beta1.HookType) []v1beta1.CanaryWebhook {
	var out []v1beta1.CanaryWebhook
	for _, h := range analysisOf(cd).Webhooks {
		if h.GetType() == typ {
			out = append(out, h)
		}
	}
	return out
}

// confirmRollout runs the confirm-rollout gates; the first refusal moves the canary to
// Waiting (once), without counting a failed check.
func (t *tick) confirmRollout(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.ConfirmRolloutHook) {
		if err := t.callHook(ctx, h, t.cd.Status.Phase); err != nil {
			if t.cd.Status.Phase != v1beta1.CanaryPhaseWaiting {
				// Flagger only logs a failed status write here and halts all the same.
				_ = t.setStatusPhase(ctx, v1beta1.CanaryPhaseWaiting)
				t.warning("Halt %s.%s advancement waiting for approval %s", t.cd.Name, t.cd.Namespace, h.Name)
				if !h.MuteAlert {
					t.alert("warn", "Canary is waiting for approval.", false)
				}
			}
			return false
		}
		t.normal("Confirm-rollout check %s passed", h.Name)
	}
	return true
}

// confirmTrafficIncrease runs the confirm-traffic-increase gates before a weight step.
func (t *tick) confirmTrafficIncrease(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.ConfirmTrafficIncreaseHook) {
		if err := t.callHook(ctx, h, v1beta1.CanaryPhaseProgressing); err != nil {
			t.warning("Halt %s.%s advancement waiting for traffic increase approval %s", t.cd.Name, t.cd.Namespace, h.Name)
			if !h.MuteAlert {
				t.alert("warn", "Canary traffic increase is waiting for approval.", false)
			}
			return false
		}
		t.normal("Confirm-traffic-increase check %s passed", h.Name)
	}
	return true
}

// confirmPromotion runs the confirm-promotion gates; a refusal moves the canary to
// WaitingPromotion (or, already there, re-arms one more iteration, PR #1139).
func (t *tick) confirmPromotion(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.ConfirmPromotionHook) {
		if err := t.callHook(ctx, h, v1beta1.CanaryPhaseProgressing); err != nil {
			if t.cd.Status.Phase != v1beta1.CanaryPhaseWaitingPromotion {
				_ = t.setStatusPhase(ctx, v1beta1.CanaryPhaseWaitingPromotion) // logged only, as in Flagger
				t.warning("Halt %s.%s advancement waiting for promotion approval %s", t.cd.Name, t.cd.Namespace, h.Name)
				if !h.MuteAlert {
					t.alert("warn", "Canary promotion is waiting for approval.", false)
				}
			} else if serr := t.setStatusIterations(ctx, analysisOf(t.cd).Iterations-1); serr != nil {
				t.warning("%v", serr)
			}
			return false
		}
		t.normal("Confirm-promotion check %s passed", h.Name)
	}
	return true
}

// preRollout runs the pre-rollout hooks of the first analysis step.
func (t *tick) preRollout(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.PreRolloutHook) {
		if err := t.callHook(ctx, h, v1beta1.CanaryPhaseProgressing); err != nil {
			t.warning("Halt %s.%s advancement pre-rollout check %s failed %v", t.cd.Name, t.cd.Namespace, h.Name, err)
			return false
		}
		t.normal("Pre-rollout check %s passed", h.Name)
	}
	return true
}

// rolloutHooks runs the rollout ("external check") hooks before the metric checks.
func (t *tick) rolloutHooks(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.RolloutHook) {
		if err := t.callHook(ctx, h, v1beta1.CanaryPhaseProgressing); err != nil {
			t.warning("Halt %s.%s advancement external check %s failed %v", t.cd.Name, t.cd.Namespace, h.Name, err)
			return false
		}
	}
	return true
}

// postRollout runs the post-rollout hooks after success or failure; failures only warn.
func (t *tick) postRollout(ctx context.Context, phase v1beta1.CanaryPhase) {
	for _, h := range webhooksOf(t.cd, v1beta1.PostRolloutHook) {
		if err := t.callHook(ctx, h, phase); err != nil {
			t.warning("Post-rollout hook %s failed %v", h.Name, err)
			return
		}
		t.normal("Post-rollout check %s passed", h.Name)
	}
}

// rollbackRequested asks the rollback hooks; the first 2xx answer requests a rollback.
func (t *tick) rollbackRequested(ctx context.Context) bool {
	for _, h := range webhooksOf(t.cd, v1beta1.RollbackHook) {
		if err := t.callHook(ctx, h, t.cd.Status.Phase); err != nil {
			t.normal("Rollback hook %s not signaling a rollback", h.Name)
			continue
		}
		t.warning("Rollback check %s passed", h.Name)
		return true
	}
	return false
}
