package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// Steps 19-24 and 29-30 of docs/flagger-semantics.md#steps: the strategies (docs/flagger-semantics.md#strategies-and-weights),
// promotion and finalisation (§2.7), restarts and deadlines.

// primaryWeight reads the primary's weight from the router.
func (f *fixture) primaryWeight() int {
	p, _, _ := f.routes()
	return p
}

var _ = DescribeTable("canary weights: Flagger's worked sequences (scheduler_svc_test.go)",
	func(edit func(a *v1beta1.CanaryAnalysis), wantPrimary []int) {
		cd := newCanary()
		edit(cd.Spec.Analysis)
		f := newFixture(cd)
		f.initialize()
		f.setImage(imageV2)
		got := []int{}
		for range wantPrimary {
			rec := f.step()
			Expect(rec.Phase).To(Equal("Progressing"))
			got = append(got, f.primaryWeight())
		}
		Expect(got).To(Equal(wantPrimary))
		rec := f.step()
		Expect(rec.Phase).To(Equal("Promoting"))
		Expect(rec.Routes).To(BeEmpty(), "the promoting tick keeps the weights")
		Expect(f.image("podinfo-primary")).To(Equal(imageV2))

		rec = f.step()
		Expect(rec.Phase).To(Equal("Finalising"))
		Expect(f.primaryWeight()).To(Equal(100))
		rec = f.step()
		Expect(rec.Phase).To(Equal("Succeeded"))
	},
	Entry("stepWeight 20, maxWeight 50 (overshoots to 60)", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight = 20, 50 },
		[]int{100, 80, 60, 40}),
	Entry("stepWeight 50, maxWeight 100", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight = 50, 100 },
		[]int{100, 50, 0}),
	Entry("stepWeights 1,2,10,80", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.StepWeights = 0, []int{1, 2, 10, 80} },
		[]int{100, 99, 98, 90, 20}),
	Entry("stepWeights 1,2,10,200 (max 100)", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.StepWeights = 0, []int{1, 2, 10, 200} },
		[]int{100, 99, 98, 90, 0}),
)

var _ = Describe("canary weights", func() {
	It("overshoots maxWeight: stepWeight 20, maxWeight 50 sets 20, 40, 60, then promotes", func() {
		cd := newCanary()
		cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = 20, 50
		f := newFixture(cd)
		f.startRevision()
		weights, events := []int{}, []string{}
		for range 3 {
			rec := f.step()
			for _, r := range rec.Routes {
				weights = append(weights, r.Canary)
				Expect(r.Primary + r.Canary).To(Equal(100))
			}
			events = append(events, messages(rec)...)
			Expect(rec.CanaryWeight).To(Equal(f.canary().Status.CanaryWeight))
		}
		Expect(weights).To(Equal([]int{20, 40, 60}))
		Expect(events).To(Equal([]string{
			"Starting canary analysis for podinfo.test",
			"Advance podinfo.test canary weight 20",
			"Advance podinfo.test canary weight 40",
			"Advance podinfo.test canary weight 60",
		}))
		rec := f.step()
		Expect(rec.Phase).To(Equal("Promoting"))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhasePromoting, CanaryWeight: 60}), "Promoting keeps the weight")
	})

	It("jumps to 100 from a weight that is not in stepWeights", func() {
		cd := newCanary()
		cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.StepWeights = 0, []int{1, 2, 10, 80}
		f := newFixture(cd)
		f.startRevision()
		f.step()
		f.step() // 98/2
		f.setRoutes(95, 5)
		rec := f.step()
		Expect(routeChanges(rec)).To(Equal([][2]int{{0, 100}}))
		Expect(messages(rec)).To(Equal([]string{"Advance podinfo.test canary weight 100"}))
	})

	It("reads the current weight from the router, not from the status", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()
		f.setRoutes(70, 30)
		rec := f.step()
		Expect(routeChanges(rec)).To(Equal([][2]int{{60, 40}}))
	})

	It("mirrors first when analysis.mirror is set (TestScheduler_DeploymentMirroring)", func() {
		cd := canaryWithHooks(hook(v1beta1.ConfirmTrafficIncreaseHook, "cti"))
		cd.Spec.Analysis.Mirror = true
		f := newFixture(cd)
		f.startRevision()
		f.reset()

		rec := f.step()
		Expect(rec.Routes).To(Equal([]engine.RouteChange{{Primary: 100, Canary: 0, Mirrored: true}}))
		Expect(messages(rec)).To(Equal([]string{
			"Starting canary analysis for podinfo.test",
			"Confirm-traffic-increase check cti passed",
			"Advance podinfo.test canary weight 0",
		}))
		Expect(rec.Mirrored).To(BeTrue())
		Expect(f.metrics.queries).To(BeEmpty())

		rec = f.step()
		Expect(rec.Routes).To(Equal([]engine.RouteChange{{Primary: 90, Canary: 10, Mirrored: false}}))
		Expect(rec.Metrics).To(HaveLen(2), "mirrored traffic is analysed")
		Expect(hookTypes(rec)).To(BeEmpty(), "no traffic gate on a mirrored tick")
		Expect(messages(rec)).To(Equal([]string{"Advance podinfo.test canary weight 10"}))
	})

	It("records the mirror the router wrote: none on A/B routes, though mirror is set", func() {
		cd := newCanary()
		cd.Spec.Analysis.Mirror = true
		cd.Spec.Analysis.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "1"}}}}
		f := newFixture(cd)
		f.startRevision()
		f.reset()

		rec := f.step()
		Expect(rec.Routes).To(Equal([]engine.RouteChange{{Primary: 100, Canary: 0, Mirrored: false}}))
		Expect(rec.Mirrored).To(BeFalse())
		_, _, mirrored := f.routes()
		Expect(mirrored).To(BeFalse(), "Flagger's VirtualService has no mirror on A/B routes")
	})
})

