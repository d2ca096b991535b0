package lint_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
)

// Selectors of the canary's pods as Flagger's own queries write them, and of the
// primary's.
const (
	canaryPods  = `namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`
	primaryPods = `namespace="{{ namespace }}", pod=~"{{ target }}-primary-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`
)

// queryCase is one query rule's case: a template query (metric interval 1m unless
// given), the metric's thresholdRange, and the findings of the rule expected, each
// with its severity.
type queryCase struct {
	query, interval, threshold string
	scrape                     time.Duration
	want                       []lint.Severity
	contains                   string
}

func runQueryCase(rule string, c queryCase) {
	GinkgoHelper()
	if c.interval == "" {
		c.interval = "1m"
	}
	if c.threshold == "" {
		c.threshold = "{max: 1}"
	}
	r := lintFiles(lint.Config{ScrapeInterval: c.scrape}, policyWith(c.query, c.interval, c.threshold))
	found := ofRule(r, rule)
	var got []lint.Severity
	for _, f := range found {
		got = append(got, f.Severity)
		Expect(f.File).NotTo(BeEmpty())
		Expect(f.Line).To(BeNumerically(">", 0))
		Expect(f.Fix).NotTo(BeEmpty())
		if c.contains != "" {
			Expect(f.Message + " fix: " + f.Fix).To(ContainSubstring(c.contains))
		}
	}
	Expect(got).To(Equal(c.want), "findings of %s: %v", rule, found)
}

var (
	one     = []lint.Severity{lint.Warning}
	oneInfo = []lint.Severity{lint.Info}
	oneErr  = []lint.Severity{lint.Error}
)

var _ = DescribeTable("nan-division",
	func(c queryCase) { runQueryCase("nan-division", c) },
	Entry("a ratio of two counters: the denominator's rate is 0 when idle", queryCase{
		query: `sum(rate(legacy_reads_total{` + canaryPods + `}[{{ interval }}])) / sum(rate(reads_total{` + canaryPods + `}[{{ interval }}]))`,
		want:  one, contains: "0/0 is NaN"}),
	Entry("an increase in the denominator", queryCase{
		query: `sum(increase(a_total[1m])) / sum(increase(b_total[1m]))`, want: one}),
	Entry("the denominator filtered (> 0)", queryCase{
		query: `sum(rate(a_total[1m])) / (sum(rate(b_total[1m])) > 0)`}),
	Entry("the denominator clamped above 0", queryCase{
		query: `sum(rate(a_total[1m])) / clamp_min(sum(rate(b_total[1m])), 1)`}),
	Entry("a filter that keeps 0 (>= 0) does not filter", queryCase{
		query: `sum(rate(a_total[1m])) / (sum(rate(b_total[1m])) >= 0)`, want: one}),
	Entry("a denominator of requests: 0 only without traffic, as Flagger's builtins", queryCase{
		query: `sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))`}),
	Entry("a gauge denominator is not judged", queryCase{
		query: `sum(queue_depth) / sum(queue_capacity)`}),
	Entry("a denominator over the primary only is info", queryCase{
		query: `sum(rate(reads_total{` + canaryPods + `}[1m])) / sum(rate(reads_total{` + primaryPods + `}[1m]))`, want: oneInfo,
		contains: "primary's events only"}),
	Entry("under an `or` fallback it is false-nan-guard's", queryCase{
		query: `(sum(rate(a_total[1m])) / sum(rate(b_total[1m]))) or on() vector(0)`}),
)

var _ = DescribeTable("false-nan-guard",
	func(c queryCase) { runQueryCase("false-nan-guard", c) },
	Entry("`or on() vector(0)` around an unfiltered division (user-profile-nan-division)", queryCase{
		query: `sum(rate(legacy_reads_total{` + canaryPods + `}[{{ interval }}])) / sum(rate(reads_total{` + canaryPods + `}[{{ interval }}])) or on() vector(0)`,
		want:  one, contains: "NaN sample, not an absent one"}),
	Entry("the guarded query (user-profile-nan-guarded)", queryCase{
		query: `(sum(rate(legacy_reads_total{` + canaryPods + `}[{{ interval }}])) / (sum(rate(reads_total{` + canaryPods + `}[{{ interval }}])) > 0)) or on() vector(0)`}),
	Entry("a division without a fallback is nan-division's", queryCase{
		query: `sum(rate(a_total[1m])) / sum(rate(b_total[1m]))`}),
	Entry("an `or` whose division is on its right is no guard of it", queryCase{
		query: `vector(1) or on() (sum(rate(a_total[1m])) / sum(rate(b_total[1m])))`}),
	Entry("in a query that does not render, found with {{ primary }} read as the primary's name (stateful-canary-as-written)", queryCase{
		query: `(sum(rate(reads_total{pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m])) / sum(rate(reads_total{pod=~"^{{ primary }}.*"}[1m]))) or on() vector(0)`,
		want:  oneInfo, contains: `{{ primary }} read as "podinfo-primary"`}),
	Entry("a query that does not render for another reason is not judged", queryCase{
		query: `({{ .missing }} sum(rate(a_total[1m])) / sum(rate(b_total[1m]))) or on() vector(0)`}),
)

