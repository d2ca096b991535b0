package sim_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// policyCase is a scenario's policy as written: the Canary (its name and spec),
// other policy objects, and timeline actions after the new revision.
type policyCase struct {
	name     string // the Canary's name; podinfo by default
	canary   string // the Canary's spec, a YAML flow mapping; a valid one by default
	objects  string // more items of spec.policy.objects, YAML
	timeline string // more items of spec.timeline, YAML
}

const (
	validTarget   = `targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: 9898}`
	validAnalysis = `{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10}`
)

// podinfoDeployment is the target Deployment as a policy object.
const podinfoDeployment = `- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: podinfo, namespace: test}
  spec:
    selector: {matchLabels: {app: podinfo}}
    template:
      metadata: {labels: {app: podinfo}}
      spec: {containers: [{name: podinfod, image: "podinfo:6.0.0", ports: [{containerPort: 9898}]}]}`

// withAnalysis is a valid Canary spec with the given analysis block.
func withAnalysis(analysis string) string { return `{` + validTarget + `, analysis: ` + analysis + `}` }

// withSpec is a valid Canary spec with the given fields (a YAML flow mapping's
// contents) in place of its target and service.
func withSpec(fields string) string { return `{` + fields + `, analysis: ` + validAnalysis + `}` }

// policyScenario is a short podinfo scenario around c.
func policyScenario(name string, c policyCase) string {
	if c.name == "" {
		c.name = "podinfo"
	}
	if c.canary == "" {
		c.canary = withAnalysis(validAnalysis)
	}
	return fmt.Sprintf(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: %s
  description: A policy that a cluster may or may not admit.
spec:
  policy:
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: %s, namespace: test}
        spec: %s
%s
  timeline:
    - {at: 2m, image: podinfo:6.0.1}
%s
  until: 5m
  expect:
    phase: Progressing
`, name, c.name, c.canary, indent(c.objects, "      "), indent(c.timeline, "    "))
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n")
}

// outcome is how a mode judged a scenario: the run's error, else the run's decisions.
func outcome(l *scenario.Loaded, opts sim.RunOptions) (runErr, run string) {
	GinkgoHelper()
	res, err := sim.Run(context.Background(), l, opts)
	if err != nil {
		return err.Error(), ""
	}
	return "", decisions(res)
}

// The judged: where a case's error must show, naming its field.
type judged int

const (
	admitted       judged = iota // the run goes on; nothing is refused
	rejectedByLoad               // the loader's error (before any API call, so in both modes alike)
	rejectedByAPI                // the run's error, from the API at setup or at a timeline action
	refusedInRun                 // an event of the run: the engine's write was refused, and it says so
	warned                       // the run goes on, as Flagger would run it; the loader warns at the field
)

// Invalid policies, and a few valid ones near them, judged in both cluster modes:
// the fast client checks every object against the same embedded CRDs the envtest
// API server is given, with the API server's own validation code, and what a
// scenario controls of the built-in kinds as the API server does. The verdicts must
// be the same, the errors identical word for word (so the field is named alike),
// and a run that goes on must decide the same.
var _ = Describe("fast and envtest mode judge a policy alike", func() {
	DescribeTable("the same verdict, the same error, the same decisions",
		func(c policyCase, how judged, field string) {
			l, err := scenario.LoadFile(writeScenario(policyScenario("schema-case", c)))
			if how == rejectedByLoad {
				// before any API call: the same error in both modes
				Expect(err).To(HaveOccurred())
				Expect(err.Error()).To(ContainSubstring(field))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			switch how {
			case warned:
				Expect(l.Warnings).To(ContainElement(ContainSubstring(field)))
			case admitted:
				Expect(l.Warnings).To(BeEmpty())
			}
			env := envtestOrFail()
			fastErr, fastRun := outcome(l, sim.RunOptions{})
			realErr, realRun := outcome(l, sim.InEnvtest(env, l))
			Expect(fastErr).To(Equal(realErr), "the errors of fast mode (-) and envtest mode (+)")
			Expect(fastRun).To(Equal(realRun), "the decisions of fast mode (-) and envtest mode (+)")
			switch how {
			case rejectedByAPI:
				Expect(fastErr).To(ContainSubstring(field))
				Expect(fastErr).To(MatchRegexp(` is invalid: `))
			case refusedInRun:
				Expect(fastErr).To(BeEmpty())
				Expect(fastRun).To(ContainSubstring(field))
			case admitted, warned:
				Expect(fastErr).To(BeEmpty())
				Expect(fastRun).NotTo(ContainSubstring(` is invalid: `))
			}
		},
		// patterns, enums, CEL rules and required fields of aviary's CRDs
		Entry("analysis.interval 1 minute (pattern)", policyCase{canary: withAnalysis(`{interval: 1 minute, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis.interval: Invalid value: "1 minute": spec.analysis.interval in body should match '^[0-9]+(m|s)'`),
		Entry("analysis.interval 5x (pattern)", policyCase{canary: withAnalysis(`{interval: 5x, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis.interval: Invalid value: "5x"`),
		Entry("a metric's interval 1 minute (pattern)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, metrics: [{name: request-success-rate, interval: 1 minute, thresholdRange: {min: 99}}]}`)},
			rejectedByAPI, `spec.analysis.metrics[0].interval: Invalid value: "1 minute"`),
		Entry("stepWeight with iterations (CEL)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, iterations: 5, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis: Invalid value: exactly one of iterations, stepWeight and stepWeights must be set`),
		Entry("provider nonsense (enum)", policyCase{canary: `{provider: nonsense, ` + validTarget + `, analysis: ` + validAnalysis + `}`},
			rejectedByAPI, `spec.provider: Unsupported value: "nonsense"`),
		Entry("targetRef without apiVersion (CEL)", policyCase{canary: withSpec(`targetRef: {kind: Deployment, name: podinfo}, service: {port: 9898}`)},
			rejectedByAPI, `spec.targetRef: Invalid value: targetRef requires apiVersion, kind and name`),
		Entry("no targetRef (required; the loader says so first)", policyCase{canary: `{service: {port: 9898}, analysis: ` + validAnalysis + `}`},
			rejectedByLoad, `spec.targetRef.name: required`),
		Entry("a Canary name that is no DNS subdomain (metadata)", policyCase{name: "Podinfo"},
			rejectedByAPI, `Canary.aviary.dev "Podinfo" is invalid: metadata.name: Invalid value: "Podinfo"`),
		Entry("a MetricTemplate without query (required)", policyCase{objects: `- apiVersion: flagger.app/v1beta1
  kind: MetricTemplate
  metadata: {name: t, namespace: test}
  spec: {provider: {type: prometheus, address: "http://prometheus:9090"}}`},
			rejectedByAPI, `MetricTemplate.aviary.dev "t" is invalid: spec.query: Required value`),
		Entry("a MetricTemplate without provider (required)", policyCase{objects: `- apiVersion: flagger.app/v1beta1
  kind: MetricTemplate
  metadata: {name: t, namespace: test}
  spec: {query: "vector(1)"}`},
			rejectedByAPI, `MetricTemplate.aviary.dev "t" is invalid: spec.provider.type: Required value`),
		Entry("an AlertProvider of a bad type (enum)", policyCase{objects: `- apiVersion: flagger.app/v1beta1
  kind: AlertProvider
  metadata: {name: a, namespace: test}
  spec: {type: pager, address: "http://alerts"}`},
			rejectedByAPI, `spec.type: Unsupported value: "pager"`),
		Entry("an AlertProvider with address and secretRef (CEL)", policyCase{objects: `- apiVersion: flagger.app/v1beta1
  kind: AlertProvider
  metadata: {name: a, namespace: test}
  spec: {type: slack, address: "http://alerts", secretRef: {name: s}}`},
			rejectedByAPI, `spec: Invalid value: exactly one of address and secretRef must be set`),
		Entry("a timeline patch the schema refuses", policyCase{timeline: `- {at: 3m, patch: {spec: {analysis: {interval: 5x}}}}`},
			rejectedByAPI, `spec.timeline[1].patch: Canary.aviary.dev "podinfo" is invalid: spec.analysis.interval`),

		// what the CRDs admit
		Entry("a valid policy with a template and a provider", policyCase{objects: `- apiVersion: flagger.app/v1beta1
  kind: MetricTemplate
  metadata: {name: t, namespace: test}
  spec: {provider: {type: prometheus, address: "http://prometheus:9090"}, query: "vector(1)"}
- apiVersion: flagger.app/v1beta1
  kind: AlertProvider
  metadata: {name: a, namespace: test}
  spec: {type: slack, secretRef: {}}`}, admitted, ""),

		// built-in kinds and Istio's CRDs: what the policy puts into the objects made from it
		Entry("service.port -1 (the Services Flagger generates; the loader says so)", policyCase{canary: withSpec(`targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: -1}`)},
			rejectedByLoad, `spec.service.port: the API server refuses the Services Flagger generates from it (podinfo-canary, podinfo-primary, podinfo), so Flagger would retry on every tick and never initialize: `+
				`Service "podinfo-canary" is invalid: [spec.ports[0].port: Invalid value: -1: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: -1: must be between 1 and 65535, inclusive]`),
		Entry("service.port 0", policyCase{canary: withSpec(`targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: 0}`)},
			rejectedByLoad, `spec.service.port: the API server refuses the Services`),
		Entry("service.port 65536", policyCase{canary: withSpec(`targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: 65536}`)},
			rejectedByLoad, `spec.ports[0].port: Invalid value: 65536: must be between 1 and 65535, inclusive`),
		Entry("service.port -1 with the policy's own target Deployment", policyCase{canary: withSpec(`targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: -1}`), objects: podinfoDeployment},
			rejectedByLoad, `spec.service.port: the API server refuses the Services`),
		Entry("service.targetPort 70000", policyCase{canary: withSpec(validTarget[:len(validTarget)-1] + `, targetPort: 70000}`)},
			rejectedByLoad, `spec.service.targetPort: the API server refuses the Services Flagger generates from it (podinfo-canary, podinfo-primary, podinfo), so Flagger would retry on every tick and never initialize: `+
				`Service "podinfo-canary" is invalid: spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive`),
		Entry("service.targetPort HTTP_X (no port name)", policyCase{canary: withSpec(validTarget[:len(validTarget)-1] + `, targetPort: HTTP_X}`)},
			rejectedByLoad, `spec.service.targetPort: the API server refuses the Services`),
		Entry("service.portName HTTP_1 (the generated Services' port name)", policyCase{canary: withSpec(validTarget[:len(validTarget)-1] + `, portName: HTTP_1}`)},
			rejectedByLoad, `spec.service.portName: the API server refuses the Services Flagger generates from it (podinfo-canary, podinfo-primary, podinfo)`),
		Entry("targetRef.name with a dot (the generated Services' names)", policyCase{canary: withSpec(`targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo.v2}, service: {port: 9898}`)},
			rejectedByLoad, `spec.targetRef.name: the API server refuses the Services Flagger generates from it (podinfo.v2-canary, podinfo.v2-primary, podinfo.v2)`),
		Entry("service.apex.labels with a bad key", policyCase{canary: withSpec(validTarget[:len(validTarget)-1] + `, apex: {labels: {"a b": x}}}`)},
			rejectedByLoad, `spec.service.apex.labels: the API server refuses the Services Flagger generates from it (podinfo)`),
		Entry("a timeline patch to service.port 0 (the engine's Service update, refused alike)", policyCase{timeline: `- {at: 3m, patch: {spec: {service: {port: 0}}}}`},
			refusedInRun, `Service \"podinfo-canary\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]`),
		Entry("service.timeout 0s (Istio's VirtualService: CEL)", policyCase{canary: withSpec(validTarget[:len(validTarget)-1] + `, timeout: 0s}`)},
			refusedInRun, `must be a valid duration greater than 1ms`),

		// values the CRD admits and Flagger reads otherwise: run as Flagger runs them, with a warning
		Entry(`analysis.interval "" (pattern)`, policyCase{canary: withAnalysis(`{interval: "", threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis.interval: Invalid value: "": spec.analysis.interval in body should match '^[0-9]+(m|s)'`),
		Entry("analysis.interval ∞ (pattern)", policyCase{canary: withAnalysis(`{interval: ∞, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis.interval: Invalid value: "∞"`),
		Entry("analysis.interval 9999999999999h (pattern)", policyCase{canary: withAnalysis(`{interval: 9999999999999h, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			rejectedByAPI, `spec.analysis.interval: Invalid value: "9999999999999h"`),
		Entry("analysis.interval 9999999999999m (out of range: Flagger uses 1m)", policyCase{canary: withAnalysis(`{interval: 9999999999999m, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			warned, `spec.analysis.interval: "9999999999999m" is not a Go duration (time: invalid duration "9999999999999m"): Flagger uses 1m`),
		Entry("analysis.interval 10sec (Flagger uses 1m)", policyCase{canary: withAnalysis(`{interval: 10sec, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			warned, `spec.analysis.interval: "10sec" is not a Go duration`),
		Entry("analysis.interval 5s (Flagger ticks every 10s)", policyCase{canary: withAnalysis(`{interval: 5s, threshold: 2, maxWeight: 20, stepWeight: 10}`)},
			warned, `spec.analysis.interval: 5s is shorter than Flagger's shortest analysis interval: it ticks every 10s`),
		Entry("a metric's interval 10sec (its query does not parse)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, metrics: [{name: request-success-rate, interval: 10sec, thresholdRange: {min: 99}}]}`)},
			warned, `spec.analysis.metrics[0]: request-success-rate query with interval "10sec" does not parse`),
		Entry("a metric's interval -1m (pattern)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, metrics: [{name: request-success-rate, interval: -1m, thresholdRange: {min: 99}}]}`)},
			rejectedByAPI, `spec.analysis.metrics[0].interval: Invalid value: "-1m"`),
		Entry("a webhook's timeout -1s (pattern)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, webhooks: [{name: t, url: "http://t/", timeout: -1s}]}`)},
			rejectedByAPI, `spec.analysis.webhooks[0].timeout: Invalid value: "-1s"`),
		Entry("a webhook's timeout 5x (pattern)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, webhooks: [{name: t, url: "http://t/", timeout: 5x}]}`)},
			rejectedByAPI, `spec.analysis.webhooks[0].timeout: Invalid value: "5x"`),
		Entry("a webhook's timeout 5sec (every call fails unsent)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, webhooks: [{name: t, url: "http://t/", timeout: 5sec}]}`)},
			warned, `spec.analysis.webhooks[0].timeout: "5sec" is not a Go duration (time: unknown unit "sec" in duration "5sec"): Flagger fails every call of webhook "t" without sending it`),
		Entry("a webhook's timeout 0s (none)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, webhooks: [{name: t, url: "http://t/", timeout: 0s}]}`)},
			warned, `spec.analysis.webhooks[0].timeout: 0s: Flagger's HTTP client takes a timeout of 0 or less as none`),
		Entry("a webhook's retries -1", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, webhooks: [{name: t, url: "http://t/", retries: -1}]}`)},
			warned, `spec.analysis.webhooks[0].retries: -1 is negative: Flagger makes 1 attempt(s)`),
		Entry("thresholdRange min above max", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, metrics: [{name: request-success-rate, thresholdRange: {min: 99, max: 1}}]}`)},
			warned, `spec.analysis.metrics[0].thresholdRange: min 99 is above max 1`),
		Entry("a negative threshold (Flagger uses 1)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: -1, maxWeight: 20, stepWeight: 10}`)},
			warned, `spec.analysis.threshold: -1 is below 1: Flagger uses 1`),
		Entry("maxWeight -20 (Flagger uses 100)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: -20, stepWeight: 10}`)},
			warned, `spec.analysis.maxWeight: -20 is not positive: Flagger uses 100`),
		Entry("maxWeight 150 (never reached)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 150, stepWeight: 10}`)},
			warned, `spec.analysis.maxWeight: Flagger's canary weights go 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 and stop there, short of the max weight 150`),
		Entry("stepWeight -10 (never moves)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: -10}`)},
			warned, `spec.analysis.stepWeight: -10: Flagger never moves traffic to the canary`),
		Entry("stepWeights falling", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, stepWeights: [20, 10]}`)},
			warned, `spec.analysis.stepWeights: Flagger's canary weights go 20 and stop there: the next step (-10) is not positive, so it never promotes the canary`),
		Entry("iterations -1 (a canary by weights, without a step)", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, iterations: -1}`)},
			warned, `spec.analysis.iterations: -1 is not positive`),
		Entry("stepWeightPromotion -10", policyCase{canary: withAnalysis(`{interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10, stepWeightPromotion: -10}`)},
			warned, `spec.analysis.stepWeightPromotion: -10: while promoting`),
	)
})

var _ = Describe("fast and envtest mode complete a policy alike", func() {
	// The only defaults in the CRDs are "" for a secretRef's name (from corev1's
	// LocalObjectReference), which a typed client cannot tell from no name; the
	// objects are compared as stored, field by field.
	It("prunes unknown fields and applies the schema's defaults as the API server does", func() {
		env := envtestOrFail()
		s, err := cluster.NewScheme()
		Expect(err).NotTo(HaveOccurred())
		for i, spec := range []map[string]any{
			{"type": "slack", "secretRef": map[string]any{}, "colour": "red"},
			{"provider": map[string]any{"type": "prometheus", "secretRef": map[string]any{}}, "query": "vector(1)", "colour": "red"},
		} {
			kind := []string{"AlertProvider", "MetricTemplate"}[i]
			obj := func() *unstructured.Unstructured {
				u := &unstructured.Unstructured{Object: map[string]any{"spec": runtime.DeepCopyJSONValue(spec)}}
				u.SetAPIVersion(v1beta1.GroupVersion.String())
				u.SetKind(kind)
				u.SetNamespace("default")
				u.SetName("defaults")
				return u
			}
			Expect(env.Client().Create(context.Background(), obj())).To(Succeed())
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(v1beta1.GroupVersion.WithKind(kind))
			Expect(env.Client().Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "defaults"}, stored)).To(Succeed())

			fast := obj()
			Expect(cluster.CheckCreate(s, fast)).To(Succeed())
			Expect(fast.Object["spec"]).To(Equal(stored.Object["spec"]), kind)
			Expect(fast.Object["spec"]).NotTo(HaveKey("colour"), kind)
			Expect(fmt.Sprint(fast.Object["spec"])).To(ContainSubstring("secretRef:map[name:]"), kind)
		}
	})
})
