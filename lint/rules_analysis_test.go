package lint_test

import (
	. "github.com/onsi/ginkgo/v2"

	"aviary.dev/aviary/lint"
)

var _ = DescribeTable("threshold-never-bites",
	func(analysis string, want ...finding) {
		expectFindings(policyFindings("threshold-never-bites", analysis+builtins), "threshold-never-bites", want...)
	},
	Entry("Flagger's tutorial: threshold 5, five weights: a canary failing every other check is promoted (info)",
		"    interval: 1m\n    threshold: 5\n    stepWeight: 10\n    maxWeight: 50\n",
		finding{lint.Info, 14, "spec.analysis.threshold", []string{
			"threshold 5 with 5 analysis checks to promotion (stepWeight 10 to maxWeight 50)",
			"rolls back only on the tick after the 5th failed check", "promotes after 5 passing ones",
			"fails every other check is promoted (up to 4 failed checks out of 9)"}}),
	Entry("threshold 10 with three weights (20, 40, 60: the overshoot): more failures than passes promoted (warning)",
		"    interval: 1m\n    threshold: 10\n    stepWeight: 20\n    maxWeight: 50\n",
		finding{lint.Warning, 14, "spec.analysis.threshold", []string{
			"threshold 10 with 3 analysis checks", "fails more checks than it passes is promoted (up to 9 failed checks out of 12)"}}),
	Entry("stepWeights",
		"    interval: 1m\n    threshold: 4\n    stepWeights: [5, 50]\n",
		finding{lint.Warning, 14, "spec.analysis.threshold", []string{"threshold 4 with 2 analysis checks to promotion (stepWeights 5, 50)", "(up to 3 failed checks out of 5)"}}),
	Entry("mirror: one more check",
		"    interval: 1m\n    threshold: 3\n    stepWeight: 50\n    mirror: true\n",
		finding{lint.Info, 14, "spec.analysis.threshold", []string{"threshold 3 with 3 analysis checks to promotion (stepWeight 50 to maxWeight 100, after a mirrored check)"}}),
	Entry("blue/green: iterations + 1",
		"    interval: 1m\n    threshold: 5\n    iterations: 3\n",
		finding{lint.Info, 14, "spec.analysis.threshold", []string{"threshold 5 with 4 analysis checks to promotion (blue/green, 3 iterations"}}),
	Entry("A/B testing: its iterations",
		"    interval: 1m\n    threshold: 10\n    iterations: 10\n    match: [{headers: {x-canary: {exact: insider}}}]\n",
		finding{lint.Info, 14, "spec.analysis.threshold", []string{"threshold 10 with 10 analysis checks to promotion (A/B testing, 10 iterations)"}}),
	Entry("one step to 100: one check to promotion",
		"    interval: 1m\n    threshold: 2\n    stepWeight: 100\n",
		finding{lint.Info, 14, "spec.analysis.threshold", []string{"threshold 2 with 1 analysis check to promotion", "promotes after 1 passing one", "(up to 1 failed check out of 2)"}}),
	Entry("not: threshold 1, which rolls back at the first failed check", "    interval: 1m\n    threshold: 1\n    stepWeight: 100\n"),
	Entry("not: threshold below the checks to promotion", "    interval: 1m\n    threshold: 4\n    stepWeight: 10\n    maxWeight: 50\n"),
	Entry("not: threshold 2 of 4 iterations", "    interval: 1m\n    threshold: 2\n    iterations: 4\n"),
	Entry("not: weights that never promote (the loader warns)", "    interval: 1m\n    threshold: 5\n    stepWeights: [20, 10]\n"),
)

