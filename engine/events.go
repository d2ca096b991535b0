package engine

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// eventReason is the reason of every event Flagger emits.
const eventReason = "Synced"

// normal emits a Normal event about the canary as it is now.
func (t *tick) normal(format string, args ...any) {
	t.eventAs(t.cd.Status.Phase, corev1.EventTypeNormal, format, args...)
}

// warning emits a Warning event about the canary as it is now.
func (t *tick) warning(format string, args ...any) {
	t.eventAs(t.cd.Status.Phase, corev1.EventTypeWarning, format, args...)
}

// event emits an event of the given type about the canary as it is now.
func (t *tick) event(eventType, format string, args ...any) {
	t.eventAs(t.cd.Status.Phase, eventType, format, args...)
}

// eventAs emits an event about the canary seen in the given phase (Flagger passes a
// copy with the phase it is about to write, e.g. Failed for "Canary failed!"): to the
// event sink, to the record, and, like Flagger, to every `event` webhook.
func (t *tick) eventAs(phase v1beta1.CanaryPhase, eventType, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.rec.Events = append(t.rec.Events, Event{Type: eventType, Message: msg, Phase: string(phase)})
	obj := t.cd
	if phase != t.cd.Status.Phase {
		obj = t.cd.DeepCopy()
		obj.Status.Phase = phase
	}
	if t.e.Events != nil {
		t.e.Events.Event(obj, eventType, eventReason, msg)
	}
	eventHooks := webhooksOf(t.cd, v1beta1.EventHook)
	if len(eventHooks) == 0 && t.e.EventWebhook != "" {
		// Flagger's -event-webhook stands in for a canary's own event webhooks.
		eventHooks = []v1beta1.CanaryWebhook{{Name: "events", URL: t.e.EventWebhook}}
	}
	for _, h := range eventHooks {
		// Flagger only logs event webhook failures.
		_ = t.deliver(context.Background(), h, hooks.EventPayload(obj, eventType, msg, t.e.Clock.Now(), metadataOf(h)))
	}
}