var _ = DescribeTable("rate-window",
	func(c queryCase) { runQueryCase("rate-window", c) },
	Entry("[{{ interval }}] with interval 15s at a 15s scrape: no two samples", queryCase{
		query: `sum(rate(a_total[{{ interval }}]))`, interval: "15s", want: oneErr, contains: "fewer than the two samples"}),
	Entry("interval 20s at 15s: under 2×", queryCase{
		query: `sum(irate(a_total[{{ interval }}]))`, interval: "20s", want: oneErr}),
	Entry("interval 30s at 15s: under 4×", queryCase{
		query: `sum(increase(a_total[{{ interval }}]))`, interval: "30s", want: one, contains: "one missed or late scrape"}),
	Entry("interval 1m at 15s", queryCase{query: `sum(rate(a_total[{{ interval }}]))`}),
	Entry("a literal [1m] in a template at 15s", queryCase{query: `sum(rate(a_total[1m]))`, interval: "15s"}),
	Entry("a literal [20s] in a template", queryCase{query: `sum(rate(a_total[20s]))`, want: oneErr}),
	Entry("[1m] at a 30s scrape (--scrape-interval 30s)", queryCase{
		query: `sum(rate(a_total[1m]))`, scrape: 30 * time.Second, want: one, contains: "30s scrape interval"}),
	Entry("[30s] at a 5s scrape", queryCase{query: `sum(rate(a_total[30s]))`, scrape: 5 * time.Second}),
	Entry("avg_over_time is not a counter rate", queryCase{query: `avg_over_time(a[15s])`}),
)

var _ = DescribeTable("selector-matches-primary",
	func(c queryCase) { runQueryCase("selector-matches-primary", c) },
	Entry(`pod=~"^{{ target }}.*" (stateful-canary-selector-bug)`, queryCase{
		query: `sum(rate(a_total{pod=~"^{{ target }}.*"}[1m]))`, want: oneErr, contains: "podinfo-primary-"}),
	Entry(`destination_workload=~"{{ target }}.*"`, queryCase{
		query: `sum(rate(istio_requests_total{destination_workload=~"{{ target }}.*"}[1m]))`, want: oneErr, contains: "workload (podinfo-primary)"}),
	Entry(`a Traefik service regex without -canary`, queryCase{
		query: `sum(rate(traefik_service_requests_total{service=~"{{ namespace }}-{{ target }}-.*@kubernetescrd"}[1m]))`, want: oneErr}),
	Entry("Flagger's own pod pattern", queryCase{query: `sum(rate(a_total{` + canaryPods + `}[1m]))`}),
	Entry(`destination_workload="{{ target }}"`, queryCase{query: `sum(rate(istio_requests_total{destination_workload="{{ target }}"}[1m]))`}),
	Entry("the primary's own selector", queryCase{query: `sum(rate(a_total{` + primaryPods + `}[1m]))`}),
	Entry("a matcher that matches any workload is no canary selector", queryCase{query: `sum(rate(a_total{pod=~".+"}[1m]))`}),
	Entry("the tutorial's Traefik canary service", queryCase{
		query: `sum(rate(traefik_service_requests_total{service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd"}[1m]))`}),
)

