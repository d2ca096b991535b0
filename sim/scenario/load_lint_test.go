package scenario_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

// What `aviary lint` loads policies with: one Canary of many, manifests of other kinds
// beside them, structured warnings, where each object's fields are.
var _ = Describe("loading for lint", func() {
	const two = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: first, namespace: apps}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: first}
  service: {port: 9898}
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: request-duration-p99
        thresholdRange: {max: 500}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [canary.yaml]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: second}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: second}
  service: {port: 9898}
  analysis:
    interval: 1m
    threshold: 2
    iterations: 3
    metrics:
      - name: errors
        templateRef: {name: missing}
        thresholdRange: {max: 1}
        interval: 1m
`
	var dir, policy string
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		policy = filepath.Join(dir, "policy.yaml")
		Expect(os.WriteFile(policy, []byte(two), 0o644)).To(Succeed())
	})
	load := func(opts scenario.LoadOptions) (*scenario.Loaded, error) {
		return scenario.Load(filepath.Join(dir, "lint.yaml"), []byte(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata: {name: lint}
spec:
  policy: {files: [policy.yaml]}
`), opts)
	}

	It("refuses other kinds and several Canaries without the options", func() {
		_, err := load(scenario.LoadOptions{})
		Expect(err).To(MatchError(ContainSubstring(`"Kustomization" is not a kind a policy may hold`)))
		_, err = load(scenario.LoadOptions{OtherKinds: true})
		Expect(err).To(MatchError(ContainSubstring("a scenario tests exactly one Canary (the first is first)")))
	})

	DescribeTable("selects one Canary by name or namespace/name",
		func(selector, want string, line int, rule, field string) {
			l, err := load(scenario.LoadOptions{OtherKinds: true, Canary: selector})
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Canary.Name).To(Equal(want))
			Expect(l.PolicyWarnings).To(HaveLen(1))
			w := l.PolicyWarnings[0]
			Expect(w.Rule).To(Equal(rule))
			Expect(w.File).To(Equal(policy))
			Expect(w.Line).To(Equal(line))
			Expect(w.Object).To(Equal("Canary " + want))
			Expect(w.Field).To(Equal(field))
			Expect(l.Warnings).To(Equal([]string{w.String()}), "the text is the warning's")
		},
		Entry("by name", "first", "first", 13, scenario.RuleMetricUnknown, "spec.analysis.metrics[0].name"),
		Entry("by namespace/name", "apps/first", "first", 13, scenario.RuleMetricUnknown, "spec.analysis.metrics[0].name"),
		Entry("in the default namespace", "test/second", "second", 32, scenario.RuleTemplateMissing, "spec.analysis.metrics[0].templateRef"),
	)

	It("finds no Canary when the selector names none", func() {
		_, err := load(scenario.LoadOptions{OtherKinds: true, Canary: "apps/second"})
		Expect(err).To(MatchError(ContainSubstring("no Canary found")))
	})

	It("says where each field of an object is written", func() {
		l, err := load(scenario.LoadOptions{OtherKinds: true, Canary: "first"})
		Expect(err).NotTo(HaveOccurred())
		file, line, object, ok := l.Where(l.Canary, "spec.analysis.threshold")
		Expect(ok).To(BeTrue())
		Expect([]any{file, line, object}).To(Equal([]any{policy, 9, "Canary first"}))
		_, line, _, _ = l.Where(l.Canary, "spec.analysis.metrics[0].interval")
		Expect(line).To(Equal(13), "an unwritten field is at its nearest written ancestor")
		_, _, _, ok = l.Where(l.Canary.DeepCopy(), "")
		Expect(ok).To(BeFalse())
	})

	It("reads each document's header without decoding it", func() {
		docs, err := scenario.PolicyDocuments(policy)
		Expect(err).NotTo(HaveOccurred())
		Expect(docs).To(Equal([]scenario.PolicyDocument{
			{File: policy, Line: 1, APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "first", Namespace: "apps"},
			{File: policy, Line: 16, APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization"},
			{File: policy, Line: 20, APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "second"},
		}))
		Expect(os.WriteFile(policy, []byte("a: [\n"), 0o644)).To(Succeed())
		_, err = scenario.PolicyDocuments(policy)
		Expect(err).To(MatchError(ContainSubstring(policy + ":")))
		Expect(err).To(MatchError(ContainSubstring("invalid YAML")))
	})
})

// Every policy warning of the library has a rule, and Warnings holds its text.
var _ = Describe("the library's policy warnings", func() {
	It("each have a rule, and their texts are Warnings' first entries", func() {
		ls, err := scenario.LoadPaths([]string{"../../scenarios"})
		Expect(err).NotTo(HaveOccurred())
		rules := map[string]bool{}
		for _, l := range ls {
			Expect(len(l.Warnings)).To(BeNumerically(">=", len(l.PolicyWarnings)))
			for i, w := range l.PolicyWarnings {
				Expect(w.Rule).NotTo(BeEmpty(), "%s", w)
				Expect(w.Field).NotTo(BeEmpty(), "%s", w)
				Expect(l.Warnings[i]).To(Equal(w.String()))
				rules[w.Rule] = true
			}
		}
		Expect(rules).To(HaveKey(scenario.RuleQueryRender))
		Expect(rules).To(HaveKey(scenario.RuleMetricUnknown))
		Expect(rules).To(HaveKey(scenario.RuleAPIVersionConverted))
	})
})

var _ = Describe("YAMLFiles", func() {
	It("lists files as given and directories' YAML files recursively, once each, in lexical order", func() {
		dir := GinkgoT().TempDir()
		for _, f := range []string{"b.yaml", "a/c.yml", "a/notes.txt", "z.yaml"} {
			Expect(os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, f), []byte("kind: X\n"), 0o644)).To(Succeed())
		}
		files, err := scenario.YAMLFiles([]string{filepath.Join(dir, "z.yaml"), dir})
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(Equal([]string{filepath.Join(dir, "z.yaml"), filepath.Join(dir, "a/c.yml"), filepath.Join(dir, "b.yaml")}))

		_, err = scenario.YAMLFiles([]string{filepath.Join(dir, "missing")})
		Expect(err).To(MatchError(ContainSubstring(filepath.Join(dir, "missing") + ": no such file or directory")))
	})
})
