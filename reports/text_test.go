package reports_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/reports"
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
			Expect(lines[0]).To(MatchRegexp(`^SCENARIO\s+RESULT\s+PHASE\s+DECIDED\s+MAX WEIGHT\s+FAILED REQUESTS$`))
			Expect(lines[1]).To(MatchRegexp(`^user-profile-nan-division-expects-promotion\s+FAIL\s+Failed\s+7m0s\s+10\s+1$`))
			Expect(out).To(MatchRegexp(`(?m)^user-profile-nan-division\s+PASS\s+Failed\s+7m0s\s+10\s+1$`))
			Expect(out).To(MatchRegexp(`(?m)^podinfo-500-burst\s+PASS\s+Failed\s+11m0s\s+30\s+3,242$`))
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
			Expect(reports.WriteRun(&buf, find(library, "user-profile-nan-division"), reports.Style{})).To(Succeed())
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
			Expect(reports.WriteRun(&buf, find(library, "podinfo-alerts-on-call"), reports.Style{})).To(Succeed())
			out := buf.String()
			Expect(out).To(ContainSubstring("        alert info New revision detected, progressing canary analysis. -> releases (msteams)\n" +
				"              Target: Deployment/podinfo.test · Failed checks threshold: 5 · Progress deadline: 60s · Traffic routing: Weight step: 10 max: 50\n"))
			Expect(out).To(ContainSubstring("        alert error Failed checks threshold reached 5 -> on-call (slack #on-call), releases (msteams)\n"))
			buf.Reset()
			Expect(reports.WriteRun(&buf, find(library, "podinfo-500-burst"), reports.Style{})).To(Succeed())
			Expect(buf.String()).To(ContainSubstring("        alert error Failed checks threshold reached 5 -> global notifier (no analysis.alerts)\n"))
		})

		It("shows failed expectations as FAIL, in colour when asked", func() {
			var plain, coloured bytes.Buffer
			Expect(reports.WriteRun(&plain, wrong[0], reports.Style{})).To(Succeed())
			Expect(reports.WriteRun(&coloured, wrong[0], reports.Style{Color: true})).To(Succeed())
			Expect(plain.String()).To(ContainSubstring("  FAIL phase: expected Succeeded, observed Failed\n"))
			Expect(coloured.String()).To(ContainSubstring("\x1b[31;1mFAIL\x1b[0m phase"))
			Expect(coloured.String()).To(ContainSubstring("\x1b[33mnodata\x1b[0m"))
			Expect(ansi.ReplaceAllString(coloured.String(), "")).To(Equal(plain.String()))
		})
	})
})
