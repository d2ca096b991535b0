package main

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("a MetricTemplate whose PromQL does not parse", func() {
	const (
		scenario = "testdata/warn/unparseable-query.yaml"
		policy   = "testdata/warn/policies/unparseable.yaml"
	)

	It("is a warning on stderr naming the file, the line and the template, and the run passes", func() {
		res := invokeCLI("test", scenario)
		Expect(res.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		Expect(res.stderr).To(HavePrefix("warning: unparseable-query: "))
		// line 37 of the policy file is the MetricTemplate's `query:`
		Expect(res.stderr).To(ContainSubstring(policy + ":37: "))
		Expect(res.stderr).To(ContainSubstring(`MetricTemplate error-rate (metric "error-rate" of Canary podinfo)`))
		Expect(res.stderr).To(ContainSubstring("query does not parse"))
		Expect(res.stderr).To(ContainSubstring("unclosed left parenthesis"))
		Expect(res.stderr).To(ContainSubstring("Flagger would fail this check at run time"))
		Expect(strings.Count(res.stderr, "\n")).To(Equal(1), "one warning, once")
		Expect(res.stdout).To(MatchRegexp(`(?m)^unparseable-query\s+PASS\s+Failed\s+7m0s\s+10\s+0\s+rolled back: error-rate error ×3$`))
		Expect(res.stdout).To(HaveSuffix("\n1 passed, 0 failed\n"))
	})

	It("is not raised for a policy whose queries parse", func() {
		res := invokeCLI("test", filepath.Join(scenarioDir, "podinfo-500-burst.yaml"))
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stderr).To(BeEmpty())
	})

	It("fails the check at every analysis tick with Flagger's event, then rolls back", func() {
		res := invokeCLI("run", scenario)
		Expect(res.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		// aviary run prints the load warning on stderr before the run, like aviary test.
		Expect(res.stderr).To(MatchRegexp(`(?m)^warning: unparseable-query: ` + policy + `:37: MetricTemplate error-rate .*query does not parse`))

		ticks := parseTicks(res.stdout)
		// Flagger 1.44: "Metric query failed for %s: %v" around the Prometheus provider's
		// "error response: Status %d %s: <body>" (docs/flagger-semantics.md#prometheus-results).
		const queryFailed = "event Warning Metric query failed for error-rate: error response: Status 400 Bad Request: "
		checked := 0
		for _, t := range ticks {
			var metricLines []string
			for _, l := range t.lines {
				if strings.HasPrefix(l, "pass") || strings.HasPrefix(l, "fail") || strings.HasPrefix(l, "error") || strings.HasPrefix(l, "nodata") {
					metricLines = append(metricLines, l)
				}
			}
			if len(metricLines) == 0 {
				continue
			}
			checked++
			Expect(metricLines).To(ConsistOf(MatchRegexp(`^error\s+error-rate\s`)), "at %s the check errors", t.at)
			Expect(t.lines).To(ContainElement(SatisfyAll(
				HavePrefix(queryFailed),
				ContainSubstring(`bad_data`),
				ContainSubstring("unclosed left parenthesis"),
			)), "at %s", t.at)
			Expect(t.failedChecks).To(Equal(checked), "failedChecks counts every errored tick at %s", t.at)
			Expect(t.canary).To(Equal(10), "the weight never advances past the first step")
		}
		Expect(checked).To(Equal(3), "three analysis ticks, threshold 3")
		Expect(strings.Count(res.stdout, queryFailed)).To(Equal(3))

		rollback := tickAt(ticks, "07:00")
		Expect(rollback.phase).To(Equal("Progressing -> Failed"))
		Expect([2]int{rollback.primary, rollback.canary}).To(Equal([2]int{100, 0}))
		Expect(rollback.lines).To(ContainElement("event Warning Rolling back podinfo.test failed checks threshold reached 3"))
		Expect(res.stdout).NotTo(ContainSubstring("FAIL"))
	})
})