var _ = Describe("promotion", func() {
	// promoting returns a fixture whose canary has just entered Promoting at 50/50.
	promoting := func(stepWeightPromotion int, hooks ...v1beta1.CanaryWebhook) *fixture {
		cd := canaryWithHooks(hooks...)
		cd.Spec.Analysis.StepWeightPromotion = stepWeightPromotion
		f := newFixture(cd)
		f.startRevision()
		for range 6 {
			f.step()
		}
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhasePromoting, CanaryWeight: 50}))
		f.reset()
		return f
	}

	It("routes all traffic to the primary at once without stepWeightPromotion", func() {
		f := promoting(0)
		rec := f.step()
		Expect(rec.Step).To(Equal("promote-traffic"))
		Expect(typed(rec)).To(Equal([]string{"Normal|Routing all traffic to primary"}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseFinalising}))
		Expect(f.metrics.queries).To(BeEmpty())
		Expect(f.replicas("podinfo")).To(Equal(int32(1)), "the canary serves until Finalising")
	})

	It("shifts traffic back by stepWeightPromotion", func() {
		f := promoting(20)
		rec := f.step()
		Expect(typed(rec)).To(Equal([]string{"Normal|Advance podinfo.test primary weight 70"}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{70, 30}}))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhasePromoting, CanaryWeight: 30}))
		rec = f.step()
		Expect(routeChanges(rec)).To(Equal([][2]int{{90, 10}}))
		rec = f.step()
		Expect(typed(rec)).To(Equal([]string{"Normal|Advance podinfo.test primary weight 100"}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}), "capped at 100/0")
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseFinalising}))
	})

	It("waits for the primary's rolling update before shifting traffic", func() {
		f := promoting(0)
		rec := f.tick() // the primary has a new template and is not ready
		Expect(rec.Step).To(Equal("primary-ready"))
		Expect(typed(rec)).To(Equal([]string{
			"Warning|podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation",
		}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
	})

	It("does nothing while the router reports no canary traffic (Flagger issue #1692)", func() {
		f := promoting(50)
		f.setRoutes(100, 0)
		rec := f.step()
		Expect(rec.Step).To(Equal("promote-traffic"))
		Expect(rec.Events).To(BeEmpty())
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
	})

	It("finalises: scales the canary down and succeeds", func() {
		f := promoting(0, hook(v1beta1.PostRolloutHook, "post"))
		f.step() // Finalising
		before := f.canary().Status
		rec := f.step()
		Expect(rec.PhaseBefore).To(Equal("Finalising"))
		Expect(rec.Phase).To(Equal("Succeeded"))
		Expect(rec.Step).To(Equal("finalise"))
		Expect(phased(rec)).To(Equal([]string{
			"Succeeded|Normal|Post-rollout check post passed",
			"Succeeded|Normal|Promotion completed! Scaling down podinfo.test",
		}))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "info", Message: "Canary analysis completed successfully, promotion finished.", Global: true}}))
		Expect(hookTypes(rec)).To(Equal([]string{"post-rollout:Succeeded"}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.replicas("podinfo")).To(BeZero())
		st := f.canary().Status
		Expect(st.LastPromotedSpec).To(Equal(before.LastAppliedSpec))
		Expect(st.LastPromotedSpec).NotTo(Equal(before.LastPromotedSpec))
		Expect(st.Conditions[0].Status).To(BeEquivalentTo("True"))
		Expect(st.Conditions[0].Message).To(Equal("Canary analysis completed successfully, promotion finished."))

		By("and stays there")
		rec = f.step()
		Expect(rec.Step).To(Equal("should-advance"))
		Expect(rec.Events).To(BeEmpty())
	})

	It("goes through Flagger's DeploymentAnalysisPhases", func() {
		cd := newCanary()
		a := cd.Spec.Analysis
		a.StepWeight, a.MaxWeight, a.StepWeightPromotion, a.Metrics = 100, 0, 50, nil
		f := newFixture(cd)
		f.initialize()
		f.setImage(imageV2)
		type state struct {
			Phase  string
			Weight int
		}
		got := []state{}
		for range 6 {
			f.step()
			got = append(got, state{string(f.canary().Status.Phase), f.canary().Status.CanaryWeight})
		}
		Expect(got).To(Equal([]state{
			{"Progressing", 0}, {"Progressing", 100}, {"Promoting", 100}, {"Promoting", 50}, {"Finalising", 0}, {"Succeeded", 0},
		}))
	})
})

