package lint_test

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
)

// policies names files of the library's policies directory.
func policies(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(library, "policies", n)
	}
	return out
}

// at is "rule file:line" of a finding, the file relative to the library.
func at(f lint.Finding) string {
	rel, err := filepath.Rel(library, f.File)
	Expect(err).NotTo(HaveOccurred())
	return fmt.Sprintf("%s %s %s:%d", f.Severity, f.Rule, rel, f.Line)
}

// The seed articles' policies as written (README "The seed articles") and the
// library's variants of them: every policy bug each shipped is found, and nothing
// else at warning or above.
var _ = DescribeTable("the seed articles' policy bugs",
	func(files []string, want []string) {
		r, err := lint.Lint(files, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		var got []string
		for _, f := range r.Findings {
			got = append(got, at(f))
		}
		Expect(got).To(Equal(want))
	},
	Entry("000 stateful canary, as written: {{ primary }}, canary selectors matching the primary, an `or on() vector(0)` that guards no NaN (its denominator is the primary's: info; found with {{ primary }} read as the primary's name), an uninitialized error counter, a schema contraction that also runs after a rollback (info)",
		policies("stateful-canary-user-profile.yaml", "stateful-canary-templates.yaml"), []string{
			"error selector-matches-primary policies/stateful-canary-templates.yaml:22",
			"info series-absent policies/stateful-canary-templates.yaml:22",
			"info false-nan-guard policies/stateful-canary-templates.yaml:38",
			"error query-render policies/stateful-canary-templates.yaml:38",
			"error selector-matches-primary policies/stateful-canary-templates.yaml:38",
			"info threshold-never-bites policies/stateful-canary-user-profile.yaml:27",
			"info post-rollout-after-rollback policies/stateful-canary-user-profile.yaml:74",
		}),
	Entry("000 with the render fixed (stateful-canary-selector-bug): the selectors match the primary; the ratio's guard is no NaN guard (its denominator is the primary's: info)",
		policies("stateful-canary-user-profile.yaml", "stateful-canary-templates-render-fixed.yaml"), []string{
			"error selector-matches-primary policies/stateful-canary-templates-render-fixed.yaml:17",
			"info series-absent policies/stateful-canary-templates-render-fixed.yaml:17",
			"info false-nan-guard policies/stateful-canary-templates-render-fixed.yaml:32",
			"error selector-matches-primary policies/stateful-canary-templates-render-fixed.yaml:32",
			"info threshold-never-bites policies/stateful-canary-user-profile.yaml:27",
			"info post-rollout-after-rollback policies/stateful-canary-user-profile.yaml:74",
		}),
	Entry("000 fixed (stateful-canary-fixed, -uninitialized-counter): only infos",
		policies("stateful-canary-user-profile.yaml", "stateful-canary-templates-fixed.yaml"), []string{
			"info series-absent policies/stateful-canary-templates-fixed.yaml:18",
			"info false-nan-guard policies/stateful-canary-templates-fixed.yaml:33",
			"info threshold-never-bites policies/stateful-canary-user-profile.yaml:27",
			"info post-rollout-after-rollback policies/stateful-canary-user-profile.yaml:74",
		}),
	Entry("001 production canary, as written: request-duration-p99 is no builtin; 4xx count as failures; a Slack URL as an event webhook",
		policies("production-frontend.yaml", "production-frontend-canary.yaml"), []string{
			"info threshold-never-bites policies/production-frontend-canary.yaml:29",
			"error metric-unknown policies/production-frontend-canary.yaml:44",
			"warning event-webhook-to-chat policies/production-frontend-canary.yaml:72",
			"warning complement-ratio policies/production-frontend.yaml:55",
		}),
	Entry("001's A/B setup (production-canary-ab-*): request-duration over 30s at a 15s scrape; 4xx count as failures; the Slack event webhook",
		policies("production-frontend.yaml", "production-frontend-ab.yaml"), []string{
			"info threshold-never-bites policies/production-frontend-ab.yaml:31",
			"warning rate-window policies/production-frontend-ab.yaml:52",
			"warning event-webhook-to-chat policies/production-frontend-ab.yaml:76",
			"warning complement-ratio policies/production-frontend.yaml:55",
		}),
	Entry("002 Flagger's 2018 introduction as written: flagger.app/v1alpha1",
		[]string{"../cmd/aviary/testdata/convert/podinfo-2018.yaml"}, []string{
			"error api-removed ../cmd/aviary/testdata/convert/podinfo-2018.yaml:103",
		}),
	Entry("002 converted (podinfo-2018-tutorial): its request-duration interval of 30s",
		policies("podinfo-2018.yaml"), []string{
			"info threshold-never-bites policies/podinfo-2018.yaml:136",
			"warning rate-window policies/podinfo-2018.yaml:155",
		}),
	Entry("003 Traefik article: code!=\"404\" under a max of 5; an autoscaling/v2beta2 HPA",
		policies("traefik-article.yaml"), []string{
			"warning api-version-converted policies/traefik-article.yaml:86",
			"info threshold-never-bites policies/traefik-article.yaml:155",
			"error complement-ratio policies/traefik-article.yaml:210",
		}),
	Entry("003's tutorial query (traefik-tutorial-404-query)",
		policies("podinfo-traefik.yaml", "not-found-percentage-tutorial.yaml"), []string{
			"error complement-ratio policies/not-found-percentage-tutorial.yaml:14",
			"info threshold-never-bites policies/podinfo-traefik.yaml:49",
		}),
	Entry("user-profile-nan-division: `or on() vector(0)` does not guard NaN",
		policies("user-profile-service.yaml", "legacy-read-ratio.yaml", "schema-write-errors.yaml"), []string{
			"warning false-nan-guard policies/legacy-read-ratio.yaml:12",
			"info series-absent policies/schema-write-errors.yaml:11",
		}),
)

// The library's correct policies (healthy, fixed, guarded): nothing at warning or
// above.
var _ = DescribeTable("the library's correct policies",
	func(files []string) {
		r, err := lint.Lint(files, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Count(lint.Warning)).To(BeZero(), "%v", r.Findings)
		Expect(r.Canaries).To(Equal(1))
	},
	Entry("podinfo.yaml", policies("podinfo.yaml")),
	Entry("podinfo-gates.yaml", policies("podinfo-gates.yaml")),
	Entry("podinfo-alerts.yaml", policies("podinfo-alerts.yaml")),
	Entry("podinfo-traefik.yaml with not-found-percentage.yaml", policies("podinfo-traefik.yaml", "not-found-percentage.yaml")),
	Entry("user-profile-nan-guarded's", policies("user-profile-service.yaml", "legacy-read-ratio-guarded.yaml", "schema-write-errors.yaml")),
	Entry("stateful-canary-fixed's", policies("stateful-canary-user-profile.yaml", "stateful-canary-templates-fixed.yaml")),
	Entry("user-profile-central-templates'", policies("user-profile-production.yaml", "flagger-system-templates.yaml")),
)
