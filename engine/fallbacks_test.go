package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// What Fallbacks says a tick does is held against runs in sim (fallbacks_test.go);
// these pin which fields it names.
var _ = Describe("Fallbacks", func() {
	e := &engine.Engine{}

	It("finds nothing in a canary run as written", func() {
		Expect(e.Fallbacks(newCanary())).To(BeEmpty())
		cd := newCanary()
		cd.Spec.Analysis.StepWeights, cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = []int{5, 10, 50, 100}, 0, 0
		Expect(e.Fallbacks(cd)).To(BeEmpty())
		cd.Spec.Analysis.StepWeights, cd.Spec.Analysis.Iterations = nil, 10
		Expect(e.Fallbacks(cd)).To(BeEmpty())
	})

	DescribeTable("names the field Flagger reads otherwise",
		func(edit func(a *v1beta1.CanaryAnalysis), fields ...string) {
			cd := newCanary()
			edit(cd.Spec.Analysis)
			var got []string
			for _, f := range e.Fallbacks(cd) {
				got = append(got, f.Field)
			}
			Expect(got).To(ConsistOf(fields))
		},
		Entry("an interval that does not parse", func(a *v1beta1.CanaryAnalysis) { a.Interval = "1m30x" }, "spec.analysis.interval"),
		Entry("an interval below 10s", func(a *v1beta1.CanaryAnalysis) { a.Interval = "1s" }, "spec.analysis.interval"),
		Entry("threshold 0", func(a *v1beta1.CanaryAnalysis) { a.Threshold = 0 }, "spec.analysis.threshold"),
		Entry("maxWeight next to stepWeights", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.StepWeights = 0, []int{10, 50} }, "spec.analysis.maxWeight"),
		Entry("maxWeight with iterations", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.Iterations = 0, 5 }, "spec.analysis.maxWeight"),
		Entry("maxWeight -1", func(a *v1beta1.CanaryAnalysis) { a.MaxWeight = -1 }, "spec.analysis.maxWeight"),
		Entry("maxWeight 101", func(a *v1beta1.CanaryAnalysis) { a.MaxWeight = 101 }, "spec.analysis.maxWeight"),
		Entry("a step past maxWeight", func(a *v1beta1.CanaryAnalysis) { a.MaxWeight = 45 }, "spec.analysis.maxWeight"),
		Entry("stepWeight 0 with iterations 0 (no step)", func(a *v1beta1.CanaryAnalysis) { a.StepWeight = 0 }, "spec.analysis.stepWeight"),
		Entry("iterations -1", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.Iterations = 0, -1 }, "spec.analysis.iterations"),
		Entry("a first stepWeights of 0", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight, a.StepWeights = 0, 0, []int{0, 50} }, "spec.analysis.stepWeights[0]"),
		Entry("falling stepWeights", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight, a.StepWeights = 0, 0, []int{30, 20, 50} }, "spec.analysis.stepWeights"),
		Entry("stepWeights above 100", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight, a.StepWeights = 0, 0, []int{30, 130} }, "spec.analysis.stepWeights"),
		Entry("stepWeightPromotion -5", func(a *v1beta1.CanaryAnalysis) { a.StepWeightPromotion = -5 }, "spec.analysis.stepWeightPromotion"),
		Entry("stepWeightPromotion -5 with iterations", func(a *v1beta1.CanaryAnalysis) {
			a.StepWeight, a.MaxWeight, a.Iterations, a.StepWeightPromotion = 0, 0, 3, -5
		},
			"spec.analysis.stepWeightPromotion"),
		Entry("a webhook timeout that does not parse", func(a *v1beta1.CanaryAnalysis) {
			a.Webhooks = []v1beta1.CanaryWebhook{hook(v1beta1.RolloutHook), {Name: "x", Timeout: "5sec"}}
		},
			"spec.analysis.webhooks[1].timeout"),
		Entry("a webhook timeout of 0s", func(a *v1beta1.CanaryAnalysis) { a.Webhooks = []v1beta1.CanaryWebhook{{Name: "x", Timeout: "0s"}} }, "spec.analysis.webhooks[0].timeout"),
		Entry("negative retries", func(a *v1beta1.CanaryAnalysis) { a.Webhooks = []v1beta1.CanaryWebhook{{Name: "x", Retries: -1}} }, "spec.analysis.webhooks[0].retries"),
		Entry("a range that admits nothing", func(a *v1beta1.CanaryAnalysis) { a.Metrics[0].ThresholdRange.Max = ptr(50.0) }, "spec.analysis.metrics[0].thresholdRange"),
		Entry("a duration range whose bounds meet in whole milliseconds: none", func(a *v1beta1.CanaryAnalysis) {
			a.Metrics[1].ThresholdRange = &v1beta1.CanaryThresholdRange{Min: ptr(10.9), Max: ptr(10.2)}
		}),
		Entry("no thresholds", func(a *v1beta1.CanaryAnalysis) { a.Metrics[1].ThresholdRange = nil }, "spec.analysis.metrics[1]"),
	)

	It("leaves the weights of the kubernetes provider alone: Flagger says what it does there", func() {
		cd := newCanary()
		cd.Spec.Provider = "kubernetes"
		cd.Spec.Analysis.MaxWeight = 150
		Expect(e.Fallbacks(cd)).To(BeEmpty())
	})
})
