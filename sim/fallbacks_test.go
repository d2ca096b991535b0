package sim_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// fallbackScenario is a podinfo scenario with the given analysis block and more of
// spec (hooks, world, target), run long enough to see a rollout decide.
func fallbackScenario(analysis, more string) string {
	return podinfoScenario("fallback", analysis, more+"\nuntil: 25m")
}

// fallbackRun loads a scenario, returns its warnings about field (the part after
// "field: ") and runs it in fast mode.
func fallbackRun(body, field string) (warnings []string, res *scenario.Result) {
	GinkgoHelper()
	l, err := scenario.LoadFile(writeScenario(body))
	Expect(err).NotTo(HaveOccurred())
	for _, w := range l.Warnings {
		if _, msg, ok := strings.Cut(w, " "+field+": "); ok {
			warnings = append(warnings, msg)
		}
	}
	res, err = sim.Run(context.Background(), l, sim.RunOptions{})
	Expect(err).NotTo(HaveOccurred())
	return warnings, res
}

// submatch is the first submatch of re in s; the test fails when there is none.
func submatch(re, s string) string {
	GinkgoHelper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	Expect(m).To(HaveLen(2), "%q in %q", re, s)
	return m[1]
}

// ints parses "10, 20, 30".
func ints(s string) []int {
	GinkgoHelper()
	var out []int
	for _, f := range strings.Split(s, ", ") {
		n, err := strconv.Atoi(f)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, n)
	}
	return out
}

