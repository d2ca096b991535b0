package lint_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
	"aviary.dev/aviary/sim/scenario"
)

// canaryHead is a policy file's Canary up to its analysis (line 12), whose
// fields a case writes from line 13 on, indented by four spaces.
const canaryHead = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service: {port: 9898}
  analysis:
`

// policyFindings loads a scenario whose policy is canaryHead followed by analysis
// (and any further documents in rest) and runs one rule's check on it.
func policyFindings(rule, analysis string, rest ...string) []lint.Finding {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	text := canaryHead + analysis
	for _, r := range rest {
		text += "---\n" + r
	}
	Expect(os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(text), 0o644)).To(Succeed())
	file := filepath.Join(dir, "scenario.yaml")
	Expect(os.WriteFile(file, []byte(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata: {name: lint}
spec:
  policy: {files: [policy.yaml]}
  target: {replicas: 2}
`), 0o644)).To(Succeed())
	ld, err := scenario.LoadFile(file)
	Expect(err).NotTo(HaveOccurred())
	r := lint.RuleByID(rule)
	Expect(r).NotTo(BeNil())
	return r.Check(&lint.Input{Loaded: ld, Config: lint.Config{ScrapeInterval: lint.DefaultScrapeInterval}})
}

// finding is what a case expects of one finding.
type finding struct {
	severity lint.Severity
	line     int
	field    string
	message  []string // substrings
}

// expectFindings holds findings to the expected ones, in order.
func expectFindings(got []lint.Finding, rule string, want ...finding) {
	GinkgoHelper()
	Expect(got).To(HaveLen(len(want)), "%+v", got)
	for i, w := range want {
		f := got[i]
		Expect(f.Rule).To(Equal(rule))
		Expect(f.Severity).To(Equal(w.severity), f.Message)
		Expect(f.Object).To(Equal("Canary podinfo"))
		Expect(f.Field).To(Equal(w.field))
		Expect(f.Line).To(Equal(w.line), f.Field)
		Expect(filepath.Base(f.File)).To(Equal("policy.yaml"))
		for _, m := range w.message {
			Expect(f.Message).To(ContainSubstring(m))
		}
		Expect(f.Fix).NotTo(BeEmpty())
	}
}

const builtins = `    metrics:
      - {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}
      - {name: request-duration, interval: 1m, thresholdRange: {max: 500}}
`

// The scenario each rule names shows the consequence of a policy the rule flags: its
// own policy holds a finding of the rule.
var _ = DescribeTable("a rule's scenario has a policy the rule flags",
	func(id string) {
		r := lint.RuleByID(id)
		Expect(r).NotTo(BeNil())
		ld, err := scenario.LoadFile(filepath.Join("..", r.Scenario))
		Expect(err).NotTo(HaveOccurred())
		var ids []string
		for _, f := range r.Check(&lint.Input{Loaded: ld, Config: lint.Config{ScrapeInterval: lint.DefaultScrapeInterval}}) {
			ids = append(ids, f.Rule)
		}
		Expect(ids).To(ContainElement(id), r.Scenario)
	},
	Entry(nil, "threshold-never-bites"),
	Entry(nil, "threshold-side"),
	Entry(nil, "latency-units"),
	Entry(nil, "progress-deadline-short"),
	Entry(nil, "post-rollout-after-rollback"),
	Entry(nil, "pre-rollout-repeats"),
	Entry(nil, "gate-without-timeout"),
	Entry(nil, "gate-alerts-every-tick"),
	Entry(nil, "loadtester-background-task"),
	Entry(nil, "loadtester-gate-endpoint"),
	Entry(nil, "event-webhook-to-chat"),
	// mirror-ignored's scenario, traefik-mirror-never-advances, writes the mirror with a
	// timeline patch: its policy file has none
)
