package analysis_test

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

var (
	successRate = func(threshold float64, r *v1beta1.CanaryThresholdRange) v1beta1.CanaryMetric {
		return v1beta1.CanaryMetric{Name: "request-success-rate", Threshold: threshold, ThresholdRange: r}
	}
	duration = func(threshold float64, r *v1beta1.CanaryThresholdRange) v1beta1.CanaryMetric {
		return v1beta1.CanaryMetric{Name: "request-duration", Threshold: threshold, ThresholdRange: r}
	}
	inline = func(threshold float64, r *v1beta1.CanaryThresholdRange) v1beta1.CanaryMetric {
		return v1beta1.CanaryMetric{Name: "error-rate", Query: "sum(errors)", Threshold: threshold, ThresholdRange: r}
	}
	templated = func(threshold float64, r *v1beta1.CanaryThresholdRange) v1beta1.CanaryMetric {
		return v1beta1.CanaryMetric{Name: "error-rate", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "errors"},
			Threshold: threshold, ThresholdRange: r}
	}
)

// runOne checks a single metric against a source answering v; the fake cluster
// holds the MetricTemplate default/errors.
func runOne(m v1beta1.CanaryMetric, answer func(string) (float64, error)) analysis.Result {
	GinkgoHelper()
	c := &analysis.Checker{
		Source: &fakeSource{answer: answer},
		Client: fakeClient(template("errors", "default", "sum(errors)", promProvider)),
	}
	results, ok := c.Run(context.Background(), canary(m))
	Expect(results).To(HaveLen(1))
	Expect(ok).To(Equal(results[0].Outcome == analysis.OutcomePass))
	return results[0]
}