var _ = Describe("Blue/Green", func() {
	It("goes through Flagger's DeploymentBlueGreenAnalysisPhases (iterations 1)", func() {
		cd := newCanary()
		cd.Spec.Analysis.Iterations = 1
		cd.Spec.Analysis.StepWeight = 0 // the CRD admits iterations or stepWeight, not both
		f := newFixture(cd)
		f.initialize()
		f.setImage(imageV2)
		phases, events, routes := []string{}, []string{}, [][2]int{}
		for range 6 {
			rec := f.step()
			phases = append(phases, rec.Phase)
			events = append(events, messages(rec)...)
			routes = append(routes, routeChanges(rec)...)
			Expect(rec.CanaryWeight).To(Equal(routesCanary(f)))
		}
		Expect(phases).To(Equal([]string{"Progressing", "Progressing", "Progressing", "Promoting", "Finalising", "Succeeded"}))
		Expect(events).To(Equal([]string{
			"New revision detected! Scaling up podinfo.test",
			"Starting canary analysis for podinfo.test",
			"Advance podinfo.test canary iteration 1/1",
			"Routing all traffic to canary",
			"Copying podinfo.test template spec to podinfo-primary.test",
			"Routing all traffic to primary",
			"Promotion completed! Scaling down podinfo.test",
		}))
		Expect(routes).To(Equal([][2]int{{0, 100}, {100, 0}}))
	})

	It("counts iterations and runs the metrics on each but the first", func() {
		cd := newCanary()
		cd.Spec.Analysis.Iterations = 3
		cd.Spec.Analysis.StepWeight = 0 // the CRD admits iterations or stepWeight, not both
		f := newFixture(cd)
		f.startRevision()
		metricTicks := []int{}
		iterations := []int{}
		for i := range 5 {
			rec := f.step()
			if len(rec.Metrics) > 0 {
				metricTicks = append(metricTicks, i+1)
			}
			iterations = append(iterations, f.canary().Status.Iterations)
			Expect(f.canary().Status.CanaryWeight).To(BeZero(), "B/G never writes the status weight")
		}
		Expect(iterations).To(Equal([]int{1, 2, 3, 4, 4}), "Promoting keeps the iterations")
		Expect(metricTicks).To(Equal([]int{2, 3, 4, 5}))
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
	})

	It("mirrors during the iterations when analysis.mirror is set", func() {
		cd := newCanary()
		cd.Spec.Analysis.Iterations, cd.Spec.Analysis.Mirror = 2, true
		cd.Spec.Analysis.StepWeight = 0 // the CRD admits iterations or stepWeight, not both
		f := newFixture(cd)
		f.startRevision()
		rec := f.step()
		Expect(rec.Routes).To(Equal([]engine.RouteChange{{Primary: 100, Canary: 0, Mirrored: true}}))
		rec = f.step()
		Expect(rec.Routes).To(BeEmpty(), "already mirrored")
		Expect(rec.Metrics).To(HaveLen(2))
		rec = f.step()
		Expect(messages(rec)).To(Equal([]string{"Stop traffic mirroring and route all traffic to canary"}))
		Expect(rec.Routes).To(Equal([]engine.RouteChange{{Primary: 0, Canary: 100}}))
	})

	It("is forced by the kubernetes provider", func() {
		cd := newCanary()
		cd.Spec.Provider = "kubernetes"
		cd.Spec.Analysis.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "1"}}}}
		f := newFixture(cd)
		f.startRevision()
		rec := f.step()
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Starting canary analysis for podinfo.test",
			"Warning|A/B testing is not supported when using the kubernetes provider",
			"Warning|Progressive traffic is not supported when using the kubernetes provider",
			"Warning|Setting canaryAnalysis.iterations: 10",
			"Normal|Advance podinfo.test canary iteration 1/10",
		}))
		Expect(rec.Routes).To(BeEmpty(), "no router to set")
		Expect(f.canary().Spec.Analysis.Iterations).To(BeZero(), "in memory only")
	})
})

