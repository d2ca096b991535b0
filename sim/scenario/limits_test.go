package scenario_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
)

// limitsScenario is a valid scenario whose spec ends with the given lines (each
// indented as a key of spec); they start at line limitsLine.
func limitsScenario(spec ...string) string {
	return `apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: limits
spec:
  policy:
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: podinfo, namespace: test}
        spec:
          targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
          service: {port: 9898}
          analysis: {interval: 1m, threshold: 2, maxWeight: 20, stepWeight: 10}
` + strings.Join(spec, "\n") + "\n"
}

// limitsLine is the line of limitsScenario's first spec line.
const limitsLine = 15

// flow is a YAML flow list of n items, item(i) each.
func flow(n int, item func(i int) string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item(i)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// Why each limit is there, as the messages say it (sim/scenario/limits.go,
// sim/world/limits.go).
const (
	whyDuration   = "(a run lasts at most a year of virtual time (spec.until), and nothing in it lies beyond its end)"
	whyScrape     = "(Prometheus keeps millisecond timestamps and is configured in seconds; every scrape serves and writes every pod)"
	whyReplicas   = "(Kubernetes allows 2^31-1, a laptop far fewer: each pod writes 37 series per response code (about 1 KB each) and is served at every scrape; 1,000 replicas rolled out once cost about 300 MB and 0.5 s)"
	whyRPS        = "(a rate costs no work, but counts must stay exact in float64 (below 2^53): a million a second for a year is 3.2e13)"
	whyPerRequest = "(a megabyte a request is plenty, and a counter must stay finite over the longest run)"
	whyFaults     = "(every scrape looks at every fault window)"
	whyCounters   = "(each is a series on every pod, written at every scrape)"
	whySeries     = "(they are expanded before the run and held in memory (24 bytes a sample); a day of 1s scrapes needs 86,400 a series)"
	whyTimeline   = "(each entry writes to the API and may start a rollout; one after the end would never happen)"
	whyHooks      = "(every webhook call looks through them)"
	whyPatterns   = "(each is matched against every event or alert of the run)"
	whyObjects    = "(each is decoded, checked and created before the run; a Canary and its neighbours in a repository are tens)"
	whySamples    = "(a run's time: about 40 ns a sample (measured), so 10^9 take about 40 s)"
	whyPodSeries  = "(a run's memory: each rollout starts new pods (the canary's, then the primary's) whose series, about 1 KB each (measured), keep their labels to the end (their samples only as long as a query can read them))"
)

// configMaps are n ConfigMaps as more inline policy objects (after the Canary), one a
// line.
func configMaps(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c%d}}", i))
	}
	return out
}

