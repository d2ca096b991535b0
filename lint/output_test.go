package lint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"aviary.dev/aviary/lint"
	"aviary.dev/aviary/version"
)

// sarifSchemaFile is the OASIS SARIF 2.1.0 schema (errata01), as the Go module
// github.com/owenrumney/go-sarif/v3 v3.3.1 ships it (pkg/report/v210/sarif/schema.go).
const sarifSchemaFile = "testdata/sarif-schema-2.1.0.json"

var _ = Describe("output", func() {
	var report *lint.Report
	BeforeEach(func() {
		var err error
		report, err = lint.Lint([]string{library + "/policies/traefik-article.yaml", library + "/policies/legacy-read-ratio.yaml",
			library + "/policies/user-profile-service.yaml", library + "/policies/schema-write-errors.yaml"}, lint.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(report.Findings).To(HaveLen(5))
	})

	It("writes text: file:line: severity rule: Object: field: message, the fix below, a summary", func() {
		var b bytes.Buffer
		Expect(report.WriteText(&b)).To(Succeed())
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		Expect(lines).To(HaveLen(11))
		Expect(lines[0]).To(HavePrefix("../scenarios/policies/legacy-read-ratio.yaml:12: warning false-nan-guard: MetricTemplate legacy-read-ratio: spec.query: rendered for metric \"legacy-read-ratio\" of Canary user-profile-service: "))
		Expect(lines[1]).To(Equal("  fix: " + lint.RuleByID("false-nan-guard").Fix))
		Expect(lines[10]).To(Equal("5 findings (1 error, 2 warnings, 2 info) in 4 files, 2 Canaries linted"))
	})

	It("writes JSON with stable field names: every finding and every rule", func() {
		var b bytes.Buffer
		Expect(report.WriteJSON(&b)).To(Succeed())
		var out struct {
			Findings []map[string]any `json:"findings"`
			Rules    []map[string]any `json:"rules"`
		}
		Expect(json.Unmarshal(b.Bytes(), &out)).To(Succeed())
		Expect(out.Findings).To(HaveLen(5))
		Expect(out.Findings[0]).To(HaveKeyWithValue("rule", "false-nan-guard"))
		Expect(out.Findings[0]).To(HaveKeyWithValue("severity", "warning"))
		Expect(out.Findings[0]).To(HaveKeyWithValue("line", BeNumerically("==", 12)))
		for _, k := range []string{"file", "object", "field", "message", "fix"} {
			Expect(out.Findings[0]).To(HaveKey(k))
		}
		Expect(out.Rules).To(HaveLen(len(lint.Rules())))
		for _, k := range []string{"id", "severity", "title", "help"} {
			Expect(out.Rules[0]).To(HaveKey(k))
		}
	})

	It("writes SARIF 2.1.0 that its JSON schema accepts", func() {
		var b bytes.Buffer
		Expect(report.WriteSARIF(&b)).To(Succeed())
		validateSARIF(b.Bytes())
		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct {
						Name, Version string
						Rules         []struct{ ID, HelpURI string }
					}
				}
				Results []struct {
					RuleID, Level string
					RuleIndex     int
					Locations     []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI, URIBaseID string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		Expect(json.Unmarshal(b.Bytes(), &log)).To(Succeed())
		run := log.Runs[0]
		Expect(run.Tool.Driver.Name).To(Equal("aviary"))
		Expect(run.Tool.Driver.Version).To(Equal(version.Version))
		Expect(run.Tool.Driver.Rules).To(HaveLen(len(lint.Rules())))
		Expect(run.Tool.Driver.Rules[0].HelpURI).To(HaveSuffix("README.md#lint-a-policy"))
		Expect(run.Results).To(HaveLen(5))
		r := run.Results[0]
		Expect([]any{r.RuleID, r.Level, run.Tool.Driver.Rules[r.RuleIndex].ID}).To(Equal([]any{"false-nan-guard", "warning", "false-nan-guard"}))
		loc := r.Locations[0].PhysicalLocation
		Expect([]any{loc.ArtifactLocation.URI, loc.ArtifactLocation.URIBaseID, loc.Region.StartLine}).To(
			Equal([]any{"../scenarios/policies/legacy-read-ratio.yaml", "%SRCROOT%", 12}))
		levels := map[string]bool{}
		for _, r := range run.Results {
			levels[r.Level] = true
		}
		Expect(levels).To(Equal(map[string]bool{"error": true, "warning": true, "note": true}), "info is SARIF's note")
	})

	It("the schema test can fail: a result without message is refused", func() {
		err := sarifSchema().Validate(mustUnmarshal(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "aviary"}}, "results": [{"ruleId": "x"}]}]}`))
		Expect(err).To(MatchError(ContainSubstring("message")))
	})

	It("writes valid SARIF for a clean lint and for every library finding", func() {
		for _, paths := range [][]string{{library + "/policies/podinfo.yaml"}, {library}} {
			r, err := lint.Lint(paths, lint.Config{})
			Expect(err).NotTo(HaveOccurred())
			var b bytes.Buffer
			Expect(r.WriteSARIF(&b)).To(Succeed())
			validateSARIF(b.Bytes())
		}
	})
})

func sarifSchema() *jsonschema.Schema {
	GinkgoHelper()
	f, err := os.Open(sarifSchemaFile)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	Expect(err).NotTo(HaveOccurred())
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	Expect(c.AddResource(sarifSchemaFile, doc)).To(Succeed())
	s, err := c.Compile(sarifSchemaFile)
	Expect(err).NotTo(HaveOccurred())
	return s
}

func mustUnmarshal(s string) any {
	GinkgoHelper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	Expect(err).NotTo(HaveOccurred())
	return v
}

func validateSARIF(data []byte) {
	GinkgoHelper()
	Expect(sarifSchema().Validate(mustUnmarshal(string(data)))).To(Succeed())
}
