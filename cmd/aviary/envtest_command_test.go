package main

import (
	"os"
	"path/filepath"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// envtestScenario is a short inline scenario whose Canary has the given analysis block.
func envtestScenario(name, analysis string) string {
	return `apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: ` + name + `
  description: A short podinfo rollout.
spec:
  policy:
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: podinfo, namespace: test}
        spec:
          targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
          service: {port: 9898}
          analysis: ` + analysis + `
  target: {image: podinfo:6.0.0}
  timeline:
    - {at: 2m, image: podinfo:6.0.1}
  until: 9m
  expect:
    phase: Succeeded
`
}

var _ = Describe("--cluster envtest", func() {
	It("without the binaries says how to build them, exit 2, no stack trace", func() {
		GinkgoT().Setenv("KUBEBUILDER_ASSETS", GinkgoT().TempDir())
		for _, args := range [][]string{
			{"test", "--cluster", "envtest", filepath.Join(scenarioDir, "podinfo-500-burst.yaml")},
			{"run", "--cluster=envtest", filepath.Join(scenarioDir, "podinfo-500-burst.yaml")},
		} {
			r := invokeCLI(args...)
			Expect(r.code).To(Equal(exitInvalid), "%v\n%s", args, r.stderr)
			Expect(r.stderr).To(ContainSubstring("make envtest-assets"))
			Expect(r.stderr).To(ContainSubstring("kube-apiserver and etcd missing"))
			Expect(r.stderr).NotTo(ContainSubstring("goroutine "))
		}
	})

	It("aviary test runs against a real API server, which rejects a Canary its CRD schema does not admit (exit 2)", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "good.yaml"),
			[]byte(envtestScenario("short-promotion", "{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10}")), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "bad.yaml"),
			[]byte(envtestScenario("interval-typo", "{interval: 5x, threshold: 2, maxWeight: 20, stepWeight: 10}")), 0o644)).To(Succeed())

		r := invokeCLI("test", "--cluster", "envtest", "--parallel", "2", dir)
		// The start time is a Go duration; its value (wall time) is not asserted.
		ready := regexp.MustCompile(`cluster mode envtest \(kube-apiserver v\d+\.\d+\.\d+ ready in (\S+)\)`).FindStringSubmatch(r.stdout)
		Expect(ready).NotTo(BeNil(), r.stdout)
		_, err := time.ParseDuration(ready[1])
		Expect(err).NotTo(HaveOccurred())
		Expect(r.stdout).To(ContainSubstring("short-promotion"))
		Expect(r.stderr).To(ContainSubstring(`interval-typo`))
		Expect(r.stderr).To(ContainSubstring(`create Canary podinfo: Canary.aviary.dev "podinfo" is invalid: spec.analysis.interval`))
		Expect(r.stderr).NotTo(ContainSubstring("goroutine "))
		Expect(r.code).To(Equal(exitInvalid), r.stderr)

		// aviary run too, and says which mode ran
		r = invokeCLI("run", "--cluster", "envtest", filepath.Join(dir, "good.yaml"))
		Expect(r.code).To(Equal(exitOK), r.stderr)
		Expect(r.stdout).To(ContainSubstring("(envtest mode)"))
	})
})
