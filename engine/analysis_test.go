package engine_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// Steps 25 and 27 of docs/flagger-semantics.md#steps: the analysis step, failedChecks
// (§2.8) and the threshold rollback (§2.12).

var _ = Describe("the analysis step", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.RolloutHook, "load"), hook("", "untyped")))
		f.startRevision()
		f.step() // pre-rollout, 90/10
		f.reset()
	})

	DescribeTable("one tick at weight 10",
		func(script func(f *fixture), wantEvents []string, wantHooks []string, wantQueries int, want counters, wantRoutes [][2]int) {
			script(f)
			rec := f.step()
			Expect(typed(rec)).To(Equal(wantEvents))
			Expect(hookTypes(rec)).To(Equal(wantHooks))
			Expect(f.metrics.queries).To(HaveLen(wantQueries))
			Expect(rec.Metrics).To(HaveLen(wantQueries))
			Expect(f.counters()).To(Equal(want))
			Expect(routeChanges(rec)).To(Equal(wantRoutes))
			Expect(rec.FailedChecks).To(Equal(want.FailedChecks))
		},
		Entry("all pass: advance",
			func(*fixture) {},
			[]string{"Normal|Advance podinfo.test canary weight 20"},
			[]string{"rollout:Progressing", "rollout:Progressing"}, 2,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 20}, [][2]int{{80, 20}}),
		Entry("a rollout hook fails: counted, no metric queried",
			func(f *fixture) { f.hooks.answer("load", errors.New("500 Internal Server Error")) },
			[]string{"Warning|Halt podinfo.test advancement external check load failed 500 Internal Server Error"},
			[]string{"rollout:Progressing"}, 0,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, [][2]int{}),
		Entry("a hook of type \"\" is a rollout hook",
			func(f *fixture) { f.hooks.answer("untyped", errors.New("nope")) },
			[]string{"Warning|Halt podinfo.test advancement external check untyped failed nope"},
			[]string{"rollout:Progressing", "rollout:Progressing"}, 0,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, [][2]int{}),
		Entry("the first metric fails: counted, the rest skipped",
			func(f *fixture) { f.metrics.set(successRateQuery, 90) },
			[]string{"Warning|Halt podinfo.test advancement success rate 90.00% < 99%"},
			[]string{"rollout:Progressing", "rollout:Progressing"}, 1,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, [][2]int{}),
		Entry("the second metric fails",
			func(f *fixture) { f.metrics.set(durationQuery, 750) },
			[]string{"Warning|Halt podinfo.test advancement request duration 750ms > 500ms"},
			[]string{"rollout:Progressing", "rollout:Progressing"}, 2,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, [][2]int{}),
		Entry("a query error fails",
			func(f *fixture) { f.metrics.fail(successRateQuery, errors.New("timeout")) },
			[]string{"Warning|Prometheus query failed: running query failed: timeout"},
			[]string{"rollout:Progressing", "rollout:Progressing"}, 1,
			counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, [][2]int{}),
	)

	It("counts failed checks cumulatively: a pass does not reset them", func() {
		f.metrics.set(successRateQuery, 90)
		f.step()
		f.metrics.set(successRateQuery, 100)
		f.step()
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 20, FailedChecks: 1}))
		f.metrics.set(successRateQuery, 90)
		f.step()
		Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 20, FailedChecks: 2}))
	})

	It("rolls back on the tick after the threshold-th failure", func() {
		f.metrics.set(successRateQuery, 90)
		for i := 1; i <= 5; i++ {
			rec := f.step()
			Expect(rec.Phase).To(Equal("Progressing"))
			Expect(rec.FailedChecks).To(Equal(i))
		}
		f.reset()
		rec := f.step()
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(rec.Step).To(Equal("threshold"))
		Expect(f.metrics.queries).To(BeEmpty(), "checked before the analysis")
	})
})

var _ = Describe("the threshold rollback", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(canaryWithHooks(hook(v1beta1.PostRolloutHook, "post"), hook(v1beta1.RolloutHook, "load")))
		f.startRevision()
		f.step()
		f.step() // 80/20
		f.reset()
	})

	It("routes back to the primary, scales the canary down and fails", func() {
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		before := f.canary().Status
		rec := f.step()
		Expect(rec.PhaseBefore).To(Equal("Progressing"))
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(rec.Step).To(Equal("threshold"))
		Expect(phased(rec)).To(Equal([]string{
			"Progressing|Warning|Rolling back podinfo.test failed checks threshold reached 5",
			"Failed|Warning|Canary failed! Scaling down podinfo.test",
			"Progressing|Normal|Post-rollout check post passed",
		}), "only the rollback's own event is about a Failed copy")
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "error", Message: "Failed checks threshold reached 5", Global: true}}))
		Expect(routeChanges(rec)).To(Equal([][2]int{{100, 0}}))
		Expect([]int{rec.PrimaryWeight, rec.CanaryWeight, rec.FailedChecks}).To(Equal([]int{100, 0, 0}))
		Expect(hookTypes(rec)).To(Equal([]string{"post-rollout:Failed"}), "no rollout hook, no metric")
		Expect(f.metrics.queries).To(BeEmpty())
		Expect(f.replicas("podinfo")).To(BeZero())
		Expect(f.image("podinfo-primary")).To(Equal(imageV1))

		st := f.canary().Status
		Expect(counters{st.Phase, st.CanaryWeight, st.FailedChecks, st.Iterations}).To(Equal(counters{Phase: v1beta1.CanaryPhaseFailed}))
		Expect(st.LastAppliedSpec).To(Equal(before.LastAppliedSpec))
		Expect(st.LastPromotedSpec).To(Equal(before.LastPromotedSpec))
		Expect(st.Conditions[0].Status).To(BeEquivalentTo("False"))
		Expect(st.Conditions[0].Reason).To(Equal("Failed"))
		p, c, _ := f.routes()
		Expect([]int{p, c}).To(Equal([]int{100, 0}))
	})

	It("uses the default threshold 1 when none is set", func() {
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.Analysis.Threshold = 0 })
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 1 })
		rec := f.step()
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(messages(rec)[0]).To(Equal("Rolling back podinfo.test failed checks threshold reached 1"))
	})

	It("does not roll back below the threshold", func() {
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 4 })
		rec := f.step()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(messages(rec)).To(Equal([]string{"Advance podinfo.test canary weight 30"}))
	})

	It("ignores failed checks while promoting", func() {
		f.patchStatus(func(st *v1beta1.CanaryStatus) {
			st.Phase, st.FailedChecks = v1beta1.CanaryPhasePromoting, 9
		})
		rec := f.step()
		Expect(rec.Phase).To(Equal("Finalising"))
		rec = f.step()
		Expect(rec.Phase).To(Equal("Succeeded"))
		Expect(rec.FailedChecks).To(Equal(9), "success does not reset failedChecks")
	})
})
