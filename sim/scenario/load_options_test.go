package scenario_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("Load and LoadOptions", func() {
	const burst = "../../scenarios/podinfo-500-burst.yaml"

	It("loads bytes as LoadFile loads the file they came from", func() {
		data, err := os.ReadFile(burst)
		Expect(err).NotTo(HaveOccurred())
		fromBytes, err := scenario.Load(burst, data, scenario.LoadOptions{})
		Expect(err).NotTo(HaveOccurred())
		fromFile, err := scenario.LoadFile(burst)
		Expect(err).NotTo(HaveOccurred())
		Expect(fromBytes.Scenario).To(Equal(fromFile.Scenario))
		Expect(fromBytes.Canary).To(Equal(fromFile.Canary))
		Expect(fromBytes.Warnings).To(Equal(fromFile.Warnings))
	})

	It("replaces the policy's Canary with the canary file's documents", func() {
		dir := GinkgoT().TempDir()
		canary := filepath.Join(dir, "canary.yaml")
		Expect(os.WriteFile(canary, []byte(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: error-rate
        templateRef: {name: error-rate}
        thresholdRange: {max: 1}
        interval: 1m
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: error-rate, namespace: test}
spec:
  provider: {type: prometheus, address: http://prometheus:9090}
  query: 100 - sum(rate(istio_requests_total{destination_workload="podinfo",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{destination_workload="podinfo"}[1m])) * 100
`), 0o644)).To(Succeed())
		l, err := scenario.LoadFileWith(burst, scenario.LoadOptions{CanaryFile: canary})
		Expect(err).NotTo(HaveOccurred())
		Expect(l.Canary.Spec.Analysis.Threshold).To(Equal(2))
		Expect(l.Templates).To(HaveLen(1))
		Expect(l.Templates[0].Name).To(Equal("error-rate"))
	})

	It("says when the canary file holds no Canary, naming the scenario's spec.policy", func() {
		dir := GinkgoT().TempDir()
		empty := filepath.Join(dir, "not-a-canary.yaml")
		Expect(os.WriteFile(empty, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644)).To(Succeed())
		_, err := scenario.LoadFileWith(burst, scenario.LoadOptions{CanaryFile: empty})
		Expect(err).To(MatchError(ContainSubstring(burst + ":10: spec.policy: no Canary found in the canary file " + empty)))
	})
})