func routesCanary(f *fixture) int {
	_, c, _ := f.routes()
	return c
}

var _ = Describe("A/B testing", func() {
	It("sends the matching traffic to the canary for the iterations, then promotes", func() {
		cd := canaryWithHooks(hook(v1beta1.ConfirmPromotionHook, "gate"), hook(v1beta1.ConfirmTrafficIncreaseHook, "cti"))
		cd.Spec.Analysis.Iterations = 3
		cd.Spec.Analysis.StepWeight = 0 // the CRD admits iterations or stepWeight, not both
		cd.Spec.Analysis.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}}}
		f := newFixture(cd)
		f.startRevision()
		f.reset()

		type tickSummary struct {
			Phase      string
			Iterations int
			Routes     [][2]int
			Events     []string
			Queries    int
		}
		got := []tickSummary{}
		for range 6 {
			n := len(f.metrics.queries)
			rec := f.step()
			got = append(got, tickSummary{rec.Phase, rec.Iterations, routeChanges(rec), messages(rec), len(f.metrics.queries) - n})
			Expect(f.canary().Status.CanaryWeight).To(BeZero(), "A/B never writes the status weight")
		}
		Expect(got).To(Equal([]tickSummary{
			{"Progressing", 1, [][2]int{{0, 100}}, []string{"Starting canary analysis for podinfo.test", "Advance podinfo.test canary iteration 1/3"}, 0},
			{"Progressing", 2, [][2]int{{0, 100}}, []string{"Advance podinfo.test canary iteration 2/3"}, 2},
			{"Progressing", 3, [][2]int{{0, 100}}, []string{"Advance podinfo.test canary iteration 3/3"}, 2},
			{"Promoting", 3, [][2]int{}, []string{"Confirm-promotion check gate passed", "Copying podinfo.test template spec to podinfo-primary.test"}, 2},
			{"Finalising", 0, [][2]int{{100, 0}}, []string{"Routing all traffic to primary"}, 0},
			{"Succeeded", 0, [][2]int{}, []string{"Promotion completed! Scaling down podinfo.test"}, 0},
		}))
		Expect(f.hooks.phasesOf(v1beta1.ConfirmTrafficIncreaseHook)).To(BeEmpty(), "no traffic gate in A/B")
		Expect(f.hooks.phasesOf(v1beta1.ConfirmPromotionHook)).To(Equal([]string{"Progressing"}))
	})
})

