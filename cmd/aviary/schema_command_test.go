package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// policyScenario is a short inline scenario whose Canary has the given spec, with
// more policy objects and timeline actions (YAML, indented as list items).
func policyScenario(name, canarySpec, objects, timeline string) string {
	return `apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: ` + name + `
  description: A policy that the CRD schemas do not admit.
spec:
  policy:
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: podinfo, namespace: test}
        spec: ` + canarySpec + `
` + objects + `
  target: {image: podinfo:6.0.0}
  timeline:
    - {at: 2m, image: podinfo:6.0.1}
` + timeline + `
  until: 5m
  expect:
    phase: Progressing
`
}

var _ = Describe("invalid policies in both cluster modes", func() {
	It("exit 2 in both, with the same error naming the same field", func() {
		const target = `targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: 9898}`
		const analysis = `{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10}`
		cases := map[string]struct{ canary, objects, timeline, field string }{
			"interval-1-minute": {canary: `{` + target + `, analysis: {interval: 1 minute, threshold: 2, maxWeight: 20, stepWeight: 10}}`,
				field: `spec.analysis.interval: Invalid value: "1 minute"`},
			"step-and-iterations": {canary: `{` + target + `, analysis: {interval: 1m, threshold: 2, iterations: 3, stepWeight: 10}}`,
				field: `spec.analysis: Invalid value: exactly one of iterations, stepWeight and stepWeights must be set`},
			"provider-enum": {canary: `{provider: nonsense, ` + target + `, analysis: ` + analysis + `}`,
				field: `spec.provider: Unsupported value: "nonsense"`},
			"template-without-query": {canary: `{` + target + `, analysis: ` + analysis + `}`,
				objects: "      - {apiVersion: flagger.app/v1beta1, kind: MetricTemplate, metadata: {name: t, namespace: test}, spec: {provider: {type: prometheus}}}",
				field:   `MetricTemplate.aviary.dev "t" is invalid: spec.query: Required value`},
			"alert-provider-type": {canary: `{` + target + `, analysis: ` + analysis + `}`,
				objects: "      - {apiVersion: flagger.app/v1beta1, kind: AlertProvider, metadata: {name: a, namespace: test}, spec: {type: pager, address: http://alerts}}",
				field:   `spec.type: Unsupported value: "pager"`},
			"patch-interval": {canary: `{` + target + `, analysis: ` + analysis + `}`,
				timeline: "    - {at: 3m, patch: {spec: {analysis: {interval: 5x}}}}",
				field:    `spec.timeline[1].patch: Canary.aviary.dev "podinfo" is invalid: spec.analysis.interval`},
		}
		dir := GinkgoT().TempDir()
		for name, c := range cases {
			Expect(os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(policyScenario(name, c.canary, c.objects, c.timeline)), 0o644)).To(Succeed())
		}

		fast := invokeCLI("test", dir)
		Expect(fast.code).To(Equal(exitInvalid), fast.stderr)
		real := invokeCLI("test", "--cluster", "envtest", "--parallel", "2", dir)
		Expect(real.code).To(Equal(exitInvalid), real.stderr)

		scenarioLine := regexp.MustCompile(`^aviary: ([a-z0-9-]+): `)
		lines := func(stderr string) map[string]string {
			out := map[string]string{}
			for l := range strings.SplitSeq(stderr, "\n") {
				if m := scenarioLine.FindStringSubmatch(l); m != nil {
					out[m[1]] = l
				}
			}
			return out
		}
		fastLines, realLines := lines(fast.stderr), lines(real.stderr)
		Expect(fastLines).To(HaveLen(len(cases)), fast.stderr)
		for name, c := range cases {
			Expect(fastLines[name]).To(ContainSubstring(c.field), name)
			Expect(fastLines[name]).To(Equal(realLines[name]), name)
		}
		Expect(fast.stderr + real.stderr).NotTo(ContainSubstring("goroutine "))

		// what the API server refuses of the Services Flagger generates: at load time, so
		// alike in both modes, before anything runs
		port := filepath.Join(GinkgoT().TempDir(), "port-minus-one.yaml")
		Expect(os.WriteFile(port, []byte(policyScenario("port-minus-one",
			`{targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: -1}, analysis: `+analysis+`}`, "", "")), 0o644)).To(Succeed())
		fast, real = invokeCLI("test", port), invokeCLI("test", "--cluster", "envtest", port)
		Expect(fast.code).To(Equal(exitInvalid), fast.stderr)
		Expect(real.code).To(Equal(exitInvalid), real.stderr)
		Expect(fast.stderr).To(ContainSubstring(port + `:12: spec.policy.objects[0] (Canary podinfo): spec.service.port: the API server refuses the Services Flagger generates from it`))
		Expect(fast.stderr).To(Equal(real.stderr))

		// aviary run too (in envtest mode it is the same run: envtest_command_test.go)
		r := invokeCLI("run", filepath.Join(dir, "interval-1-minute.yaml"))
		Expect(r.code).To(Equal(exitInvalid), r.stderr)
		Expect(r.stderr).To(ContainSubstring(fastLines["interval-1-minute"][len("aviary: interval-1-minute: "):]))
	})
})
