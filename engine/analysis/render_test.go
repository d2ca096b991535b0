package analysis_test

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

var _ = Describe("RenderQuery", func() {
	kafka := `delta(max by (consumer_group) (kafka_consumer_current_offset{cluster="{{ variables.cluster }}", consumer_group="{{ variables.consumer_group }}"}[{{ interval }}]))`

	DescribeTable("renders Flagger's render_test fixtures",
		func(text string, model v1beta1.MetricTemplateModel, want string) {
			got, err := analysis.RenderQuery(text, model)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("without variables",
			`sum(envoy_cluster_upstream_rq{envoy_cluster_name=~"{{ namespace }}_{{ target }}"})`,
			v1beta1.MetricTemplateModel{Name: "standard", Namespace: "default", Target: "myapp", Interval: "1m"},
			`sum(envoy_cluster_upstream_rq{envoy_cluster_name=~"default_myapp"})`),
		Entry("with variables", kafka,
			v1beta1.MetricTemplateModel{Name: "kafka_consumer_offset", Namespace: "default", Interval: "1m",
				Variables: map[string]string{"cluster": "dev", "consumer_group": "my_consumer"}},
			`delta(max by (consumer_group) (kafka_consumer_current_offset{cluster="dev", consumer_group="my_consumer"}[1m]))`),
		Entry("every model function",
			`{{ name }}|{{ namespace }}|{{ target }}|{{ service }}|{{ ingress }}|{{ route }}|{{ interval }}`,
			v1beta1.MetricTemplateModel{Name: "n", Namespace: "ns", Target: "t", Service: "s", Ingress: "i", Route: "r", Interval: "30s"},
			`n|ns|t|s|i|r|30s`),
		Entry("an empty interval renders empty (template metrics get no default)",
			`rate(x[{{ interval }}])`, v1beta1.MetricTemplateModel{}, `rate(x[])`),
		Entry("whitespace is kept (collapsing is CollapseQuery's job)",
			"sum(\n\tx\n)", v1beta1.MetricTemplateModel{}, "sum(\n\tx\n)"),
	)

	It("fails executing a missing variables key", func() {
		_, err := analysis.RenderQuery(kafka, v1beta1.MetricTemplateModel{
			Interval: "1m", Variables: map[string]string{"invalid": "dev", "consumer_group": "my_consumer"},
		})
		Expect(err).To(MatchError(HavePrefix("template excution failed: ")))
		Expect(err.Error()).To(ContainSubstring(`map has no entry for key "cluster"`))
	})

	It("fails executing variables.KEY when there are no variables", func() {
		_, err := analysis.RenderQuery(`{{ variables.x }}`, v1beta1.MetricTemplateModel{})
		Expect(err).To(MatchError(HavePrefix("template excution failed: ")))
	})

	It("fails parsing an undefined function such as {{ primary }}", func() {
		_, err := analysis.RenderQuery(`rate(x{pod=~"{{ primary }}"}[1m])`, v1beta1.MetricTemplateModel{})
		Expect(err).To(MatchError(HavePrefix("template parsing failed: ")))
		Expect(err.Error()).To(ContainSubstring(`function "primary" not defined`))
	})

	It("fails parsing a malformed template", func() {
		_, err := analysis.RenderQuery(`{{ namespace `, v1beta1.MetricTemplateModel{})
		Expect(err).To(MatchError(HavePrefix("template parsing failed: ")))
	})
})

var _ = Describe("CollapseQuery", func() {
	DescribeTable("collapses whitespace runs like Flagger's trimQuery",
		func(in, want string) { Expect(analysis.CollapseQuery(in)).To(Equal(want)) },
		Entry("leading newline and tabs become one space, not trimmed", "\n\tsum(\n\t\tx\n\t)", " sum( x )"),
		Entry("trailing whitespace becomes one space", "x  \n", "x "),
		Entry("mixed runs", "a \t\r\n b", "a b"),
		Entry("no whitespace", "vector(1)", "vector(1)"),
		Entry("empty", "", ""),
		Entry("single spaces are kept", "sum by (pod) (x)", "sum by (pod) (x)"),
		Entry("a lone tab, form feed or carriage return becomes a space", "a\tb\fc\rd", "a b c d"),
		Entry("a vertical tab is not RE2 whitespace", "a\vb", "a\vb"),
		Entry("non-ASCII spaces are not RE2 whitespace", "a\u00a0 \u2003b", "a\u00a0 \u2003b"),
	)

	It("agrees with the regular expression \\s+ that Flagger's trimQuery uses", func() {
		re := regexp.MustCompile(`\s+`)
		pieces := []string{"a", " ", "  ", "\t", "\n", "\f", "\r", "\v", "\u00a0", "(", "x{y=\"z\"}"}
		for i := range 2000 {
			var b strings.Builder
			for j := 0; j < i%9; j++ {
				b.WriteString(pieces[(i*7+j*13)%len(pieces)])
			}
			q := b.String()
			Expect(analysis.CollapseQuery(q)).To(Equal(re.ReplaceAllString(q, " ")), "%q", q)
		}
	})
})

var _ = Describe("Model", func() {
	It("defaults service, ingress and route to the target name", func() {
		cd := canary()
		m := analysis.Model(cd, "2m", map[string]string{"k": "v"})
		Expect(m).To(Equal(v1beta1.MetricTemplateModel{
			Name: "podinfo-canary", Namespace: "default", Target: "podinfo", Service: "podinfo",
			Ingress: "podinfo", Route: "podinfo", Interval: "2m", Variables: map[string]string{"k": "v"},
		}))
	})

	It("uses service.name, ingressRef and routeRef when set", func() {
		cd := canary()
		cd.Spec.Service.Name = "svc"
		cd.Spec.IngressRef = &v1beta1.LocalObjectReference{Name: "ing"}
		cd.Spec.RouteRef = &v1beta1.LocalObjectReference{Name: "rt"}
		m := analysis.Model(cd, "", nil)
		Expect([]string{m.Service, m.Ingress, m.Route, m.Interval}).To(Equal([]string{"svc", "ing", "rt", ""}))
	})
})
