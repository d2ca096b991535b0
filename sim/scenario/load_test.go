package scenario_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

const loadData = "testdata/load"

var _ = Describe("LoadFile", func() {
	DescribeTable("rejects bad input with the file, the line and the field",
		func(file, inFile string, line int, field, fragment string) {
			path := filepath.Join(loadData, "bad", file)
			ld, err := scenario.LoadFile(path)
			Expect(err).To(HaveOccurred())
			Expect(ld).To(BeNil())
			where := path
			if inFile != "" {
				where = filepath.Join(loadData, "bad", inFile)
			}
			msg := err.Error()
			Expect(msg).To(ContainSubstring(fmt.Sprintf("%s:%d: ", where, line)))
			if field != "" {
				Expect(msg).To(ContainSubstring(" " + field + ": "))
			}
			Expect(msg).To(ContainSubstring(fragment))
			Expect(msg).To(ContainSubstring(path), "the scenario file is always named")

			var le *scenario.LoadError
			Expect(errors.As(err, &le)).To(BeTrue())
			Expect(le.File).To(Equal(where))
			Expect(le.Line).To(Equal(line))
			Expect(le.Path).To(Equal(field))
		},
		// scenario structure
		Entry("unknown key", "unknown-field.yaml", "", 8, "spec.wrld", "unknown field (did you mean world?)"),
		Entry("bad duration", "bad-duration.yaml", "", 12, "spec.world.faults[2].from",
			`bad duration "4q" (want a Go duration such as 30s or 5m)`),
		Entry("wrong scalar type", "wrong-type.yaml", "", 9, "spec.world.rps", `want a number, got "lots"`),
		Entry("wrong bool", "bool-type.yaml", "", 9, "spec.world.noise", `want true or false, got "maybe"`),
		Entry("scalar for a list", "routes-type.yaml", "", 9, "spec.expect.routes", `want a list, got "10"`),
		Entry("bad count", "count-type.yaml", "", 9, "spec.expect.failedRequests", `want an integer or {min, max}, got "many"`),
		Entry("duplicate key", "duplicate-key.yaml", "", 9, "spec.until", "duplicate key (first at line 8)"),
		Entry("invalid YAML", "invalid-yaml.yaml", "", 6, "", "invalid YAML: did not find expected ',' or ']'"),
		// header
		Entry("missing apiVersion", "missing-apiversion.yaml", "", 1, "apiVersion", "required (want aviary.dev/v1alpha1)"),
		Entry("wrong kind", "wrong-kind.yaml", "", 2, "kind", `want Scenario, got "Scenari"`),
		Entry("missing name", "missing-name.yaml", "", 4, "metadata.name", "required"),
		// values
		Entry("negative rate", "negative-rps.yaml", "", 9, "spec.world.rps", "want a non-negative number, got -5"),
		Entry("error rate above 1", "error-rate.yaml", "", 10, `spec.world.versions["*"].errorRate`,
			"want a fraction between 0 and 1, got 1.5"),
		Entry("not a response code", "codes-bad-code.yaml", "", 10, `spec.world.versions["*"].codes["4xx"]`,
			`want an HTTP response code between 100 and 599, got "4xx"`),
		Entry("errorRate and codes", "codes-both.yaml", "", 10, "spec.world.faults[0].codes",
			`give errorRate or codes, not both (errorRate 0.1 is codes: {"500": 0.1})`),
		Entry("codes adding up to more than 1", "codes-sum.yaml", "", 11, `spec.world.versions["podinfo:6.0.1"].codes`,
			"the shares add up to 1.1, more than 1"),
		Entry("p50 above p99", "latency.yaml", "", 10, `spec.world.versions["podinfo:6.0.1"].latency`, "p50 200ms is above p99 100ms"),
		Entry("fault until before from", "fault-until.yaml", "", 10, "spec.world.faults[0].until", "3m0s is not after from 4m0s"),
		Entry("bad series values", "series.yaml", "", 10, "spec.world.series[0].values", `bad values "0+2x"`),
		Entry("zero scrape interval", "scrape-zero.yaml", "", 9, "spec.world.scrapeInterval", "must be positive"),
		Entry("timeline entry with neither", "timeline-neither.yaml", "", 9, "spec.timeline[0]", "give image"),
		Entry("timeline entry with both", "timeline-both.yaml", "", 10, "spec.timeline[1]", "give one of image, patch, configMap and secret, not image and patch"),
		Entry("timeline entry with a config change and an image", "timeline-config-and-image.yaml", "", 9, "spec.timeline[0]",
			"give one of image, patch, configMap and secret, not image and configMap"),
		Entry("timeline config change of a ConfigMap not in the policy", "timeline-configmap-unknown.yaml", "", 10, "spec.timeline[0].configMap.name",
			`no ConfigMap "podinfo-config" in namespace test among the policy objects`),
		Entry("timeline ConfigMap change with stringData", "timeline-configmap-stringdata.yaml", "", 12, "spec.timeline[0].configMap.stringData",
			"a ConfigMap has no stringData"),
		Entry("timeline Secret change with data that is not base64", "timeline-secret-base64.yaml", "", 13, "spec.timeline[0].secret.data.token",
			"not base64 (a Secret's data is base64 as in its manifest; give plain text in stringData)"),
		Entry("timeline out of order", "timeline-order.yaml", "", 10, "spec.timeline[1].at", "before timeline[0].at 5m0s"),
		Entry("unknown field in a timeline patch", "patch-unknown.yaml", "", 13, "spec.timeline[1].patch.spec.suspnd",
			"unknown field (did you mean suspend?) (the patch is a JSON merge patch of the Canary)"),
		Entry("hook responses out of order", "hook-unsorted.yaml", "", 12, "spec.hooks[0].responses[1].from",
			"2m0s is not after responses[0].from 6m0s"),
		Entry("hook status out of range", "hook-status.yaml", "", 11, "spec.hooks[0].responses[0].status",
			"want an HTTP status between 100 and 599, got 700"),
		Entry("hook entry naming no webhook of the Canary", "hook-unknown-name.yaml", "", 9, "spec.hooks[0].name",
			`no webhook named "gatee" (did you mean gate?) (Canary podinfo's webhooks: gate (confirm-rollout, http://flagger-loadtester.test/gate/check))`),
		Entry("hook entry without a selector", "hook-no-selector.yaml", "", 9, "spec.hooks[0]",
			"say which calls this entry answers: name (a webhook of the Canary), url, metadata, or several of them"),
		Entry("two hook entries selecting the same calls", "hook-duplicate.yaml", "", 11, "spec.hooks[1]",
			"selects the same calls as spec.hooks[0] (url HTTP://flagger-loadtester.test/gate/check)"),
		Entry("two equally specific hook entries selecting one webhook", "hook-ambiguous.yaml", "", 11, "spec.hooks[1]",
			`spec.hooks[0] and spec.hooks[1] both select webhook "gate" and are equally specific`),
		Entry("hook entry whose metadata selects no webhook", "hook-metadata-none.yaml", "", 9, "spec.hooks[0]",
			"url http://flagger-loadtester.test/gate/check, metadata {type: bash} selects no webhook (Canary podinfo's webhooks: gate"),
		Entry("until zero", "until-zero.yaml", "", 8, "spec.until", "must be positive"),
		// expectations
		Entry("phase not a Flagger phase", "expect-phase.yaml", "", 9, "spec.expect.phase",
			`"failed" is not a Flagger phase (did you mean Failed?)`),
		Entry("bad events regex", "bad-regex.yaml", "", 11, "spec.expect.events[1]", "bad regular expression: error parsing regexp: missing closing )"),
		Entry("bad absentEvents regex", "absent-regex.yaml", "", 9, "spec.expect.absentEvents[0]", "bad regular expression"),
		Entry("unknown hook type", "hookcalls-type.yaml", "", 11, "spec.expect.hookCalls.rolout", `"rolout" is not a Flagger webhook type`),
		Entry("count min above max", "count-range.yaml", "", 9, "spec.expect.failedRequests", "min 5 is greater than max 1"),
		Entry("alerts of a Canary without analysis.alerts", "expect-alerts-unknown.yaml", "", 10, "spec.expect.alerts.on-call",
			"Canary podinfo has no analysis.alerts"),
		Entry("alerts entry that checks nothing", "expect-alerts-empty.yaml", "", 10, "spec.expect.alerts.on-call",
			`give count, messages or absentMessages: what the alert "on-call" must have been sent`),
		Entry("bad alert message regex", "expect-alerts-regex.yaml", "", 11, "spec.expect.alerts.on-call.messages[0]",
			"bad regular expression: error parsing regexp: missing closing )"),
		Entry("control with both scenario and none", "control-both.yaml", "", 10, "spec.expect.control",
			"give either scenario (a scenario whose run must fail these expectations) or none (why no negative control applies), not both"),
		Entry("control with neither", "control-neither.yaml", "", 10, "spec.expect.control",
			"give scenario (the name of a scenario whose run must fail these expectations) or none (why no negative control applies)"),
		Entry("control.none without a reason", "control-empty-none.yaml", "", 11, "spec.expect.control.none",
			"empty reason: say why no negative control applies"),
		Entry("control.scenario empty", "control-empty-scenario.yaml", "", 11, "spec.expect.control.scenario", "empty scenario name"),
		Entry("control.scenario naming the scenario itself", "control-self.yaml", "", 10, "spec.expect.control.scenario",
			"names this scenario itself"),
		Entry("unknown field in control", "control-unknown.yaml", "", 11, "spec.expect.control.scenaro",
			"unknown field (did you mean scenario?)"),
		Entry("control not a mapping", "control-type.yaml", "", 10, "spec.expect.control", `want a mapping, got "podinfo-healthy"`),
		// policy
		Entry("missing policy file", "policy-missing.yaml", "", 7, "spec.policy.files[0]",
			"policy file "+filepath.Join(loadData, "bad", "policies", "nope.yaml")+" not found"),
		Entry("unknown field in a Canary", "policy-unknown-field.yaml", "policies/policy-unknown-field.yaml", 15,
			"spec.analysis.stepWieght", "Canary podinfo: spec.analysis.stepWieght: unknown field (did you mean stepWeight?)"),
		Entry("unknown field in an inline Canary", "inline-unknown.yaml", "", 17, "spec.analysis.treshold",
			"(Canary podinfo): spec.analysis.treshold: unknown field"),
		Entry("wrong type in a Canary", "policy-wrong-type.yaml", "policies/policy-wrong-type.yaml", 14,
			"spec.analysis.threshold", `want an integer, got "five"`),
		Entry("no Canary", "no-canary.yaml", "", 6, "spec.policy", "no Canary found"),
		Entry("two Canaries", "two-canaries.yaml", "policies/two-canaries.yaml", 17, "", "exactly one Canary"),
		Entry("Canary without target name", "no-target-name.yaml", "policies/no-target-name.yaml", 9,
			"spec.targetRef.name", "required"),
		Entry("a kind no policy holds, with what is accepted", "other-kind.yaml", "policies/other-kind.yaml", 18, "kind",
			`"Ingress" is not a kind a policy may hold; aviary accepts Canary (flagger.app/v1beta1 or aviary.dev/v1beta1), `+
				`MetricTemplate (flagger.app/v1beta1 or aviary.dev/v1beta1), AlertProvider (flagger.app/v1beta1 or aviary.dev/v1beta1), `+
				`Deployment (apps/v1), Service (v1), HorizontalPodAutoscaler (autoscaling/v2), ConfigMap (v1), Secret (v1), `+
				`IngressRoute (traefik.io/v1alpha1 or traefik.containo.us/v1alpha1)`),
		Entry("duplicate template", "duplicate-template.yaml", "policies/duplicate-template.yaml", 28, "metadata.name",
			`duplicate MetricTemplate "t" in namespace test (first in testdata/load/bad/policies/duplicate-template.yaml:17)`),
		Entry("duplicate ConfigMap", "duplicate-configmap.yaml", "policies/duplicate-configmap.yaml", 26, "metadata.name",
			`duplicate ConfigMap "podinfo-config" in namespace test`),
		// old APIs
		Entry("a v1alpha3 Canary: Flagger 1.x no longer serves it", "policy-apiversion.yaml", "policies/policy-apiversion.yaml", 1, "apiVersion",
			`flagger.app/v1alpha3: Flagger 1.x no longer serves this API: Canaries are flagger.app/v1beta1 (canaryAnalysis became analysis, `+
				`a metric's threshold became thresholdRange, the builtin metrics are request-success-rate and request-duration); `+
				`"aviary convert testdata/load/bad/policies/policy-apiversion.yaml" prints the v1beta1 equivalent`),
		Entry("a v1beta1 Canary with canaryAnalysis and no analysis", "canary-analysis.yaml", "policies/canary-analysis.yaml", 12, "spec.canaryAnalysis",
			"Flagger 1.x has no canaryAnalysis: its CRD drops the field and the Canary is left without spec.analysis"),
		Entry("a Canary without analysis", "no-analysis.yaml", "policies/no-analysis.yaml", 5, "spec.analysis",
			"required: Flagger's CRD requires spec.analysis"),
		Entry("an apps/v1beta1 Deployment", "deployment-v1beta1.yaml", "policies/deployment-v1beta1.yaml", 17, "apiVersion",
			`apps/v1beta1: Kubernetes no longer serves this API (removed in 1.16): Deployments are apps/v1, which requires spec.selector; `+
				`"aviary convert testdata/load/bad/policies/deployment-v1beta1.yaml" prints the apps/v1 equivalent`),
		// what the engine does not model: the messages are the engine's own (engine.(*Engine).Unsupported)
		Entry("an unrouted provider", "provider-nginx.yaml", "policies/provider-nginx.yaml", 6, "spec.provider",
			`provider "nginx" is not supported by aviary yet (supported: istio, kubernetes, traefik)`),
		Entry("a DaemonSet target", "target-kind.yaml", "policies/target-kind.yaml", 8, "spec.targetRef.kind",
			`target kind "DaemonSet" is not supported by aviary yet (supported: Deployment)`),
		Entry("session affinity", "session-affinity.yaml", "policies/session-affinity.yaml", 16, "spec.analysis.sessionAffinity",
			"analysis.sessionAffinity is not supported by aviary yet"),
		Entry("a KEDA ScaledObject", "scaled-object.yaml", "policies/scaled-object.yaml", 6, "spec.autoscalerRef.kind",
			`autoscalerRef kind "ScaledObject" is not supported by aviary yet (supported: HorizontalPodAutoscaler)`),
		Entry("a metric provider the simulator does not query", "datadog-template.yaml", "policies/datadog-template.yaml", 28, "spec.provider.type",
			`MetricTemplate errors: spec.provider.type: metric provider type "datadog" is not supported by aviary yet: the simulator answers Prometheus queries only`),
		// the user's own manifests
		Entry("an unknown field in the target Deployment", "deployment-unknown-field.yaml", "policies/deployment-unknown-field.yaml", 32,
			"spec.template.spec.containers[0].imagePullPolcy", "Deployment podinfo: spec.template.spec.containers[0].imagePullPolcy: unknown field (did you mean imagePullPolicy?)"),
		Entry("a Deployment whose selector does not select its pods", "deployment-selector.yaml", "policies/deployment-selector.yaml", 27,
			"spec.template.metadata.labels", "map[app:podinfo-v2] do not match spec.selector app=podinfo"),
		Entry("spec.target.image against the target Deployment", "target-image-conflict.yaml", "", 9, "spec.target.image",
			"podinfo:5.0.0 conflicts with the target Deployment podinfo (testdata/load/bad/policies/target-deployment.yaml:31: spec.template.spec.containers[0].image is podinfo:6.0.0)"),
		Entry("spec.target.replicas against the target Deployment", "target-replicas-conflict.yaml", "", 8, "spec.target.replicas",
			"3 conflicts with the target Deployment podinfo (testdata/load/bad/policies/target-deployment.yaml:22: spec.replicas is 2)"),
		Entry("an unknown field in an autoscaling/v2beta1 HPA", "hpa-unknown-field.yaml", "policies/hpa-unknown-field.yaml", 28,
			"spec.metrics[0].resource.targetAverageUtilisation", "unknown field"),
		Entry("a ConfigMap value that is not a string", "configmap-type.yaml", "policies/configmap-type.yaml", 23, "data.settings", "want a string, got a mapping"),
	)

	It("wraps every error with the scenario's name", func() {
		_, err := scenario.LoadFile(filepath.Join(loadData, "bad", "policy-unknown-field.yaml"))
		Expect(err).To(MatchError(HavePrefix(`scenario "policy-unknown-field" (testdata/load/bad/policy-unknown-field.yaml): `)))
		_, err = scenario.LoadFile(filepath.Join(loadData, "bad", "bad-duration.yaml"))
		Expect(err).To(MatchError(HavePrefix(`scenario "bad-duration": testdata/load/bad/bad-duration.yaml:12: `)))
	})

	It("loads the minimal fixture with every default applied", func() {
		path := filepath.Join(loadData, "good.yaml")
		ld, err := scenario.LoadFile(path)
		Expect(err).NotTo(HaveOccurred())
		s := ld.Scenario
		Expect(s.File).To(Equal(path))
		Expect(s.Metadata.Name).To(Equal("podinfo-good"))
		Expect(*s.Spec.Target.Replicas).To(BeEquivalentTo(1))
		Expect(s.Spec.Target.Image).To(Equal("app:1.0.0"))
		Expect(s.Spec.Target.StartupDelay.Duration).To(Equal(5 * time.Second))
		Expect(s.Spec.World.ScrapeInterval.Duration).To(Equal(15 * time.Second))
		Expect(*s.Spec.World.RPS).To(Equal(10.0))
		Expect(s.Spec.Until.Duration).To(Equal(60 * time.Minute))
		Expect(s.Spec.World.Versions).To(HaveLen(1))
		def := s.Spec.World.Versions["*"]
		Expect(*def.ErrorRate).To(Equal(0.0))
		Expect(def.Latency.P50.Duration).To(Equal(10 * time.Millisecond))
		Expect(def.Latency.P99.Duration).To(Equal(50 * time.Millisecond))
		Expect(s.Spec.Timeline).To(HaveLen(1))
		Expect(s.Spec.Expect.Phase).To(Equal("Succeeded"))

		Expect(ld.FlaggerExact).To(BeFalse())
		Expect(ld.Canary.Name).To(Equal("podinfo"))
		Expect(ld.Canary.Namespace).To(Equal("test"))
		Expect(ld.Canary.APIVersion).To(Equal("aviary.dev/v1beta1"))
		Expect(ld.Canary.Kind).To(Equal("Canary"))
		Expect(ld.Canary.Spec.Analysis.StepWeight).To(Equal(10))
		Expect(ld.Canary.Spec.Analysis.Webhooks).To(HaveLen(1))
		Expect(ld.Templates).To(HaveLen(1))
		Expect(ld.Templates[0].Namespace).To(Equal("test"))
		Expect(ld.Templates[0].Spec.Query).To(ContainSubstring("istio_requests_total"))
		Expect(ld.AlertProviders).To(BeEmpty())
		Expect(ld.Warnings).To(BeEmpty())
	})

	It("keeps what the full fixture writes and completes partial versions from *", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "full.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sp := ld.Scenario.Spec
		Expect(*sp.Target.Replicas).To(BeEquivalentTo(2))
		Expect(sp.Target.Image).To(Equal("podinfo:6.0.0"))
		Expect(sp.Target.StartupDelay.Duration).To(BeZero(), "an explicit 0s stays 0s")
		Expect(sp.World.ScrapeInterval.Duration).To(Equal(30 * time.Second))
		Expect(*sp.World.RPS).To(Equal(100.0))
		Expect(sp.Until.Duration).To(Equal(30 * time.Minute))
		v := sp.World.Versions["podinfo:6.0.1"]
		Expect(*v.ErrorRate).To(Equal(0.002))
		Expect(v.Latency.P50.Duration).To(Equal(20 * time.Millisecond))
		Expect(v.Latency.P99.Duration).To(Equal(80 * time.Millisecond))
		v = sp.World.Versions["podinfo:6.0.2"]
		Expect(v.Codes).To(Equal(map[string]float64{"404": 0.03, "503": 0.01}), "a code written as a number is its string")
		Expect(v.ErrorRate).To(BeNil(), "the mix of * is taken as a whole, not mixed with codes")
		Expect(v.Latency.P99.Duration).To(Equal(80 * time.Millisecond))
		Expect(sp.World.Faults).To(HaveLen(4))
		Expect(sp.World.Faults[1].Latency.P50.Duration).To(BeZero(), "faults are not completed")
		Expect(sp.Hooks[0].Responses[1].From.Duration).To(Equal(6 * time.Minute))
		Expect(sp.Timeline[1].Patch).To(HaveKey("spec"))
		e := sp.Expect
		Expect(e.Within.Duration).To(Equal(12 * time.Minute))
		Expect(e.Routes).To(Equal([]int{10, 20, 0}))
		Expect(*e.MaxCanaryWeight).To(Equal(20))
		Expect(e.Events).To(HaveLen(2))
		Expect(*e.HookCalls["pre-rollout"].Exact).To(BeEquivalentTo(1))
		Expect(*e.HookCalls["rollout"].Min).To(BeEquivalentTo(3))
		Expect(*e.FailedRequests.Max).To(BeEquivalentTo(5000))
	})

	It("accepts flagger.app/v1beta1 objects, rewrites them to aviary.dev and says so", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "flagger.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.FlaggerExact).To(BeTrue())
		Expect(ld.Canary.APIVersion).To(Equal("aviary.dev/v1beta1"))
		Expect(ld.Canary.Namespace).To(Equal("prod"))
		Expect(ld.Canary.Spec.Analysis.StepWeights).To(Equal([]int{5, 10, 50}))
		Expect(ld.AlertProviders).To(HaveLen(1))
		Expect(ld.AlertProviders[0].APIVersion).To(Equal("aviary.dev/v1beta1"))
		Expect(ld.AlertProviders[0].Spec.Channel).To(Equal("alerts"))
		Expect(ld.Warnings).To(BeEmpty())
	})

	It("warns about queries Flagger would fail at run time", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "warnings.yaml"))
		Expect(err).NotTo(HaveOccurred())
		pol := filepath.Join(loadData, "policies", "warnings.yaml")
		Expect(ld.Warnings).To(ContainElement(And(
			HavePrefix(pol+":45: MetricTemplate primary-ratio"),
			ContainSubstring(`function "primary" not defined`),
			HaveSuffix("Flagger would fail this check at run time"))))
		Expect(ld.Warnings).To(ContainElement(And(
			HavePrefix(pol+":53: MetricTemplate legacy-ratio"),
			ContainSubstring("query does not parse: 1:75: parse error: unclosed left parenthesis"))))
		Expect(ld.Warnings).To(ContainElement(And(
			HavePrefix(pol+":27: Canary podinfo: spec.analysis.metrics[2]"),
			ContainSubstring(`metric "no-interval" has no interval but MetricTemplate windowed uses {{ interval }}`))))
		Expect(ld.Warnings).To(ContainElement(And(
			HavePrefix(pol+":32: Canary podinfo: spec.analysis.metrics[3].templateRef"),
			ContainSubstring("MetricTemplate not-there.test is not among the policy objects"))))
		Expect(ld.Warnings).To(ContainElement(And(
			HavePrefix(pol+":36: Canary podinfo: spec.analysis.metrics[4].query"),
			ContainSubstring("query does not parse"))))
		Expect(ld.Warnings).NotTo(ContainElement(ContainSubstring("datadog-query")), "non-PromQL providers are not parsed")
		Expect(ld.Warnings).To(HaveLen(6))
	})

	It("rejects a file that is empty, or holds more than the scenario", func() {
		_, err := scenario.LoadFile(filepath.Join(loadData, "empty.yaml"))
		Expect(err).To(MatchError(ContainSubstring("testdata/load/empty.yaml: empty file")))
		_, err = scenario.LoadFile(filepath.Join(loadData, "multi.yaml"))
		Expect(err).To(MatchError(ContainSubstring("testdata/load/multi.yaml:9: a scenario file holds one document")))
		_, err = scenario.LoadFile(filepath.Join(loadData, "nope.yaml"))
		Expect(err).To(MatchError(ContainSubstring("testdata/load/nope.yaml: no such file or directory")))
		_, err = scenario.LoadFile(filepath.Join(loadData, "policies", "podinfo.yaml"))
		Expect(err).To(MatchError(ContainSubstring(`policies/podinfo.yaml:1: apiVersion: want aviary.dev/v1alpha1, got "aviary.dev/v1beta1"`)))
	})
})

