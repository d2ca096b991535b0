package scenario_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/scenario"
)

func expCount(v int64) *int64 { return &v }
func expInt(v int) *int       { return &v }

func expOffset(d time.Duration) *scenario.Offset { o := scenario.Offset(d); return &o }

// checkedResult is a run record with events and hook calls spread over ticks.
func checkedResult() *scenario.Result {
	at := func(d time.Duration) time.Time { return scenario.Epoch.Add(d) }
	return &scenario.Result{
		Phase:     "Failed",
		DecidedAt: expOffset(9 * time.Minute),
		Until:     scenario.Offset(30 * time.Minute),
		Routes:    []int{10, 20, 0},
		Ticks: ticksOf(
			engine.TickRecord{At: at(0), Phase: "Initialized", Events: []engine.Event{
				{Type: "Normal", Message: "Initialization done! podinfo.test"},
			}},
			engine.TickRecord{At: at(time.Minute), Phase: "Progressing",
				Events: []engine.Event{{Type: "Normal", Message: "New revision detected! Scaling up podinfo.test"}},
				Hooks:  []hooks.Call{{Name: "gate", Type: "confirm-rollout", OK: true}, {Name: "smoke", Type: "pre-rollout", OK: true}},
			},
			engine.TickRecord{At: at(2 * time.Minute), Phase: "Progressing",
				Events: []engine.Event{
					{Type: "Normal", Message: "Starting canary analysis for podinfo.test"},
					{Type: "Normal", Message: "Advance podinfo.test canary weight 10"},
				},
				Hooks: []hooks.Call{{Name: "load", Type: "", OK: true}},
			},
			engine.TickRecord{At: at(3 * time.Minute), Phase: "Progressing",
				Events: []engine.Event{{Type: "Normal", Message: "Advance podinfo.test canary weight 20"}},
				Hooks:  []hooks.Call{{Name: "load", Type: "rollout", OK: true}},
			},
			engine.TickRecord{At: at(4 * time.Minute), Phase: "Progressing",
				Events: []engine.Event{{Type: "Warning", Message: "Halt podinfo.test advancement success rate 69.85% < 99%"}},
				Hooks:  []hooks.Call{{Name: "load", Type: "rollout", OK: false, Error: "boom"}},
			},
			engine.TickRecord{At: at(5 * time.Minute), Phase: "Progressing",
				Events: []engine.Event{{Type: "Warning", Message: "Halt podinfo.test advancement success rate 70.10% < 99%"}},
			},
			engine.TickRecord{At: at(9 * time.Minute), Phase: "Failed",
				Events: []engine.Event{
					{Type: "Warning", Message: "Rolling back podinfo.test failed checks threshold reached 2"},
					{Type: "Warning", Message: "Canary failed! Scaling down podinfo.test"},
				},
				Hooks: []hooks.Call{{Name: "notify", Type: "post-rollout", OK: true}},
			},
		),
		MaxCanaryWeight:    20,
		FailedUserRequests: 1214,
	}
}