var _ = Describe("limits", func() {
	// A limitCase is a scenario's last spec lines and the one problem they are, at a
	// line of the scenario file (0: none; the scenario loads).
	type limitCase struct {
		spec  []string
		line  int
		field string
		msg   string
	}
	DescribeTable("each bound: the value at it loads, the value past it is one problem naming the file, the line, the field, the limit and why",
		func(c limitCase) {
			file := filepath.Join(GinkgoT().TempDir(), "s.yaml")
			Expect(os.WriteFile(file, []byte(limitsScenario(c.spec...)), 0o644)).To(Succeed())
			ld, err := scenario.LoadFile(file)
			if c.line == 0 {
				Expect(err).NotTo(HaveOccurred())
				Expect(ld).NotTo(BeNil())
				return
			}
			Expect(err).To(MatchError(fmt.Sprintf(`scenario "limits": %s:%d: %s: %s`, file, c.line, c.field, c.msg)))
		},
		Entry("spec.until at a year", limitCase{spec: []string{"  until: 8760h"}}),
		Entry("spec.until past a year", limitCase{spec: []string{"  until: 8761h"}, line: limitsLine, field: "spec.until",
			msg: "8761h is longer than 8760h " + whyDuration}),
		Entry("a fault's from past a year", limitCase{spec: []string{"  world:", "    faults: [{from: 8760h1s, rps: 0}]"}, line: limitsLine + 1,
			field: "spec.world.faults[0].from", msg: "8760h0m1s is longer than 8760h " + whyDuration}),
		Entry("startupDelay past a year", limitCase{spec: []string{"  target: {startupDelay: 8761h}"}, line: limitsLine,
			field: "spec.target.startupDelay", msg: "8761h is longer than 8760h " + whyDuration}),

		Entry("scrapeInterval at 1s", limitCase{spec: []string{"  world: {scrapeInterval: 1s}"}}),
		Entry("scrapeInterval below 1s", limitCase{spec: []string{"  world: {scrapeInterval: 999ms}"}, line: limitsLine,
			field: "spec.world.scrapeInterval", msg: "999ms is below 1s " + whyScrape}),
		Entry("scrapeInterval 1µs", limitCase{spec: []string{"  world: {scrapeInterval: 1us}"}, line: limitsLine,
			field: "spec.world.scrapeInterval", msg: "1µs is below 1s " + whyScrape}),
		Entry("scrapeInterval not in whole milliseconds", limitCase{spec: []string{"  world: {scrapeInterval: 1s500us}"}, line: limitsLine,
			field: "spec.world.scrapeInterval", msg: "1.0005s is not a whole number of milliseconds " + whyScrape}),

		Entry("replicas at 1000", limitCase{spec: []string{"  target: {replicas: 1000}"}}),
		Entry("replicas past 1000", limitCase{spec: []string{"  target: {replicas: 1001}"}, line: limitsLine,
			field: "spec.target.replicas", msg: "1001 is more than 1,000 " + whyReplicas}),
		Entry("replicas 1000000", limitCase{spec: []string{"  target: {replicas: 1000000}"}, line: limitsLine,
			field: "spec.target.replicas", msg: "1000000 is more than 1,000 " + whyReplicas}),

		Entry("rps at a million", limitCase{spec: []string{"  world: {rps: 1000000, directRps: 1000000, faults: [{rps: 1000000}]}"}}),
		Entry("rps past a million", limitCase{spec: []string{"  world: {rps: 1000001}"}, line: limitsLine,
			field: "spec.world.rps", msg: "1.000001e+06 is more than 1,000,000 " + whyRPS}),
		Entry("directRps past a million", limitCase{spec: []string{"  world: {directRps: 2e6}"}, line: limitsLine,
			field: "spec.world.directRps", msg: "2e+06 is more than 1,000,000 " + whyRPS}),
		Entry("a fault's rps past a million", limitCase{spec: []string{"  world:", "    faults: [{rps: 1000001}]"}, line: limitsLine + 1,
			field: "spec.world.faults[0].rps", msg: "1.000001e+06 is more than 1,000,000 " + whyRPS}),
		Entry("perRequest at a million", limitCase{spec: []string{"  world: {counters: [{name: c, perRequest: {'*': 1000000}}]}"}}),
		Entry("perRequest past a million", limitCase{spec: []string{"  world:", "    counters: [{name: c, perRequest: {'*': 1000001}}]"}, line: limitsLine + 1,
			field: `spec.world.counters[0].perRequest["*"]`, msg: "1.000001e+06 is more than 1,000,000 " + whyPerRequest}),

		Entry("100 faults", limitCase{spec: []string{"  world:", "    faults: " + flow(100, func(int) string { return "{rps: 1}" })}}),
		Entry("101 faults", limitCase{spec: []string{"  world:", "    faults: " + flow(101, func(int) string { return "{rps: 1}" })}, line: limitsLine + 1,
			field: "spec.world.faults", msg: "101 entries, more than 100 " + whyFaults}),
		Entry("100 counters", limitCase{spec: []string{"  world:", "    counters: " + flow(100, func(i int) string { return fmt.Sprintf("{name: c%d}", i) })}}),
		Entry("101 counters", limitCase{spec: []string{"  world:", "    counters: " + flow(101, func(i int) string { return fmt.Sprintf("{name: c%d}", i) })}, line: limitsLine + 1,
			field: "spec.world.counters", msg: "101 entries, more than 100 " + whyCounters}),
		Entry("100 series", limitCase{spec: []string{"  world:", "    series: " + flow(100, func(i int) string { return fmt.Sprintf("{series: 's%d', values: '1'}", i) })}}),
		Entry("101 series", limitCase{spec: []string{"  world:", "    series: " + flow(101, func(i int) string { return fmt.Sprintf("{series: 's%d', values: '1'}", i) })}, line: limitsLine + 1,
			field: "spec.world.series", msg: "101 entries, more than 100 " + whySeries}),
		Entry("a series of a million samples", limitCase{spec: []string{"  world:", "    series: [{series: s, values: '0x999999'}]"}}),
		Entry("a series past a million samples", limitCase{spec: []string{"  world:", "    series: [{series: s, values: '0x1000000'}]"}, line: limitsLine + 1,
			field: "spec.world.series[0].values", msg: `bad values "0x1000000" (want promtool's expanding notation such as '0+2x100'): series "s" values "0x1000000": values expand to 1000001 samples, more than 1000000`}),
		Entry("series past a million samples in all", limitCase{spec: []string{"  world:", "    series: [{series: a, values: '0x600000'}, {series: b, values: '0x600000'}]"}, line: limitsLine + 1,
			field: "spec.world.series", msg: "the values expand to more than 1,000,000 samples in all (1,200,000 at least) " + whySeries}),
		Entry("a repeat count of 2^32, refused before it is expanded", limitCase{spec: []string{"  world:", "    series: [{series: a, values: '1x4294967296'}]"}, line: limitsLine + 1,
			field: "spec.world.series", msg: "the values expand to more than 1,000,000 samples in all (4,294,967 at least) " + whySeries}),
		Entry("a series written twice", limitCase{spec: []string{"  world:", "    series:", "      - {series: 'up{a=\"1\"}', values: '1'}", "      - {series: 'up{a=\"1\"}', values: '2'}"},
			line: limitsLine + 3, field: "spec.world.series[1].series", msg: `{__name__="up", a="1"} is series[0] too: give each series once`}),
		Entry("two counters of one name", limitCase{spec: []string{"  world:", "    counters: [{name: c}, {name: c}]"}, line: limitsLine + 1,
			field: "spec.world.counters[1].name", msg: `"c" is counters[0]'s name too: both would write the same series of every pod`}),

		Entry("100 timeline entries", limitCase{spec: []string{"  timeline: " + flow(100, func(int) string { return "{at: 1m, image: app:2}" })}}),
		Entry("101 timeline entries", limitCase{spec: []string{"  timeline: " + flow(101, func(int) string { return "{at: 1m, image: app:2}" })}, line: limitsLine,
			field: "spec.timeline", msg: "101 entries, more than 100 " + whyTimeline}),
		Entry("100 hooks of 100 responses", limitCase{spec: []string{"  hooks: " + flow(100, func(i int) string {
			return fmt.Sprintf("{url: 'http://h%d/', responses: %s}", i, flow(100, func(j int) string { return fmt.Sprintf("{from: %ds}", j) }))
		})}}),
		Entry("101 hooks", limitCase{spec: []string{"  hooks: " + flow(101, func(i int) string { return fmt.Sprintf("{url: 'http://h%d/', responses: [{}]}", i) })}, line: limitsLine,
			field: "spec.hooks", msg: "101 entries, more than 100 " + whyHooks}),
		Entry("101 responses", limitCase{spec: []string{"  hooks:", "    - url: http://h/", "      responses: " + flow(101, func(j int) string { return fmt.Sprintf("{from: %ds}", j) })},
			line: limitsLine + 2, field: "spec.hooks[0].responses", msg: "101 entries, more than 100 " + whyHooks}),
		Entry("100 event patterns", limitCase{spec: []string{"  expect:", "    events: " + flow(100, func(i int) string { return fmt.Sprintf("e%d", i) })}}),
		Entry("101 event patterns", limitCase{spec: []string{"  expect:", "    events: " + flow(101, func(i int) string { return fmt.Sprintf("e%d", i) })}, line: limitsLine + 1,
			field: "spec.expect.events", msg: "101 entries, more than 100 " + whyPatterns}),
		Entry("101 absent event patterns", limitCase{spec: []string{"  expect:", "    absentEvents: " + flow(101, func(i int) string { return fmt.Sprintf("e%d", i) })}, line: limitsLine + 1,
			field: "spec.expect.absentEvents", msg: "101 entries, more than 100 " + whyPatterns}),

		Entry("100 policy objects", limitCase{spec: configMaps(99)}),
		Entry("101 policy objects", limitCase{spec: configMaps(100), line: 7,
			field: "spec.policy.objects", msg: "101 entries, more than 100 " + whyObjects}),
		Entry("a policy Deployment of 1001 replicas", limitCase{spec: []string{
			"      - {apiVersion: apps/v1, kind: Deployment, metadata: {name: other}, spec: {replicas: 1001, selector: {matchLabels: {app: o}}, template: {metadata: {labels: {app: o}}, spec: {containers: [{name: o, image: o}]}}}}"},
			line: limitsLine, field: "spec.policy.objects[1] (Deployment other): spec.replicas", msg: "1001 is more than 1,000 " + whyReplicas}),
		Entry("a HorizontalPodAutoscaler of minReplicas 1001", limitCase{spec: []string{
			"      - {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h}, spec: {minReplicas: 1001, maxReplicas: 2000, scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}}}"},
			line: limitsLine, field: "spec.policy.objects[1] (HorizontalPodAutoscaler h): spec.minReplicas", msg: "1001 is more than 1,000 " + whyReplicas}),

		// what the API server would refuse when the run writes it, found at load time
		Entry("a timeline ConfigMap key the API server refuses", limitCase{spec: append(configMaps(1), "  timeline:",
			"    - {at: 1m, configMap: {name: c0, data: {'bad key!': x}}}"), line: limitsLine + 2, field: `spec.timeline[0].configMap.data["bad key!"]`,
			msg: `invalid key "bad key!": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`}),
		Entry("a timeline ConfigMap of more than 1 MiB", limitCase{spec: append(configMaps(1), "  timeline:",
			"    - {at: 1m, configMap: {name: c0, data: {big: "+strings.Repeat("x", 1<<20+1)+"}}}"), line: limitsLine + 2, field: "spec.timeline[0].configMap",
			msg: "its data is 1048577 bytes, more than the 1048576 a ConfigMap or Secret may hold (the API server refuses it)"}),
		Entry("a timeline image with whitespace", limitCase{spec: []string{"  timeline: [{at: 1m, image: ' app:2'}]"}, line: limitsLine,
			field: "spec.timeline[0].image", msg: `" app:2" has leading or trailing whitespace (the API server refuses such an image)`}),

		// (until / 15s + 1) scrapes × 2 × 1000 pods × 37 series (one code, 200)
		Entry("samples at the bound: 13,513 scrapes of 74,000 series", limitCase{spec: []string{"  target: {replicas: 1000}", "  until: 56h18m"}}),
		Entry("samples past the bound", limitCase{spec: []string{"  target: {replicas: 1000}", "  until: 56h18m15s"}, line: limitsLine + 1, field: "spec.until",
			msg: "56h18m15s at scrapeInterval 15s is 13,514 scrapes of 74,000 series (2000 pods × 37 series, and 0 of spec.world.series): 1,000,036,000 samples, more than 1,000,000,000 " +
				whySamples + "; shorten spec.until, lengthen spec.world.scrapeInterval or lower spec.target.replicas"}),
		Entry("a year at 1s scrapes", limitCase{spec: []string{"  until: 8760h", "  world: {scrapeInterval: 1s}"}, line: limitsLine, field: "spec.until",
			msg: "8760h at scrapeInterval 1s is 31,536,001 scrapes of 74 series (2 pods × 37 series, and 0 of spec.world.series): 2,333,664,074 samples, more than 1,000,000,000 " +
				whySamples + "; shorten spec.until, lengthen spec.world.scrapeInterval or lower spec.target.replicas"}),
		// 2 × 1000 pods × (1 + timeline entries) × 37 series
		Entry("pod series at the bound: 12 rollouts of 1000 replicas", limitCase{spec: []string{"  target: {replicas: 1000}",
			"  timeline: " + flow(12, func(int) string { return "{at: 1m, image: app:2}" })}}),
		Entry("pod series past the bound", limitCase{spec: []string{"  target: {replicas: 1000}",
			"  timeline: " + flow(13, func(int) string { return "{at: 1m, image: app:2}" })}, line: limitsLine, field: "spec.target.replicas",
			msg: "1000 replicas and 13 timeline entries may start 28,000 pods of 37 series: 1,036,000 series, more than 1,000,000 " +
				whyPodSeries + "; lower the replicas or split the timeline into scenarios"}),
	)
})

var _ = Describe("the limits' documentation", func() {
	readDoc := func(path string) string {
		data, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		return string(data)
	}

	It("is the README's Limits table, row for row", func() {
		readme := readDoc("../../README.md")
		_, section, found := strings.Cut(readme, "\n## Limits\n")
		Expect(found).To(BeTrue(), "README.md has a Limits section")
		section, _, _ = strings.Cut(section, "\n## ")
		_, table, found := strings.Cut(section, "| field | range (default) | why |\n|---|---|---|\n")
		Expect(found).To(BeTrue(), "the Limits section has the table")
		table, _, _ = strings.Cut(table, "\n\n")
		var want []string
		for _, l := range scenario.Limits() {
			want = append(want, fmt.Sprintf("| %s | %s | %s |", l.Field, l.Range, l.Why))
		}
		Expect(strings.Split(strings.TrimSuffix(table, "\n"), "\n")).To(Equal(want))
	})

	It("states each range in docs/scenario-format.md", func() {
		format := strings.Join(strings.Fields(readDoc("../../docs/scenario-format.md")), " ")
		for _, l := range scenario.Limits() {
			Expect(format).To(ContainSubstring(l.Range), l.Field)
		}
	})
})
