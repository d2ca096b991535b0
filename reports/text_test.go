package reports_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

var _ = Describe("terminal output", func() {
	Describe("WriteSummary", func() {
		It("writes an aligned row per scenario, then what each failed expectation wanted", func() {
			var buf bytes.Buffer
			Expect(reports.WriteSummary(&buf, suite(), reports.Style{})).To(Succeed())
			out := buf.String()
			Expect(out).NotTo(ContainSubstring("\x1b["), "no colour without a terminal")
			lines := strings.Split(out, "\n")
			Expect(lines[0]).To(MatchRegexp(`^SCENARIO\s+RESULT\s+PHASE\s+DECIDED\s+MAX WEIGHT\s+FAILED REQUESTS\s+WHY$`))
			Expect(lines[1]).To(MatchRegexp(`^user-profile-nan-division-expects-promotion\s+FAIL\s+Failed\s+7m0s\s+10\s+1\s+rolled back: legacy-read-ratio NaN ×3$`))
			Expect(out).To(MatchRegexp(`(?m)^user-profile-nan-division\s+PASS\s+Failed\s+7m0s\s+10\s+1\s+rolled back: legacy-read-ratio NaN ×3$`))
			Expect(out).To(MatchRegexp(`(?m)^podinfo-500-burst\s+PASS\s+Failed\s+11m0s\s+30\s+3,242\s+rolled back: request-success-rate 70 < 99 ×5$`))
			// A reason for every kind of outcome.
			for name, why := range map[string]string{
				"podinfo-healthy-promotion":      "promoted: 5 steps to 50%, every check passed",
				"podinfo-short-burst-promoted":   "promoted: 5 steps to 50% with failed checks request-success-rate 70 < 99 ×2",
				"podinfo-confirm-promotion-gate": "promoted: 3 steps to 30%, every check passed; gate release-manager held 6m–9m",
				"podinfo-suspend-mid-run":        "promoted: 5 steps to 50%, every check passed; suspended 5m–9m",
				"traefik-500-burst":              "rolled back: request-success-rate 53–81.14 < 99 ×10",
				"podinfo-latency-spike":          "rolled back: request-duration 1875 > 500 ×5",
				"podinfo-pre-rollout-gate-fails": "rolled back: pre-rollout webhook db-migration failed ×3",
				"podinfo-canary-never-ready":     "rolled back: canary not ready within its progress deadline",
				"template-undefined-function":    "rolled back: error-rate-vs-primary error ×2",
				"frontend-config-untracked":      "no decision: no new revision",
			} {
				Expect(out).To(MatchRegexp(`(?m)^%s\s+PASS\s.*\s\s%s$`, regexp.QuoteMeta(name), regexp.QuoteMeta(why)))
			}
			// Columns line up: RESULT starts at the same offset in every row.
			col := strings.Index(lines[0], "RESULT")
			for _, l := range lines[1 : 1+len(suite())] {
				Expect(l[col:col+4]).To(BeElementOf("PASS", "FAIL"), l)
			}
			Expect(out).To(ContainSubstring("\nFAIL user-profile-nan-division-expects-promotion (scenarios/user-profile-nan-division.yaml)\n" +
				"  phase\n    expected: Succeeded\n    observed: Failed\n" +
				"  maxCanaryWeight\n    expected: 50\n"))
			Expect(out).To(HaveSuffix(fmt.Sprintf("\n%d passed, %d failed\n", len(library), len(wrong))))
		})

		It("cuts the reasons to the terminal's width, or puts them under their rows when the column would be too narrow", func() {
			var wide, narrow, plain bytes.Buffer
			Expect(reports.WriteSummary(&plain, suite(), reports.Style{})).To(Succeed())
			header := strings.SplitN(plain.String(), "\n", 2)[0]
			why := strings.Index(header, "WHY")
			Expect(reports.WriteSummary(&wide, suite(), reports.Style{Width: why + 30})).To(Succeed())
			rows := strings.Split(wide.String(), "\n")[1 : 1+len(suite())]
			cut := 0
			for _, l := range rows {
				Expect(utf8.RuneCountInString(l)).To(BeNumerically("<=", why+30), l)
				if strings.HasSuffix(l, "…") {
					cut++
				}
			}
			Expect(cut).To(BeNumerically(">", 0))
			Expect(wide.String()).To(ContainSubstring("  no decision: no new revision\n"), "short enough: not cut")

			Expect(reports.WriteSummary(&narrow, suite(), reports.Style{Width: 80})).To(Succeed())
			lines := strings.Split(narrow.String(), "\n")
			Expect(lines[0]).To(MatchRegexp(`^SCENARIO\s+RESULT\s+PHASE\s+DECIDED\s+MAX WEIGHT\s+FAILED REQUESTS$`))
			Expect(lines[1]).To(MatchRegexp(`^user-profile-nan-division-expects-promotion\s+FAIL\s+Failed\s+7m0s\s+10\s+1$`))
			Expect(lines[2]).To(Equal("    rolled back: legacy-read-ratio NaN ×3"))
			for _, l := range lines[1 : 1+2*len(suite())] {
				if strings.HasPrefix(l, "    ") {
					Expect(utf8.RuneCountInString(l)).To(BeNumerically("<=", 80), l)
				}
			}
		})

		DescribeTable("says why a run ended without a decision",
			func(ticks []engine.TickRecord, why string) {
				r := &scenario.Result{Scenario: "made-up", Mode: "fast", Phase: ticks[len(ticks)-1].Phase, Until: scenario.Offset(10 * time.Minute), Ticks: stored(ticks...), Passed: true}
				var buf bytes.Buffer
				Expect(reports.WriteSummary(&buf, []*scenario.Result{r}, reports.Style{})).To(Succeed())
				Expect(strings.Split(buf.String(), "\n")[1]).To(HaveSuffix("  " + why))
			},
			Entry("held at a gate, quiet ticks after the first",
				[]engine.TickRecord{revision(2), progressing(3, 10), madeTick(6, "Progressing", "WaitingPromotion", "advance", 10, warn("Halt podinfo.test advancement waiting for promotion approval release-manager")),
					madeTick(7, "WaitingPromotion", "WaitingPromotion", "advance", 10)},
				"no decision: waiting for promotion approval (gate release-manager) since 6m"),
			Entry("suspended",
				[]engine.TickRecord{revision(2), progressing(3, 10), madeTick(4, "Progressing", "Progressing", "suspend", 10, normal("skipping canary run as object is suspended")),
					madeTick(5, "Progressing", "Progressing", "suspend", 10, normal("skipping canary run as object is suspended"))},
				"no decision: suspended since 4m"),
			Entry("the canary not ready",
				[]engine.TickRecord{revision(2), madeTick(3, "Progressing", "Progressing", "canary-ready", 0, warn("canary deployment podinfo.test not ready: waiting for rollout to finish")),
					madeTick(4, "Progressing", "Progressing", "canary-ready", 0, warn("canary deployment podinfo.test not ready: waiting for rollout to finish"))},
				"no decision: canary not ready since 3m"),
			Entry("an analysis still going, with a failed check",
				[]engine.TickRecord{revision(2), progressing(3, 10), progressing(4, 20), failing(5, 20, 1)},
				"no decision: analysis in progress at 20%, request-success-rate 70 < 99 ×1"),
			Entry("the primary never ready",
				[]engine.TickRecord{madeTick(0, "", "Initializing", "init-primary", 0, warn("podinfo-primary.test not ready: waiting for rollout to finish"))},
				"no decision: still initializing: podinfo-primary.test not ready: waiting for rollout to finish"),
		)

		It("colours verdicts when asked, and only the verdicts", func() {
			var plain, coloured bytes.Buffer
			Expect(reports.WriteSummary(&plain, suite(), reports.Style{})).To(Succeed())
			Expect(reports.WriteSummary(&coloured, suite(), reports.Style{Color: true})).To(Succeed())
			Expect(coloured.String()).To(ContainSubstring("\x1b[32mPASS\x1b[0m"))
			Expect(coloured.String()).To(ContainSubstring("\x1b[31;1mFAIL\x1b[0m"))
			Expect(ansi.ReplaceAllString(coloured.String(), "")).To(Equal(plain.String()))
		})
	})

	Describe("WriteRun", func() {
		It("writes each tick with phase, weights, metric values against thresholds, events, then the expectations", func() {
			var buf bytes.Buffer
			Expect(reports.WriteRun(&buf, find(library, "user-profile-nan-division"), reports.Style{}, reports.RunView{})).To(Succeed())
			out := buf.String()
			Expect(out).To(HavePrefix("scenario user-profile-nan-division (fast mode)\n  2.1.0 serves profiles"))
			Expect(out).NotTo(ContainSubstring("\x1b["))
			Expect(out).To(MatchRegexp(`(?m)^03:00  Progressing\s+weights  90/10   failedChecks 0$`))
			Expect(out).To(MatchRegexp(`(?m)^04:00  Progressing\s+weights  90/10   failedChecks 1$`))
			Expect(out).To(MatchRegexp(`(?m)^\s+pass   request-success-rate\s+99\.95\s+>= 99$`))
			Expect(out).To(MatchRegexp(`(?m)^\s+nodata legacy-read-ratio\s+NaN\b`))
			Expect(out).To(MatchRegexp(`(?m)^07:00  Progressing -> Failed\s+weights 100/0 `))
			Expect(out).To(ContainSubstring("        event Warning Rolling back user-profile-service.profiles failed checks threshold reached 3\n"))
			Expect(out).To(ContainSubstring("\nfinal phase Failed at 07:00; routes [10 0]; max canary weight 10; failed user requests on new versions 1\n"))
			Expect(out).To(ContainSubstring("  PASS phase: expected Failed, observed Failed\n"))
		})

		It("writes each alert with where Flagger routes it and the fields its message carries", func() {
			var buf bytes.Buffer
			Expect(reports.WriteRun(&buf, find(library, "podinfo-alerts-on-call"), reports.Style{}, reports.RunView{})).To(Succeed())
			out := buf.String()
			Expect(out).To(ContainSubstring("        alert info New revision detected, progressing canary analysis. -> releases (msteams)\n" +
				"              Target: Deployment/podinfo.test · Failed checks threshold: 5 · Progress deadline: 60s · Traffic routing: Weight step: 10 max: 50\n"))
			Expect(out).To(ContainSubstring("        alert error Failed checks threshold reached 5 -> on-call (slack #on-call), releases (msteams)\n"))
			buf.Reset()
			Expect(reports.WriteRun(&buf, find(library, "podinfo-500-burst"), reports.Style{}, reports.RunView{})).To(Succeed())
			Expect(buf.String()).To(ContainSubstring("        alert error Failed checks threshold reached 5 -> global notifier (no analysis.alerts)\n"))
		})

		It("leaves out the idle ticks after the decision when asked, saying how many, and shows the ticks that do something", func() {
			r := find(library, "podinfo-second-release")
			var all, until bytes.Buffer
			Expect(reports.WriteRun(&all, r, reports.Style{}, reports.RunView{})).To(Succeed())
			Expect(reports.WriteRun(&until, r, reports.Style{}, reports.RunView{UntilDecided: true})).To(Succeed())
			tickLine := regexp.MustCompile(`(?m)^\d\d:\d\d  `)
			Expect(tickLine.FindAllString(all.String(), -1)).To(HaveLen(len(ticksOf(r))))
			shown := tickLine.FindAllString(until.String(), -1)
			skipped := regexp.MustCompile(`(?m)^… (\d+) idle ticks? not shown \((\d\d:\d\d)( to (\d\d:\d\d))?, (\w+), weights (\d+)/(\d+)\)$`).
				FindAllStringSubmatch(until.String(), -1)
			Expect(skipped).NotTo(BeEmpty())
			left := 0
			for _, m := range skipped {
				n, _ := strconv.Atoi(m[1])
				left += n
			}
			Expect(len(shown)+left).To(Equal(len(ticksOf(r))), "every tick shown or counted")
			Expect(skipped[0][2]).To(Equal("11:00"), "the idle ticks after the promotion at 10:00")
			Expect(skipped[0][5]).To(Equal("Succeeded"))
			// The second release after the idle stretch is shown, and the rollback.
			Expect(until.String()).To(ContainSubstring("event Normal New revision detected! Scaling up podinfo.test"))
			Expect(until.String()).To(MatchRegexp(`(?m)^27:00  Progressing -> Failed`))
			Expect(until.String()).To(HaveSuffix(strings.SplitN(all.String(), "\nfinal phase", 2)[1]), "the same summary and expectations")
			// Before the decision nothing is left out, idle or not.
			Expect(until.String()).To(MatchRegexp(`(?m)^01:00  Initializing -> Initialized`))
		})

		It("shows failed expectations as FAIL, in colour when asked", func() {
			var plain, coloured bytes.Buffer
			Expect(reports.WriteRun(&plain, wrong[0], reports.Style{}, reports.RunView{})).To(Succeed())
			Expect(reports.WriteRun(&coloured, wrong[0], reports.Style{Color: true}, reports.RunView{})).To(Succeed())
			Expect(plain.String()).To(ContainSubstring("  FAIL phase: expected Succeeded, observed Failed\n"))
			Expect(coloured.String()).To(ContainSubstring("\x1b[31;1mFAIL\x1b[0m phase"))
			Expect(coloured.String()).To(ContainSubstring("\x1b[33mnodata\x1b[0m"))
			Expect(ansi.ReplaceAllString(coloured.String(), "")).To(Equal(plain.String()))
		})
	})
})

