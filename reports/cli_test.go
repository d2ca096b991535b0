package reports_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/reports"
)

// The artifact flags of "aviary test" and the "aviary report" command, run as a user
// would: the aviary binary, built once.
var _ = Describe("the aviary CLI's reports", Ordered, func() {
	var bin, work string

	// aviary runs the binary in work and returns stdout, stderr and the exit code.
	aviary := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		return stdout.String(), stderr.String(), code
	}

	BeforeAll(func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		bin = filepath.Join(dir, "aviary")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/aviary")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))

		// A suite of two scenarios, one with an expectation that does not hold.
		work = filepath.Join(dir, "work")
		Expect(os.MkdirAll(filepath.Join(work, "scenarios", "policies"), 0o755)).To(Succeed())
		policies, err := filepath.Glob("../scenarios/policies/*")
		Expect(err).NotTo(HaveOccurred())
		for _, p := range policies {
			copyFile(p, filepath.Join(work, "scenarios", "policies", filepath.Base(p)))
		}
		copyFile("../scenarios/podinfo-healthy-promotion.yaml", filepath.Join(work, "scenarios", "podinfo-healthy-promotion.yaml"))
		nan, err := os.ReadFile("../scenarios/user-profile-nan-division.yaml")
		Expect(err).NotTo(HaveOccurred())
		wrongNaN := strings.Replace(string(nan), "    phase: Failed\n", "    phase: Succeeded\n", 1)
		Expect(wrongNaN).NotTo(Equal(string(nan)))
		Expect(os.WriteFile(filepath.Join(work, "scenarios", "user-profile-nan-division.yaml"), []byte(wrongNaN), 0o644)).To(Succeed())
	}, NodeTimeout(10*time.Minute))

	It("writes every requested artifact when a scenario fails, and keeps exit status 1", func() {
		stdout, stderr, code := aviary("test", "scenarios", "--report", "out/report.html", "--junit", "out/junit.xml", "--json", "out/results.json")
		Expect(code).To(Equal(2), "the out directory does not exist yet: %s", stderr)
		Expect(stderr).To(ContainSubstring("aviary: --json out/results.json: directory out does not exist"))
		Expect(stdout).To(BeEmpty(), "nothing ran")

		Expect(os.Mkdir(filepath.Join(work, "out"), 0o755)).To(Succeed())
		stdout, stderr, code = aviary("test", "scenarios", "--report", "out/report.html", "--junit", "out/junit.xml", "--json", "out/results.json")
		Expect(code).To(Equal(1), stderr)
		Expect(stdout).To(ContainSubstring("1 passed, 1 failed"))
		Expect(stdout).To(ContainSubstring("wrote out/results.json\nwrote out/junit.xml\nwrote out/report.html\n"))

		results, err := os.Open(filepath.Join(work, "out", "results.json"))
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = results.Close() }()
		rs, err := reports.ReadJSON(results)
		Expect(err).NotTo(HaveOccurred())
		Expect(rs).To(HaveLen(2))

		junit, err := os.ReadFile(filepath.Join(work, "out", "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		s := parseJUnit(junit)
		Expect(s.Tests).To(Equal(2))
		Expect(s.Failures).To(Equal(1))
		Expect(s.Suites[0].Cases[1].Failure.Message).To(Equal("1 of 6 expectations failed: phase"))
		Expect(s.Suites[0].Time).NotTo(Equal("0.000"), "the suite's wall time")

		page, err := os.ReadFile(filepath.Join(work, "out", "report.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(page)).To(ContainSubstring("2 scenarios: 1 passed, 1 failed"))

		// "aviary report" renders the same page from the saved results.
		stdout, stderr, code = aviary("report", "out/results.json", "-o", "out/again.html")
		Expect(code).To(Equal(0), stderr)
		Expect(stdout).To(Equal("wrote out/again.html (2 scenarios)\n"))
		again, err := os.ReadFile(filepath.Join(work, "out", "again.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(page))

		// Without -o the page goes next to the results; --junit converts too.
		_, stderr, code = aviary("report", "out/results.json", "--junit", "out/junit2.xml")
		Expect(code).To(Equal(0), stderr)
		Expect(filepath.Join(work, "out", "results.html")).To(BeAnExistingFile())
		Expect(parseJUnit(mustRead(filepath.Join(work, "out", "junit2.xml"))).Failures).To(Equal(1))
	})

	DescribeTable("aviary report rejects bad input with exit status 2 and says why",
		func(content, want string) {
			Expect(os.WriteFile(filepath.Join(work, "bad.json"), []byte(content), 0o644)).To(Succeed())
			stdout, stderr, code := aviary("report", "bad.json", "-o", "bad.html")
			Expect(code).To(Equal(2))
			Expect(stdout).To(BeEmpty())
			Expect(stderr).To(ContainSubstring(want))
			Expect(filepath.Join(work, "bad.html")).NotTo(BeAnExistingFile())
		},
		Entry("not JSON", "scenario: x\n", "aviary: bad.json: not an aviary results file: invalid JSON at line 1, column 1"),
		Entry("truncated", `{"formatVersion": 1, "tool": "aviary", "results": [{"scenario": `, "aviary: bad.json: not an aviary results file: invalid JSON at line 1, column 64: unexpected end of JSON input"),
		Entry("another version", `{"formatVersion": 2, "tool": "aviary", "results": []}`, "aviary: bad.json: results formatVersion 2 is not supported"),
	)

	It("says when the results file is missing", func() {
		_, stderr, code := aviary("report", "missing.json")
		Expect(code).To(Equal(2))
		Expect(stderr).To(ContainSubstring("aviary: open missing.json: no such file or directory"))
	})

	It("documents the flags and shows examples", func() {
		stdout, _, code := aviary("report", "--help")
		Expect(code).To(Equal(0))
		Expect(stdout).To(ContainSubstring("aviary report RESULTS.json"))
		Expect(stdout).To(ContainSubstring("Examples:\n  aviary test scenarios/ --json results.json\n  aviary report results.json -o report.html"))
		Expect(stdout).To(ContainSubstring("-o, --output"))
		stdout, _, code = aviary("test", "--help")
		Expect(code).To(Equal(0))
		for _, flag := range []string{"--report string", "--junit string", "--json string"} {
			Expect(stdout).To(ContainSubstring(flag))
		}
	})
})

func copyFile(from, to string) {
	b, err := os.ReadFile(from)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(to, b, 0o644)).To(Succeed())
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return b
}