var _ = DescribeTable("complement-ratio",
	func(c queryCase) { runQueryCase("complement-ratio", c) },
	Entry(`code!="404" over all requests with max 5 (traefik-tutorial-404-query)`, queryCase{
		query:     `sum(rate(traefik_service_requests_total{code!="404"}[1m])) / sum(rate(traefik_service_requests_total[1m])) * 100`,
		threshold: "{max: 5}", want: oneErr, contains: `{code="404"} instead of {code!="404"}`}),
	Entry(`code="404" over all requests with max 5 (the tutorial's meaning)`, queryCase{
		query:     `sum(rate(traefik_service_requests_total{code="404"}[1m])) / sum(rate(traefik_service_requests_total[1m])) * 100`,
		threshold: "{max: 5}"}),
	Entry(`5xx over all with min 99: reads 0 on a healthy service`, queryCase{
		query:     `100 * sum(rate(istio_requests_total{response_code=~"5.."}[1m])) / sum(rate(istio_requests_total[1m]))`,
		threshold: "{min: 99}", want: oneErr, contains: "below thresholdRange.min 99"}),
	Entry(`non-4xx-or-5xx over all with min 99.5 (production-canary-ab-client-errors)`, queryCase{
		query:     `sum(rate(istio_requests_total{response_code!~"[45].."}[1m])) / sum(rate(istio_requests_total[1m])) * 100`,
		threshold: "{min: 99.5}", want: one, contains: "reads 99 against thresholdRange.min 99.5"}),
	Entry(`non-5xx over all with min 99 (Flagger's success rate)`, queryCase{
		query:     `sum(rate(istio_requests_total{response_code!~"5.."}[1m])) / sum(rate(istio_requests_total[1m])) * 100`,
		threshold: "{min: 99}"}),
	Entry(`4xx left out of both sides`, queryCase{
		query:     `sum(rate(istio_requests_total{response_code!~"[45].."}[1m])) / sum(rate(istio_requests_total{response_code!~"4.."}[1m])) * 100`,
		threshold: "{min: 99}"}),
	Entry(`a ratio of two metrics is not judged`, queryCase{
		query:     `sum(rate(a_total{code!="404"}[1m])) / sum(rate(b_total[1m])) * 100`,
		threshold: "{max: 5}"}),
)

var _ = DescribeTable("series-absent",
	func(c queryCase) { runQueryCase("series-absent", c) },
	Entry("an error counter with no fallback (stateful-canary-uninitialized-counter)", queryCase{
		query: `sum(rate(user_profile_schema_write_errors_total{` + canaryPods + `}[1m]))`, want: oneInfo, contains: "no values found"}),
	Entry("a failures counter in a ratio", queryCase{
		query: `sum(rate(jobs_failed_total[1m])) / (sum(rate(jobs_total[1m])) > 0)`, want: oneInfo}),
	Entry("with `or on() vector(0)`", queryCase{
		query: `sum(rate(user_profile_schema_write_errors_total[1m])) or on() vector(0)`}),
	Entry("with absent()", queryCase{
		query: `sum(rate(app_errors_total[1m])) + on() group_left absent(app_errors_total) - 1`}),
	Entry("a request counter", queryCase{query: `sum(rate(http_requests_total[1m]))`}),
)

var _ = DescribeTable("series-absent: only error status codes",
	func(c queryCase) { runQueryCase("series-absent", c) },
	Entry(`5xx only over all requests (Flagger #1365)`, queryCase{
		query: `sum(rate(istio_requests_total{response_code=~"5.."}[1m])) / sum(rate(istio_requests_total[1m])) * 100`,
		want:  oneInfo, contains: `{response_code=~"5.."} keeps only error responses`}),
	Entry(`the tutorial's code="404" numerator`, queryCase{
		query: `sum(rate(traefik_service_requests_total{code="404"}[1m])) / sum(rate(traefik_service_requests_total[1m])) * 100`,
		want:  oneInfo}),
	Entry(`non-5xx over all requests`, queryCase{
		query: `sum(rate(istio_requests_total{response_code!~"5.."}[1m])) / sum(rate(istio_requests_total[1m])) * 100`}),
	Entry(`5xx with a fallback`, queryCase{
		query: `(sum(rate(istio_requests_total{response_code=~"5.."}[1m])) or on() vector(0)) / sum(rate(istio_requests_total[1m]))`}),
)

var _ = DescribeTable("quantile-without-le",
	func(c queryCase) { runQueryCase("quantile-without-le", c) },
	Entry("sum without by (le) (podinfo-quantile-without-le)", queryCase{
		query: `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{destination_workload="{{ target }}"}[1m])))`,
		want:  oneErr, contains: "drops le"}),
	Entry("sum by (pod), le left out", queryCase{
		query: `histogram_quantile(0.99, sum by (pod) (rate(http_request_duration_seconds_bucket[1m])))`, want: oneErr}),
	Entry("without (le)", queryCase{
		query: `histogram_quantile(0.99, sum without (le) (rate(http_request_duration_seconds_bucket[1m])))`, want: oneErr}),
	Entry("sum by (le), as Flagger's builtin", queryCase{
		query: `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{destination_workload="{{ target }}"}[1m])) by (le))`}),
	Entry("without (pod) keeps le", queryCase{
		query: `histogram_quantile(0.99, sum without (pod) (rate(http_request_duration_seconds_bucket[1m])))`}),
	Entry("a native histogram needs no le", queryCase{
		query: `histogram_quantile(0.99, sum(rate(http_request_duration_seconds[1m])))`}),
)
