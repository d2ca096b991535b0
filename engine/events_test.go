package engine_test

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// Events and event webhooks (docs/flagger-semantics.md#events, docs/flagger-semantics.md#event-webhooks; Flagger's events.go and
// events_test.go).

// eventsTestHooks are the webhooks of Flagger's events_test.go TestWebhooks.
func eventsTestHooks() []v1beta1.CanaryWebhook {
	return []v1beta1.CanaryWebhook{
		hook(v1beta1.EventHook, "event-webhook"),
		hook(v1beta1.PreRolloutHook, "pre-rollout-webhook"),
		hook(v1beta1.RolloutHook, "rollout-webhook"),
		hook(v1beta1.ConfirmPromotionHook, "confirm-promotion-webhook"),
		hook(v1beta1.ConfirmRolloutHook, "confirm-rollout-webhook"),
		hook(v1beta1.PostRolloutHook, "post-rollout-webhook"),
		hook(v1beta1.ConfirmTrafficIncreaseHook, "confirm-traffic-increase-webhook"),
	}
}

// The first events differ from Flagger's test in two ways, both real-cluster
// behaviour: Flagger's informer marks a new canary Initializing before its first
// tick (the unit test skips the informer, so its payloads have phase ""), and a real
// API server reports a new primary by its generation (Flagger's fake clientset has
// no generations, so its message is "0 out of 1 new replicas have been updated").
const primaryNotReady = "podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation"