var _ = Describe("Check", func() {
	DescribeTable("checks one expectation",
		func(exp scenario.Expectations, name string, ok bool, expected, observed string) {
			res := scenario.Check(&exp, checkedResult())
			Expect(res).To(HaveLen(1))
			Expect(res[0].Name).To(Equal(name))
			Expect(res[0].OK).To(Equal(ok))
			Expect(res[0].Expected).To(Equal(expected))
			Expect(res[0].Observed).To(Equal(observed))
		},
		Entry("phase holds", scenario.Expectations{Phase: "Failed"}, "phase", true, "Failed", "Failed"),
		Entry("phase fails", scenario.Expectations{Phase: "Succeeded"}, "phase", false, "Succeeded", "Failed"),
		Entry("within holds", scenario.Expectations{Within: scenario.Duration{Duration: 9 * time.Minute}}, "within", true,
			"Succeeded or Failed by 9m0s", "Failed at 9m0s"),
		Entry("within fails when decided later", scenario.Expectations{Within: scenario.Duration{Duration: 8 * time.Minute}}, "within", false,
			"Succeeded or Failed by 8m0s", "Failed at 9m0s"),
		Entry("routes hold", scenario.Expectations{Routes: []int{10, 20, 0}}, "routes", true, "[10, 20, 0]", "[10, 20, 0]"),
		Entry("routes fail on a different list", scenario.Expectations{Routes: []int{10, 20, 30, 0}}, "routes", false,
			"[10, 20, 30, 0]", "[10, 20, 0]"),
		Entry("routes fail on a prefix", scenario.Expectations{Routes: []int{10, 20}}, "routes", false, "[10, 20]", "[10, 20, 0]"),
		Entry("maxCanaryWeight holds", scenario.Expectations{MaxCanaryWeight: expInt(20)}, "maxCanaryWeight", true, "20", "20"),
		Entry("maxCanaryWeight fails", scenario.Expectations{MaxCanaryWeight: expInt(30)}, "maxCanaryWeight", false, "30", "20"),
		Entry("absent event holds", scenario.Expectations{AbsentEvents: []string{"re:^Promotion completed"}}, "absentEvents[0]", true,
			"no event matching /^Promotion completed/", "none"),
		Entry("absent event fails", scenario.Expectations{AbsentEvents: []string{"re:^Halt"}}, "absentEvents[0]", false,
			"no event matching /^Halt/", `at 4m0s: "Halt podinfo.test advancement success rate 69.85% < 99%" (and 1 more)`),
		Entry("absent exact event fails", scenario.Expectations{AbsentEvents: []string{"Canary failed! Scaling down podinfo.test"}}, "absentEvents[0]", false,
			`no event "Canary failed! Scaling down podinfo.test"`, `at 9m0s: "Canary failed! Scaling down podinfo.test"`),
		Entry("hook calls by type, \"\" counted as rollout", scenario.Expectations{HookCalls: map[string]scenario.Count{"rollout": {Exact: expCount(3)}}},
			"hookCalls.rollout", true, "3 calls", "3 calls (1 failed)"),
		Entry("hook calls fail", scenario.Expectations{HookCalls: map[string]scenario.Count{"pre-rollout": {Min: expCount(2)}}},
			"hookCalls.pre-rollout", false, "at least 2 calls", "1 call"),
		Entry("hook calls of a type never called", scenario.Expectations{HookCalls: map[string]scenario.Count{"rollback": {Exact: expCount(0)}}},
			"hookCalls.rollback", true, "0 calls", "0 calls"),
		Entry("failedRequests holds", scenario.Expectations{FailedRequests: &scenario.Count{Max: expCount(5000)}}, "failedRequests", true,
			"at most 5000 failed user requests", "1214 failed user requests"),
		Entry("failedRequests fails", scenario.Expectations{FailedRequests: &scenario.Count{Max: expCount(1000)}}, "failedRequests", false,
			"at most 1000 failed user requests", "1214 failed user requests"),
	)

	It("fails within when the run decided in time, but in another phase than expected", func() {
		res := scenario.Check(&scenario.Expectations{Phase: "Succeeded", Within: scenario.Duration{Duration: 10 * time.Minute}}, checkedResult())
		Expect(res).To(HaveLen(2))
		Expect(res[1]).To(Equal(scenario.ExpectationResult{Name: "within", Expected: "Succeeded by 10m0s",
			Observed: "Failed at 9m0s", OK: false}))
	})

	It("fails within when the run never decided", func() {
		r := checkedResult()
		r.Phase, r.DecidedAt = "Progressing", nil
		res := scenario.Check(&scenario.Expectations{Phase: "Failed", Within: scenario.Duration{Duration: time.Hour}}, r)
		Expect(res).To(HaveLen(2))
		Expect(res[1]).To(Equal(scenario.ExpectationResult{Name: "within", Expected: "Failed by 1h0m0s",
			Observed: "never decided: phase Progressing at the end (30m0s)", OK: false}))
	})

	It("matches events as an ordered subsequence, exact or by regex", func() {
		res := scenario.Check(&scenario.Expectations{Events: []string{
			"New revision detected! Scaling up podinfo.test",
			`re:Halt podinfo.test advancement success rate \d+\.\d+% < 99%`,
			"re:threshold reached",
		}}, checkedResult())
		Expect(res).To(HaveLen(3))
		for _, r := range res {
			Expect(r.OK).To(BeTrue(), r.Name)
		}
		Expect(res[0].Name).To(Equal("events[0]"))
		Expect(res[0].Observed).To(Equal(`at 1m0s: "New revision detected! Scaling up podinfo.test"`))
		Expect(res[1].Expected).To(Equal(`event matching /Halt podinfo.test advancement success rate \d+\.\d+% < 99%/, after events[0]`))
		Expect(res[1].Observed).To(Equal(`at 4m0s: "Halt podinfo.test advancement success rate 69.85% < 99%"`))
		Expect(res[2].Observed).To(HavePrefix("at 9m0s: "))
	})

	It("fails an event that occurred only before the previous match", func() {
		res := scenario.Check(&scenario.Expectations{Events: []string{
			"Advance podinfo.test canary weight 20",
			"Advance podinfo.test canary weight 10",
			"re:^Rolling back",
		}}, checkedResult())
		Expect(res[0].OK).To(BeTrue())
		Expect(res[1].OK).To(BeFalse())
		Expect(res[1].Observed).To(Equal(`not found after events[0] (matched at 3m0s: "Advance podinfo.test canary weight 20"); ` +
			`it occurred earlier, at 2m0s: "Advance podinfo.test canary weight 10"`))
		Expect(res[2].OK).To(BeTrue(), "the search goes on after a miss")
		Expect(res[2].Expected).To(HaveSuffix("after events[0]"))
	})

	It("fails a missing event and shows the closest observed ones", func() {
		res := scenario.Check(&scenario.Expectations{Events: []string{
			"Starting canary analysis for podinfo.test",
			"Rolling back podinfo.test failed checks threshold reached 5",
		}}, checkedResult())
		Expect(res[0].OK).To(BeTrue())
		Expect(res[1].OK).To(BeFalse())
		Expect(res[1].Expected).To(Equal(`event "Rolling back podinfo.test failed checks threshold reached 5", after events[0]`))
		Expect(res[1].Observed).To(HavePrefix(`not found after events[0] (matched at 2m0s: "Starting canary analysis for podinfo.test"); closest: ` +
			`at 9m0s: "Rolling back podinfo.test failed checks threshold reached 2"; `))
	})

	It("counts repeated near misses once", func() {
		r := checkedResult()
		r.Ticks[5].Events[0].Message = r.Ticks[4].Events[0].Message
		res := scenario.Check(&scenario.Expectations{Events: []string{"re:^Halt podinfo.test advancement request duration"}}, r)
		Expect(res[0].OK).To(BeFalse())
		Expect(res[0].Observed).To(ContainSubstring(`closest: at 4m0s: "Halt podinfo.test advancement success rate 69.85% < 99%" (2 times)`))
	})

	It("says when there were no events at all", func() {
		r := checkedResult()
		for i := range r.Ticks {
			r.Ticks[i].Events = nil
		}
		res := scenario.Check(&scenario.Expectations{Events: []string{"anything"}}, r)
		Expect(res[0]).To(Equal(scenario.ExpectationResult{Name: "events[0]", Expected: `event "anything"`, Observed: "no events were emitted"}))
	})

	It("reports in the order of the expect keys, and nothing for nil", func() {
		Expect(scenario.Check(nil, checkedResult())).To(BeEmpty())
		res := scenario.Check(&scenario.Expectations{
			Phase: "Failed", Within: scenario.Duration{Duration: 10 * time.Minute}, Routes: []int{10, 20, 0},
			MaxCanaryWeight: expInt(20), Events: []string{"re:Advance"}, AbsentEvents: []string{"re:Promotion"},
			HookCalls:      map[string]scenario.Count{"rollout": {Min: expCount(1)}, "pre-rollout": {Exact: expCount(1)}},
			FailedRequests: &scenario.Count{Max: expCount(2000)},
		}, checkedResult())
		var names []string
		for _, r := range res {
			names = append(names, r.Name)
			Expect(r.OK).To(BeTrue(), r.Name)
		}
		Expect(names).To(Equal([]string{"phase", "within", "routes", "maxCanaryWeight", "events[0]", "absentEvents[0]",
			"hookCalls.pre-rollout", "hookCalls.rollout", "failedRequests"}))
	})
})

