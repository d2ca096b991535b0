package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/reports"
)

// The artifact flags of "aviary test" (--report, --junit, --json) and the "aviary
// report" command, run as a user would: from a work directory holding a small
// suite, with paths relative to it.
var _ = Describe("aviary test's report artifacts and aviary report", Ordered, func() {
	var work string

	BeforeAll(func() {
		// A suite of two scenarios, one with an expectation that does not hold.
		work = GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(work, "scenarios", "policies"), 0o755)).To(Succeed())
		policies, err := filepath.Glob(filepath.Join(scenarioDir, "policies", "*"))
		Expect(err).NotTo(HaveOccurred())
		Expect(policies).NotTo(BeEmpty())
		for _, p := range policies {
			copyFile(p, filepath.Join(work, "scenarios", "policies", filepath.Base(p)))
		}
		copyFile(filepath.Join(scenarioDir, "podinfo-healthy-promotion.yaml"), filepath.Join(work, "scenarios", "podinfo-healthy-promotion.yaml"))
		nan, err := os.ReadFile(filepath.Join(scenarioDir, "user-profile-nan-division.yaml"))
		Expect(err).NotTo(HaveOccurred())
		wrongNaN := strings.Replace(string(nan), "    phase: Failed\n", "    phase: Succeeded\n", 1)
		Expect(wrongNaN).NotTo(Equal(string(nan)))
		Expect(os.WriteFile(filepath.Join(work, "scenarios", "user-profile-nan-division.yaml"), []byte(wrongNaN), 0o644)).To(Succeed())
	})

	// Every spec runs the CLI in work (restored after the spec), so that paths and
	// messages are the relative ones a user sees.
	BeforeEach(func() { GinkgoT().Chdir(work) })

	It("writes every requested artifact when a scenario fails, and keeps exit status 1", func() {
		res := invokeCLI("test", "scenarios", "--report", "out/report.html", "--junit", "out/junit.xml", "--json", "out/results.json")
		Expect(res.code).To(Equal(exitInvalid), "the out directory does not exist yet: %s", res.stderr)
		Expect(res.stderr).To(ContainSubstring("aviary: --json out/results.json: directory out does not exist"))
		Expect(res.stdout).To(BeEmpty(), "nothing ran")

		Expect(os.Mkdir("out", 0o755)).To(Succeed())
		res = invokeCLI("test", "scenarios", "--report", "out/report.html", "--junit", "out/junit.xml", "--json", "out/results.json")
		Expect(res.code).To(Equal(exitFailed), res.stderr)
		Expect(res.stdout).To(ContainSubstring("1 passed, 1 failed"))
		Expect(res.stdout).To(ContainSubstring("wrote out/results.json\nwrote out/junit.xml\nwrote out/report.html\n"))

		results, err := os.Open(filepath.Join("out", "results.json"))
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = results.Close() }()
		rs, err := reports.ReadJSON(results)
		Expect(err).NotTo(HaveOccurred())
		Expect(rs).To(HaveLen(2))

		s := parseJUnit(mustRead(filepath.Join("out", "junit.xml")))
		Expect(s.Tests).To(Equal(2))
		Expect(s.Failures).To(Equal(1))
		Expect(s.Suites).To(HaveLen(1))
		Expect(s.Suites[0].Cases).To(HaveLen(2))
		Expect(s.Suites[0].Cases[1].Failure).NotTo(BeNil())
		Expect(s.Suites[0].Cases[1].Failure.Message).To(Equal("1 of 6 expectations failed: phase"))
		// The suite's wall time, in seconds: its form only, never its value.
		Expect(s.Suites[0].Time).To(MatchRegexp(`^\d+\.\d{3}$`))

		page := mustRead(filepath.Join("out", "report.html"))
		Expect(string(page)).To(ContainSubstring("2 scenarios: 1 passed, 1 failed"))

		// "aviary report" renders the same page from the saved results.
		res = invokeCLI("report", "out/results.json", "-o", "out/again.html")
		Expect(res.code).To(Equal(exitOK), res.stderr)
		Expect(res.stdout).To(Equal("wrote out/again.html (2 scenarios)\n"))
		Expect(mustRead(filepath.Join("out", "again.html"))).To(Equal(page))

		// Without -o the page goes next to the results; --junit converts too.
		res = invokeCLI("report", "out/results.json", "--junit", "out/junit2.xml")
		Expect(res.code).To(Equal(exitOK), res.stderr)
		Expect(res.stdout).To(Equal("wrote out/results.html (2 scenarios)\nwrote out/junit2.xml\n"))
		Expect(mustRead(filepath.Join("out", "results.html"))).To(Equal(page))
		Expect(parseJUnit(mustRead(filepath.Join("out", "junit2.xml"))).Failures).To(Equal(1))
	})

	DescribeTable("aviary report rejects bad input with exit status 2 and says why",
		func(content, want string) {
			Expect(os.WriteFile("bad.json", []byte(content), 0o644)).To(Succeed())
			res := invokeCLI("report", "bad.json", "-o", "bad.html")
			Expect(res.code).To(Equal(exitInvalid))
			Expect(res.stdout).To(BeEmpty())
			Expect(res.stderr).To(ContainSubstring(want))
			Expect("bad.html").NotTo(BeAnExistingFile())
		},
		Entry("not JSON", "scenario: x\n", "aviary: bad.json: not an aviary results file: invalid JSON at line 1, column 1"),
		Entry("truncated", `{"formatVersion": 1, "tool": "aviary", "results": [{"scenario": `, "aviary: bad.json: not an aviary results file: invalid JSON at line 1, column 64: unexpected end of JSON input"),
		Entry("another version", `{"formatVersion": 3, "tool": "aviary", "results": []}`, "aviary: bad.json: results formatVersion 3 is not supported"),
	)

	It("says when the results file is missing", func() {
		res := invokeCLI("report", "missing.json")
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stderr).To(ContainSubstring("aviary: stat missing.json: no such file or directory"))
	})

	It("documents the flags and shows examples", func() {
		res := invokeCLI("report", "--help")
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stdout).To(ContainSubstring("aviary report RESULTS.json"))
		Expect(res.stdout).To(ContainSubstring("Examples:\n  aviary test scenarios/ --json results.json\n  aviary report results.json -o report.html"))
		Expect(res.stdout).To(ContainSubstring("-o, --output"))
		res = invokeCLI("test", "--help")
		Expect(res.code).To(Equal(exitOK))
		for _, flag := range []string{"--report string", "--junit string", "--json string"} {
			Expect(res.stdout).To(ContainSubstring(flag))
		}
	})
})

// junitReport is the part of the JUnit XML schema these tests read (the reports
// package's tests check the rest).
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Time  string `xml:"time,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(b []byte) junitReport {
	GinkgoHelper()
	var s junitReport
	Expect(xml.Unmarshal(b, &s)).To(Succeed())
	return s
}

func copyFile(from, to string) {
	GinkgoHelper()
	b, err := os.ReadFile(from)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(to, b, 0o644)).To(Succeed())
}

func mustRead(path string) []byte {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return b
}
