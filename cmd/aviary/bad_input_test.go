package main

import (
	"fmt"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// badInput is one invalid invocation and the useful parts its error must name.
type badInput struct {
	args []string
	// file is the file the problem is in ("" when the error is not about a file).
	file string
	// line is the 1-based line the error must name in file (0: the error names none).
	line int
	// field is the field path the error must name ("" when not about a field).
	field string
	// says are further fragments the message must hold (what is wrong, a hint).
	says []string
}

const bad = "testdata/bad"

func badFile(name string) string { return filepath.Join(bad, name) }

var _ = Describe("bad input", func() {
	DescribeTable("exits 2 naming the file, the line and the field, and prints no summary",
		func(in badInput) {
			res := invokeCLI(in.args...)
			Expect(res.code).To(Equal(exitInvalid), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			Expect(res.stdout).To(BeEmpty(), "nothing runs on invalid input")
			Expect(res.stderr).To(HavePrefix("aviary: "))
			Expect(res.stderr).NotTo(ContainSubstring("panic"))
			Expect(res.stderr).NotTo(ContainSubstring("goroutine "))
			switch {
			case in.line > 0:
				Expect(res.stderr).To(ContainSubstring(fmt.Sprintf("%s:%d: ", in.file, in.line)))
			case in.file != "":
				Expect(res.stderr).To(ContainSubstring(in.file + ": "))
			}
			if in.field != "" {
				Expect(res.stderr).To(ContainSubstring(" " + in.field + ": "))
			}
			for _, s := range in.says {
				Expect(res.stderr).To(ContainSubstring(s))
			}
		},
		Entry("unknown key at the top level", badInput{
			args: []string{"test", badFile("unknown-key-top.yaml")},
			file: badFile("unknown-key-top.yaml"), line: 9, field: "expect",
			says: []string{`scenario "unknown-key-top"`, "unknown field"},
		}),
		Entry("unknown key nested in a list", badInput{
			args: []string{"test", badFile("unknown-key-nested.yaml")},
			file: badFile("unknown-key-nested.yaml"), line: 10, field: "spec.world.faults[0].form",
			says: []string{"unknown field", "did you mean from?"},
		}),
		Entry("wrong type", badInput{
			args: []string{"test", badFile("wrong-type.yaml")},
			file: badFile("wrong-type.yaml"), line: 10, field: "spec.world.rps",
			says: []string{`want a number, got "lots"`},
		}),
		Entry("wrong type through aviary run", badInput{
			args: []string{"run", badFile("wrong-type.yaml")},
			file: badFile("wrong-type.yaml"), line: 10, field: "spec.world.rps",
			says: []string{`want a number, got "lots"`},
		}),
		Entry("bad duration", badInput{
			args: []string{"test", badFile("bad-duration.yaml")},
			file: badFile("bad-duration.yaml"), line: 10, field: "spec.until",
			says: []string{`bad duration "5q"`, "want a Go duration such as 30s or 5m"},
		}),
		Entry("missing policy file", badInput{
			args: []string{"test", badFile("missing-policy.yaml")},
			file: badFile("missing-policy.yaml"), line: 9, field: "spec.policy.files[1]",
			says: []string{badFile("policies/does-not-exist.yaml") + " not found", "relative to the scenario file"},
		}),
		Entry("Canary without targetRef", badInput{
			args: []string{"test", badFile("canary-without-targetref.yaml")},
			file: badFile("canary-without-targetref.yaml"), line: 11, field: "spec.targetRef.name",
			says: []string{"spec.policy.objects[0] (Canary podinfo)", "required"},
		}),
		Entry("scenario without a Canary", badInput{
			args: []string{"test", badFile("no-canary.yaml")},
			file: badFile("no-canary.yaml"), line: 6, field: "spec.policy",
			says: []string{"no Canary found"},
		}),
		Entry("unknown kind in the policy file", badInput{
			args: []string{"test", badFile("unknown-policy-kind.yaml")},
			file: badFile("policies/unknown-kind.yaml"), line: 13, field: "kind",
			says: []string{
				`scenario "unknown-policy-kind" (` + badFile("unknown-policy-kind.yaml") + ")",
				`"CanaryTemplate" is not a kind a policy may hold; aviary accepts Canary (flagger.app/v1beta1 or aviary.dev/v1beta1), `,
				"Deployment (apps/v1), Service (v1), HorizontalPodAutoscaler (autoscaling/v2), ConfigMap (v1), Secret (v1)",
			},
		}),
		Entry("a v1alpha1 Canary: Flagger 1.x no longer serves it", badInput{
			args: []string{"test", badFile("v1alpha1-canary.yaml")},
			file: "testdata/convert/podinfo-2018.yaml", line: 103, field: "apiVersion",
			says: []string{"Canary podinfo", "flagger.app/v1alpha1: Flagger 1.x no longer serves this API",
				`"aviary convert testdata/convert/podinfo-2018.yaml" prints the v1beta1 equivalent`},
		}),
		Entry("a provider aviary does not route", badInput{
			args: []string{"run", badFile("provider-nginx.yaml")},
			file: badFile("provider-nginx.yaml"), line: 12, field: "spec.provider",
			says: []string{`provider "nginx" is not supported by aviary yet (supported: istio, kubernetes, traefik)`},
		}),
		Entry("bad regular expression in expect.events", badInput{
			args: []string{"test", badFile("bad-event-regex.yaml")},
			file: badFile("bad-event-regex.yaml"), line: 12, field: "spec.expect.events[1]",
			says: []string{"bad regular expression", "missing closing )"},
		}),
		Entry("a hook name the Canary does not have", badInput{
			args: []string{"run", badFile("unknown-hook-name.yaml")},
			file: badFile("unknown-hook-name.yaml"), line: 11, field: "spec.hooks[1].name",
			says: []string{`no webhook named "acceptance-tests" (did you mean acceptance-test?)`,
				"Canary podinfo's webhooks: acceptance-test (pre-rollout, http://flagger-loadtester.test/, metadata {cmd: ",
				"load-test (rollout, http://flagger-loadtester.test/"},
		}),
		Entry("duplicate scenario names in one directory", badInput{
			args: []string{"test", badFile("duplicate-names")},
			file: badFile("duplicate-names/b.yaml"), line: 4, field: "metadata.name",
			says: []string{badFile("duplicate-names/a.yaml") + " and ", `both define "same-name"`, "duplicate scenario name"},
		}),
		Entry("a scrape interval below Prometheus' resolution", badInput{
			args: []string{"test", badFile("scrape-interval-1us.yaml")},
			file: badFile("scrape-interval-1us.yaml"), line: 10, field: "spec.world.scrapeInterval",
			says: []string{"1µs is below 1s (Prometheus keeps millisecond timestamps"},
		}),
		Entry("a million replicas", badInput{
			args: []string{"run", badFile("replicas-million.yaml")},
			file: badFile("replicas-million.yaml"), line: 9, field: "spec.target.replicas",
			says: []string{"1000000 is more than 1,000 (Kubernetes allows 2^31-1, a laptop far fewer"},
		}),
		Entry("YAML syntax error", badInput{
			args: []string{"test", badFile("yaml-syntax.yaml")},
			file: badFile("yaml-syntax.yaml"), line: 7,
			says: []string{"invalid YAML", "did not find expected ',' or ']'"},
		}),
		Entry("empty file", badInput{
			args: []string{"test", badFile("empty.yaml")},
			file: badFile("empty.yaml"),
			says: []string{"empty file", "want a Scenario document"},
		}),
		Entry("a directory with no scenarios", badInput{
			args: []string{"test", badFile("no-scenarios")},
			file: badFile("no-scenarios"),
			says: []string{"no scenarios in this directory", "kind: Scenario"},
		}),
		Entry("a good and a bad file together: nothing runs", badInput{
			args: []string{"test", filepath.Join(scenarioDir, "podinfo-500-burst.yaml"), badFile("wrong-type.yaml")},
			file: badFile("wrong-type.yaml"), line: 10, field: "spec.world.rps",
		}),
		Entry("unknown --cluster value (test)", badInput{
			args: []string{"test", "--cluster", "kind", scenarioDir},
			says: []string{`--cluster "kind"`, "unknown cluster mode (want fast or envtest)"},
		}),
		Entry("unknown --cluster value (run)", badInput{
			args: []string{"run", "--cluster=bogus", filepath.Join(scenarioDir, "podinfo-500-burst.yaml")},
			says: []string{`--cluster "bogus"`, "unknown cluster mode"},
		}),
		Entry("negative --parallel", badInput{
			args: []string{"test", "-p", "-1", scenarioDir},
			says: []string{"--parallel -1", "must not be negative"},
		}),
		Entry("bad --run regular expression", badInput{
			args: []string{"test", "--run", "(", scenarioDir},
			says: []string{`--run "("`, "missing closing )"},
		}),
		Entry("--run matching nothing", badInput{
			args: []string{"test", "--run", "^no-such-scenario$", scenarioDir},
			says: []string{`--run "^no-such-scenario$" matches none of the`},
		}),
		Entry("unknown flag (test)", badInput{
			args: []string{"test", "--bogus", scenarioDir},
			says: []string{"unknown flag: --bogus"},
		}),
		Entry("unknown flag (run)", badInput{
			args: []string{"run", "--bogus", filepath.Join(scenarioDir, "podinfo-500-burst.yaml")},
			says: []string{"unknown flag: --bogus"},
		}),
		Entry("unknown command", badInput{
			args: []string{"tset", scenarioDir},
			says: []string{`unknown command "tset"`},
		}),
		Entry("test without a path", badInput{
			args: []string{"test"},
			says: []string{"requires at least 1 arg"},
		}),
		Entry("run with two files", badInput{
			args: []string{"run", badFile("duplicate-names/a.yaml"), badFile("duplicate-names/b.yaml")},
			says: []string{"accepts 1 arg(s), received 2"},
		}),
		Entry("nonexistent path (test)", badInput{
			args: []string{"test", badFile("does-not-exist.yaml")},
			file: badFile("does-not-exist.yaml"),
			says: []string{"no such file or directory"},
		}),
		Entry("nonexistent path (run)", badInput{
			args: []string{"run", badFile("does-not-exist.yaml")},
			file: badFile("does-not-exist.yaml"),
			says: []string{"no such file or directory"},
		}),
		Entry("a directory given to run", badInput{
			args: []string{"run", badFile("duplicate-names")},
			file: badFile("duplicate-names"),
			says: []string{"not a regular file"},
		}),
		Entry("a scenario that does not load (query)", badInput{
			args: []string{"query", badFile("bad-duration.yaml"), "up"},
			file: badFile("bad-duration.yaml"), line: 10, field: "spec.until",
			says: []string{`bad duration "5q"`},
		}),
		Entry("nonexistent path (query)", badInput{
			args: []string{"query", badFile("does-not-exist.yaml"), "up"},
			file: badFile("does-not-exist.yaml"),
			says: []string{"no such file or directory"},
		}),
		Entry("PromQL that does not parse (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "sum(rate(x[1m])"},
			says: []string{`query "sum(rate(x[1m])": 1:16: parse error: unclosed left parenthesis`},
		}),
		Entry("a time after the scenario's end (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--at", "21m", "up"},
			file: "../../scenarios/podinfo-500-burst.yaml",
			says: []string{"--at: time 21m0s is after the scenario's end (spec.until: 20m0s)"},
		}),
		Entry("a range past the scenario's end (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--range", "0m:1h", "up"},
			file: "../../scenarios/podinfo-500-burst.yaml",
			says: []string{"--range: time 1h0m0s is after the scenario's end (spec.until: 20m0s)"},
		}),
		Entry("a bad time (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--at", "4 minutes", "up"},
			says: []string{`--at: bad time "4 minutes" (want a Go duration such as 30s or 4m)`},
		}),
		Entry("a range without its colon (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--range", "0m-20m", "up"},
			says: []string{`--range "0m-20m": want START:END, e.g. 0m:20m`},
		}),
		Entry("both --at and --range (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--at", "1m", "--range", "0m:2m", "up"},
			says: []string{"--at and --range: give one"},
		}),
		Entry("--step without --range (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--step", "1m", "up"},
			says: []string{"--step is a range query's: give --range too"},
		}),
		Entry("a range query of a range vector (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "--range", "0m:2m", "up[1m]"},
			file: "../../scenarios/podinfo-500-burst.yaml",
			says: []string{`invalid expression type "range vector" for range query`},
		}),
		Entry("an unknown output format (query)", badInput{
			args: []string{"query", "../../scenarios/podinfo-500-burst.yaml", "-o", "yaml", "up"},
			says: []string{`-o "yaml": the formats are ["text" "json"]`},
		}),
	)

	It("reports every invalid scenario of a directory, one problem per line, each with its file", func() {
		res := invokeCLI("test", bad)
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stdout).To(BeEmpty())
		for _, f := range []string{
			"bad-duration.yaml:10: ", "bad-event-regex.yaml:12: ", "canary-without-targetref.yaml:11: ",
			"duplicate-names/b.yaml:4: ", "missing-policy.yaml:9: ", "no-canary.yaml:6: ",
			"unknown-key-nested.yaml:10: ", "unknown-key-top.yaml:9: ", "policies/unknown-kind.yaml:13: ",
			"wrong-type.yaml:10: ", "yaml-syntax.yaml:7: ", "unknown-hook-name.yaml:11: ", "provider-nginx.yaml:12: ", "v1alpha1-canary.yaml",
			"scrape-interval-1us.yaml:10: ", "replicas-million.yaml:9: ",
		} {
			Expect(res.stderr).To(ContainSubstring(badFile(f)))
		}
		lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
		Expect(lines).To(HaveLen(16), "one line per problem:\n%s", res.stderr)
	})

	// Suite-level problems name where they are too.
	It("names the line of metadata.name for duplicate scenario names", func() {
		res := invokeCLI("test", badFile("duplicate-names"))
		Expect(res.stderr).To(ContainSubstring(badFile("duplicate-names/b.yaml") + ":4: metadata.name: "))
	})
	It("names the directory that holds no scenarios", func() {
		res := invokeCLI("test", badFile("no-scenarios"))
		Expect(res.stderr).To(ContainSubstring(badFile("no-scenarios")))
	})
})
