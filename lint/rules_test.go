package lint_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/lint"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("Rules", func() {
	It("have unique kebab-case IDs, a title, help and a fix", func() {
		seen := map[string]bool{}
		for _, r := range lint.Rules() {
			Expect(r.ID).To(MatchRegexp(`^[a-z0-9]+(-[a-z0-9]+)*$`))
			Expect(seen[r.ID]).To(BeFalse(), "%s twice", r.ID)
			seen[r.ID] = true
			Expect(r.Title).NotTo(BeEmpty(), r.ID)
			Expect(r.Title).NotTo(ContainSubstring("|"), "%s: the title goes in a Markdown table", r.ID)
			Expect(r.Help).NotTo(BeEmpty(), r.ID)
			Expect(r.Fix).NotTo(BeEmpty(), r.ID)
			Expect(lint.RuleByID(r.ID)).To(BeIdenticalTo(r))
		}
	})

	It("include one for each of the loader's warnings", func() {
		for _, id := range []string{scenario.RuleQueryRender, scenario.RuleQueryParse, scenario.RuleTemplateMissing,
			scenario.RuleIntervalMissing, scenario.RuleMetricUnknown, scenario.RuleFlaggerReadsOtherwise, scenario.RuleReadyThreshold,
			scenario.RuleProviderSecretMissing, scenario.RuleProviderInvalid, scenario.RuleAutoscalerMissing, scenario.RuleSelectorLabels,
			scenario.RuleAPIVersionConverted, scenario.RuleCanaryAnalysisIgnored, scenario.RuleDeploymentNamespace,
			scenario.RuleAlertNoSeverity, scenario.RuleAlertProviderMissing, scenario.RuleAlertUndeliverable} {
			r := lint.RuleByID(id)
			Expect(r).NotTo(BeNil(), id)
			Expect(r.Check).To(BeNil(), "%s is the loader's", id)
		}
	})

	It("name library scenarios that exist and load", func() {
		for _, r := range lint.Rules() {
			if r.Scenario == "" {
				continue
			}
			Expect(r.Scenario).To(MatchRegexp(`^scenarios/[a-z0-9-]+\.yaml$`), r.ID)
			_, err := scenario.LoadFile(filepath.Join("..", r.Scenario))
			Expect(err).NotTo(HaveOccurred(), "%s: %s", r.ID, r.Scenario)
		}
	})

	// LINT_README=write rewrites README's table from Rules().
	It("are README's table (README.md, \"Lint a policy\"; LINT_README=write go test ./lint/ rewrites it)", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		re := regexp.MustCompile(`(?s)\n(\| rule \| severity \|.*?)\n\n`)
		table := re.FindSubmatch(readme)
		Expect(table).NotTo(BeNil(), "README.md has no rule table")
		if os.Getenv("LINT_README") == "write" {
			readme = []byte(strings.Replace(string(readme), string(table[1]), ruleTable(), 1))
			Expect(os.WriteFile("../README.md", readme, 0o644)).To(Succeed())
			table[1] = []byte(ruleTable())
		}
		Expect(string(table[1])).To(Equal(ruleTable()), "README's rule table is stale; it should read:\n%s", ruleTable())
	})
})

// ruleTable is the Markdown table of every rule, as README holds it.
func ruleTable() string {
	var b strings.Builder
	b.WriteString("| rule | severity | finds | shown by |\n|---|---|---|---|")
	for _, r := range lint.Rules() {
		shown := "—"
		if r.Scenario != "" {
			name := strings.TrimSuffix(filepath.Base(r.Scenario), ".yaml")
			shown = fmt.Sprintf("[%s](%s)", name, r.Scenario)
		}
		fmt.Fprintf(&b, "\n| `%s` | %s | %s | %s |", r.ID, r.Severity, r.Title, shown)
	}
	return b.String()
}

// Each query and loader rule's scenario, linted, holds a finding of the rule (the
// analysis and webhook rules have the same table in rules_policy_test.go).
var _ = DescribeTable("a rule's scenario holds a finding of it",
	func(id string) {
		r := lint.RuleByID(id)
		Expect(r).NotTo(BeNil())
		rep, err := lint.Lint([]string{filepath.Join("..", r.Scenario)}, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		var ids []string
		for _, f := range rep.Findings {
			ids = append(ids, f.Rule)
		}
		Expect(ids).To(ContainElement(id), r.Scenario)
	},
	Entry(nil, "query-render"),
	Entry(nil, "query-parse"),
	Entry(nil, "template-missing"),
	Entry(nil, "interval-missing"),
	Entry(nil, "metric-unknown"),
	Entry(nil, "nan-division"),
	Entry(nil, "false-nan-guard"),
	Entry(nil, "rate-window"),
	Entry(nil, "selector-matches-primary"),
	Entry(nil, "complement-ratio"),
	Entry(nil, "series-absent"),
	Entry(nil, "quantile-without-le"),
	Entry(nil, "provider-secret-missing"),
	Entry(nil, "api-version-converted"),
	// api-removed's scenario, podinfo-2018-tutorial, runs the article converted: the
	// finding is on its source (the seed test lints it)
)
