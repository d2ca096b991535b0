package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes one finding per line as
// `file:line: severity rule: Object: field: message`, its fix indented below, then a
// summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s:%d: %s %s: ", f.File, f.Line, f.Severity, f.Rule)
		if f.Object != "" {
			b.WriteString(f.Object + ": ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + ": ")
		}
		b.WriteString(f.Message + "\n")
		if f.Fix != "" {
			b.WriteString("  fix: " + f.Fix + "\n")
		}
	}
	b.WriteString(r.Summary())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is one line: how many findings of each severity in how many files and
// Canaries, and the files skipped.
func (r *Report) Summary() string {
	var b strings.Builder
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	fmt.Fprintf(&b, "%d %s (%d %s, %d %s, %d info) in %d %s, %d %s linted",
		len(r.Findings), plural(len(r.Findings), "finding", "findings"), counts[Error], plural(counts[Error], "error", "errors"),
		counts[Warning], plural(counts[Warning], "warning", "warnings"), counts[Info],
		len(r.Files), plural(len(r.Files), "file", "files"), r.Canaries, plural(r.Canaries, "Canary", "Canaries"))
	if n := len(r.Skipped); n > 0 {
		fmt.Fprintf(&b, " (%d %s not Kubernetes manifests, skipped: %s)", n, plural(n, "file", "files"), strings.Join(r.Skipped, ", "))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// jsonFinding is a finding in JSON output; the field names are stable.
type jsonFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Object   string `json:"object,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

// jsonRule is a rule in JSON output.
type jsonRule struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Help     string `json:"help"`
	Fix      string `json:"fix,omitempty"`
	Scenario string `json:"scenario,omitempty"`
}

// WriteJSON writes {"findings": [...], "rules": [...]}: every finding and every rule
// lint knows (docs: README "Lint a policy").
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
		Rules    []jsonRule    `json:"rules"`
	}{Findings: []jsonFinding{}}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, jsonFinding{Rule: f.Rule, Severity: f.Severity.String(), File: f.File, Line: f.Line,
			Object: f.Object, Field: f.Field, Message: f.Message, Fix: f.Fix})
	}
	for _, rule := range Rules() {
		out.Rules = append(out.Rules, jsonRule{ID: rule.ID, Severity: rule.Severity.String(), Title: rule.Title, Help: rule.Help,
			Fix: rule.Fix, Scenario: rule.Scenario})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
