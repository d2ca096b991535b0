package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("aviary lint", func() {
	traefik := filepath.Join(scenarioDir, "policies", "traefik-article.yaml")
	clean := filepath.Join(scenarioDir, "policies", "podinfo.yaml")
	infoOnly := []string{filepath.Join(scenarioDir, "policies", "user-profile-production.yaml"),
		filepath.Join(scenarioDir, "policies", "flagger-system-templates.yaml")}

	It("prints each finding with its fix and a summary, and exits 1 on a warning or worse", func() {
		res := invokeCLI("lint", traefik)
		Expect(res.code).To(Equal(exitFailed), res.stderr)
		Expect(res.stderr).To(BeEmpty())
		Expect(res.stdout).To(ContainSubstring(traefik + ":210: error complement-ratio: MetricTemplate not-found-percentage: spec.query: "))
		Expect(res.stdout).To(ContainSubstring("\n  fix: select what the metric measures in the numerator: {code=\"404\"} instead of {code!=\"404\"}\n"))
		Expect(res.stdout).To(MatchRegexp(`\n\d+ findings \(1 error, 1 warning, \d+ info\) in 1 file, 1 Canary linted\n$`))
	})

	It("exits 0 on a clean policy", func() {
		res := invokeCLI("lint", clean)
		Expect(res.code).To(Equal(exitOK), res.stdout)
		Expect(res.stdout).To(MatchRegexp(`^(.*\n)*\d+ findings? \(0 errors, 0 warnings, \d+ info\) in 1 file, 1 Canary linted\n$`))
	})

	DescribeTable("--fail-on",
		func(files []string, failOn string, code int) {
			res := invokeCLI(append([]string{"lint", "--fail-on", failOn}, files...)...)
			Expect(res.code).To(Equal(code), res.stdout+res.stderr)
		},
		Entry("error, on an error", []string{traefik}, "error", exitFailed),
		Entry("never, on an error", []string{traefik}, "never", exitOK),
		Entry("warning (the default), on infos only", infoOnly, "warning", exitOK),
		Entry("info, on infos only", infoOnly, "info", exitFailed),
		Entry("error, on warnings only", []string{filepath.Join(scenarioDir, "policies", "production-frontend.yaml"),
			filepath.Join(scenarioDir, "policies", "production-frontend-ab.yaml")}, "error", exitOK),
	)

	It("writes JSON: findings and rules", func() {
		res := invokeCLI("lint", "-o", "json", traefik)
		Expect(res.code).To(Equal(exitFailed))
		var out struct {
			Findings []struct {
				Rule, Severity, File string
				Line                 int
			}
			Rules []struct{ ID string }
		}
		Expect(json.Unmarshal([]byte(res.stdout), &out)).To(Succeed())
		Expect(out.Findings).To(ContainElement(And(HaveField("Rule", "complement-ratio"), HaveField("Severity", "error"),
			HaveField("File", traefik), HaveField("Line", 210))))
		Expect(out.Rules).NotTo(BeEmpty())
	})

	It("writes SARIF to --output and the summary to stdout", func() {
		file := filepath.Join(GinkgoT().TempDir(), "aviary.sarif")
		res := invokeCLI("lint", "-o", "sarif", "--output", file, traefik)
		Expect(res.code).To(Equal(exitFailed))
		Expect(res.stdout).To(MatchRegexp(`^\d+ findings \(1 error, 1 warning, \d+ info\) in 1 file, 1 Canary linted; wrote ` + regexp.QuoteMeta(file) + "\n$"))
		data, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring(`"version": "2.1.0"`))
		Expect(string(data)).To(ContainSubstring(`"ruleId": "complement-ratio"`))
	})

	It("judges rate windows by --scrape-interval", func() {
		files := []string{filepath.Join(scenarioDir, "policies", "podinfo.yaml")}
		Expect(invokeCLI(append([]string{"lint"}, files...)...).code).To(Equal(exitOK))
		res := invokeCLI(append([]string{"lint", "--scrape-interval", "30s"}, files...)...)
		Expect(res.code).To(Equal(exitFailed))
		Expect(res.stdout).To(ContainSubstring("warning rate-window"))
		Expect(res.stdout).To(ContainSubstring("at a 30s scrape interval"))
	})

	It("lints the whole library", func() {
		res := invokeCLI("lint", "--fail-on", "never", scenarioDir)
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stdout).To(ContainSubstring("stateful-canary-templates.yaml:38: error query-render"))
		Expect(res.stdout).To(ContainSubstring("podinfo-rate-window-too-short.yaml:31: error rate-window"))
	})

	DescribeTable("exits 2 on invalid input",
		func(args []string, msg string) {
			res := invokeCLI(append([]string{"lint"}, args...)...)
			Expect(res.code).To(Equal(exitInvalid))
			Expect(res.stdout).To(BeEmpty())
			Expect(res.stderr).To(ContainSubstring(msg))
		},
		Entry("no path", []string{}, "requires at least 1 arg"),
		Entry("a path that does not exist", []string{"no/such.yaml"}, "no/such.yaml"),
		Entry("an unknown format", []string{"-o", "xml", clean}, "-o xml: want one of text, json, sarif"),
		Entry("an unknown --fail-on", []string{"--fail-on", "all", clean}, "--fail-on all: want one of error, warning, info, never"),
		Entry("a scrape interval of 0", []string{"--scrape-interval", "0s", clean}, "--scrape-interval 0s: must be positive"),
		Entry("a Canary the loader refuses", []string{"testdata/lint/unknown-field.yaml"}, "testdata/lint/unknown-field.yaml:8: Canary podinfo: spec.analysis.stepWieght"),
	)

	It("documents itself", func() {
		res := invokeCLI("lint", "--help")
		Expect(res.code).To(Equal(exitOK))
		for _, s := range []string{"Usage:\n  aviary lint PATH... [flags]", "--fail-on", "--scrape-interval", "--output", "sarif",
			"Exit status: 0 when no finding is at or above --fail-on, 1 when some is, 2 on\ninvalid input"} {
			Expect(res.stdout).To(ContainSubstring(s))
		}
		Expect(strings.Count(invokeCLI("--help").stdout, "lint ")).To(BeNumerically(">=", 1))
	})
})