var _ = Describe("Checker thresholds (docs/flagger-semantics.md#outcomes-and-thresholds)", func() {
	type want struct {
		outcome  analysis.Outcome
		message  string
		min, max *float64
		value    float64
	}
	pass := func(value float64, min, max *float64) want {
		return want{outcome: analysis.OutcomePass, min: min, max: max, value: value}
	}
	fail := func(value float64, min, max *float64, message string) want {
		return want{outcome: analysis.OutcomeFail, message: message, min: min, max: max, value: value}
	}

	DescribeTable("outcomes",
		func(m v1beta1.CanaryMetric, v float64, w want) {
			r := runOne(m, constant(v))
			Expect(r.Outcome).To(Equal(w.outcome))
			Expect(r.Message).To(Equal(w.message))
			if w.outcome == analysis.OutcomePass {
				Expect(r.EventType).To(BeEmpty())
			} else {
				Expect(r.EventType).To(Equal("Warning"))
			}
			Expect(r.Value).To(HaveValue(Equal(w.value)))
			if w.min == nil {
				Expect(r.Min).To(BeNil())
			} else {
				Expect(r.Min).To(HaveValue(Equal(*w.min)))
			}
			if w.max == nil {
				Expect(r.Max).To(BeNil())
			} else {
				Expect(r.Max).To(HaveValue(Equal(*w.max)))
			}
		},
		// request-success-rate, deprecated threshold = minimum, strict.
		Entry("sr threshold: equal passes", successRate(99, nil), 99.0, pass(99, ptr(99), nil)),
		Entry("sr threshold: below fails", successRate(99, nil), 98.99, fail(98.99, ptr(99), nil,
			"Halt podinfo-canary.default advancement success rate 98.99% < 99%")),
		Entry("sr threshold: 0 always passes", successRate(0, nil), 0.0, pass(0, ptr(0), nil)),
		Entry("sr threshold: fractional threshold printed with %v", successRate(99.5, nil), 99.25, fail(99.25, ptr(99.5), nil,
			"Halt podinfo-canary.default advancement success rate 99.25% < 99.5%")),
		// request-success-rate, inclusive range.
		Entry("sr range: min boundary passes", successRate(0, tr(ptr(99), ptr(100))), 99.0, pass(99, ptr(99), ptr(100))),
		Entry("sr range: max boundary passes", successRate(0, tr(ptr(99), ptr(100))), 100.0, pass(100, ptr(99), ptr(100))),
		Entry("sr range: below min fails (%.2f rounds up)", successRate(0, tr(ptr(99), ptr(100))), 98.999, fail(98.999, ptr(99), ptr(100),
			"Halt podinfo-canary.default advancement success rate 99.00% < 99%")),
		Entry("sr range: above max fails", successRate(0, tr(ptr(99), ptr(100))), 100.5, fail(100.5, ptr(99), ptr(100),
			"Halt podinfo-canary.default advancement success rate 100.50% > 100%")),
		Entry("sr range wins over threshold", successRate(99, tr(nil, nil)), 10.0, pass(10, nil, nil)),
		Entry("sr range: max only", successRate(0, tr(nil, ptr(50))), 50.5, fail(50.5, nil, ptr(50),
			"Halt podinfo-canary.default advancement success rate 50.50% > 50%")),

		// request-duration, deprecated threshold = maximum in ms.
		Entry("rd threshold: equal passes", duration(500, nil), 500.0, pass(500, nil, ptr(500))),
		Entry("rd threshold: above fails", duration(500, nil), 501.0, fail(501, nil, ptr(500),
			"Halt podinfo-canary.default advancement request duration 501ms > 500ms")),
		Entry("rd threshold: value truncated to whole ms passes", duration(500, nil), 500.9, pass(500, nil, ptr(500))),
		Entry("rd threshold: Go duration formatting", duration(500, nil), 1515.0, fail(1515, nil, ptr(500),
			"Halt podinfo-canary.default advancement request duration 1.515s > 500ms")),
		Entry("rd no threshold: any positive latency fails", duration(0, nil), 1.0, fail(1, nil, ptr(0),
			"Halt podinfo-canary.default advancement request duration 1ms > 0s")),
		Entry("rd no threshold: sub-ms latency truncates to 0 and passes", duration(0, nil), 0.9, pass(0, nil, ptr(0))),
		Entry("rd threshold: fractional threshold truncated", duration(499.9, nil), 499.5, pass(499, nil, ptr(499))),
		Entry("rd threshold: truncated threshold in the message", duration(499.9, nil), 500.0, fail(500, nil, ptr(499),
			"Halt podinfo-canary.default advancement request duration 500ms > 499ms")),
		// request-duration, inclusive range in ms, bounds truncated.
		Entry("rd range: max boundary passes", duration(0, tr(nil, ptr(500))), 500.0, pass(500, nil, ptr(500))),
		Entry("rd range: above max fails", duration(0, tr(nil, ptr(500))), 501.0, fail(501, nil, ptr(500),
			"Halt podinfo-canary.default advancement request duration 501ms > 500ms")),
		Entry("rd range: max truncated to 499ms", duration(0, tr(nil, ptr(499.9))), 500.0, fail(500, nil, ptr(499),
			"Halt podinfo-canary.default advancement request duration 500ms > 499ms")),
		Entry("rd range: min boundary passes", duration(0, tr(ptr(10), ptr(500))), 10.0, pass(10, ptr(10), ptr(500))),
		Entry("rd range: below min fails", duration(0, tr(ptr(10), ptr(500))), 9.0, fail(9, ptr(10), ptr(500),
			"Halt podinfo-canary.default advancement request duration 9ms < 10ms")),
		Entry("rd range wins over threshold", duration(1, tr(nil, nil)), 900.0, pass(900, nil, nil)),

		// inline query, deprecated threshold = maximum.
		Entry("query threshold: equal passes", inline(5, nil), 5.0, pass(5, nil, ptr(5))),
		Entry("query threshold: above fails", inline(5, nil), 5.01, fail(5.01, nil, ptr(5),
			"Halt podinfo-canary.default advancement error-rate 5.01 > 5")),
		Entry("query no threshold: positive fails", inline(0, nil), 0.001, fail(0.001, nil, ptr(0),
			"Halt podinfo-canary.default advancement error-rate 0.00 > 0")),
		Entry("query no threshold: zero passes", inline(0, nil), 0.0, pass(0, nil, ptr(0))),
		Entry("query no threshold: negative passes", inline(0, nil), -1.0, pass(-1, nil, ptr(0))),
		Entry("query range: min boundary passes", inline(0, tr(ptr(1), ptr(2))), 1.0, pass(1, ptr(1), ptr(2))),
		Entry("query range: max boundary passes", inline(0, tr(ptr(1), ptr(2))), 2.0, pass(2, ptr(1), ptr(2))),
		Entry("query range: below min fails", inline(0, tr(ptr(1), ptr(2))), 0.5, fail(0.5, ptr(1), ptr(2),
			"Halt podinfo-canary.default advancement error-rate 0.50 < 1")),
		Entry("query range: above max fails", inline(0, tr(ptr(1), ptr(2))), 2.5, fail(2.5, ptr(1), ptr(2),
			"Halt podinfo-canary.default advancement error-rate 2.50 > 2")),
		Entry("query range wins over threshold", inline(1, tr(nil, nil)), 7.0, pass(7, nil, nil)),

		// template, same rules as inline queries.
		Entry("template threshold: equal passes", templated(5, nil), 5.0, pass(5, nil, ptr(5))),
		Entry("template threshold: above fails", templated(5, nil), 6.0, fail(6, nil, ptr(5),
			"Halt podinfo-canary.default advancement error-rate 6.00 > 5")),
		Entry("template no threshold: positive fails", templated(0, nil), 0.5, fail(0.5, nil, ptr(0),
			"Halt podinfo-canary.default advancement error-rate 0.50 > 0")),
		Entry("template range: max boundary passes", templated(0, tr(ptr(0), ptr(100))), 100.0, pass(100, ptr(0), ptr(100))),
		Entry("template range: below min fails", templated(0, tr(ptr(0), ptr(100))), -0.5, fail(-0.5, ptr(0), ptr(100),
			"Halt podinfo-canary.default advancement error-rate -0.50 < 0")),
		Entry("template range: above max fails", templated(0, tr(ptr(0), ptr(100))), 100.001, fail(100.001, ptr(0), ptr(100),
			"Halt podinfo-canary.default advancement error-rate 100.00 > 100")),
	)

	It("converts HTTP-observer durations from seconds", func() {
		cd := canary(duration(100, nil))
		cd.Spec.Provider = "kubernetes"
		c := &analysis.Checker{Source: &fakeSource{answer: constant(0.1015)}}
		results, ok := c.Run(context.Background(), cd)
		Expect(ok).To(BeFalse())
		Expect(results[0].Value).To(HaveValue(Equal(101.0)))
		Expect(results[0].Message).To(Equal("Halt podinfo-canary.default advancement request duration 101ms > 100ms"))
	})
})