var _ = Describe("a new revision during the analysis", func() {
	DescribeTable("restarts it at 100/0 with counters reset, without confirm-rollout",
		func(phase v1beta1.CanaryPhase) {
			f := newFixture(canaryWithHooks(hook(v1beta1.ConfirmRolloutHook, "gate")))
			f.startRevision()
			f.step()
			f.step() // 80/20
			f.patchStatus(func(st *v1beta1.CanaryStatus) { st.Phase, st.FailedChecks, st.Iterations = phase, 2, 1 })
			before := f.canary().Status
			f.setImage(imageV3)
			f.reset()
			rec := f.step()
			Expect(rec.Step).To(Equal("detect-revision"))
			Expect(typed(rec)).To(Equal([]string{"Normal|New revision detected! Restarting analysis for podinfo.test"}))
			Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
			Expect(rec.Hooks).To(BeEmpty())
			Expect(f.metrics.queries).To(BeEmpty())
			Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing}))
			st := f.canary().Status
			Expect(st.LastAppliedSpec).NotTo(Equal(before.LastAppliedSpec))
			Expect(st.LastPromotedSpec).To(Equal(before.LastPromotedSpec))

			By("the next tick is a first step")
			rec = f.step()
			Expect(messages(rec)).To(Equal([]string{"Starting canary analysis for podinfo.test", "Advance podinfo.test canary weight 10"}))
		},
		Entry("while Progressing", v1beta1.CanaryPhaseProgressing),
		Entry("while WaitingPromotion", v1beta1.CanaryPhaseWaitingPromotion),
	)

	It("does not restart a promotion", func() {
		f := newFixture(newCanary())
		f.startRevision()
		for range 6 {
			f.step()
		}
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
		f.setImage(imageV3)
		rec := f.step()
		Expect(rec.Phase).To(Equal("Finalising"))
		rec = f.step()
		Expect(rec.Phase).To(Equal("Succeeded"))
		rec = f.step()
		Expect(rec.Phase).To(Equal("Progressing"), "the newer revision is analysed after the promotion")
		Expect(messages(rec)).To(Equal([]string{"New revision detected! Scaling up podinfo.test"}))
	})
})

var _ = Describe("progress deadlines", func() {
	It("rolls back a canary stuck past its deadline", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.PostRolloutHook, "post")))
		f.startRevision()
		f.step() // 90/10
		f.markReady("podinfo-primary")
		f.markDeadlineExceeded("podinfo")
		rec := f.tick()
		Expect(rec.Step).To(Equal("canary-ready"))
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(phased(rec)).To(Equal([]string{
			`Progressing|Warning|canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline`,
			"Failed|Warning|Canary failed! Scaling down podinfo.test",
			"Progressing|Normal|Post-rollout check post passed",
		}))
		Expect(rec.Alerts).To(BeEmpty(), "no alert below the threshold")
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
		Expect(f.replicas("podinfo")).To(BeZero())
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseFailed}))
	})

	It("waits for a canary that is still rolling out", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.markReady("podinfo-primary")
		rec := f.tick() // the target was scaled up and is not ready yet
		Expect(rec.Step).To(Equal("canary-ready"))
		Expect(typed(rec)).To(Equal([]string{
			"Warning|canary deployment podinfo.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation",
		}))
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing}))
	})

	It("rolls back when the primary is stuck while Progressing", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()
		f.markDeadlineExceeded("podinfo-primary")
		rec := f.tick()
		Expect(rec.Step).To(Equal("primary-ready"))
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(messages(rec)).To(Equal([]string{
			`podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline`,
			"Canary failed! Scaling down podinfo.test",
		}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
	})

	DescribeTable("keeps traffic on the canary when the primary is stuck while promoting (PR #1931)",
		func(stepWeightPromotion int, ticksAfterPromote int, wantRoutesBefore [2]int) {
			cd := canaryWithHooks(hook(v1beta1.PostRolloutHook, "post"))
			cd.Spec.Analysis.StepWeightPromotion = stepWeightPromotion
			f := newFixture(cd)
			f.startRevision()
			for range 6 + ticksAfterPromote {
				f.step()
			}
			p, c, _ := f.routes()
			Expect([2]int{p, c}).To(Equal(wantRoutesBefore))
			phase := f.canary().Status.Phase
			f.markReady("podinfo")
			f.markDeadlineExceeded("podinfo-primary")
			rec := f.tick()
			Expect(rec.PhaseBefore).To(Equal(string(phase)))
			Expect(rec.Step).To(Equal("primary-ready"))
			Expect(rec.Phase).To(Equal("Failed"))
			primaryErr := `podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline`
			before := string(phase) + "|"
			Expect(phased(rec)).To(Equal([]string{
				before + "Warning|" + primaryErr,
				before + "Warning|Promotion of podinfo.test failed, primary not ready: " + primaryErr,
				before + "Normal|Post-rollout check post passed",
			}))
			Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "error", Message: "Promotion failed, primary not ready: " + primaryErr, Global: true}}))
			Expect(hookTypes(rec)).To(Equal([]string{"post-rollout:Failed"}))
			Expect(routeChanges(rec)).To(Equal([][2]int{{0, 100}}))
			Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseFailed, CanaryWeight: 100}))
			Expect(f.replicas("podinfo")).To(Equal(int32(1)), "the canary is the only healthy copy")
		},
		Entry("Promoting at 50/50", 0, 0, [2]int{50, 50}),
		Entry("Promoting half-way back", 25, 1, [2]int{75, 25}),
		Entry("Finalising at 100/0", 0, 1, [2]int{100, 0}),
	)
})

