package scenario_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("Convert", func() {
	DescribeTable("rewrites old objects as they are served today, and notes each change",
		func(in, want string, notes ...string) {
			out, got, err := scenario.Convert("in.yaml", []byte(in))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(out)).To(Equal(want))
			Expect(got).To(HaveLen(len(notes)))
			for i, n := range notes {
				Expect(got[i]).To(HavePrefix("in.yaml:"))
				Expect(got[i]).To(ContainSubstring(n))
			}
		},
		Entry("an apps/v1beta1 Deployment without selector",
			`apiVersion: apps/v1beta1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: nginx}]
`, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: nginx}]
`, "1: Deployment web: apps/v1beta1 is no longer served by Kubernetes: now apps/v1",
			"5: Deployment web: spec.selector set from the pod template's labels"),
		Entry("an extensions/v1beta1 Deployment with rollbackTo",
			`apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: web}
spec:
  rollbackTo: {revision: 2}
  selector: {matchLabels: {app: web}}
`, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
`, "extensions/v1beta1 is no longer served", "5: Deployment web: spec.rollbackTo removed"),
		Entry("an autoscaling/v2beta1 HPA with object and container metrics",
			`apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  maxReplicas: 3
  metrics:
    - type: Object
      object:
        target: {kind: Service, name: web}
        metricName: rps
        targetValue: 10
    - type: ContainerResource
      containerResource: {name: memory, container: app, targetAverageValue: 100Mi}
`, `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  maxReplicas: 3
  metrics:
    - type: Object
      object:
        describedObject: {kind: Service, name: web}
        metric:
          name: rps
        target:
          type: Value
          value: 10
    - type: ContainerResource
      containerResource: {name: memory, container: app, target: {type: AverageValue, averageValue: 100Mi}}
`, "1: HorizontalPodAutoscaler web: autoscaling/v2beta1 is no longer served"),
		Entry("an autoscaling/v1 HPA: still served, converted without a note",
			`apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  maxReplicas: 3
  targetCPUUtilizationPercentage: 70
`, `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  maxReplicas: 3
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
`),
		Entry("a v1beta1 Canary with both analyses, a deprecated threshold, and a metric Flagger 1.x cannot check",
			`apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web}
spec:
  canaryAnalysis: {interval: 1m}
  analysis:
    interval: 30s
    metrics:
      - {name: request-success-rate, threshold: 99}
      - {name: errors, threshold: 1, thresholdRange: {max: 2}}
      - {name: latency_p99}
`, `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web}
spec:
  analysis:
    interval: 30s
    metrics:
      - {name: request-success-rate, thresholdRange: {min: 99}}
      - {name: errors, thresholdRange: {max: 2}}
      - {name: latency_p99}
`, "5: Canary web: spec.canaryAnalysis removed: spec.analysis is given",
			"9: Canary web: spec.analysis.metrics[0]: threshold is now thresholdRange.min",
			"10: Canary web: spec.analysis.metrics[1]: errors is not a builtin metric",
			"10: Canary web: spec.analysis.metrics[1]: threshold removed: thresholdRange is given and wins",
			"11: Canary web: spec.analysis.metrics[2]: latency_p99 is not a builtin metric of Flagger 1.x and has neither templateRef nor query"),
		Entry("an inline query's threshold is a maximum",
			`apiVersion: flagger.app/v1alpha3
kind: Canary
metadata: {name: web}
spec:
  canaryAnalysis:
    interval: 1m
    metrics:
      - name: errors
        query: sum(rate(errors_total[1m]))
        threshold: 5
`, `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web}
spec:
  analysis:
    interval: 1m
    metrics:
      - name: errors
        query: sum(rate(errors_total[1m]))
        thresholdRange:
          max: 5
`, "flagger.app/v1alpha3 is no longer served", "spec.canaryAnalysis is now spec.analysis",
			"10: Canary web: spec.analysis.metrics[0]: threshold is now thresholdRange.max (the check fails above it)"),
		Entry("any other object, kept as it is",
			"# a gateway\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: web}\n",
			"# a gateway\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: web}\n"),
	)

	It("names the file and the line of YAML it cannot read", func() {
		_, _, err := scenario.Convert("in.yaml", []byte("a: [b\n"))
		Expect(err).To(MatchError(HavePrefix("in.yaml:2: invalid YAML")))
	})

	It("gives what the loader accepts: the 2018 tutorial converted loads, with no warning but the HPA's", func() {
		in, err := os.ReadFile(filepath.Join("..", "..", "cmd", "aviary", "testdata", "convert", "podinfo-2018.yaml"))
		Expect(err).NotTo(HaveOccurred())
		out, _, err := scenario.Convert("podinfo-2018.yaml", in)
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "policy.yaml"), out, 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("apiVersion: aviary.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  policy: {files: [policy.yaml]}\n"), 0o644)).To(Succeed())
		ld, err := scenario.LoadFile(filepath.Join(dir, "s.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Warnings).To(BeEmpty(), "converted to autoscaling/v2 already")
		Expect(ld.Canary.Spec.Analysis.Metrics[1].ThresholdRange.Max).To(HaveValue(Equal(500.0)))
		Expect(ld.Target.Spec.Template.Spec.Containers[0].Image).To(Equal("quay.io/stefanprodan/podinfo:1.3.0"))
		Expect(ld.Objects).To(HaveLen(2), "the namespace and the HPA")
		ns, ok := ld.Objects[0].(*corev1.Namespace)
		Expect(ok).To(BeTrue(), "%T", ld.Objects[0])
		Expect(ns.Name).To(Equal("test"))
		Expect(ns.Namespace).To(BeEmpty(), "a Namespace is in no namespace")
		Expect(ns.Labels).To(Equal(map[string]string{"istio-injection": "enabled"}))
	})
})
