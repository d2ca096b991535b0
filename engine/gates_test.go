package engine_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// The webhook gates (docs/flagger-semantics.md#hook-types; Flagger's scheduler_hooks.go).

func canaryWithHooks(hooks ...v1beta1.CanaryWebhook) *v1beta1.Canary {
	cd := newCanary()
	cd.Spec.Analysis.Webhooks = hooks
	return cd
}

var _ = Describe("confirm-rollout", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.ConfirmRolloutHook, "gate")))
		f.initialize()
		f.reset()
		f.setImage(imageV2)
	})

	It("holds a new revision in Waiting until the gate opens", func() {
		f.hooks.answer("gate", errRefused, errRefused, nil)

		By("closed: Waiting once, with an event and an alert")
		rec := f.step()
		Expect(rec.PhaseBefore).To(Equal("Initialized"))
		Expect(rec.Phase).To(Equal("Waiting"))
		Expect(rec.Step).To(Equal("start-revision"))
		Expect(phased(rec)).To(Equal([]string{"Initialized|Warning|Halt podinfo.test advancement waiting for approval gate"}),
			"about the canary as read, like Flagger's in-memory copy")
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "warn", Message: "Canary is waiting for approval.", Global: true}}))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-rollout:Initialized"}))
		Expect(rec.Hooks[0].OK).To(BeFalse())
		Expect(rec.Hooks[0].Error).To(Equal("403 Forbidden"))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaiting}))
		Expect(f.canary().Status.Conditions[0].Message).To(Equal("Waiting for approval."))
		Expect(f.replicas("podinfo")).To(Equal(int32(0)), "not scaled up while waiting")
		rv := f.canary().ResourceVersion

		By("still closed: asked again, silently")
		rec = f.step()
		Expect(rec.Phase).To(Equal("Waiting"))
		Expect(rec.Events).To(BeEmpty())
		Expect(rec.Alerts).To(BeEmpty())
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-rollout:Waiting"}))
		Expect(f.canary().ResourceVersion).To(Equal(rv), "no status write")

		By("open: the revision starts")
		rec = f.step()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(phased(rec)).To(Equal([]string{
			"Waiting|Normal|Confirm-rollout check gate passed",
			"Progressing|Normal|New revision detected! Scaling up podinfo.test",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-rollout:Waiting"}))
		Expect(f.replicas("podinfo")).To(Equal(int32(1)))
		Expect(f.metrics.queries).To(BeEmpty())
	})

	It("mutes the alert of a muted gate", func() {
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.Analysis.Webhooks[0].MuteAlert = true })
		f.hooks.answer("gate", errRefused)
		rec := f.step()
		Expect(rec.Phase).To(Equal("Waiting"))
		Expect(messages(rec)).To(HaveLen(1))
		Expect(rec.Alerts).To(BeEmpty())
	})

	It("is asked in spec order and stops at the first refusal", func() {
		f.updateCanary(func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.Webhooks = []v1beta1.CanaryWebhook{
				hook(v1beta1.ConfirmRolloutHook, "a"), hook(v1beta1.ConfirmRolloutHook, "b"), hook(v1beta1.ConfirmRolloutHook, "c"),
			}
		})
		f.hooks.answer("b", errRefused)
		rec := f.step()
		Expect(rec.Phase).To(Equal("Waiting"))
		names := []string{}
		for _, h := range rec.Hooks {
			names = append(names, h.Name)
		}
		Expect(names).To(Equal([]string{"a", "b"}))
		Expect(messages(rec)).To(Equal([]string{
			"Confirm-rollout check a passed",
			"Halt podinfo.test advancement waiting for approval b",
		}))
	})

	It("is not asked while a revision is analysed", func() {
		f.step() // Progressing
		f.reset()
		for range 3 {
			f.step()
		}
		Expect(f.hooks.phasesOf(v1beta1.ConfirmRolloutHook)).To(BeEmpty())
	})
})

var _ = Describe("the first analysis step", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.PreRolloutHook, "pre"), hook(v1beta1.RolloutHook, "load")))
		f.startRevision()
		f.reset()
	})

	It("runs the pre-rollout hooks only, then the first weight step", func() {
		rec := f.step()
		Expect(rec.Step).To(Equal("advance"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Starting canary analysis for podinfo.test",
			"Normal|Pre-rollout check pre passed",
			"Normal|Advance podinfo.test canary weight 10",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"pre-rollout:Progressing"}))
		Expect(f.metrics.queries).To(BeEmpty(), "no metrics without traffic")
		Expect(rec.Metrics).To(BeEmpty())
		Expect(routeChanges(rec)).To(Equal([][2]int{{90, 10}}))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10}))
	})

	It("counts a pre-rollout failure and stays at weight 0", func() {
		f.hooks.answer("pre", errors.New("load test failed"), nil)
		rec := f.step()
		Expect(rec.Step).To(Equal("analysis"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Starting canary analysis for podinfo.test",
			"Warning|Halt podinfo.test advancement pre-rollout check pre failed load test failed",
		}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing, FailedChecks: 1}))

		By("the next tick is a first step again")
		rec = f.step()
		Expect(hookTypes(rec)).To(Equal([]string{"pre-rollout:Progressing"}))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}))
	})

	It("stops at the first failing pre-rollout hook", func() {
		f.updateCanary(func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.Webhooks = []v1beta1.CanaryWebhook{
				hook(v1beta1.PreRolloutHook, "a"), hook(v1beta1.PreRolloutHook, "b"), hook(v1beta1.PreRolloutHook, "c"),
			}
		})
		f.hooks.answer("a", nil)
		f.hooks.answer("b", errors.New("no"))
		rec := f.step()
		Expect(hookTypes(rec)).To(Equal([]string{"pre-rollout:Progressing", "pre-rollout:Progressing"}))
		Expect(messages(rec)).To(Equal([]string{
			"Starting canary analysis for podinfo.test",
			"Pre-rollout check a passed",
			"Halt podinfo.test advancement pre-rollout check b failed no",
		}))
	})
})