var _ = Describe("Checker no data and errors", func() {
	boom := errors.New("boom")

	DescribeTable("results and Flagger's messages",
		func(m v1beta1.CanaryMetric, provider string, answer func(string) (float64, error), outcome analysis.Outcome, isNaN bool, message string) {
			cd := canary(m)
			cd.Spec.Provider = provider
			c := &analysis.Checker{
				Source: &fakeSource{answer: answer},
				Client: fakeClient(template("errors", "default", "sum(errors)", promProvider)),
			}
			results, ok := c.Run(context.Background(), cd)
			Expect(ok).To(BeFalse())
			Expect(results).To(HaveLen(1))
			Expect(results[0].Outcome).To(Equal(outcome))
			Expect(results[0].NaN).To(Equal(isNaN))
			Expect(results[0].Value).To(BeNil())
			Expect(results[0].EventType).To(Equal("Warning"))
			Expect(results[0].Message).To(Equal(message))
		},
		Entry("success rate, no values", successRate(99, nil), "", noValues, analysis.OutcomeNoData, false,
			"Halt advancement no values found for istio metric request-success-rate probably podinfo.default is not receiving traffic: running query failed: no values found"),
		Entry("success rate, NaN", successRate(99, nil), "", nan, analysis.OutcomeNoData, true,
			"Halt advancement no values found for istio metric request-success-rate probably podinfo.default is not receiving traffic: running query failed: no values found"),
		Entry("success rate, query error", successRate(99, nil), "", failing(boom), analysis.OutcomeError, false,
			"Prometheus query failed: running query failed: boom"),
		Entry("success rate, multiple values", successRate(99, nil), "", failing(analysis.ErrMultipleValuesReturned), analysis.OutcomeError, false,
			"Prometheus query failed: running query failed: query returned multiple values"),
		Entry("success rate, HTTP observer does not wrap (no values)", successRate(99, nil), "kubernetes", noValues, analysis.OutcomeNoData, false,
			"Halt advancement no values found for kubernetes metric request-success-rate probably podinfo.default is not receiving traffic: no values found"),
		Entry("success rate, HTTP observer does not wrap (error)", successRate(99, nil), "kubernetes", failing(boom), analysis.OutcomeError, false,
			"Prometheus query failed: boom"),
		Entry("duration, no values (no error text)", duration(500, nil), "", noValues, analysis.OutcomeNoData, false,
			"Halt advancement no values found for istio metric request-duration probably podinfo.default is not receiving traffic"),
		Entry("duration, NaN", duration(500, nil), "linkerd", nan, analysis.OutcomeNoData, true,
			"Halt advancement no values found for linkerd metric request-duration probably podinfo.default is not receiving traffic"),
		Entry("duration, HTTP observer wraps", duration(500, nil), "gatewayapi:v1", failing(boom), analysis.OutcomeError, false,
			"Prometheus query failed: running query failed: boom"),
		Entry("inline query, no values", inline(5, nil), "", noValues, analysis.OutcomeNoData, false,
			"Halt advancement no values found for metric: error-rate"),
		Entry("inline query, NaN", inline(5, nil), "", nan, analysis.OutcomeNoData, true,
			"Halt advancement no values found for metric: error-rate"),
		Entry("inline query, error", inline(5, nil), "", failing(boom), analysis.OutcomeError, false,
			"Prometheus query failed for error-rate: boom"),
		Entry("template, no values", templated(5, nil), "", noValues, analysis.OutcomeNoData, false,
			"Halt advancement no values found for custom metric: error-rate: no values found"),
		Entry("template, NaN", templated(5, nil), "", nan, analysis.OutcomeNoData, true,
			"Halt advancement no values found for custom metric: error-rate: no values found"),
		Entry("template, error", templated(5, nil), "", failing(boom), analysis.OutcomeError, false,
			"Metric query failed for error-rate: boom"),
	)

	It("names the provider with :service for Service targets", func() {
		cd := canary(successRate(99, nil))
		cd.Spec.TargetRef.Kind = "Service"
		c := &analysis.Checker{Source: &fakeSource{answer: noValues}}
		results, _ := c.Run(context.Background(), cd)
		Expect(results[0].Message).To(HavePrefix("Halt advancement no values found for istio:service metric request-success-rate"))
	})

	It("uses the global mesh provider when the canary has none", func() {
		cd := canary(successRate(99, nil))
		src := &fakeSource{answer: noValues}
		c := &analysis.Checker{Source: src, MeshProvider: "linkerd"}
		results, _ := c.Run(context.Background(), cd)
		Expect(results[0].Message).To(HavePrefix("Halt advancement no values found for linkerd metric"))
		Expect(src.calls[0].Query).To(ContainSubstring("response_total{"))
	})

	It("sends the empty query when an inline query does not render (render error discarded)", func() {
		src := &fakeSource{answer: failing(boom)}
		c := &analysis.Checker{Source: src}
		results, ok := c.Run(context.Background(), canary(v1beta1.CanaryMetric{Name: "q", Query: `sum(x{pod="{{ primary }}"})`}))
		Expect(ok).To(BeFalse())
		Expect(src.queries()).To(Equal([]string{""}))
		Expect(results[0].Query).To(BeEmpty())
		Expect(results[0].Message).To(Equal("Prometheus query failed for q: boom"))
	})

	It("fails a metric with neither templateRef nor query", func() {
		src := &fakeSource{answer: constant(1)}
		c := &analysis.Checker{Source: src}
		results, ok := c.Run(context.Background(), canary(v1beta1.CanaryMetric{Name: "mystery", Threshold: 1}))
		Expect(ok).To(BeFalse())
		Expect(src.calls).To(BeEmpty())
		Expect(results).To(Equal([]analysis.Result{{
			Name: "mystery", Kind: "template", Outcome: analysis.OutcomeError, EventType: "Warning",
			Message: "Metric query failed for no usable metrics template and query were configured",
		}}))
	})

	It("fails every analysis when spec.metricsServer is not a URL, before any metric", func() {
		cd := canary(templated(5, nil))
		cd.Spec.MetricsServer = "http://[::1"
		src := &fakeSource{answer: constant(1)}
		c := &analysis.Checker{Source: src, Client: fakeClient(template("errors", "default", "q", promProvider))}
		results, ok := c.Run(context.Background(), cd)
		Expect(ok).To(BeFalse())
		Expect(src.calls).To(BeEmpty())
		Expect(results).To(HaveLen(1))
		Expect(results[0].Outcome).To(Equal(analysis.OutcomeError))
		Expect(results[0].Message).To(Equal("Error building Prometheus client for http://[::1 prometheus address http://[::1 is not a valid URL"))
	})
})