var _ = Describe("event webhooks", func() {
	It(`reproduce Flagger's TestWebhooks "canary" stream (stepWeight 100, stepWeightPromotion 50)`, func() {
		cd := canaryWithHooks(eventsTestHooks()...)
		cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.StepWeightPromotion = 100, 0, 50
		f := newFixture(cd)

		f.tick() // initializing
		f.markReady("podinfo-primary")
		f.tick() // initialized
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseInitialized))
		f.setImage(imageV2)
		phases := []v1beta1.CanaryPhase{}
		for range 6 { // detect, progressing, start promotion, end promotion, finalising, succeeded
			f.step()
			phases = append(phases, f.canary().Status.Phase)
		}
		Expect(phases).To(Equal([]v1beta1.CanaryPhase{"Progressing", "Progressing", "Promoting", "Promoting", "Finalising", "Succeeded"}))

		Expect(f.hooks.eventMessages()).To(Equal([]string{
			"Initializing|Normal|all the metrics providers are available!",
			"Initializing|Warning|" + primaryNotReady,
			"Initializing|Normal|all the metrics providers are available!",
			"Initialized|Normal|Initialization done! podinfo.test",
			"Initialized|Normal|Confirm-rollout check confirm-rollout-webhook passed",
			"Progressing|Normal|New revision detected! Scaling up podinfo.test",
			"Progressing|Normal|Starting canary analysis for podinfo.test",
			"Progressing|Normal|Pre-rollout check pre-rollout-webhook passed",
			"Progressing|Normal|Confirm-traffic-increase check confirm-traffic-increase-webhook passed",
			"Progressing|Normal|Advance podinfo.test canary weight 100",
			"Progressing|Normal|Confirm-traffic-increase check confirm-traffic-increase-webhook passed",
			"Progressing|Normal|Confirm-promotion check confirm-promotion-webhook passed",
			"Progressing|Normal|Copying podinfo.test template spec to podinfo-primary.test",
			"Promoting|Normal|Advance podinfo.test primary weight 50",
			"Promoting|Normal|Advance podinfo.test primary weight 100",
			"Succeeded|Normal|Post-rollout check post-rollout-webhook passed",
			"Succeeded|Normal|Promotion completed! Scaling down podinfo.test",
		}))
		for typ, want := range map[v1beta1.HookType][]string{
			v1beta1.ConfirmRolloutHook:         {"Initialized"},
			v1beta1.PreRolloutHook:             {"Progressing"},
			v1beta1.RolloutHook:                {"Progressing"},
			v1beta1.ConfirmTrafficIncreaseHook: {"Progressing", "Progressing"},
			v1beta1.ConfirmPromotionHook:       {"Progressing"},
			v1beta1.PostRolloutHook:            {"Succeeded"},
			v1beta1.RollbackHook:               {},
		} {
			Expect(f.hooks.phasesOf(typ)).To(Equal(want), string(typ))
		}
	})

	It(`reproduce Flagger's TestWebhooks "skip-analysis" stream`, func() {
		f := newFixture(canaryWithHooks(eventsTestHooks()...))
		f.tick()
		f.markReady("podinfo-primary")
		f.tick()
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.SkipAnalysis = true })
		f.setImage(imageV2)
		f.tick() // detect changes
		f.markReady("podinfo")
		f.tick() // advance
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseSucceeded))

		want := []string{
			"Initializing|Normal|all the metrics providers are available!",
			"Initializing|Warning|" + primaryNotReady,
			"Initializing|Normal|all the metrics providers are available!",
			"Initialized|Normal|Initialization done! podinfo.test",
			"Initialized|Normal|Confirm-rollout check confirm-rollout-webhook passed",
			"Progressing|Normal|New revision detected! Scaling up podinfo.test",
			"Progressing|Normal|Copying podinfo.test template spec to podinfo-primary.test",
			"Succeeded|Normal|Post-rollout check post-rollout-webhook passed",
			"Succeeded|Normal|Promotion completed! Canary analysis was skipped for podinfo.test",
		}
		Expect(f.hooks.eventMessages()).To(Equal(want))
		Expect(f.hooks.phasesOf(v1beta1.ConfirmRolloutHook)).To(Equal([]string{"Initialized"}))
		Expect(f.hooks.phasesOf(v1beta1.PostRolloutHook)).To(Equal([]string{"Succeeded"}))
		Expect(f.hooks.phasesOf(v1beta1.PreRolloutHook)).To(BeEmpty())
		Expect(f.hooks.phasesOf(v1beta1.RolloutHook)).To(BeEmpty())
	})

	It("carry the event, the canary and the hook's metadata", func() {
		cd := canaryWithHooks(hook(v1beta1.EventHook, "a"), hook(v1beta1.EventHook, "b"))
		cd.Spec.Analysis.Webhooks[1].Metadata = &map[string]string{"team": "web", "eventType": "override"}
		f := newFixture(cd)
		f.initialize()
		f.setImage(imageV2)
		f.reset()
		at := f.clock.Now()
		rec := f.tick()

		Expect(f.hooks.calls).To(HaveLen(2), "one event, both event hooks")
		a, b := f.hooks.calls[0], f.hooks.calls[1]
		Expect([]string{a.Name, b.Name}).To(Equal([]string{"a", "b"}))
		st := f.canary().Status
		Expect(a.Payload).To(Equal(hooks.Payload{
			Name: "podinfo", Namespace: ns, Phase: "Progressing",
			Checksum: a.Payload.Checksum,
			Metadata: map[string]string{
				"eventMessage": "New revision detected! Scaling up podinfo.test",
				"eventType":    "Normal",
				"timestamp":    strconv.FormatInt(at.UnixMilli(), 10),
			},
		}))
		Expect(a.Payload.Checksum).NotTo(BeEmpty())
		Expect(a.Payload.Checksum).NotTo(Equal(hooks.Checksum(f.canary())), "the checksum of the canary before SyncStatus")
		Expect(st.Phase).To(Equal(v1beta1.CanaryPhaseProgressing))
		Expect(b.Payload.Metadata).To(Equal(map[string]string{
			"eventMessage": "New revision detected! Scaling up podinfo.test",
			"eventType":    "Normal",
			"timestamp":    strconv.FormatInt(at.UnixMilli(), 10),
			"team":         "web",
		}))
		Expect(rec.Hooks).To(HaveLen(2))
		Expect(rec.Hooks[0].Type).To(Equal("event"))
		Expect(rec.Hooks[0].Phase).To(Equal("Progressing"))
		Expect(rec.Hooks[0].URL).To(Equal("http://hooks.test/a"))
		Expect(rec.Hooks[0].OK).To(BeTrue())
	})

	It("never block the tick when they fail", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev")))
		f.hooks.answer("ev", errRefused)
		f.startRevision()
		rec := f.step()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(routeChanges(rec)).To(Equal([][2]int{{90, 10}}))
		Expect(rec.Hooks).To(HaveLen(2))
		Expect(rec.Hooks[0].OK).To(BeFalse())
		Expect(rec.Hooks[0].Error).To(Equal("403 Forbidden"))
		Expect(rec.Events).To(HaveLen(2), "no event about the failed event hook")
	})

	It("are not sent without an event hook", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()
		Expect(f.hooks.calls).To(BeEmpty())
	})

	It("go to the operator's event webhook (Flagger's -event-webhook) when the canary has none", func() {
		f := newFixture(newCanary())
		f.engine.EventWebhook = "http://events.ops/flagger"
		f.startRevision()
		f.reset()
		rec := f.step()
		Expect(rec.Events).NotTo(BeEmpty())
		Expect(f.hooks.calls).To(HaveLen(len(rec.Events)), "one call per event")
		Expect(f.hooks.calls[0].Name).To(Equal("events"))
		Expect(f.hooks.calls[0].Payload.Metadata).To(HaveKeyWithValue("eventMessage", rec.Events[0].Message))
		Expect(rec.Hooks[0].URL).To(Equal("http://events.ops/flagger"))
	})

	It("go only to the canary's own event hooks when it has some, even with an operator's event webhook", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "own")))
		f.engine.EventWebhook = "http://events.ops/flagger"
		f.startRevision()
		f.reset()
		f.step()
		Expect(f.hooks.calls).NotTo(BeEmpty())
		for _, c := range f.hooks.calls {
			Expect(c.Name).To(Equal("own"))
		}
	})

	DescribeTable("carry the phase of the object the event is about",
		func(setup func(f *fixture), message, wantPhase string) {
			f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev"), hook(v1beta1.PostRolloutHook, "post")))
			setup(f)
			got := []string{}
			for _, m := range f.hooks.eventMessages() {
				parts := strings.SplitN(m, "|", 3)
				if parts[2] == message {
					got = append(got, parts[0])
				}
			}
			Expect(got).To(Equal([]string{wantPhase}), message)
		},
		Entry(nil, func(f *fixture) { f.initialize() }, "Initialization done! podinfo.test", "Initialized"),
		Entry(nil, func(f *fixture) { f.startRevision() }, "New revision detected! Scaling up podinfo.test", "Progressing"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
			f.step()
		}, "Rolling back podinfo.test failed checks threshold reached 5", "Progressing"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
			f.step()
		}, "Canary failed! Scaling down podinfo.test", "Failed"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			for range 7 {
				f.step()
			}
		}, "Routing all traffic to primary", "Promoting"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			for range 8 {
				f.step()
			}
		}, "Promotion completed! Scaling down podinfo.test", "Succeeded"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			for range 8 {
				f.step()
			}
		}, "Post-rollout check post passed", "Succeeded"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.Suspend = true })
			f.step()
		}, "skipping canary run as object is suspended", "Progressing"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
			f.step()
		}, "Post-rollout check post passed", "Progressing"),
		Entry(nil, func(f *fixture) {
			f.updateCanary(func(cd *v1beta1.Canary) {
				cd.Spec.Analysis.Webhooks = append(cd.Spec.Analysis.Webhooks, hook(v1beta1.ConfirmRolloutHook, "gate"))
			})
			f.hooks.answer("gate", errRefused)
			f.initialize()
			f.setImage(imageV2)
			f.step()
		}, "Halt podinfo.test advancement waiting for approval gate", "Initialized"),
		Entry(nil, func(f *fixture) {
			f.updateCanary(func(cd *v1beta1.Canary) {
				cd.Spec.Analysis.Webhooks = append(cd.Spec.Analysis.Webhooks, hook(v1beta1.ConfirmPromotionHook, "gate"))
			})
			f.hooks.answer("gate", errRefused)
			f.startRevision()
			for range 6 {
				f.step()
			}
		}, "Halt podinfo.test advancement waiting for promotion approval gate", "Progressing"),
		Entry(nil, func(f *fixture) {
			f.startRevision()
			for range 6 {
				f.step()
			}
			f.markReady("podinfo")
			f.markDeadlineExceeded("podinfo-primary")
			f.tick()
		}, "Post-rollout check post passed", "Promoting"),
	)
})