var _ = Describe("confirm-traffic-increase", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.ConfirmTrafficIncreaseHook, "gate")))
		f.startRevision()
		f.reset()
	})

	It("halts a weight step without counting a failed check", func() {
		f.hooks.answer("gate", errRefused, nil)
		rec := f.step()
		Expect(rec.Step).To(Equal("advance"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Starting canary analysis for podinfo.test",
			"Warning|Halt podinfo.test advancement waiting for traffic increase approval gate",
		}))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "warn", Message: "Canary traffic increase is waiting for approval.", Global: true}}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing}))

		rec = f.step()
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Starting canary analysis for podinfo.test",
			"Normal|Confirm-traffic-increase check gate passed",
			"Normal|Advance podinfo.test canary weight 10",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-traffic-increase:Progressing"}))
	})

	It("is also asked on the tick that promotes, and can hold the promotion", func() {
		for range 5 {
			f.step()
		}
		Expect(f.counters().CanaryWeight).To(Equal(50))
		f.reset()
		f.hooks.answer("gate", errRefused, nil)
		rec := f.step()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-traffic-increase:Progressing"}))
		Expect(messages(rec)).To(Equal([]string{"Halt podinfo.test advancement waiting for traffic increase approval gate"}))

		rec = f.step()
		Expect(rec.Phase).To(Equal("Promoting"))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-traffic-increase:Progressing"}))
		Expect(messages(rec)).To(Equal([]string{
			"Confirm-traffic-increase check gate passed",
			"Copying podinfo.test template spec to podinfo-primary.test",
		}))
		Expect(f.hooks.phasesOf(v1beta1.ConfirmTrafficIncreaseHook)).To(HaveLen(2))
	})
})

var _ = Describe("confirm-promotion", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.ConfirmPromotionHook, "gate"), hook(v1beta1.ConfirmTrafficIncreaseHook, "cti")))
		f.startRevision()
		for range 5 {
			f.step()
		}
		Expect(f.counters().CanaryWeight).To(Equal(50))
		f.reset()
	})

	It("holds the promotion in WaitingPromotion while the analysis goes on", func() {
		f.hooks.answer("gate", errRefused, errRefused, nil)

		By("refused: WaitingPromotion, status weight 0 while the routes stay")
		rec := f.step()
		Expect(rec.Phase).To(Equal("WaitingPromotion"))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-traffic-increase:Progressing", "confirm-promotion:Progressing"}))
		Expect(phased(rec)).To(Equal([]string{
			"Progressing|Normal|Confirm-traffic-increase check cti passed",
			"Progressing|Warning|Halt podinfo.test advancement waiting for promotion approval gate",
		}))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "warn", Message: "Canary promotion is waiting for approval.", Global: true}}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaitingPromotion, Iterations: -1}))
		_, c, _ := f.routes()
		Expect(c).To(Equal(50))
		Expect(f.image("podinfo-primary")).To(Equal(imageV1))

		By("still refused: the analysis runs, no traffic gate, iterations re-armed, no event")
		f.metrics.queries = nil
		rec = f.step()
		Expect(rec.Phase).To(Equal("WaitingPromotion"))
		Expect(rec.Metrics).To(HaveLen(2))
		Expect(hookTypes(rec)).To(Equal([]string{"confirm-promotion:Progressing"}))
		Expect(rec.Events).To(BeEmpty())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaitingPromotion, Iterations: -1}))

		By("approved: Promoting")
		rec = f.step()
		Expect(rec.Phase).To(Equal("Promoting"))
		Expect(phased(rec)).To(Equal([]string{
			"WaitingPromotion|Normal|Confirm-promotion check gate passed",
			"WaitingPromotion|Normal|Copying podinfo.test template spec to podinfo-primary.test",
		}))
		Expect(f.image("podinfo-primary")).To(Equal(imageV2))
		Expect(f.canary().Status.Conditions[0].Reason).To(Equal("Promoting"))
	})

	It("still rolls back on failed checks while waiting for promotion", func() {
		f.hooks.answer("gate", errRefused)
		f.step()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		rec := f.step()
		Expect(rec.Step).To(Equal("threshold"))
		Expect(rec.Phase).To(Equal("Failed"))
	})

	It("re-arms a Blue/Green canary to its last iteration (PR #1139)", func() {
		g := newFixture(func() *v1beta1.Canary {
			cd := canaryWithHooks(hook(v1beta1.ConfirmPromotionHook, "gate"))
			cd.Spec.Analysis.Iterations = 3
			cd.Spec.Analysis.StepWeight = 0 // the CRD admits iterations or stepWeight, not both
			return cd
		}())
		g.startRevision()
		g.hooks.answer("gate", errRefused)
		for range 4 {
			g.step()
		}
		Expect(g.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaitingPromotion, Iterations: 2}))
		rec := g.step()
		Expect(messages(rec)).To(Equal([]string{"Advance podinfo.test canary iteration 3/3"}))
		Expect(g.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaitingPromotion, Iterations: 3}))
		rec = g.step()
		Expect(rec.Events).To(BeEmpty())
		Expect(g.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseWaitingPromotion, Iterations: 2}))
	})
})