var _ = Describe("skipAnalysis", func() {
	It("promotes on the tick after detection, without analysis", func() {
		cd := canaryWithHooks(hook(v1beta1.PostRolloutHook, "post"), hook(v1beta1.PreRolloutHook, "pre"), hook(v1beta1.RolloutHook, "load"))
		f := newFixture(cd)
		f.initialize()
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.SkipAnalysis = true })
		f.setImage(imageV2)
		f.reset()
		rec := f.tick()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(messages(rec)).To(Equal([]string{"New revision detected! Scaling up podinfo.test"}))
		f.markReady("podinfo")

		rec = f.tick()
		Expect(rec.Step).To(Equal("skip-analysis"))
		Expect(rec.Phase).To(Equal("Succeeded"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|Copying podinfo.test template spec to podinfo-primary.test",
			"Normal|Post-rollout check post passed",
			"Normal|Promotion completed! Canary analysis was skipped for podinfo.test",
		}))
		Expect(rec.Events[2].Phase).To(Equal("Succeeded"))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "info", Message: "Canary analysis was skipped, promotion finished.", Global: true}}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
		Expect(hookTypes(rec)).To(Equal([]string{"post-rollout:Succeeded"}))
		Expect(f.metrics.queries).To(BeEmpty())
		Expect(f.image("podinfo-primary")).To(Equal(imageV2))
		Expect(f.replicas("podinfo")).To(BeZero())
		st := f.canary().Status
		Expect(st.LastPromotedSpec).To(Equal(st.LastAppliedSpec))
	})

	It("wins over accumulated failed checks (Flagger issue #1149) and does not wait for the primary", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.SkipAnalysis = true })
		p := f.deployment("podinfo-primary")
		p.Spec.Replicas = ptr(int32(2))
		Expect(f.c.Update(f.ctx, p)).To(Succeed()) // primary not ready
		f.markReady("podinfo")
		rec := f.tick()
		Expect(rec.Phase).To(Equal("Succeeded"))
		Expect(rec.Step).To(Equal("skip-analysis"))
	})
})

var _ = Describe("the kubernetes provider", func() {
	It("finalises a promotion without traffic shifting", func() {
		cd := newCanary()
		cd.Spec.Provider = "kubernetes"
		cd.Spec.Analysis.StepWeightPromotion = 50
		cd.Spec.Analysis.Metrics = nil
		f := newFixture(cd)
		f.startRevision()
		for range 12 {
			if f.step().Phase == "Promoting" {
				break
			}
		}
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhasePromoting))
		rec := f.step()
		Expect(rec.Step).To(Equal("promote-traffic"))
		Expect(rec.Phase).To(Equal("Finalising"))
		Expect(rec.Events).To(BeEmpty())
		Expect(rec.Routes).To(BeEmpty())
	})
})
