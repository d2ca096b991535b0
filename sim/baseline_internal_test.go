package sim

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

var _ = ginkgo.Describe("the primary's view of a Canary, for baselines", func() {
	canary := func(mod func(*v1beta1.Canary)) *v1beta1.Canary {
		cd := &v1beta1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: v1beta1.CanarySpec{TargetRef: v1beta1.LocalObjectReference{Kind: "Deployment", Name: "podinfo"}}}
		cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Metrics: []v1beta1.CanaryMetric{
			{Name: "request-success-rate", ThresholdRange: &v1beta1.CanaryThresholdRange{Min: ptrTo(99.0)}},
			{Name: "errors", Interval: "2m", Query: "sum(x)", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "errors"},
				TemplateVariables: map[string]string{"deployment": "podinfo"}},
		}}
		if mod != nil {
			mod(cd)
		}
		return cd
	}

	ginkgo.DescribeTable("renders with target <target>-primary and every other variable as for the canary",
		func(cd *v1beta1.Canary) {
			for _, m := range cd.Spec.Analysis.Metrics {
				want := analysis.Model(cd, m.Interval, m.TemplateVariables)
				want.Target = "podinfo-primary"
				v, err := primaryView(cd, m, analysis.KindTemplate)
				Expect(err).NotTo(HaveOccurred())
				Expect(analysis.Model(v, m.Interval, m.TemplateVariables)).To(Equal(want))
				Expect(v.Spec.TargetRef.Kind).To(Equal("Deployment"), "the metrics provider depends on it")
			}
		},
		ginkgo.Entry("defaults: service, ingress and route are the target's name, and stay podinfo", canary(nil)),
		ginkgo.Entry("named service, ingress and route", canary(func(cd *v1beta1.Canary) {
			cd.Spec.Service.Name = "web-svc"
			cd.Spec.IngressRef = &v1beta1.LocalObjectReference{Name: "web-ingress"}
			cd.Spec.RouteRef = &v1beta1.LocalObjectReference{Name: "web-route"}
		})),
	)

	ginkgo.It("keeps one metric, without thresholds, with only the part that makes the check's kind", func() {
		cd := canary(nil)
		v, err := primaryView(cd, cd.Spec.Analysis.Metrics[1], analysis.KindTemplate)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Spec.Analysis.Metrics).To(HaveLen(1))
		m := v.Spec.Analysis.Metrics[0]
		Expect(m.Query).To(BeEmpty())
		Expect(m.TemplateRef.Name).To(Equal("errors"))
		Expect(*m.ThresholdRange).To(Equal(v1beta1.CanaryThresholdRange{}))
		v, err = primaryView(cd, cd.Spec.Analysis.Metrics[1], analysis.KindQuery)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Spec.Analysis.Metrics[0].TemplateRef).To(BeNil())
		Expect(v.Spec.Analysis.Metrics[0].Query).To(Equal("sum(x)"))
		Expect(cd.Spec.Analysis.Metrics).To(HaveLen(2), "the canary is not changed")
		Expect(cd.Spec.Analysis.Metrics[0].ThresholdRange.Min).NotTo(BeNil())
	})

	ginkgo.It("turns the canary's Service as Flagger's Traefik queries name it into the primary's", func() {
		s := &primarySource{src: constSource(1)}
		s.retarget("podinfo")
		_, err := s.Query(context.Background(), v1beta1.MetricTemplateProvider{}, `x{service=~"test-podinfo-primary-canary-[0-9a-zA-Z-]+@kubernetescrd"}`)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.sent).To(Equal(`x{service=~"test-podinfo-primary-[0-9a-zA-Z-]+@kubernetescrd"}`))
	})
})

func ptrTo[T any](v T) *T { return &v }

type constSource float64

func (c constSource) Query(_ context.Context, _ v1beta1.MetricTemplateProvider, _ string) (float64, error) {
	return float64(c), nil
}
