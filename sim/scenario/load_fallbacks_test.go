package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

// policyBase is a policy file's Canary up to its service block (line 11), then what
// a case appends, from line 12.
const policyBase = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
`

// loadPolicy writes a scenario whose policy file is policyBase followed by rest,
// and loads it; it returns the policy file's path.
func loadPolicy(rest string) (policy string, ld *scenario.Loaded, err error) {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	policy = filepath.Join(dir, "policy.yaml")
	Expect(os.WriteFile(policy, []byte(policyBase+rest), 0o644)).To(Succeed())
	file := filepath.Join(dir, "scenario.yaml")
	Expect(os.WriteFile(file, []byte(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata: {name: fallbacks}
spec:
  policy: {files: [policy.yaml]}
  target: {replicas: 2}
`), 0o644)).To(Succeed())
	ld, err = scenario.LoadFile(file)
	return policy, ld, err
}

// loadErrorAt checks that a load failed with its first error in the Canary of the
// policy file, at line and field, and returns it.
func loadErrorAt(policy string, _ *scenario.Loaded, err error) func(line int, field string) *scenario.LoadError {
	return func(line int, field string) *scenario.LoadError {
		GinkgoHelper()
		var le *scenario.LoadError
		Expect(errors.As(err, &le)).To(BeTrue(), "%v", err)
		Expect(le.File).To(Equal(policy))
		Expect(le.Line).To(Equal(line))
		Expect(le.Object).To(Equal("Canary podinfo"))
		Expect(le.Path).To(Equal(field))
		return le
	}
}

const analysisBlock = `  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 20
    stepWeight: 10
`

var _ = Describe("the Services Flagger generates from the Canary", func() {
	DescribeTable("are held against the API server's rules at load time, at the Canary's field",
		func(service string, line int, field, msg string) {
			le := loadErrorAt(loadPolicy(service+analysisBlock))(line, field)
			Expect(le.Msg).To(HavePrefix("the API server refuses the Services Flagger generates from it ("))
			Expect(le.Msg).To(ContainSubstring("Flagger would retry on every tick and never initialize: "))
			Expect(le.Msg).To(HaveSuffix(msg))
		},
		Entry("port -1: the port and, defaulted from it, the targetPort", "    port: -1\n", 12, "spec.service.port",
			`Service "podinfo-canary" is invalid: [spec.ports[0].port: Invalid value: -1: must be between 1 and 65535, inclusive, `+
				`spec.ports[0].targetPort: Invalid value: -1: must be between 1 and 65535, inclusive]`),
		Entry("port 0", "    port: 0\n", 12, "spec.service.port", `spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]`),
		Entry("a targetPort out of range", "    port: 80\n    targetPort: 65536\n", 13, "spec.service.targetPort",
			`Service "podinfo-canary" is invalid: spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive`),
		Entry("a targetPort that is no port name", "    port: 80\n    targetPort: web_1\n", 13, "spec.service.targetPort",
			`spec.ports[0].targetPort: Invalid value: "web_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`),
		Entry("a port name that is no DNS label", "    port: 80\n    portName: HTTP\n", 13, "spec.service.portName",
			`spec.ports[0].name: Invalid value: "HTTP": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', `+
				`and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`),
		Entry("a service name that is no DNS-1035 label", "    name: 1podinfo\n    port: 80\n", 12, "spec.service.name",
			`Service "1podinfo-canary" is invalid: metadata.name: Invalid value: "1podinfo-canary": a DNS-1035 label must consist of lower case alphanumeric characters or '-', `+
				`start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`),
		Entry("a label only the apex gets", "    port: 80\n    apex:\n      labels:\n        \"a b\": x\n", 14, "spec.service.apex.labels",
			`Service "podinfo" is invalid: metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', `+
				`and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`),
	)

	It("names only the Services the field reaches", func() {
		_, _, err := loadPolicy("    port: 80\n    apex:\n      labels:\n        \"a b\": x\n" + analysisBlock)
		Expect(err).To(MatchError(ContainSubstring("generates from it (podinfo), so")))
	})

	It("admits what the API server admits", func() {
		_, ld, err := loadPolicy("    port: 65535\n    targetPort: http\n    portName: grpc-web\n" + analysisBlock)
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Warnings).To(BeEmpty())
	})
})

var _ = DescribeTable("a Canary without what Flagger's CRD requires of its analysis is refused, not read as 0",
	func(analysis, field string, line int) {
		le := loadErrorAt(loadPolicy("    port: 80\n"+analysis))(line, field)
		Expect(le.Msg).To(HavePrefix("required: Flagger's CRD requires it"))
	},
	Entry("no threshold", "  analysis:\n    interval: 1m\n    stepWeight: 10\n", "spec.analysis.threshold", 13),
	Entry("no interval", "  analysis:\n    threshold: 1\n    stepWeight: 10\n", "spec.analysis.interval", 13),
)

