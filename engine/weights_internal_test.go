package engine

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
)

func weightsCanary(stepWeight int, stepWeights ...int) *v1beta1.Canary {
	return &v1beta1.Canary{Spec: v1beta1.CanarySpec{Analysis: &v1beta1.CanaryAnalysis{
		StepWeight: stepWeight, StepWeights: stepWeights,
	}}}
}

// Flagger's nextStepWeight (scheduler.go), docs/flagger-semantics.md#canary-weights.
var _ = DescribeTable("nextStepWeight",
	func(cd *v1beta1.Canary, canaryWeight, want int) {
		Expect(nextStepWeight(cd, canaryWeight)).To(Equal(want))
	},
	Entry("stepWeight is the step at 0", weightsCanary(20), 0, 20),
	Entry("stepWeight is the step at any weight, even past 100", weightsCanary(20), 90, 20),
	Entry("stepWeight wins over stepWeights", weightsCanary(7, 1, 2, 10), 0, 7),
	Entry("neither stepWeight nor stepWeights: 0 (stuck, CRD prevents it)", weightsCanary(0), 0, 0),
	Entry("no analysis at all: 0", &v1beta1.Canary{}, 0, 0),
	Entry("stepWeights: first step from 0", weightsCanary(0, 1, 2, 10, 80), 0, 1),
	Entry("stepWeights: to the next listed weight", weightsCanary(0, 1, 2, 10, 80), 2, 8),
	Entry("stepWeights: from the second-last to the last", weightsCanary(0, 1, 2, 10, 80), 10, 70),
	Entry("stepWeights: capped at 100 - weight", weightsCanary(0, 1, 2, 10, 200), 10, 90),
	Entry("stepWeights: first step capped at 100", weightsCanary(0, 150), 0, 100),
	Entry("stepWeights: at the last listed weight, the rest to 100", weightsCanary(0, 1, 2, 10, 80), 80, 20),
	Entry("stepWeights: off-list weight jumps to 100", weightsCanary(0, 1, 2, 10, 80), 5, 95),
	Entry("stepWeights: maxStep 0 gives 1 so that the canary promotes", weightsCanary(0, 1, 2, 10, 200), 100, 1),
)

// Flagger's maxWeight(): the check before each step (overshoot) compares with it.
var _ = DescribeTable("maxWeight",
	func(a *v1beta1.CanaryAnalysis, want int) {
		Expect((&v1beta1.Canary{Spec: v1beta1.CanarySpec{Analysis: a}}).MaxWeight()).To(Equal(want))
	},
	Entry("maxWeight when set", &v1beta1.CanaryAnalysis{StepWeight: 20, MaxWeight: 50}, 50),
	Entry("100 by default", &v1beta1.CanaryAnalysis{StepWeight: 20}, 100),
	Entry("last stepWeight, maxWeight ignored", &v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 80}, MaxWeight: 30}, 80),
	Entry("last stepWeight capped at 100", &v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 200}}, 100),
)
