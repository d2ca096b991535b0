package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// What Walk says of ticks is held against runs by sim/scaffold's tests, which require
// every promotion of the scenarios aviary init writes at the tick it predicts; these
// pin its fields.
var _ = Describe("Walk", func() {
	DescribeTable("is the course of a revision that passes every check",
		func(edit func(cd *v1beta1.Canary), want engine.Walk) {
			cd := newCanary()
			edit(cd)
			Expect((&engine.Engine{}).Walk(cd)).To(Equal(want))
		},
		Entry("stepWeight 10 to maxWeight 50", func(*v1beta1.Canary) {},
			engine.Walk{Strategy: "canary", Weights: []int{10, 20, 30, 40, 50}, Ticks: 6, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("stepWeights", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.StepWeights = 0, 0, []int{1, 2, 10, 80}
		}, engine.Walk{Strategy: "canary", Weights: []int{1, 2, 10, 80}, Ticks: 5, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("a step past maxWeight", func(cd *v1beta1.Canary) { cd.Spec.Analysis.StepWeight = 20 },
			engine.Walk{Strategy: "canary", Weights: []int{20, 40, 60}, Ticks: 4, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("stepWeightPromotion", func(cd *v1beta1.Canary) { cd.Spec.Analysis.StepWeightPromotion = 20 },
			engine.Walk{Strategy: "canary", Weights: []int{10, 20, 30, 40, 50}, Ticks: 6, Promoting: []int{30, 10, 0}, PromotingTicks: 3, Promotes: true}),
		Entry("a mirror step", func(cd *v1beta1.Canary) { cd.Spec.Analysis.Mirror = true },
			engine.Walk{Strategy: "canary", Weights: []int{10, 20, 30, 40, 50}, Mirror: true, Ticks: 7, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("a mirror step with Traefik, which never reports it", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.Mirror, cd.Spec.Provider = true, "traefik"
		}, engine.Walk{Strategy: "canary", Weights: []int{10, 20, 30, 40, 50}, Mirror: true, Ticks: 7, Promoting: []int{0}, PromotingTicks: 1}),
		Entry("maxWeight above 100: never promotes", func(cd *v1beta1.Canary) { cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = 50, 150 },
			engine.Walk{Strategy: "canary", Weights: []int{50, 100}, Ticks: 3, Promoting: []int{0}, PromotingTicks: 1}),
		Entry("A/B testing", func(cd *v1beta1.Canary) {
			a := cd.Spec.Analysis
			a.StepWeight, a.MaxWeight, a.Iterations = 0, 0, 5
			a.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}}}
		}, engine.Walk{Strategy: "ab-testing", Iterations: 5, Ticks: 6, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("blue/green", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 4
		},
			engine.Walk{Strategy: "blue-green", Iterations: 4, Ticks: 6, Promoting: []int{0}, PromotingTicks: 1, Promotes: true}),
		Entry("provider kubernetes: blue/green, 10 iterations without any", func(cd *v1beta1.Canary) { cd.Spec.Provider = "kubernetes" },
			engine.Walk{Strategy: "blue-green", Iterations: 10, Ticks: 12, PromotingTicks: 1, Promotes: true}),
	)
})