// alertedResult is a run whose alerts went to two analysis.alerts entries: on-call
// (error, to a Slack provider) and releases (info, its provider missing).
func alertedResult() *scenario.Result {
	at := func(d time.Duration) time.Time { return scenario.Epoch.Add(d) }
	const missing = `alert provider teams.test error: alertprovider.flagger.app "teams" not found`
	releases := engine.AlertRecipient{Alert: "releases", Severity: "info", Provider: "teams.test", Error: missing}
	onCall := engine.AlertRecipient{Alert: "on-call", Severity: "error", Provider: "slack.test", Type: "slack", Channel: "general"}
	return &scenario.Result{Ticks: ticksOf(
		engine.TickRecord{At: at(time.Minute), Alerts: []engine.Alert{{Severity: "info", Message: "New Deployment detected, initialization completed.",
			Recipients: []engine.AlertRecipient{releases}}}},
		engine.TickRecord{At: at(2 * time.Minute), Alerts: []engine.Alert{{Severity: "info", Message: "New revision detected, progressing canary analysis.",
			Recipients: []engine.AlertRecipient{releases}}}},
		engine.TickRecord{At: at(8 * time.Minute), Alerts: []engine.Alert{{Severity: "error", Message: "Failed checks threshold reached 5",
			Recipients: []engine.AlertRecipient{releases, onCall}}}},
	)}
}

