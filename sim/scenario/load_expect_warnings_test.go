package scenario_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"aviary.dev/aviary/sim/scenario"
)

// expectLine is the line of spec.expect in the scenarios writeScenario writes.
const expectLine = 15

// writeScenario writes a scenario with the given world, until ("" leaves it out) and
// expect (flow mappings on one line) to a temporary file and returns its path.
func writeScenario(world, until, expect string) string {
	GinkgoHelper()
	pol, err := filepath.Abs(filepath.Join(loadData, "policies", "podinfo-alerts.yaml"))
	Expect(err).NotTo(HaveOccurred())
	untilLine := "  # until: default"
	if until != "" {
		untilLine = "  until: " + until
	}
	text := strings.Join([]string{
		"apiVersion: aviary.dev/v1alpha1",
		"kind: Scenario",
		"metadata:",
		"  name: expect-warnings",
		"spec:",
		"  policy:",
		"    files: [" + pol + "]",
		"  target: {image: podinfo:6.0.0}",
		"  world: " + world,
		"  timeline:",
		"    - {at: 1m, image: podinfo:6.0.1}",
		untilLine,
		"  # line 13",
		"  # line 14",
		"  expect: " + expect,
		"",
	}, "\n")
	path := filepath.Join(GinkgoT().TempDir(), "scenario.yaml")
	Expect(os.WriteFile(path, []byte(text), 0o644)).To(Succeed())
	return path
}