var _ = Describe("Checker templates", func() {
	secretProvider := v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prom:9090",
		SecretRef: &corev1.LocalObjectReference{Name: "prom-auth"}}
	secret := func(data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "prom-auth", Namespace: "default"}, Data: data}
	}
	run := func(m v1beta1.CanaryMetric, src analysis.MetricSource, objs ...*corev1.Secret) ([]analysis.Result, bool) {
		GinkgoHelper()
		cl := fakeClient(
			template("errors", "default", `sum(rate(errors{ns="{{ namespace }}", app="{{ target }}"}[{{ interval }}]))`, promProvider),
			template("auth", "default", "sum(x)", secretProvider),
			template("bad-addr", "default", "sum(x)", v1beta1.MetricTemplateProvider{Type: "prometheus"}),
			template("unknown-type", "default", "sum(x)", v1beta1.MetricTemplateProvider{Type: "mystery"}),
			template("datadog", "default", "avg:x{*}", v1beta1.MetricTemplateProvider{Type: "datadog"}),
			template("vars", "default", `x{cluster="{{ variables.cluster }}"}`, promProvider),
			template("shared", "istio-system", "\n  sum(\n\tshared\n  )\n", promProvider),
		)
		for _, s := range objs {
			Expect(cl.Create(context.Background(), s)).To(Succeed())
		}
		return (&analysis.Checker{Source: src, Client: cl}).Run(context.Background(), canary(m))
	}
	ref := func(name, ns string) *v1beta1.CrossNamespaceObjectReference {
		return &v1beta1.CrossNamespaceObjectReference{Name: name, Namespace: ns}
	}

	It("renders with no interval default and queries the template's provider", func() {
		src := &fakeSource{answer: constant(0)}
		results, ok := run(v1beta1.CanaryMetric{Name: "errors", TemplateRef: ref("errors", "")}, src)
		Expect(ok).To(BeTrue())
		Expect(src.calls).To(Equal([]sourceCall{{Provider: promProvider, Query: `sum(rate(errors{ns="default", app="podinfo"}[]))`}}))
		Expect(results[0].Query).To(Equal(`sum(rate(errors{ns="default", app="podinfo"}[]))`))
		Expect(results[0].Kind).To(Equal("template"))
	})

	It("renders the metric's own interval and variables", func() {
		src := &fakeSource{answer: constant(0)}
		_, ok := run(v1beta1.CanaryMetric{Name: "errors", Interval: "5m", TemplateRef: ref("errors", "")}, src)
		Expect(ok).To(BeTrue())
		Expect(src.queries()).To(Equal([]string{`sum(rate(errors{ns="default", app="podinfo"}[5m]))`}))

		src = &fakeSource{answer: constant(0)}
		_, ok = run(v1beta1.CanaryMetric{Name: "v", TemplateRef: ref("vars", ""), TemplateVariables: map[string]string{"cluster": "eu"}}, src)
		Expect(ok).To(BeTrue())
		Expect(src.queries()).To(Equal([]string{`x{cluster="eu"}`}))
	})

	It("reads a template from another namespace and collapses its query", func() {
		src := &fakeSource{answer: constant(0)}
		_, ok := run(v1beta1.CanaryMetric{Name: "s", TemplateRef: ref("shared", "istio-system")}, src)
		Expect(ok).To(BeTrue())
		Expect(src.queries()).To(Equal([]string{" sum( shared ) "}))
	})

	DescribeTable("setup errors",
		func(m v1beta1.CanaryMetric, secrets []*corev1.Secret, message string) {
			src := &fakeSource{answer: constant(0)}
			results, ok := run(m, src, secrets...)
			Expect(ok).To(BeFalse())
			Expect(src.calls).To(BeEmpty())
			Expect(results).To(HaveLen(1))
			Expect(results[0].Outcome).To(Equal(analysis.OutcomeError))
			Expect(results[0].EventType).To(Equal("Warning"))
			Expect(results[0].Message).To(MatchRegexp("^" + message + "$"))
		},
		Entry("template not found (Flagger's lister text)", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("missing", "")}, nil,
			`Metric template missing\.default error: metrictemplate\.flagger\.app "missing" not found`),
		Entry("template not found in its namespace", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("errors", "other")}, nil,
			`Metric template errors\.other error: metrictemplate\.flagger\.app "errors" not found`),
		Entry("secret not found", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("auth", "")}, nil,
			`Metric template auth\.default secret prom-auth error: secrets "prom-auth" not found`),
		Entry("secret without username", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("auth", "")},
			[]*corev1.Secret{secret(map[string][]byte{"password": []byte("p")})},
			`Metric template auth\.default provider prometheus error: prometheus credentials does not contain a username`),
		Entry("secret without password", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("auth", "")},
			[]*corev1.Secret{secret(map[string][]byte{"username": []byte("u")})},
			`Metric template auth\.default provider prometheus error: prometheus credentials does not contain a password`),
		Entry("empty address", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("bad-addr", "")}, nil,
			`Metric template bad-addr\.default provider prometheus error: prometheus address  is not a valid URL`),
		Entry("unknown provider type is handled as prometheus", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("unknown-type", "")}, nil,
			`Metric template unknown-type\.default provider mystery error: mystery address  is not a valid URL`),
		Entry("render error", v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("vars", "")}, nil,
			`Metric template vars\.default query render error: template excution failed: .*map has no entry for key "cluster"`),
	)

	It("passes the secret's data to a CredentialedSource", func() {
		src := &credSource{fakeSource{answer: constant(0)}}
		data := map[string][]byte{"token": []byte("t0k")}
		_, ok := run(v1beta1.CanaryMetric{Name: "m", TemplateRef: ref("auth", "")}, src, secret(data))
		Expect(ok).To(BeTrue())
		Expect(src.calls).To(Equal([]sourceCall{{Provider: secretProvider, Credentials: data, Query: "sum(x)"}}))
	})

	It("leaves non-Prometheus providers to the source", func() {
		src := &fakeSource{answer: failing(errors.New("datadog is not supported"))}
		results, ok := run(v1beta1.CanaryMetric{Name: "dd", TemplateRef: ref("datadog", "")}, src)
		Expect(ok).To(BeFalse())
		Expect(src.calls[0].Provider.Type).To(Equal("datadog"))
		Expect(results[0].Message).To(Equal("Metric query failed for dd: datadog is not supported"))
	})
})