var _ = DescribeTable("threshold-side",
	func(metrics string, want ...finding) {
		expectFindings(policyFindings("threshold-side", "    interval: 1m\n    threshold: 2\n    stepWeight: 50\n    metrics:\n"+metrics), "threshold-side", want...)
	},
	Entry("max on the success rate", "      - {name: request-success-rate, thresholdRange: {max: 99}}\n",
		finding{lint.Error, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{
			"max 99 on request-success-rate", "fails a canary whose success rate is above 99%", "passes one answering every request with a 5xx"}}),
	Entry("min and a max below 100 on the success rate", "      - {name: request-success-rate, thresholdRange: {min: 90, max: 99}}\n",
		finding{lint.Error, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{"max 99 on request-success-rate", "a healthy one serving no 5xx included (100%)"}}),
	Entry("min on the duration", "      - {name: request-duration, thresholdRange: {min: 500}}\n",
		finding{lint.Error, 17, "spec.analysis.metrics[0].thresholdRange", []string{"min 500 on request-duration", "fails a canary faster than 500 ms"}}),
	Entry("min 0 and no max on the duration", "      - {name: request-duration, thresholdRange: {min: 0}}\n",
		finding{lint.Error, 17, "spec.analysis.metrics[0].thresholdRange", []string{"request-duration has no thresholdRange.max", "a canary of any latency passes"}}),
	Entry("an empty range on the success rate", "      - name: request-success-rate\n        thresholdRange: {}\n",
		finding{lint.Error, 18, "spec.analysis.metrics[0].thresholdRange", []string{"no thresholdRange.min", "passes (0% success)"}}),
	Entry("not: min on the success rate, max on the duration",
		"      - {name: request-success-rate, thresholdRange: {min: 99, max: 100}}\n      - {name: request-duration, thresholdRange: {min: 0, max: 500}}\n"),
	Entry("not: the deprecated threshold (a minimum for the success rate, a maximum for the duration)",
		"      - {name: request-success-rate, threshold: 99}\n      - {name: request-duration, threshold: 500}\n"),
	Entry("not: a custom metric's max", "      - {name: error-rate, query: 'vector(1)', thresholdRange: {max: 1}}\n"),
	Entry("not: min above max, which the loader reports", "      - {name: request-success-rate, thresholdRange: {min: 99, max: 90}}\n"),
)

const histogramTemplate = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: latency, namespace: test}
spec:
  provider: {type: prometheus, address: http://prometheus:9090}
  query: |
    histogram_quantile(0.99, sum(rate(http_server_request_duration_seconds_bucket{pod=~"{{ target }}-[0-9a-z]+-[0-9a-z]+"}[{{ interval }}])) by (le))
`

var _ = DescribeTable("latency-units",
	func(metrics string, want ...finding) {
		expectFindings(policyFindings("latency-units", "    interval: 1m\n    threshold: 2\n    stepWeight: 50\n    metrics:\n"+metrics, histogramTemplate), "latency-units", want...)
	},
	Entry("request-duration max 0.5: 0 ms", "      - {name: request-duration, thresholdRange: {max: 0.5}}\n",
		finding{lint.Error, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{
			"request-duration max 0.5 is in milliseconds (Flagger's istio query returns the P99 in milliseconds)", "0 ms, so every check"}}),
	Entry("request-duration max 2", "      - {name: request-duration, thresholdRange: {max: 2}}\n",
		finding{lint.Warning, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{"request-duration max 2 is in milliseconds", "unless its P99 stays under 3 ms"}}),
	Entry("request-duration max 2 with provider kubernetes, whose query returns seconds",
		"      - {name: request-duration, thresholdRange: {max: 2}}\n  provider: kubernetes\n",
		finding{lint.Warning, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{
			"request-duration max 2 is in milliseconds (Flagger's http query returns seconds, which Flagger turns into milliseconds)"}}),
	Entry("the deprecated threshold 1", "      - {name: request-duration, threshold: 1}\n",
		finding{lint.Warning, 17, "spec.analysis.metrics[0].threshold", []string{"request-duration max 1 is in milliseconds"}}),
	Entry("a template over a seconds histogram with max 500", "      - {name: p99, templateRef: {name: latency}, interval: 1m, thresholdRange: {max: 500}}\n",
		finding{lint.Warning, 17, "spec.analysis.metrics[0].thresholdRange.max", []string{
			"MetricTemplate latency's query is a quantile of a histogram in seconds, and max 500 s is 8m20s: any latency passes"}}),
	Entry("an inline query over a milliseconds histogram with max 0.5",
		"      - name: p99\n        interval: 1m\n        thresholdRange: {max: 0.5}\n        query: histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket[1m])) by (le))\n",
		finding{lint.Warning, 19, "spec.analysis.metrics[0].thresholdRange.max", []string{
			`metric "p99"'s query is a quantile of a histogram in milliseconds, and max 0.5 ms is under a millisecond: every check fails`}}),
	Entry("not: request-duration max 500 (ms)", "      - {name: request-duration, thresholdRange: {max: 500}}\n"),
	Entry("not: the seconds template with max 0.5", "      - {name: p99, templateRef: {name: latency}, interval: 1m, thresholdRange: {max: 0.5}}\n"),
	Entry("not: a seconds histogram scaled to milliseconds, max 500",
		"      - name: p99\n        interval: 1m\n        thresholdRange: {max: 500}\n        query: histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[1m])) by (le)) * 1000\n"),
	Entry("not: a ratio of seconds-histogram counts (Traefik's 404 share)",
		"      - name: not-found\n        interval: 1m\n        thresholdRange: {max: 500}\n        query: sum(rate(traefik_service_request_duration_seconds_bucket{code=\"404\"}[1m])) / sum(rate(traefik_service_request_duration_seconds_bucket[1m])) * 100\n"),
)

