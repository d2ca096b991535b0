package lint_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
)

var _ = Describe("Lint", func() {
	const bad = `sum(rate(a_total{pod=~"^{{ target }}.*"}[1m]))`

	It("lints every Canary of a file with the objects of every file given", func() {
		// a second Canary of the same template, in a file of its own
		canary, _, _ := strings.Cut(policyWith(bad, "1m", "{max: 1}"), "---\n")
		second := strings.ReplaceAll(canary, "podinfo", "other")
		r := lintFiles(lint.Config{}, policyWith(bad, "1m", "{max: 1}"), second)
		Expect(r.Canaries).To(Equal(2))
		found := ofRule(r, "selector-matches-primary")
		Expect(found).To(HaveLen(2), "the template once per Canary that references it: %v", found)
		Expect(found[0].Message + found[1].Message).To(And(ContainSubstring("Canary podinfo"), ContainSubstring("Canary other")))
	})

	It("lints a MetricTemplate no Canary references with a placeholder Canary, and says so", func() {
		template := `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: alone, namespace: shared}
spec:
  provider: {type: prometheus, address: "http://prometheus:9090"}
  query: |
    sum(rate(a_total{pod=~"^{{ target }}.*"}[1m]))
`
		r := lintFiles(lint.Config{}, template)
		Expect(r.Canaries).To(BeZero())
		found := ofRule(r, "selector-matches-primary")
		Expect(found).To(HaveLen(1))
		Expect(found[0].Object).To(Equal("MetricTemplate alone"))
		Expect(found[0].Line).To(Equal(6))
		Expect(found[0].Message).To(ContainSubstring("placeholder Canary"))
		for _, f := range r.Findings {
			Expect(f.Object).To(Equal("MetricTemplate alone"), "nothing about the placeholder Canary: %v", f)
		}
	})

	It("reports the loader's warnings as findings of their rules: {{ primary }} does not render", func() {
		r := lintFiles(lint.Config{}, policyWith(`sum(rate(a_total{pod=~"{{ primary }}"}[1m]))`, "1m", "{max: 1}"))
		found := ofRule(r, "query-render")
		Expect(found).To(HaveLen(1))
		Expect(found[0].Severity).To(Equal(lint.Error))
		Expect(found[0].Message).To(ContainSubstring(`function "primary" not defined`))
		Expect(found[0].Fix).To(ContainSubstring("{{ target }}-primary"))
		Expect(found[0].Line).To(Equal(23), "the template's spec.query")
	})

	It("lints a scenario file through its policy, judging windows by its world's scrape interval", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policyWith(`sum(rate(a_total[1m]))`, "1m", "{max: 1}")), 0o644)).To(Succeed())
		scenario := []byte("apiVersion: aviary.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  policy: {files: [policy.yaml]}\n  world: {scrapeInterval: 30s}\n")
		Expect(os.WriteFile(filepath.Join(dir, "s.yaml"), scenario, 0o644)).To(Succeed())
		r, err := lint.Lint([]string{filepath.Join(dir, "s.yaml")}, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(ofRule(r, "rate-window")).To(HaveLen(1), "[1m] at the world's 30s")
		r, err = lint.Lint([]string{filepath.Join(dir, "s.yaml")}, lint.Config{ScrapeInterval: 15 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(ofRule(r, "rate-window")).To(BeEmpty(), "--scrape-interval wins")
	})

	It("skips documents of other kinds and files that are not manifests", func() {
		kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [canary.yaml]\n"
		values := "replicas: 3\nimage: podinfo\n"
		r := lintFiles(lint.Config{}, policyWith(`sum(rate(a_total[1m]))`, "1m", "{max: 1}"), kustomization, values)
		Expect(r.Canaries).To(Equal(1))
		Expect(r.Count(lint.Warning)).To(BeZero(), "%v", r.Findings)
		Expect(r.Skipped).To(HaveLen(1))
		Expect(r.Skipped[0]).To(HaveSuffix("policy-2.yaml"))
	})

	It("turns an apiVersion no longer served into an api-removed finding", func() {
		r, err := lint.Lint([]string{"../cmd/aviary/testdata/convert/podinfo-2018.yaml"}, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Findings).To(HaveLen(1))
		f := r.Findings[0]
		Expect([]any{f.Rule, f.Severity, f.Line, f.Field}).To(Equal([]any{"api-removed", lint.Error, 103, "apiVersion"}))
		Expect(f.Fix).To(Equal("aviary convert ../cmd/aviary/testdata/convert/podinfo-2018.yaml prints the objects in the current API"))
	})

	DescribeTable("refuses input it cannot use, naming the file",
		func(text, want string) {
			dir := GinkgoT().TempDir()
			p := filepath.Join(dir, "bad.yaml")
			Expect(os.WriteFile(p, []byte(text), 0o644)).To(Succeed())
			_, err := lint.Lint([]string{p}, lint.Config{})
			Expect(err).To(MatchError(And(ContainSubstring(p), ContainSubstring(want))))
		},
		Entry("invalid YAML", "kind: Canary\n  metadata: [\n", "invalid YAML"),
		Entry("a Canary the loader refuses", "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: x}\nspec: {nonsense: 1}\n", "nonsense"),
	)

	It("refuses a path that does not exist", func() {
		_, err := lint.Lint([]string{"no/such/dir"}, lint.Config{})
		Expect(err).To(MatchError(ContainSubstring("no/such/dir")))
	})

	It("sorts findings by file, line and rule, without duplicates", func() {
		r, err := lint.Lint([]string{library}, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Findings).NotTo(BeEmpty())
		for i := 1; i < len(r.Findings); i++ {
			a, b := r.Findings[i-1], r.Findings[i]
			Expect(a.File < b.File || a.File == b.File && (a.Line < b.Line || a.Line == b.Line && a.Rule <= b.Rule)).To(BeTrue(), "%v before %v", a, b)
			Expect(a).NotTo(Equal(b))
		}
	})
})
