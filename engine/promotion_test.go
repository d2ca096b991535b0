package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// ChecksToPromote is held against runs of the engine: a revision whose every check
// passes is promoted after exactly that many analysis ticks, and one whose checks
// alternate pass, fail, pass, ... is promoted when the threshold is that many, rolled
// back when it is one fewer (failedChecks is cumulative; a pass still advances).
var _ = Describe("ChecksToPromote", func() {
	e := &engine.Engine{}
	// the kubernetes provider's builtin success rate (the HTTP observer); its
	// request-duration is left out of those cases (the fake's 100 reads as 100 s)
	const httpSuccessRateQuery = "http_request_duration_seconds_count"

	// run steps a started revision until it is promoted or rolled back, the checks of
	// every analysis tick failing when fail says so (given the checks so far); it
	// returns the analysis ticks, the failed ones and the final phase.
	run := func(cd *v1beta1.Canary, fail func(checks int) bool) (checks, failed int, phase v1beta1.CanaryPhase) {
		GinkgoHelper()
		f := newFixture(cd)
		f.startRevision()
		for range 40 {
			value := 100.0
			if fail(checks) {
				value = 50
			}
			f.metrics.set(successRateQuery, value)
			f.metrics.set(httpSuccessRateQuery, value)
			rec := f.step()
			if len(rec.Metrics) > 0 {
				checks++
				if value == 50 {
					failed++
				}
			}
			switch phase = f.canary().Status.Phase; phase {
			case v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFailed:
				return checks, failed, phase
			}
		}
		return checks, failed, phase
	}
	never := func(int) bool { return false }
	everyOther := func(checks int) bool { return checks%2 == 1 }

	DescribeTable("is the number of passing analysis ticks before the promotion",
		func(edit func(cd *v1beta1.Canary), want int) {
			cd := newCanary()
			edit(cd)
			n, ok := e.ChecksToPromote(cd)
			Expect(ok).To(BeTrue())
			Expect(n).To(Equal(want))

			checks, _, phase := run(cd, never)
			Expect(phase).To(Equal(v1beta1.CanaryPhasePromoting))
			Expect(checks).To(Equal(n))

			cd.Spec.Analysis.Threshold = n
			checks, failed, phase := run(cd, everyOther)
			Expect(phase).To(Equal(v1beta1.CanaryPhasePromoting), "threshold %d: %d checks, %d failed", n, checks, failed)
			Expect(failed).To(Equal(n - 1))
			if n > 1 {
				cd.Spec.Analysis.Threshold = n - 1
				_, failed, phase = run(cd, everyOther)
				Expect(phase).To(Equal(v1beta1.CanaryPhaseFailed))
				Expect(failed).To(Equal(n - 1))
			}
		},
		Entry("stepWeight 10 to maxWeight 50", func(cd *v1beta1.Canary) {}, 5),
		Entry("stepWeight 20 to maxWeight 50: 20, 40, 60 (overshoot)", func(cd *v1beta1.Canary) { cd.Spec.Analysis.StepWeight = 20 }, 3),
		Entry("stepWeight 50, maxWeight 100", func(cd *v1beta1.Canary) { cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = 50, 0 }, 2),
		Entry("stepWeights 1, 2, 10, 80", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.StepWeights = 0, 0, []int{1, 2, 10, 80}
		}, 4),
		Entry("mirror: one more tick, mirrored at weight 0", func(cd *v1beta1.Canary) { cd.Spec.Analysis.Mirror = true }, 6),
		Entry("A/B testing: its iterations", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 3
			cd.Spec.Analysis.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "1"}}}}
		}, 3),
		Entry("blue/green: its iterations and the tick with all traffic on the canary", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 3
		}, 4),
		Entry("provider kubernetes with weights: blue/green with 10 iterations", func(cd *v1beta1.Canary) {
			cd.Spec.Provider, cd.Spec.Analysis.Metrics = "kubernetes", cd.Spec.Analysis.Metrics[:1]
		}, 11),
		Entry("provider kubernetes with iterations", func(cd *v1beta1.Canary) {
			cd.Spec.Provider, cd.Spec.Analysis.Metrics = "kubernetes", cd.Spec.Analysis.Metrics[:1]
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 2
		}, 3),
	)

	DescribeTable("is not ok when the analysis never promotes",
		func(edit func(cd *v1beta1.Canary)) {
			cd := newCanary()
			edit(cd)
			_, ok := e.ChecksToPromote(cd)
			Expect(ok).To(BeFalse())
			_, _, phase := run(cd, never)
			Expect(phase).To(Equal(v1beta1.CanaryPhaseProgressing))
		},
		Entry("falling stepWeights", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.StepWeights = 0, 0, []int{20, 10}
		}),
		Entry("maxWeight above 100", func(cd *v1beta1.Canary) { cd.Spec.Analysis.MaxWeight = 150 }),
	)

	It("is not ok with mirror and the Traefik router, which never mirrors", func() {
		cd := newCanary()
		cd.Spec.Provider, cd.Spec.Analysis.Mirror = "traefik", true
		_, ok := e.ChecksToPromote(cd)
		Expect(ok).To(BeFalse())
	})
})

// Which routers write the mirror analysis.mirror asks for (their CanMirror); what
// a tick does without it is held in strategy_test.go (H12) and the library's
// traefik-mirror-never-advances.
var _ = DescribeTable("Mirrors",
	func(provider string, ab bool, want bool) {
		cd := newCanary()
		cd.Spec.Provider, cd.Spec.Analysis.Mirror = provider, true
		if ab {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 3
			cd.Spec.Analysis.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "1"}}}}
		}
		Expect((&engine.Engine{}).Mirrors(cd)).To(Equal(want))
	},
	Entry("Istio, by weights", "istio", false, true),
	Entry("the default provider (Istio)", "", false, true),
	Entry("Istio, A/B testing's routes", "istio", true, false),
	Entry("Traefik", "traefik", false, false),
	Entry("kubernetes: no router", "kubernetes", false, false),
)