var _ = Describe("Checker order and short-circuit", func() {
	// Spec order: template A, success rate, inline B, duration, C with query and template.
	metrics := func() []v1beta1.CanaryMetric {
		return []v1beta1.CanaryMetric{
			{Name: "a", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "a"}, Threshold: 100},
			{Name: "request-success-rate", Threshold: 99},
			{Name: "b", Query: "b_query", Threshold: 100},
			{Name: "request-duration", Threshold: 500},
			{Name: "c", Query: "c_inline", TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "c"}, Threshold: 100},
		}
	}
	objs := func() *analysis.Checker {
		return &analysis.Checker{Client: fakeClient(
			template("a", "default", "a_template", promProvider),
			template("c", "default", "c_template", promProvider),
		)}
	}
	answers := map[string]float64{"a_template": 1, "istio_requests_total": 100, "b_query": 1,
		"istio_request_duration": 10, "c_inline": 1, "c_template": 1}

	It("runs builtin and inline checks first, then templates, each pass in spec order", func() {
		c := objs()
		src := &fakeSource{answer: byQuery(answers)}
		c.Source = src
		results, ok := c.Run(context.Background(), canary(metrics()...))
		Expect(ok).To(BeTrue())
		var names, kinds []string
		for _, r := range results {
			names = append(names, r.Name)
			kinds = append(kinds, r.Kind)
			Expect(r.Outcome).To(Equal(analysis.OutcomePass))
		}
		Expect(names).To(Equal([]string{"request-success-rate", "b", "request-duration", "c", "a", "c"}))
		Expect(kinds).To(Equal([]string{"request-success-rate", "query", "request-duration", "query", "template", "template"}))
		Expect(src.queries()).To(HaveLen(6))
		Expect(src.queries()[1]).To(Equal("b_query"))
		Expect(src.queries()[4:]).To(Equal([]string{"a_template", "c_template"}))
	})

	It("stops at the first failure of the builtin pass", func() {
		c := objs()
		a := map[string]float64{}
		for k, v := range answers {
			a[k] = v
		}
		a["b_query"] = 101
		src := &fakeSource{answer: byQuery(a)}
		c.Source = src
		results, ok := c.Run(context.Background(), canary(metrics()...))
		Expect(ok).To(BeFalse())
		Expect(results).To(HaveLen(2))
		Expect(results[1].Name).To(Equal("b"))
		Expect(results[1].Outcome).To(Equal(analysis.OutcomeFail))
		Expect(src.calls).To(HaveLen(2))
	})

	It("stops at the first failure of the template pass", func() {
		c := objs()
		a := map[string]float64{}
		for k, v := range answers {
			a[k] = v
		}
		a["a_template"] = 101
		src := &fakeSource{answer: byQuery(a)}
		c.Source = src
		results, ok := c.Run(context.Background(), canary(metrics()...))
		Expect(ok).To(BeFalse())
		Expect(results).To(HaveLen(5))
		Expect(results[4].Name).To(Equal("a"))
		Expect(results[4].Outcome).To(Equal(analysis.OutcomeFail))
		Expect(src.queries()).NotTo(ContainElement("c_template"))
	})

	It("passes with no analysis or no metrics", func() {
		c := &analysis.Checker{Source: &fakeSource{answer: failing(errors.New("unused"))}}
		results, ok := c.Run(context.Background(), canary())
		Expect(ok).To(BeTrue())
		Expect(results).To(BeEmpty())
		cd := canary()
		cd.Spec.Analysis = nil
		results, ok = c.Run(context.Background(), cd)
		Expect(ok).To(BeTrue())
		Expect(results).To(BeEmpty())
	})

	It("sends builtin and inline queries to the metrics server, with Flagger's defaults", func() {
		src := &fakeSource{answer: byQuery(answers)}
		c := &analysis.Checker{Source: src}
		cd := canary(v1beta1.CanaryMetric{Name: "request-success-rate", Threshold: 99},
			v1beta1.CanaryMetric{Name: "b", Query: "b_query{i='{{ interval }}'}", Threshold: 100},
			v1beta1.CanaryMetric{Name: "b", Interval: "30s", Query: "b_query{i='{{ interval }}'}", Threshold: 100})
		_, ok := c.Run(context.Background(), cd)
		Expect(ok).To(BeTrue())
		def := v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus:9090"}
		Expect(src.calls).To(Equal([]sourceCall{
			{Provider: def, Query: ` sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="default", destination_workload=~"podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="default", destination_workload=~"podinfo" }[1m] ) ) * 100`},
			{Provider: def, Query: "b_query{i='1m'}"},
			{Provider: def, Query: "b_query{i='30s'}"},
		}))

		src.calls = nil
		c.MetricsServer = "http://global:9090"
		_, _ = c.Run(context.Background(), cd)
		Expect(src.calls[0].Provider.Address).To(Equal("http://global:9090"))

		src.calls = nil
		cd.Spec.MetricsServer = "http://canary:9090"
		_, _ = c.Run(context.Background(), cd)
		Expect(src.calls[0].Provider.Address).To(Equal("http://canary:9090"))
		Expect(src.calls[1].Provider.Address).To(Equal("http://canary:9090"))
	})

	It("runs both the builtin query and the inline query of a builtin-named metric", func() {
		// The same value 100 passes the builtin check (threshold 99 is a minimum)
		// and fails the inline one (threshold 99 is a maximum there).
		src := &fakeSource{answer: byQuery(map[string]float64{"istio_requests_total": 100, "extra": 100})}
		c := &analysis.Checker{Source: src}
		results, ok := c.Run(context.Background(), canary(v1beta1.CanaryMetric{Name: "request-success-rate", Threshold: 99, Query: "extra"}))
		Expect(ok).To(BeFalse())
		Expect(results).To(HaveLen(2))
		Expect(results[0].Outcome).To(Equal(analysis.OutcomePass))
		Expect(results[1].Kind).To(Equal("query"))
		Expect(results[1].Message).To(Equal("Halt podinfo-canary.default advancement request-success-rate 100.00 > 99"))
	})
})

