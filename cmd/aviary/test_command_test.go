package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"
)

// scenarioFiles walks dir the way a user would count scenarios: every .yaml/.yml
// file whose first document says kind: Scenario. It returns metadata.name by file.
// It decodes with yaml.v3 directly, independently of the loader under test.
func scenarioFiles(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var head struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if head.Kind == "Scenario" {
			out[p] = head.Metadata.Name
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return out
}

// summaryRow matches one row of the suite summary: name, verdict, phase.
var summaryRow = regexp.MustCompile(`(?m)^(\S+)[ \t]+(PASS|FAIL)[ \t]+(\S+)[ \t]+`)

// failBlock returns the "FAIL <scenario> (file)" block of a suite summary: the lines
// listing that scenario's failed expectations, up to the next blank line.
func failBlock(stdout, scenario string) string {
	GinkgoHelper()
	start := strings.Index(stdout, "\nFAIL "+scenario+" (")
	Expect(start).To(BeNumerically(">=", 0), "no FAIL block for %s in:\n%s", scenario, stdout)
	block := stdout[start+1:]
	if end := strings.Index(block, "\n\n"); end >= 0 {
		block = block[:end]
	}
	return block
}

var _ = Describe("aviary test", func() {
	Describe("on the scenario library", func() {
		var (
			res   cliResult
			files map[string]string
		)
		BeforeEach(func() {
			files = scenarioFiles(scenarioDir)
			res = invokeCLI("test", scenarioDir)
		})

		It("exits 0 and prints one PASS row per scenario file and the count", func() {
			Expect(len(files)).To(BeNumerically(">=", 12), "the library shrank: %v", files)
			Expect(res.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)

			rows := summaryRow.FindAllStringSubmatch(res.stdout, -1)
			Expect(rows).To(HaveLen(len(files)), "one row per kind: Scenario file")
			names := map[string]bool{}
			// scenarios whose point is that Flagger never decides (the lint rules' consequences):
			// they end where it is stuck
			stuck := map[string]string{"podinfo-autoscaler-missing": "Initializing", "podinfo-selector-without-app-label": "Initializing",
				"podinfo-max-weight-unreachable": "Progressing", "podinfo-ready-threshold-unreachable": "Progressing"}
			for _, r := range rows {
				Expect(r[2]).To(Equal("PASS"), "row %q", r[0])
				names[r[1]] = true
				if phase, ok := stuck[r[1]]; ok {
					Expect(r[3]).To(Equal(phase), "row %q: stuck", r[0])
					continue
				}
				// a decision, or (frontend-config-untracked) none because nothing new was deployed
				Expect(r[3]).To(BeElementOf("Succeeded", "Failed", "Initialized"), "row %q: a resting phase", r[0])
			}
			for file, name := range files {
				Expect(names).To(HaveKey(name), "no row for %s (%s)", name, file)
			}
			Expect(res.stdout).To(ContainSubstring(fmt.Sprintf("aviary: %d scenario(s)", len(files))))
			Expect(res.stdout).To(HaveSuffix(fmt.Sprintf("\n%d passed, 0 failed\n", len(files))))
			Expect(res.stdout).NotTo(ContainSubstring("\nFAIL "))
		})

		It("skips the policy files living alongside (no row, no error)", func() {
			policies, err := filepath.Glob(filepath.Join(scenarioDir, "policies", "*.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(policies).NotTo(BeEmpty())
			for _, p := range policies {
				Expect(files).NotTo(HaveKey(p))
				// a policy file is named only where a scenario's load-time warning points
				// into it (the seed articles' policies have such lines)
				for _, line := range strings.Split(res.stderr, "\n") {
					if strings.Contains(line, p) {
						Expect(line).To(MatchRegexp(`^warning: [a-z0-9-]+: ` + regexp.QuoteMeta(p) + `:\d+: `))
					}
				}
			}
			Expect(res.stderr).NotTo(ContainSubstring("aviary:"), "no error on stderr, only warnings")
		})
	})

	Describe("a deliberately wrong scenario", func() {
		It("fails the run with exit 1 when the expected phase is not reached", func() {
			res := invokeCLI("test", "testdata/wrong/wrong-phase.yaml")
			Expect(res.code).To(Equal(exitFailed), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			Expect(res.stdout).To(MatchRegexp(`(?m)^wrong-phase-500-burst\s+FAIL\s+Failed\s+11m0s\s+30\s`))
			block := failBlock(res.stdout, "wrong-phase-500-burst")
			Expect(block).To(ContainSubstring("(testdata/wrong/wrong-phase.yaml)"), "the file is named")
			Expect(block).To(ContainSubstring("\n  phase\n    expected: Succeeded\n    observed: Failed"))
			Expect(block).NotTo(ContainSubstring("maxCanaryWeight"), "a holding expectation is not listed as failed")
			Expect(res.stdout).To(HaveSuffix("\n0 passed, 1 failed\n"))
		})

		It("reports a wrong routes list and a wrong event with expected and observed values", func() {
			res := invokeCLI("test", "testdata/wrong/wrong-routes-events.yaml")
			Expect(res.code).To(Equal(exitFailed), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			block := failBlock(res.stdout, "wrong-routes-events-500-burst")
			Expect(block).To(ContainSubstring("\n  routes\n    expected: [10, 20, 30, 40, 0]\n    observed: [10, 20, 30, 0]"))
			Expect(block).To(ContainSubstring("\n  events[0]\n    expected: event \"Rolling back podinfo.test failed checks threshold reached 3\"\n    observed: not found"))
			Expect(block).To(ContainSubstring(`"Rolling back podinfo.test failed checks threshold reached 5"`),
				"the closest observed event is shown")
			Expect(block).NotTo(MatchRegexp(`(?m)^  phase$`), "phase: Failed holds and is not listed")
		})

		It("fails the whole suite when one scenario of several fails", func() {
			res := invokeCLI("test", filepath.Join(scenarioDir, "podinfo-500-burst.yaml"), "testdata/wrong/")
			Expect(res.code).To(Equal(exitFailed))
			Expect(res.stdout).To(MatchRegexp(`(?m)^podinfo-500-burst\s+PASS\s`))
			Expect(res.stdout).To(MatchRegexp(`(?m)^wrong-phase-500-burst\s+FAIL\s`))
			Expect(res.stdout).To(MatchRegexp(`(?m)^wrong-routes-events-500-burst\s+FAIL\s`))
			Expect(res.stdout).To(HaveSuffix("\n1 passed, 2 failed\n"))
		})

		It("makes aviary run exit 1 too, marking the failed expectation", func() {
			res := invokeCLI("run", "testdata/wrong/wrong-phase.yaml")
			Expect(res.code).To(Equal(exitFailed))
			Expect(res.stdout).To(ContainSubstring("  FAIL phase: expected Succeeded, observed Failed\n"))
			Expect(res.stdout).To(ContainSubstring("  PASS maxCanaryWeight: expected 30, observed 30\n"))
		})
	})
})
