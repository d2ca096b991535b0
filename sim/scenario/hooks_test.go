package scenario_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("SelectEndpoint", func() {
	const loadTester = "http://flagger-loadtester.test/"
	byURL := scenario.WebhookEndpoint{URL: loadTester}
	byMetadata := scenario.WebhookEndpoint{Metadata: map[string]string{"type": "bash"}}
	byURLAndMetadata := scenario.WebhookEndpoint{URL: loadTester, Metadata: map[string]string{"type": "cmd"}}
	byName := scenario.WebhookEndpoint{Name: "acceptance-test"}
	acceptance := scenario.WebhookCall{Name: "acceptance-test", URL: loadTester, Metadata: map[string]string{"type": "bash", "cmd": "curl"}}
	load := scenario.WebhookCall{Name: "load-test", URL: loadTester, Metadata: map[string]string{"type": "cmd", "cmd": "hey"}}
	other := scenario.WebhookCall{Name: "gate", URL: "http://gate.test/"}

	DescribeTable("answers a call with the most specific entry that selects it",
		func(hooks []scenario.WebhookEndpoint, call scenario.WebhookCall, want int) {
			Expect(scenario.SelectEndpoint(hooks, call)).To(Equal(want))
		},
		Entry("no entry: not simulated", nil, acceptance, -1),
		Entry("by URL", []scenario.WebhookEndpoint{byURL}, acceptance, 0),
		Entry("a URL is compared as the client requests it",
			[]scenario.WebhookEndpoint{{URL: "HTTP://flagger-loadtester.test/"}}, acceptance, 0),
		Entry("another URL is not selected", []scenario.WebhookEndpoint{byURL}, other, -1),
		Entry("by name, over the URL, in either order", []scenario.WebhookEndpoint{byName, byURL}, acceptance, 0),
		Entry("by name, over the URL, listed after it", []scenario.WebhookEndpoint{byURL, byName}, acceptance, 1),
		Entry("another name falls back to the URL", []scenario.WebhookEndpoint{byURL, byName}, load, 0),
		Entry("by metadata, over the URL", []scenario.WebhookEndpoint{byURL, byMetadata}, acceptance, 1),
		Entry("metadata pairs must all be held, with the same values", []scenario.WebhookEndpoint{byURL, byMetadata}, load, 0),
		Entry("url and metadata both must match", []scenario.WebhookEndpoint{byURLAndMetadata}, load, 0),
		Entry("url and metadata: a URL match alone is not enough", []scenario.WebhookEndpoint{byURLAndMetadata}, acceptance, -1),
		Entry("a name over metadata", []scenario.WebhookEndpoint{byMetadata, byName}, acceptance, 1),
		Entry("a name and a URL that does not match: not selected",
			[]scenario.WebhookEndpoint{{Name: "acceptance-test", URL: "http://gate.test/"}, byURL}, acceptance, 1),
		Entry("equally specific entries (refused by the loader for the Canary's hooks): the first",
			[]scenario.WebhookEndpoint{byMetadata, {Metadata: map[string]string{"cmd": "curl"}}}, acceptance, 0),
		Entry("an entry without selectors selects nothing", []scenario.WebhookEndpoint{{}}, acceptance, -1),
	)

	It("is the rule the loader checks the Canary's webhooks with", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "loadtester.yaml"))
		Expect(err).NotTo(HaveOccurred())
		hooks := ld.Scenario.Spec.Hooks
		selected := map[string]int{}
		for _, w := range ld.Canary.Spec.Analysis.Webhooks {
			selected[w.Name] = scenario.SelectEndpoint(hooks, scenario.WebhookCall{
				Name: w.Name, URL: scenario.RequestURL(w.URL), Metadata: *w.Metadata})
		}
		Expect(selected).To(Equal(map[string]int{
			"acceptance-test": 1, // url + metadata {type: bash}, over the URL alone
			"load-test":       0, // the URL alone: its metadata is {type: cmd}
			"smoke-test":      2, // its name, over url + metadata {type: bash}
		}))
	})
})

var _ = Describe("alert checks at load time", func() {
	It("warn about entries Flagger would send nothing to", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "loadtester.yaml"))
		Expect(err).NotTo(HaveOccurred())
		pol := filepath.Join(loadData, "policies", "loadtester.yaml")
		Expect(ld.Warnings).To(ConsistOf(
			And(HavePrefix(pol+":38: Canary podinfo: spec.analysis.alerts[1].providerRef: "),
				ContainSubstring(`AlertProvider teams.test is not among the policy objects: Flagger would log "alert provider teams.test error: ... not found"`)),
			And(HavePrefix(pol+":39: Canary podinfo: spec.analysis.alerts[2]: "),
				ContainSubstring(`alert "quiet" has no severity, so it receives no alert`)),
		))
		Expect(ld.Scenario.Spec.Expect.Alerts).To(HaveKey("on-call"))
		Expect(*ld.Scenario.Spec.Expect.Alerts["on-call"].Count.Exact).To(BeEquivalentTo(1))
	})
})
