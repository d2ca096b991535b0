package analysis_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

var _ = Describe("Checker.Queries", func() {
	It("renders every query Run sends when every check passes, and those a failed check spares", func() {
		open := tr(nil, nil)
		both := v1beta1.CanaryMetric{Name: "both", Query: "sum(rate(x{app=\"{{ target }}\"}[{{ interval }}]))",
			TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "errors"}, Interval: "3m", ThresholdRange: open}
		metrics := []v1beta1.CanaryMetric{
			{Name: "request-success-rate", ThresholdRange: open},
			{Name: "request-duration", ThresholdRange: tr(nil, ptr(1e9)), Interval: "2m"},
			both,
			{Name: "missing", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "nowhere"}},
			{Name: "elsewhere", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "dd", Namespace: "other"}, ThresholdRange: open},
			{Name: "broken", Query: "{{ primary }}", ThresholdRange: open},
		}
		templates := []*v1beta1.MetricTemplate{
			template("errors", "default", "sum(rate(errors{app=\"{{ target }}\"}[{{ interval }}]))", promProvider),
			template("dd", "other", "avg:trace.errors{service:{{ target }}}", v1beta1.MetricTemplateProvider{Type: "datadog", Address: "https://api.datadoghq.com"}),
		}
		lookup := func(namespace, name string) *v1beta1.MetricTemplate {
			for _, t := range templates {
				if t.Namespace == namespace && t.Name == name {
					return t
				}
			}
			return nil
		}
		c := &analysis.Checker{}
		got := c.Queries(canary(metrics...), lookup)
		Expect(got).To(HaveLen(4))
		Expect(got[0]).To(ContainSubstring(`istio_requests_total{`))
		Expect(got[0]).To(ContainSubstring(`[1m]`), "a builtin metric without interval: the canary's default")
		Expect(got[1]).To(ContainSubstring(`istio_request_duration_milliseconds_bucket{`))
		Expect(got[1]).To(ContainSubstring(`[2m]`))
		Expect(got[2:]).To(Equal([]string{`sum(rate(x{app="podinfo"}[3m]))`, `sum(rate(errors{app="podinfo"}[3m]))`}))

		// Run sends the same queries where every check passes (the metrics up to the
		// first that cannot), and only those.
		src := &fakeSource{answer: constant(1)}
		run := &analysis.Checker{Source: src, Client: fakeClient(templates[0], templates[1])}
		_, ok := run.Run(context.Background(), canary(metrics[:3]...))
		Expect(ok).To(BeTrue())
		Expect(src.queries()).To(Equal(got))
	})

	It("has nothing to render without an analysis", func() {
		cd := canary()
		cd.Spec.Analysis = nil
		Expect((&analysis.Checker{}).Queries(cd, func(string, string) *v1beta1.MetricTemplate { return nil })).To(BeEmpty())
	})
})