// Every load-time warning about a value Flagger reads otherwise than written says
// what Flagger will do; the run does it. Each entry runs the warning and the engine
// on the same policy and reads the claim back from the warning's own words, so the
// two cannot drift apart: the warning comes from the engine's functions
// ((*engine.Engine).Fallbacks), the run from the engine's ticks.
var _ = Describe("a warning about a value Flagger falls back from says what the run does", func() {
	DescribeTable("analysis.interval: the warning's interval is the run's tick spacing",
		func(interval string, warned bool) {
			warnings, res := fallbackRun(fallbackScenario(`{interval: "`+interval+`", threshold: 2, maxWeight: 20, stepWeight: 10}`, ""), "spec.analysis.interval")
			want, err := time.ParseDuration(interval)
			if warned {
				Expect(warnings).To(HaveLen(1))
				want, err = time.ParseDuration(submatch(`(?:uses|every) (\S+)$`, warnings[0]))
			} else {
				Expect(warnings).To(BeEmpty())
			}
			Expect(err).NotTo(HaveOccurred())
			ticks := scenario.NewTickList(res.Ticks)
			Expect(ticks.Len()).To(BeNumerically(">", 3))
			for i := 1; i < ticks.Len(); i++ {
				Expect(ticks.At(i).At.Sub(ticks.At(i-1).At)).To(Equal(want), "tick %d", i)
			}
		},
		Entry("10sec: no Go duration (the CRD's pattern admits it)", "10sec", true),
		Entry("1m30x: no Go duration", "1m30x", true),
		Entry("9999999999999m: out of range", "9999999999999m", true),
		Entry("5s: below Flagger's shortest", "5s", true),
		Entry("500ms: below Flagger's shortest", "500ms", true),
		Entry("0s", "0s", true),
		Entry("10s: as written", "10s", false),
		Entry("90s: as written", "90s", false),
	)

	// a rollout webhook, with the endpoint's answer
	hookScenario := func(hook, reply string) string {
		return fallbackScenario(`{interval: 1m, threshold: 3, maxWeight: 20, stepWeight: 10,
            webhooks: [{name: load-test, url: "http://loadtester/", `+hook+`}]}`,
			`hooks: [{name: load-test, responses: [`+reply+`]}]`)
	}
	// the calls of the webhook: every one must have the outcome
	calls := func(res *scenario.Result) (ok, failed []string) {
		for t := range res.EachTick() {
			for _, c := range t.Hooks {
				if c.OK {
					ok = append(ok, c.Error)
				} else {
					failed = append(failed, c.Error)
				}
			}
		}
		return ok, failed
	}
	DescribeTable("a webhook's timeout and retries: the warning says what its calls do",
		func(hook, reply, field string, check func(warnings []string, ok, failed []string)) {
			warnings, res := fallbackRun(hookScenario(hook, reply), field)
			ok, failed := calls(res)
			Expect(len(ok)+len(failed)).To(BeNumerically(">", 0), "the webhook is called")
			check(warnings, ok, failed)
		},
		Entry("timeout 5sec: every call fails unsent, with the parse error the warning quotes", `timeout: 5sec`, `{from: 0s, status: 200}`, "spec.analysis.webhooks[0].timeout",
			func(warnings, ok, failed []string) {
				Expect(warnings).To(HaveLen(1))
				Expect(warnings[0]).To(ContainSubstring("fails every call"))
				Expect(ok).To(BeEmpty())
				Expect(failed).To(HaveEach(Equal(submatch(`\((time: [^)]*)\)`, warnings[0]))))
			}),
		Entry("timeout 0s: no timeout, so a 10-minute answer arrives", `timeout: 0s`, `{from: 0s, status: 200, delay: 10m}`, "spec.analysis.webhooks[0].timeout",
			func(warnings, ok, failed []string) {
				Expect(warnings).To(ConsistOf(ContainSubstring("as none")))
				Expect(failed).To(BeEmpty())
			}),
		Entry("no timeout written (the control): 10s, so a 10-minute answer times out", ``, `{from: 0s, status: 200, delay: 10m}`, "spec.analysis.webhooks[0].timeout",
			func(warnings, ok, failed []string) {
				Expect(warnings).To(BeEmpty())
				Expect(ok).To(BeEmpty())
				Expect(failed).To(HaveEach(ContainSubstring("Client.Timeout exceeded")))
			}),
		Entry("retries -2: the attempts the warning counts", `retries: -2`, `{from: 0s, status: 500}`, "spec.analysis.webhooks[0].retries",
			func(warnings, ok, failed []string) {
				Expect(warnings).To(HaveLen(1))
				n := submatch(`makes (\d+) attempt`, warnings[0])
				Expect(ok).To(BeEmpty())
				Expect(failed).To(HaveEach(HaveSuffix("giving up after " + n + " attempt(s)")))
			}),
		Entry("retries 2 (the control): three attempts, no warning", `retries: 2`, `{from: 0s, status: 500}`, "spec.analysis.webhooks[0].retries",
			func(warnings, ok, failed []string) {
				Expect(warnings).To(BeEmpty())
				Expect(failed).To(HaveEach(HaveSuffix("giving up after 3 attempt(s)")))
			}),
	)

	DescribeTable("weights: the warning's walk is the run's routes, and it says whether Flagger promotes",
		func(analysis, field string) {
			warnings, res := fallbackRun(fallbackScenario(analysis, ""), field)
			Expect(warnings).To(HaveLen(1))
			w := warnings[0]
			switch {
			case strings.Contains(w, "never moves traffic"):
				Expect(res.Routes).To(BeEmpty())
				Expect(res.Phase).To(Equal("Progressing"))
			case strings.Contains(w, "never promotes"):
				Expect(res.Routes).To(Equal(ints(submatch(`weights go ([\d, ]*\d) and stop`, w))))
				Expect(res.Phase).To(Equal("Progressing"))
			case strings.Contains(w, "never finishes"):
				var canary []int
				for _, p := range ints(submatch(`primary weight goes ([-\d, ]+), never`, w)) {
					canary = append(canary, 100-p)
				}
				i := slices.Index(res.Routes, canary[0])
				Expect(i).To(BeNumerically(">", 0), "%v", res.Routes)
				Expect(len(res.Routes)).To(BeNumerically(">=", i+len(canary)))
				Expect(res.Routes[i : i+len(canary)]).To(Equal(canary))
				Expect(res.Phase).To(Equal("Promoting"))
			default:
				walk := ints(submatch(`weights go ([\d, ]*\d)`, w))
				Expect(res.Routes).To(Equal(append(walk, 0)))
				Expect(res.Phase).To(Equal("Succeeded"))
			}
		},
		Entry("maxWeight 150: stops at 100", `{interval: 1m, threshold: 2, maxWeight: 150, stepWeight: 10}`, "spec.analysis.maxWeight"),
		Entry("maxWeight 25, stepWeight 10: steps past it to 30", `{interval: 1m, threshold: 2, maxWeight: 25, stepWeight: 10}`, "spec.analysis.maxWeight"),
		Entry("stepWeights [10, 5, 50]: stops at 10", `{interval: 1m, threshold: 2, stepWeights: [10, 5, 50]}`, "spec.analysis.stepWeights"),
		Entry("stepWeights [10, 20, 20, 50]: stops at 20", `{interval: 1m, threshold: 2, stepWeights: [10, 20, 20, 50]}`, "spec.analysis.stepWeights"),
		Entry("stepWeights [10, 50, 120]: 10, 50, 100", `{interval: 1m, threshold: 2, stepWeights: [10, 50, 120]}`, "spec.analysis.stepWeights"),
		Entry("stepWeights [20, 10]: 20, and no step to the promotion", `{interval: 1m, threshold: 2, stepWeights: [20, 10]}`, "spec.analysis.stepWeights"),
		Entry("stepWeight -10: never moves", `{interval: 1m, threshold: 2, stepWeight: -10}`, "spec.analysis.stepWeight"),
		Entry("stepWeights [0, 50]: never moves", `{interval: 1m, threshold: 2, stepWeights: [0, 50]}`, "spec.analysis.stepWeights[0]"),
		Entry("iterations -1: a canary by weights without a step", `{interval: 1m, threshold: 2, iterations: -1}`, "spec.analysis.iterations"),
		Entry("stepWeightPromotion -10: the promotion never finishes", `{interval: 1m, threshold: 2, maxWeight: 30, stepWeight: 10, stepWeightPromotion: -10}`, "spec.analysis.stepWeightPromotion"),
	)

	It("threshold 0: the run rolls back after as many failed checks as the warning says", func() {
		warnings, res := fallbackRun(fallbackScenario(`{interval: 1m, threshold: 0, maxWeight: 20, stepWeight: 10,
            metrics: [{name: request-success-rate, thresholdRange: {min: 99}}]}`,
			`world: {versions: {"podinfo:6.0.1": {errorRate: 0.5}}}`), "spec.analysis.threshold")
		Expect(warnings).To(HaveLen(1))
		n := submatch(`Flagger uses (\d+)`, warnings[0])
		Expect(res.Phase).To(Equal("Failed"))
		Expect(events(res)).To(ContainElement("Rolling back podinfo.test failed checks threshold reached " + n))
	})

	DescribeTable("metrics: the warning says which checks pass",
		func(metric, field string, want analysis.Outcome) {
			warnings, res := fallbackRun(fallbackScenario(`{interval: 1m, threshold: 3, maxWeight: 20, stepWeight: 10, metrics: [`+metric+`]}`, ""), field)
			Expect(warnings).To(HaveLen(1))
			switch w := warnings[0]; {
			case strings.Contains(w, "every value passes"):
				Expect(want).To(Equal(analysis.OutcomePass))
			case strings.Contains(w, "fails"), strings.Contains(w, "does not parse"):
				Expect(want).NotTo(Equal(analysis.OutcomePass))
			default:
				Fail("the warning says nothing of the checks: " + w)
			}
			var outcomes []analysis.Outcome
			for t := range res.EachTick() {
				for _, m := range t.Metrics {
					outcomes = append(outcomes, m.Outcome)
				}
			}
			Expect(outcomes).NotTo(BeEmpty())
			Expect(outcomes).To(HaveEach(want))
		},
		Entry("thresholdRange min 99 above max 90: every check fails", `{name: request-success-rate, thresholdRange: {min: 99, max: 90}}`,
			"spec.analysis.metrics[0].thresholdRange", analysis.OutcomeFail),
		Entry("request-duration without thresholds: a maximum of 0, every check fails", `{name: request-duration}`,
			"spec.analysis.metrics[0]", analysis.OutcomeFail),
		Entry("request-success-rate without thresholds: a minimum of 0, every check passes", `{name: request-success-rate}`,
			"spec.analysis.metrics[0]", analysis.OutcomePass),
		Entry("a builtin metric's interval 1m30x: its query does not parse, every check errs", `{name: request-success-rate, interval: 1m30x, thresholdRange: {min: 99}}`,
			"spec.analysis.metrics[0]", analysis.OutcomeError),
	)

	It("a canaryReadyThreshold the target's replicas cannot meet: no analysis ever runs", func() {
		warnings, res := fallbackRun(fallbackScenario(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, canaryReadyThreshold: 150}`,
			`target: {replicas: 2}`), "spec.analysis.canaryReadyThreshold")
		Expect(warnings).To(ConsistOf(ContainSubstring("never counts as ready")))
		need := submatch(`is (\d+): Flagger waits`, warnings[0])
		Expect(events(res)).To(ContainElement(ContainSubstring("of " + need + " (readyThreshold 150%) updated replicas are available")))
		Expect(events(res)).NotTo(ContainElement(HavePrefix("Starting canary analysis")))
		Expect(res.Phase).To(Equal("Progressing"))
	})

	It("a primaryReadyThreshold the target's replicas cannot meet: the canary never initializes", func() {
		warnings, res := fallbackRun(fallbackScenario(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, primaryReadyThreshold: 150}`,
			`target: {replicas: 2}`), "spec.analysis.primaryReadyThreshold")
		Expect(warnings).To(ConsistOf(ContainSubstring("never initializes")))
		Expect(res.Phase).To(Equal("Initializing"))
	})
})

// events are the messages of every event of a run, in order.
func events(res *scenario.Result) []string {
	var out []string
	for t := range res.EachTick() {
		for _, e := range t.Events {
			out = append(out, e.Message)
		}
	}
	return out
}