var _ = Describe("warnings where Flagger reads the policy otherwise", func() {
	It("name the file, the line and the field, in the words of what Flagger does", func() {
		policy, ld, err := loadPolicy(`    port: 80
  analysis:
    interval: 10sec
    threshold: 0
    maxWeight: 25
    stepWeight: 10
    canaryReadyThreshold: 150
    metrics:
      - name: request-success-rate
        interval: 1m30x
        thresholdRange: {min: 99}
    webhooks:
      - name: load-test
        url: http://loadtester/
        timeout: 5sec
`)
		Expect(err).NotTo(HaveOccurred())
		at := func(line int, rest string) string {
			return policy + ":" + strconv.Itoa(line) + ": Canary podinfo: " + rest
		}
		Expect(ld.Warnings).To(Equal([]string{
			at(14, `spec.analysis.interval: "10sec" is not a Go duration (time: unknown unit "sec" in duration "10sec"): Flagger uses 1m`),
			at(15, `spec.analysis.threshold: 0 is below 1: Flagger uses 1 (it rolls back at the first failed check)`),
			at(16, `spec.analysis.maxWeight: Flagger's canary weights go 10, 20, 30: it steps past 25, since it compares the weight with it before each step, and promotes from 30`),
			at(26, `spec.analysis.webhooks[0].timeout: "5sec" is not a Go duration (time: unknown unit "sec" in duration "5sec"): Flagger fails every call of webhook "load-test" without sending it`),
			at(18, `spec.analysis.canaryReadyThreshold: 150% of the target's 2 replicas is 3: Flagger waits for more available replicas than there are: `+
				`the canary never counts as ready, so its analysis never runs (every tick halts)`),
			at(21, `spec.analysis.metrics[0]: request-success-rate query with interval "1m30x" does not parse: 1:154: parse error: bad number or duration syntax: "1m30" `+
				`— Flagger would fail this check at run time`),
		}))
	})

	It("warn of a template whose provider Flagger cannot build, at the template", func() {
		policy, ld, err := loadPolicy("    port: 80\n" + analysisBlock + `    metrics:
      - name: errors
        templateRef: {name: errors}
        thresholdRange: {max: 1}
      - name: secret
        templateRef: {name: secret}
        thresholdRange: {max: 1}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: errors, namespace: test}
spec:
  provider:
    type: prometheus
  query: vector(1)
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: secret, namespace: test}
spec:
  provider:
    type: prometheus
    address: http://prometheus:9090
    secretRef: {name: prom-auth}
  query: vector(1)
`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Warnings).To(Equal([]string{
			policy + ":30: MetricTemplate errors: spec.provider: Flagger cannot build its prometheus client and fails every check of metric \"errors\": " +
				"Metric template errors.test provider prometheus error: prometheus address  is not a valid URL",
			policy + ":41: MetricTemplate secret: spec.provider.secretRef: Secret prom-auth.test is not among the policy objects: Flagger fails every check of metric \"secret\" " +
				"(\"Metric template secret.test secret prom-auth error: ... not found\")",
		}))
	})

	It("warn of an alert provider Flagger cannot post to, at the Canary's alert", func() {
		policy, ld, err := loadPolicy("    port: 80\n" + analysisBlock + `    alerts:
      - {name: on-call, severity: error, providerRef: {name: slack}}
      - {name: team, severity: info, providerRef: {name: teams}}
      - {name: quiet, severity: info, providerRef: {name: nowhere}}
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: slack, namespace: test}
spec: {type: slack, address: "hooks.slack.com/services/x"}
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: teams, namespace: test}
spec: {type: msteams, secretRef: {name: teams-url}}
---
apiVersion: v1
kind: Secret
metadata: {name: teams-url, namespace: test}
stringData: {url: "https://teams"}
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: nowhere, namespace: test}
spec: {type: slack, secretRef: {name: empty}}
---
apiVersion: v1
kind: Secret
metadata: {name: empty, namespace: test}
stringData: {address: ""}
`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Warnings).To(Equal([]string{
			policy + `:19: Canary podinfo: spec.analysis.alerts[0].providerRef: AlertProvider slack.test: Flagger would log "alert provider slack.test error: invalid Slack hook URL hooks.slack.com/services/x" and send alert "on-call" nothing`,
			policy + `:20: Canary podinfo: spec.analysis.alerts[1].providerRef: AlertProvider teams.test: Flagger would log "alert provider teams.test secret does not contain an address" and send alert "team" nothing`,
			policy + `:21: Canary podinfo: spec.analysis.alerts[2].providerRef: AlertProvider nowhere.test: its address is empty, so Flagger's notifier posts alert "quiet" nowhere, without a word`,
		}))
	})
})