var _ = Describe("rollback hooks", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.RollbackHook, "rb"), hook(v1beta1.PostRolloutHook, "post")))
		f.hooks.answer("rb", errRefused)
		f.startRevision()
		f.step() // 90/10
		f.reset()
	})

	It("rolls back when a rollback hook answers 2xx", func() {
		f.hooks.answer("rb", nil)
		rec := f.step()
		Expect(rec.Step).To(Equal("rollback-hooks"))
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(phased(rec)).To(Equal([]string{
			"Progressing|Warning|Rollback check rb passed",
			"Progressing|Warning|Rolling back podinfo.test manual webhook invoked",
			"Failed|Warning|Canary failed! Scaling down podinfo.test",
			"Progressing|Normal|Post-rollout check post passed",
		}))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "warn", Message: "Rolling back manual webhook invoked", Global: true}}))
		Expect(hookTypes(rec)).To(Equal([]string{"rollback:Progressing", "post-rollout:Failed"}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
		Expect(f.metrics.queries).To(BeEmpty())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseFailed}))
		Expect(f.replicas("podinfo")).To(Equal(int32(0)))
	})

	It("goes on when the rollback hooks do not signal a rollback", func() {
		f.hooks.answer("rb", errRefused)
		rec := f.step()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Rollback hook rb not signaling a rollback",
			"Normal|Advance podinfo.test canary weight 20",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"rollback:Progressing"}))
	})

	It("asks every rollback hook until one signals", func() {
		f.updateCanary(func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.Webhooks = []v1beta1.CanaryWebhook{
				hook(v1beta1.RollbackHook, "a"), hook(v1beta1.RollbackHook, "b"), hook(v1beta1.RollbackHook, "c"),
			}
		})
		f.hooks.answer("a", errRefused)
		f.hooks.answer("b", nil)
		rec := f.step()
		Expect(messages(rec)[:3]).To(Equal([]string{
			"Rollback hook a not signaling a rollback",
			"Rollback check b passed",
			"Rolling back podinfo.test manual webhook invoked",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"rollback:Progressing", "rollback:Progressing"}))
	})

	It("is asked while waiting for promotion", func() {
		f.updateCanary(func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.Webhooks = append(cd.Spec.Analysis.Webhooks, hook(v1beta1.ConfirmPromotionHook, "gate"))
		})
		f.hooks.answer("gate", errRefused)
		for range 5 {
			f.step()
		}
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseWaitingPromotion))
		f.hooks.answer("rb", nil)
		f.reset()
		rec := f.step()
		Expect(rec.PhaseBefore).To(Equal("WaitingPromotion"))
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(hookTypes(rec)).To(Equal([]string{"rollback:WaitingPromotion", "post-rollout:Failed"}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
	})

	It("is not asked while promoting or finalising", func() {
		for range 5 {
			f.step()
		}
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
		f.hooks.answer("rb", nil)
		f.reset()
		f.step() // Promoting -> Finalising
		f.step() // Finalising -> Succeeded
		Expect(f.hooks.phasesOf(v1beta1.RollbackHook)).To(BeEmpty())
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseSucceeded))
	})
})

var _ = Describe("post-rollout hooks", func() {
	It("only warn when they fail", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.PostRolloutHook, "a"), hook(v1beta1.PostRolloutHook, "b")))
		f.startRevision()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.hooks.answer("a", errors.New("slack down"))
		rec := f.step()
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(typed(rec)).To(Equal([]string{
			"Warning|Rolling back podinfo.test failed checks threshold reached 5",
			"Warning|Canary failed! Scaling down podinfo.test",
			"Warning|Post-rollout hook a failed slack down",
		}))
		Expect(hookTypes(rec)).To(Equal([]string{"post-rollout:Failed"}), "the first failure stops the rest")
	})
})