var _ = Describe("LoadPaths", func() {
	It("finds scenarios recursively by kind, in lexical order, skipping policy files", func() {
		lds, err := scenario.LoadPaths([]string{filepath.Join(loadData, "suite")})
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, ld := range lds {
			names = append(names, ld.Scenario.Metadata.Name)
		}
		Expect(names).To(Equal([]string{"suite-a", "suite-b", "suite-c"}))
		Expect(lds[1].FlaggerExact).To(BeTrue())
		Expect(lds[1].Canary.Name).To(Equal("inline"))
		Expect(lds[2].Scenario.File).To(Equal(filepath.Join(loadData, "suite", "nested", "c.yaml")))
	})

	It("rejects two scenarios with the same name, naming both files", func() {
		lds, err := scenario.LoadPaths([]string{filepath.Join(loadData, "dup")})
		Expect(err).To(MatchError(ContainSubstring(`duplicate scenario name: testdata/load/dup/one.yaml and testdata/load/dup/two.yaml both define "suite-a"`)))
		Expect(lds).To(HaveLen(1))
	})

	It("reports every broken scenario of a directory and keeps the good ones", func() {
		lds, err := scenario.LoadPaths([]string{filepath.Join(loadData, "suite"), filepath.Join(loadData, "bad")})
		Expect(lds).To(HaveLen(3))
		Expect(err).To(HaveOccurred())
		lines := strings.Split(err.Error(), "\n")
		entries, _ := os.ReadDir(filepath.Join(loadData, "bad"))
		scenarios := 0
		for _, e := range entries {
			if !e.IsDir() {
				scenarios++
			}
		}
		// wrong-kind.yaml says kind: Scenari, so it is not a scenario file and is skipped.
		Expect(lines).To(HaveLen(scenarios-1), "one error per bad file, policy files skipped")
		Expect(err.Error()).NotTo(ContainSubstring("wrong-kind.yaml"))
		Expect(err.Error()).To(ContainSubstring("testdata/load/bad/invalid-yaml.yaml:6: invalid YAML"), "broken YAML with kind: Scenario is reported")
	})

	It("names a path that does not exist", func() {
		_, err := scenario.LoadPaths([]string{filepath.Join(loadData, "missing-dir")})
		Expect(err).To(MatchError(ContainSubstring("testdata/load/missing-dir")))
	})
})