var _ = Describe("CheckProviders", func() {
	ref := func(name, ns string) *v1beta1.CrossNamespaceObjectReference {
		return &v1beta1.CrossNamespaceObjectReference{Name: name, Namespace: ns}
	}
	checker := func(answer func(string) (float64, error)) (*analysis.Checker, *fakeSource) {
		src := &fakeSource{answer: answer}
		return &analysis.Checker{Source: src, Client: fakeClient(
			template("ok", "default", "q", promProvider),
			template("dd", "default", "q", v1beta1.MetricTemplateProvider{Type: "datadog"}),
		)}, src
	}

	It("probes the metrics server with vector(1) for builtin metrics", func() {
		c, src := checker(constant(1))
		Expect(c.CheckProviders(context.Background(), canary(successRate(99, nil), duration(500, nil)))).To(Succeed())
		Expect(src.calls).To(Equal([]sourceCall{
			{Provider: v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus:9090"}, Query: "vector(1)"},
			{Provider: v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus:9090"}, Query: "vector(1)"},
		}))
	})

	It("reports a metrics server that does not answer 1", func() {
		c, _ := checker(constant(0))
		Expect(c.CheckProviders(context.Background(), canary(successRate(99, nil)))).
			To(MatchError("prometheus not avaiable: value is not 1 for query: vector(1)"))
	})

	It("reports an unreachable metrics server", func() {
		c, _ := checker(failing(errors.New("connection refused")))
		Expect(c.CheckProviders(context.Background(), canary(duration(500, nil)))).
			To(MatchError("prometheus not avaiable: running query failed: connection refused"))
	})

	It("uses spec.metricsServer", func() {
		c, src := checker(constant(1))
		cd := canary(successRate(99, nil))
		cd.Spec.MetricsServer = "http://canary:9090"
		Expect(c.CheckProviders(context.Background(), cd)).To(Succeed())
		Expect(src.calls[0].Provider.Address).To(Equal("http://canary:9090"))
	})

	It("probes Prometheus template providers", func() {
		c, src := checker(constant(1))
		Expect(c.CheckProviders(context.Background(), canary(templated(0, nil), v1beta1.CanaryMetric{Name: "x", TemplateRef: ref("ok", "default")}))).
			To(MatchError(`metric template errors.default error: metrictemplate.flagger.app "errors" not found`))
		Expect(src.calls).To(BeEmpty())

		Expect(c.CheckProviders(context.Background(), canary(v1beta1.CanaryMetric{Name: "x", TemplateRef: ref("ok", "")}))).To(Succeed())
		Expect(src.calls).To(Equal([]sourceCall{{Provider: promProvider, Query: "vector(1)"}}))
	})

	It("reports an offline template provider", func() {
		c, _ := checker(failing(errors.New("down")))
		Expect(c.CheckProviders(context.Background(), canary(v1beta1.CanaryMetric{Name: "x", TemplateRef: ref("ok", "")}))).
			To(MatchError("prometheus in metric template ok.default not avaiable: running query failed: down"))
	})

	It("does not probe other provider types nor inline queries", func() {
		c, src := checker(failing(errors.New("down")))
		Expect(c.CheckProviders(context.Background(), canary(
			v1beta1.CanaryMetric{Name: "x", TemplateRef: ref("dd", "")},
			v1beta1.CanaryMetric{Name: "q", Query: "sum(x)"},
		))).To(Succeed())
		Expect(src.calls).To(BeEmpty())
	})
})