var _ = Describe("warnings about expectations that cannot fail", func() {
	DescribeTable("are given at the field's line, saying why and what to write instead",
		func(world, until, expect, field string, fragments ...string) {
			path := writeScenario(world, until, expect)
			ld, err := scenario.LoadFile(path)
			Expect(err).NotTo(HaveOccurred())
			matchers := []types.GomegaMatcher{HavePrefix(fmt.Sprintf("%s:%d: %s: ", path, expectLine, field))}
			for _, f := range fragments {
				matchers = append(matchers, ContainSubstring(f))
			}
			Expect(ld.Warnings).To(ConsistOf(And(matchers...)))
		},
		// events and absentEvents
		Entry("events re:.", "{rps: 10}", "10m", `{phase: Failed, events: ["re:."]}`, "spec.expect.events[0]",
			`"re:." matches any message, so it cannot fail once the run emits an event`, `"re:^Rolling back"`),
		Entry("events re:.*", "{rps: 10}", "10m", `{events: ["Canary failed! Scaling down podinfo.test", "re:.*"]}`, "spec.expect.events[1]",
			`"re:.*" matches any message`),
		Entry(`events re:\S`, "{rps: 10}", "10m", `{events: ['re:\S']}`, "spec.expect.events[0]", "matches any message"),
		Entry("events re:^", "{rps: 10}", "10m", `{events: ["re:^"]}`, "spec.expect.events[0]", "matches any message"),
		Entry("events re:x* (matches the empty string everywhere)", "{rps: 10}", "10m", `{events: ["re:x*"]}`, "spec.expect.events[0]", "matches any message"),
		Entry("events re:(?s).", "{rps: 10}", "10m", `{events: ["re:(?s)."]}`, "spec.expect.events[0]", "matches any message"),
		Entry("absentEvents re:.", "{rps: 10}", "10m", `{phase: Failed, absentEvents: ["re:^Promotion completed", "re:."]}`, "spec.expect.absentEvents[1]",
			"matches any message, so it says the run emits no event at all", "Write the message that must not occur"),
		// failedRequests
		Entry("failedRequests {min: 0}", "{rps: 10}", "10m", `{failedRequests: {min: 0}}`, "spec.expect.failedRequests",
			"at least 0 failed user requests admits 0 and every reachable count, so it cannot fail",
			"the world sends at most 6000 user requests in the run (rps 10 × until 10m0s)", "such as {max: 100}"),
		Entry("failedRequests {min: 0, max: 1e9}", "{rps: 10}", "10m", `{failedRequests: {min: 0, max: 1000000000}}`, "spec.expect.failedRequests",
			"between 0 and 1000000000 failed user requests admits 0 and every reachable count"),
		Entry("failedRequests {max: 1e9}", "{rps: 10}", "10m", `{failedRequests: {max: 1000000000}}`, "spec.expect.failedRequests",
			"at most 1000000000 failed user requests admits 0 and every reachable count"),
		Entry("failedRequests max at the bound", "{rps: 10}", "10m", `{failedRequests: {max: 6000}}`, "spec.expect.failedRequests",
			"at most 6000 user requests"),
		Entry("failedRequests with the default rps and until", "{}", "", `{failedRequests: {max: 36000}}`, "spec.expect.failedRequests",
			"at most 36000 user requests in the run (rps 10 × until 1h0m0s)"),
		Entry("failedRequests with an rps fault: both versions may get it", "{rps: 10, faults: [{image: podinfo:6.0.1, rps: 50}]}", "10m",
			`{failedRequests: {max: 60000}}`, "spec.expect.failedRequests",
			"at most 60000 user requests in the run (2 versions × max(rps 10, fault rps 50) × until 10m0s)"),
		Entry("failedRequests with noise: ten standard deviations more", "{rps: 10, noise: true}", "10m",
			`{failedRequests: {max: 7000}}`, "spec.expect.failedRequests",
			"at most 6785 user requests in the run (rps 10 × until 10m0s, plus ten standard deviations of noise)"),
		Entry("failedRequests 0 in a world without traffic", "{rps: 0}", "10m", `{failedRequests: 0}`, "spec.expect.failedRequests",
			"0 failed user requests admits 0 and every reachable count", "at most 0 user requests"),
		// hookCalls
		Entry("hookCalls {min: 0}", "{rps: 10}", "10m", `{hookCalls: {pre-rollout: 1, rollout: {min: 0}}}`, "spec.expect.hookCalls.rollout",
			"{min: 0} admits every number of calls, so it cannot fail", "Give the number of calls (0 for none)"),
		// alerts
		Entry("alerts count {min: 0}", "{rps: 10}", "10m", `{alerts: {on-call: {count: {min: 0}}}}`, "spec.expect.alerts.on-call.count",
			"{min: 0} admits every number of alerts, so it cannot fail"),
		Entry("alerts messages re:.", "{rps: 10}", "10m", `{alerts: {on-call: {messages: ["re:."]}}}`, "spec.expect.alerts.on-call.messages[0]",
			`"re:." matches any message, so it cannot fail once on-call is sent an alert`),
		Entry("alerts absentMessages re:.*", "{rps: 10}", "10m", `{alerts: {on-call: {absentMessages: ["re:.*"]}}}`,
			"spec.expect.alerts.on-call.absentMessages[0]", "say that with count: 0"),
		// within
		Entry("within = until", "{rps: 10}", "10m", `{phase: Failed, within: 10m}`, "spec.expect.within",
			"10m0s is not before spec.until 10m0s", "which phase says more precisely", "earlier than until"),
		Entry("within after until", "{rps: 10}", "10m", `{within: 15m}`, "spec.expect.within", "15m0s is not before spec.until 10m0s"),
		Entry("within = the default until", "{rps: 10}", "", `{within: 1h}`, "spec.expect.within", "1h0m0s is not before spec.until 1h0m0s"),
	)

	DescribeTable("are not given for expectations that can fail",
		func(world, until, expect string) {
			ld, err := scenario.LoadFile(writeScenario(world, until, expect))
			Expect(err).NotTo(HaveOccurred())
			Expect(ld.Warnings).To(BeEmpty())
		},
		Entry("an anchored pattern", "{rps: 10}", "10m", `{events: ["re:^Promotion completed"], absentEvents: ["re:^Promotion completed"]}`),
		Entry("an unanchored word", "{rps: 10}", "10m", `{events: ["re:Halt"], absentEvents: ["re:success rate"]}`),
		Entry("exact messages, even one letter", "{rps: 10}", "10m", `{events: ["x", "Promotion completed! Scaling down podinfo.test"], absentEvents: ["."]}`),
		Entry("a pattern that matches only the empty message (it cannot hold, but it can fail)", "{rps: 10}", "10m", `{events: ["re:^$"]}`),
		Entry("a pattern for every letter but no digit", "{rps: 10}", "10m", `{events: ["re:[a-z]"]}`),
		Entry("failedRequests {max: 100}", "{rps: 10}", "10m", `{failedRequests: {max: 100}}`),
		Entry("failedRequests just under the bound", "{rps: 10}", "10m", `{failedRequests: {max: 5999}}`),
		Entry("failedRequests {min: 1}", "{rps: 10}", "10m", `{failedRequests: {min: 1}}`),
		Entry("failedRequests {min: 1, max: 1e9}", "{rps: 10}", "10m", `{failedRequests: {min: 1, max: 1000000000}}`),
		Entry("failedRequests 0", "{rps: 10}", "10m", `{failedRequests: 0}`),
		Entry("failedRequests with an rps fault, under the bound", "{rps: 10, faults: [{image: podinfo:6.0.1, rps: 50}]}", "10m",
			`{failedRequests: {max: 59999}}`),
		Entry("failedRequests with noise, above the mean", "{rps: 10, noise: true}", "10m", `{failedRequests: {max: 6500}}`),
		Entry("hookCalls 0, {min: 1}, {max: 3}", "{rps: 10}", "10m", `{hookCalls: {pre-rollout: 0, rollout: {min: 1}, post-rollout: {max: 3}}}`),
		Entry("hookCalls {min: 0, max: 3}", "{rps: 10}", "10m", `{hookCalls: {rollout: {min: 0, max: 3}}}`),
		Entry("within before until", "{rps: 10}", "10m", `{phase: Failed, within: 9m59s}`),
		Entry("alerts count 0, {min: 1}, anchored messages", "{rps: 10}", "10m",
			`{alerts: {on-call: {count: {min: 1}, messages: ["re:^Failed checks"], absentMessages: ["re:^New revision"]}}}`),
	)

	It("accepts a control that names a scenario or says why there is none", func() {
		ld, err := scenario.LoadFile(writeScenario("{rps: 10}", "10m", `{phase: Failed, control: {scenario: podinfo-healthy}}`))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Scenario.Spec.Expect.Control).To(Equal(&scenario.Control{Scenario: "podinfo-healthy"}))
		ld, err = scenario.LoadFile(writeScenario("{rps: 10}", "10m", `{phase: Failed, control: {none: "the failure is in the policy"}}`))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Scenario.Spec.Expect.Control).To(Equal(&scenario.Control{None: "the failure is in the policy"}))
		Expect(ld.Warnings).To(BeEmpty())
	})
})