// madeTick is a made-up tick record at minute min.
func madeTick(min int, before, phase, step string, canary int, events ...engine.Event) engine.TickRecord {
	return engine.TickRecord{At: scenario.Epoch.Add(time.Duration(min) * time.Minute), PhaseBefore: before, Phase: phase, Step: step,
		PrimaryWeight: 100 - canary, CanaryWeight: canary, Events: events}
}

func warn(msg string) engine.Event   { return engine.Event{Type: "Warning", Message: msg} }
func normal(msg string) engine.Event { return engine.Event{Type: "Normal", Message: msg} }

func revision(min int) engine.TickRecord {
	return madeTick(min, "Initialized", "Progressing", "start-revision", 0, normal("New revision detected! Scaling up podinfo.test"))
}

func progressing(min, canary int) engine.TickRecord {
	t := madeTick(min, "Progressing", "Progressing", "advance", canary, normal(fmt.Sprintf("Advance podinfo.test canary weight %d", canary)))
	t.Routes = []engine.RouteChange{{Primary: 100 - canary, Canary: canary}}
	return t
}

func failing(min, canary, failed int) engine.TickRecord {
	v, lo := 70.0, 99.0
	t := madeTick(min, "Progressing", "Progressing", "run-metrics", canary, warn("Halt podinfo.test advancement success rate 70.00% < 99%"))
	t.FailedChecks = failed
	t.Metrics = []analysis.Result{{Name: "request-success-rate", Kind: "request-success-rate", Query: "q", Value: &v, Min: &lo, Outcome: analysis.OutcomeFail}}
	return t
}
