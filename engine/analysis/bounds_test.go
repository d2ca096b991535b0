package analysis_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// Kinds and Bounds describe, for load-time warnings, what Run does; these hold them
// against Run's own results.
var _ = DescribeTable("Kinds are the checks Run makes of a metric, and Bounds the bounds it records",
	func(m v1beta1.CanaryMetric) {
		c := &analysis.Checker{Source: &fakeSource{answer: constant(1)},
			Client: fakeClient(template("t", "default", "vector(1)", promProvider))}
		results, _ := c.Run(context.Background(), canary(m))
		var kinds []string
		for _, r := range results {
			kinds = append(kinds, r.Kind)
			lo, hi := analysis.Bounds(m, r.Kind)
			Expect(lo).To(Equal(r.Min), r.Kind)
			Expect(hi).To(Equal(r.Max), r.Kind)
		}
		Expect(analysis.Kinds(m)).To(Equal(kinds))
	},
	Entry("request-success-rate with a range", v1beta1.CanaryMetric{Name: "request-success-rate", ThresholdRange: tr(ptr(99), ptr(100))}),
	Entry("request-success-rate with the deprecated threshold", v1beta1.CanaryMetric{Name: "request-success-rate", Threshold: 99}),
	Entry("request-duration in whole milliseconds", v1beta1.CanaryMetric{Name: "request-duration", ThresholdRange: tr(ptr(0.5), ptr(500.7))}),
	Entry("request-duration without thresholds", v1beta1.CanaryMetric{Name: "request-duration"}),
	Entry("an inline query", v1beta1.CanaryMetric{Name: "q", Query: "vector(1)", ThresholdRange: tr(nil, ptr(2))}),
	Entry("a template", v1beta1.CanaryMetric{Name: "t", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "t"}, Threshold: 5}),
	Entry("a builtin name with a query: two checks", v1beta1.CanaryMetric{Name: "request-success-rate", Query: "vector(1)", ThresholdRange: tr(ptr(0), nil)}),
	Entry("a query and a template: two checks", v1beta1.CanaryMetric{Name: "both", Query: "vector(1)", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "t"}, Threshold: 5}),
)
