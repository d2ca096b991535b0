package lint_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
)

func TestLint(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "lint")
}

// library is the project's scenario library, relative to this package.
const library = "../scenarios"

// lintFiles writes each YAML text to a file of its own in a fresh directory and
// lints them.
func lintFiles(cfg lint.Config, texts ...string) *lint.Report {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	var paths []string
	for i, text := range texts {
		p := filepath.Join(dir, fmt.Sprintf("policy-%d.yaml", i))
		Expect(os.WriteFile(p, []byte(text), 0o644)).To(Succeed())
		paths = append(paths, p)
	}
	r, err := lint.Lint(paths, cfg)
	Expect(err).NotTo(HaveOccurred())
	return r
}

// ofRule are a report's findings of one rule.
func ofRule(r *lint.Report, rule string) []lint.Finding {
	var out []lint.Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// policyWith is a Canary podinfo (namespace test, Istio) with one metric "m" backed
// by a MetricTemplate "m" whose query is query, with the metric's interval and
// thresholdRange as given (YAML flow text, e.g. "{max: 5}").
func policyWith(query, interval, threshold string) string {
	indented := "    " + strings.ReplaceAll(strings.TrimSpace(query), "\n", "\n    ")
	return fmt.Sprintf(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: m
        templateRef: {name: m}
        interval: %s
        thresholdRange: %s
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: m, namespace: test}
spec:
  provider: {type: prometheus, address: "http://prometheus:9090"}
  query: |
%s
`, interval, threshold, indented)
}