var _ = Describe("the event sink", func() {
	It("receives every event with reason Synced and the event's phase", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.step()
		all := []sinkEvent{}
		for _, rec := range f.log.records {
			for _, e := range rec.Events {
				all = append(all, sinkEvent{Phase: e.Phase, Type: e.Type, Reason: "Synced", Message: e.Message})
			}
		}
		Expect(f.sink.events).To(Equal(all))
		Expect(f.sink.events[len(f.sink.events)-1]).To(Equal(sinkEvent{
			Phase: "Failed", Type: "Warning", Reason: "Synced", Message: "Canary failed! Scaling down podinfo.test",
		}))
	})
})

var _ = Describe("event messages", func() {
	// A canary named differently from its target shows which name each message prints.
	It("name the canary or the target as Flagger does", func() {
		cd := canaryWithHooks(hook(v1beta1.PostRolloutHook, "post"))
		cd.Name = "web"
		cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = 50, 50
		f := newFixture(cd)
		f.startRevision()
		for range 5 {
			f.step()
		}
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseSucceeded))
		f.setImage(imageV3)
		f.step()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.step()
		all := []string{}
		for _, rec := range f.log.records {
			all = append(all, messages(rec)...)
		}
		Expect(all).To(ContainElements(
			"Initialization done! web.test",
			"New revision detected! Scaling up podinfo.test",
			"Starting canary analysis for podinfo.test",
			"Advance web.test canary weight 50",
			"Copying podinfo.test template spec to podinfo-primary.test",
			"Promotion completed! Scaling down podinfo.test",
			"Rolling back web.test failed checks threshold reached 5",
			"Canary failed! Scaling down web.test",
		))
	})
})