var _ = Describe("Check of alerts", func() {
	alerts := func(name string, a scenario.AlertExpectation) *scenario.Expectations {
		return &scenario.Expectations{Alerts: map[string]scenario.AlertExpectation{name: a}}
	}

	DescribeTable("checks what one analysis.alerts entry was sent",
		func(exp *scenario.Expectations, name string, ok bool, expected, observed string) {
			res := scenario.Check(exp, alertedResult())
			Expect(res).To(HaveLen(1))
			Expect(res[0]).To(Equal(scenario.ExpectationResult{Name: name, OK: ok, Expected: expected, Observed: observed}))
		},
		Entry("a count that holds, saying what did not reach the entry", alerts("on-call", scenario.AlertExpectation{Count: &scenario.Count{Exact: expCount(1)}}),
			"alerts.on-call.count", true, "1 alert", "1 alert; 2 alerts not routed to on-call (severity info)"),
		Entry("a count of alerts routed but not sent: they are not counted", alerts("releases", scenario.AlertExpectation{Count: &scenario.Count{Min: expCount(1)}}),
			"alerts.releases.count", false, "at least 1 alerts",
			`0 alerts; 3 more alerts routed to releases but not sent (alert provider teams.test error: alertprovider.flagger.app "teams" not found)`),
		Entry("a message that was sent", alerts("on-call", scenario.AlertExpectation{Messages: []string{"re:^Failed checks threshold reached \\d+$"}}),
			"alerts.on-call.messages[0]", true, `alert matching /^Failed checks threshold reached \d+$/`, `at 8m0s: "Failed checks threshold reached 5"`),
		Entry("a message the entry's severity does not admit", alerts("on-call", scenario.AlertExpectation{Messages: []string{"re:^New revision"}}),
			"alerts.on-call.messages[0]", false, "alert matching /^New revision/",
			`not found among 1 alert; closest: at 8m0s: "Failed checks threshold reached 5"; `+
				`raised at 2m0s: "New revision detected, progressing canary analysis." with severity info, which on-call's severity does not admit`),
		Entry("a message routed but not sent", alerts("releases", scenario.AlertExpectation{Messages: []string{"re:^New revision"}}),
			"alerts.releases.messages[0]", false, "alert matching /^New revision/",
			`no alerts were sent to releases; raised at 2m0s: "New revision detected, progressing canary analysis." but not sent to releases: `+
				`alert provider teams.test error: alertprovider.flagger.app "teams" not found`),
		Entry("an absent message that holds: info alerts never reach on-call", alerts("on-call", scenario.AlertExpectation{AbsentMessages: []string{"re:^New "}}),
			"alerts.on-call.absentMessages[0]", true, "no alert matching /^New /", "none"),
		Entry("an absent message that fails", alerts("on-call", scenario.AlertExpectation{AbsentMessages: []string{"re:threshold"}}),
			"alerts.on-call.absentMessages[0]", false, "no alert matching /threshold/", `at 8m0s: "Failed checks threshold reached 5"`),
	)

	It("matches messages in order, and reports entries by name, then count, messages, absentMessages", func() {
		res := scenario.Check(&scenario.Expectations{Alerts: map[string]scenario.AlertExpectation{
			"releases": {Count: &scenario.Count{Exact: expCount(0)}},
			"on-call": {Count: &scenario.Count{Min: expCount(1)}, Messages: []string{"Failed checks threshold reached 5", "re:threshold"},
				AbsentMessages: []string{"re:^New"}},
		}}, alertedResult())
		var names []string
		for _, r := range res {
			names = append(names, r.Name)
		}
		Expect(names).To(Equal([]string{"alerts.on-call.count", "alerts.on-call.messages[0]", "alerts.on-call.messages[1]",
			"alerts.on-call.absentMessages[0]", "alerts.releases.count"}))
		Expect(res[1].OK).To(BeTrue())
		Expect(res[2].OK).To(BeFalse(), "one alert cannot match two entries of the sequence")
		Expect(res[2].Observed).To(Equal(`not found after alerts.on-call.messages[0] (matched at 8m0s: "Failed checks threshold reached 5"); ` +
			`it occurred earlier, at 8m0s: "Failed checks threshold reached 5"`))
	})
})

// ticksOf is records as a run record's ticks, one record each.
func ticksOf(records ...engine.TickRecord) []scenario.Tick {
	out := make([]scenario.Tick, len(records))
	for i, r := range records {
		out[i] = scenario.Tick{TickRecord: r}
	}
	return out
}