// slowDeployment is the target, its pods ready 90 s after they start at the soonest
// (and available 10 s later).
const slowDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: test}
spec:
  replicas: 2
  minReadySeconds: 10
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec:
      containers:
        - name: podinfo
          image: podinfo:6.0.0
          ports: [{name: http, containerPort: 9898}]
          readinessProbe:
            httpGet: {path: /readyz, port: 9898}
            initialDelaySeconds: 90
`

var _ = DescribeTable("progress-deadline-short",
	func(analysis string, want ...finding) {
		expectFindings(policyFindings("progress-deadline-short", analysis, slowDeployment), "progress-deadline-short", want...)
	},
	Entry("a 60 s deadline, ticks every 30 s: the tick at 90 s finds the canary unavailable past it",
		"    interval: 30s\n    threshold: 2\n    stepWeight: 50\n"+builtins+"  progressDeadlineSeconds: 60\n",
		finding{lint.Warning, 19, "spec.progressDeadlineSeconds", []string{
			"progressDeadlineSeconds 60, but Deployment podinfo's new pods need at least 100s to become available",
			"the tick 90s after the canary is scaled up", "every release is rolled back"}}),
	Entry("not: the same deadline with one-minute ticks: the pods are available by the tick after it (120 s)",
		"    interval: 1m\n    threshold: 2\n    stepWeight: 50\n"+builtins+"  progressDeadlineSeconds: 60\n"),
	Entry("not: the default deadline (600 s)", "    interval: 30s\n    threshold: 2\n    stepWeight: 50\n"+builtins),
)

var _ = It("progress-deadline-short needs the target: without it in the files it says nothing", func() {
	expectFindings(policyFindings("progress-deadline-short", "    interval: 10s\n    threshold: 2\n    stepWeight: 50\n"+builtins+"  progressDeadlineSeconds: 1\n"), "progress-deadline-short")
})

var _ = DescribeTable("mirror-ignored",
	func(analysis string, want ...finding) {
		expectFindings(policyFindings("mirror-ignored", analysis+builtins+"  provider: traefik\n"), "mirror-ignored", want...)
	},
	Entry("Traefik, the canary strategy: never advances",
		"    interval: 1m\n    threshold: 2\n    stepWeight: 10\n    mirror: true\n",
		finding{lint.Error, 16, "spec.analysis.mirror", []string{
			"Flagger's Traefik router writes no mirror and never reports one", `every tick takes the mirror step again ("Advance podinfo.test canary weight 0")`, "never promoted"}}),
	Entry("Traefik, blue/green: runs without the mirror",
		"    interval: 1m\n    threshold: 2\n    iterations: 5\n    mirror: true\n",
		finding{lint.Info, 16, "spec.analysis.mirror", []string{"analysis.mirror is ignored: the iterations run with all live traffic on the primary"}}),
	Entry("not: Traefik without mirror", "    interval: 1m\n    threshold: 2\n    stepWeight: 10\n"),
)

var _ = It("mirror-ignored leaves Istio's mirror alone and names A/B testing's routes", func() {
	expectFindings(policyFindings("mirror-ignored", "    interval: 1m\n    threshold: 2\n    stepWeight: 10\n    mirror: true\n"+builtins), "mirror-ignored")
	expectFindings(policyFindings("mirror-ignored", "    interval: 1m\n    threshold: 2\n    iterations: 5\n    mirror: true\n    match: [{headers: {x-canary: {exact: insider}}}]\n"+builtins),
		"mirror-ignored", finding{lint.Info, 16, "spec.analysis.mirror", []string{
			"A/B testing's routes carry no mirror: analysis.mirror is ignored: the requests the match selects go to the canary"}})
})
