package scenarios_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// The four articles that motivated aviary (the "seeds") are library scenarios: their
// objects load as written (the 2018 one after `aviary convert`), and what Flagger would
// say about them when it reads them, aviary says at load time. The scenarios' own
// expectations cover the decisions; these specs cover what the expectations cannot:
// the load-time warnings, and the article variants that Flagger's CRD refuses.
var _ = Describe("the seed articles", func() {
	DescribeTable("load as written, with exactly the warnings Flagger's behaviour calls for",
		func(file string, warnings ...string) {
			l, err := scenario.LoadFile(file)
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Warnings).To(HaveLen(len(warnings)), "%q", l.Warnings)
			for i, w := range warnings {
				Expect(l.Warnings[i]).To(ContainSubstring(w))
			}
		},
		Entry("000 as written: {{ primary }} is no template variable of Flagger's", "stateful-canary-as-written.yaml",
			`policies/stateful-canary-templates.yaml:38: MetricTemplate legacy-read-ratio-check (metric "legacy-read-ratio" of Canary user-profile-service): query render error: template parsing failed: template: tmpl:9: function "primary" not defined`),
		Entry("000 fixed", "stateful-canary-fixed.yaml"),
		Entry("000 with the render error fixed alone", "stateful-canary-selector-bug.yaml"),
		Entry("000 without the error counter's series", "stateful-canary-uninitialized-counter.yaml"),
		Entry("001 as written: request-duration-p99 is no builtin", "production-canary-as-written.yaml",
			`policies/production-frontend-canary.yaml:44: Canary frontend: spec.analysis.metrics[1]: metric "request-duration-p99" is neither a builtin metric`),
		Entry("001, A/B", "production-canary-ab-promoted.yaml"),
		Entry("002 converted", "podinfo-2018-tutorial.yaml"),
		Entry("003: the kustomization's autoscaling/v2beta2 HPA", "traefik-article-404-gate.yaml",
			"policies/traefik-article.yaml:86: HorizontalPodAutoscaler podinfo: apiVersion: autoscaling/v2beta2 is no longer served by Kubernetes"),
	)

	// variant writes a scenario whose policy is the library policy file with one edit
	// (old replaced by new, once) next to the library's other policy files.
	variant := func(name string, policies []string, edited, old, new string) string {
		GinkgoHelper()
		dir := GinkgoT().TempDir()
		Expect(os.Mkdir(filepath.Join(dir, "policies"), 0o755)).To(Succeed())
		for _, p := range append(policies, edited) {
			b, err := os.ReadFile(filepath.Join("policies", p))
			Expect(err).NotTo(HaveOccurred())
			if p == edited {
				Expect(string(b)).To(ContainSubstring(old))
				b = []byte(strings.Replace(string(b), old, new, 1))
			}
			Expect(os.WriteFile(filepath.Join(dir, "policies", p), b, 0o644)).To(Succeed())
		}
		files := "policies/" + strings.Join(append(policies, edited), ", policies/")
		s := "apiVersion: aviary.dev/v1alpha1\nkind: Scenario\nmetadata: {name: " + name + "}\nspec:\n" +
			"  policy: {files: [" + files + "]}\n  until: 3m\n"
		file := filepath.Join(dir, name+".yaml")
		Expect(os.WriteFile(file, []byte(s), 0o644)).To(Succeed())
		return file
	}

	It("001: A/B testing keeping stepWeight next to iterations is refused, as Flagger's CRD refuses it", func() {
		// Flagger's CRD: analysis oneOf required [interval, threshold, iterations |
		// stepWeight | stepWeights]; both validate, so the API server refuses it.
		file := variant("ab-with-weights", []string{"production-frontend.yaml"}, "production-frontend-ab.yaml",
			"    threshold: 10\n", "    threshold: 10\n    stepWeight: 5\n    maxWeight: 50\n")
		l, err := scenario.LoadFile(file)
		Expect(err).NotTo(HaveOccurred(), "the loader leaves it to the API server")
		_, err = sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).To(MatchError(ContainSubstring(`create Canary frontend: Canary.aviary.dev "frontend" is invalid: spec.analysis: Invalid value: exactly one of iterations, stepWeight and stepWeights must be set`)))
	})

	It("001: `service.mirror: true` is refused: Flagger's service.mirror is a list of Gateway API mirror filters", func() {
		file := variant("service-mirror", []string{"production-frontend.yaml"}, "production-frontend-canary.yaml",
			"    targetPort: 8080\n", "    targetPort: 8080\n    mirror: true\n")
		_, err := scenario.LoadFile(file)
		var le *scenario.LoadError
		Expect(errors.As(err, &le)).To(BeTrue(), "%v", err)
		Expect(le.Line).To(Equal(22))
		Expect(le.Path).To(Equal("spec.service.mirror"))
		Expect(le.Msg).To(HavePrefix("want a list"))
	})

	It("001: the migration webhook of the article's last section loads and is called before the analysis", func() {
		file := variant("db-migration", []string{"production-frontend.yaml"}, "production-frontend-ab.yaml",
			"    webhooks:\n",
			"    webhooks:\n"+
				"      - name: \"db-migration\"\n"+
				"        type: pre-rollout\n"+
				"        url: http://flagger-webhook-handler/run-job\n"+
				"        timeout: 10m\n"+
				"        metadata:\n"+
				"          jobName: \"frontend-db-migration-v1.0.1\"\n"+
				"          jobSpec: \"${BASE64_ENCODED_JOB_YAML}\" # Pass the Job spec dynamically\n")
		Expect(os.WriteFile(file, []byte(strings.Replace(mustRead(file), "  until: 3m\n",
			"  timeline: [{at: 2m, image: 'my-registry/frontend:1.0.1'}]\n  until: 3m\n", 1)), 0o644)).To(Succeed())
		l, err := scenario.LoadFile(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(l.Warnings).To(BeEmpty())
		res, err := sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).NotTo(HaveOccurred())
		var events []string
		for t := range res.EachTick() {
			for _, e := range t.Events {
				events = append(events, e.Message)
			}
		}
		Expect(events).To(ContainElements("Pre-rollout check db-migration passed", "Pre-rollout check conformance-tests passed"))
	})
})

func mustRead(file string) string {
	GinkgoHelper()
	b, err := os.ReadFile(file)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}
