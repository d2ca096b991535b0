package main

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

const oldTutorial = "testdata/convert/podinfo-2018.yaml"

var _ = Describe("aviary convert", func() {
	It("prints the 2018 tutorial's files as Flagger 1.44 reads them: the library's policy", func() {
		res := invokeCLI("convert", oldTutorial)
		Expect(res.code).To(Equal(exitOK), res.stderr)
		want, err := os.ReadFile(filepath.Join(scenarioDir, "policies", "podinfo-2018.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.stdout).To(Equal(string(want)), "scenarios/policies/podinfo-2018.yaml is `aviary convert %s`", oldTutorial)
		for _, note := range []string{
			oldTutorial + ":83: HorizontalPodAutoscaler podinfo: autoscaling/v2beta1 is no longer served by Kubernetes",
			oldTutorial + ":103: Canary podinfo: flagger.app/v1alpha1 is no longer served by Flagger 1.x: now flagger.app/v1beta1",
			oldTutorial + ":119: Canary podinfo: spec.autoscalerRef.apiVersion autoscaling/v2beta1 is no longer served: now autoscaling/v2",
			oldTutorial + ":131: Canary podinfo: spec.canaryAnalysis is now spec.analysis",
			oldTutorial + ":141: Canary podinfo: spec.analysis.metrics[0]: metric istio_requests_total is called request-success-rate in Flagger 1.x",
			oldTutorial + ":144: Canary podinfo: spec.analysis.metrics[0]: threshold is now thresholdRange.min (a percentage",
			oldTutorial + ":149: Canary podinfo: spec.analysis.metrics[1]: threshold is now thresholdRange.max (milliseconds",
		} {
			Expect(res.stderr).To(ContainSubstring("aviary: note: " + note))
		}
	})

	It("keeps comments, key order and objects it does not convert", func() {
		res := invokeCLI("convert", oldTutorial)
		Expect(res.stdout).To(ContainSubstring("  # to make progress before it is rollback (default 600s)\n  progressDeadlineSeconds: 60\n"))
		Expect(res.stdout).To(ContainSubstring("        # 99% of the requested CPU (100m)\n        target:\n          type: Utilization\n          averageUtilization: 99\n"))
		Expect(strings.Count(res.stdout, "\n---\n")).To(Equal(3), "four documents")
		Expect(res.stdout).NotTo(ContainSubstring("apiVersion: flagger.app/v1alpha1"))
		Expect(res.stdout).NotTo(ContainSubstring("apiVersion: autoscaling/v2beta1"))
	})

	It("leaves a current policy as it is, without notes", func() {
		file := filepath.Join(scenarioDir, "policies", "podinfo.yaml")
		res := invokeCLI("convert", file)
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stderr).To(BeEmpty())
		in, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		var a, b any
		Expect(yaml.Unmarshal(in, &a)).To(Succeed())
		Expect(yaml.Unmarshal([]byte(res.stdout), &b)).To(Succeed())
		Expect(b).To(Equal(a))
	})

	It("prints several files one after the other", func() {
		res := invokeCLI("convert", oldTutorial, filepath.Join(scenarioDir, "policies", "podinfo.yaml"))
		Expect(res.code).To(Equal(exitOK))
		Expect(strings.Count(res.stdout, "\n---\n")).To(Equal(4), "four documents, then one")
		Expect(res.stdout).To(ContainSubstring("name: acceptance-test"))
	})

	DescribeTable("exits 2 naming the file",
		func(args []string, says string) {
			res := invokeCLI(append([]string{"convert"}, args...)...)
			Expect(res.code).To(Equal(exitInvalid))
			Expect(res.stdout).To(BeEmpty())
			Expect(res.stderr).To(HavePrefix("aviary: "))
			Expect(res.stderr).To(ContainSubstring(says))
		},
		Entry("a file that does not exist", []string{badFile("nope.yaml")}, badFile("nope.yaml")+": no such file or directory"),
		Entry("a file that is not YAML", []string{badFile("yaml-syntax.yaml")}, badFile("yaml-syntax.yaml")+":7: invalid YAML"),
		Entry("no file", []string{}, "requires at least 1 arg"),
	)

	It("says what it converts and its exit status in its help", func() {
		res := invokeCLI("convert", "--help")
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stdout).To(ContainSubstring("Usage:\n  aviary convert FILE... [flags]"))
		Expect(res.stdout).To(ContainSubstring("istio_requests_total becomes request-success-rate"))
		Expect(res.stdout).To(ContainSubstring("Exit status: 0 when every file was converted, 2 when a file cannot be read or is\nnot YAML."))
	})
})
