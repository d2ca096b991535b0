package scenario

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// ---------------------------------------------------------------------------------
// Query warnings

// queryWarnings renders every MetricTemplate query, inline query and builtin metric's
// query the way the engine will and parses the PromQL ones; problems become warnings.
func (l *loader) queryWarnings(ld *Loaded) []Warning {
	var out []Warning
	seen := map[string]bool{}
	add := func(w Warning) {
		if s := w.String(); !seen[s] {
			seen[s] = true
			out = append(out, w)
		}
	}
	cd, cdDoc := ld.Canary, l.canaryDoc
	// warn is a warning about field (at its line) of the Canary's metric at mp.
	warn := func(rule, mp, field, format string, args ...any) {
		add(Warning{Rule: rule, File: cdDoc.file, Line: lineIn(cdDoc, field), Object: cdDoc.object, Path: mp, Field: field,
			Msg: fmt.Sprintf(format, args...)})
	}
	const atRunTime = " — Flagger would fail this check at run time"
	// check reports a query that does not render, or, sent to Prometheus, does not
	// parse; who and path are what the warning names, field the query's field in d.
	check := func(d *policyDoc, field, who, path string, q analysis.MetricQuery) {
		w := Warning{File: d.file, Line: lineIn(d, field), Object: who, Path: path, Field: field}
		if q.Err != nil {
			w.Rule, w.Msg = RuleQueryRender, fmt.Sprintf("query render error: %v%s", q.Err, atRunTime)
			add(w)
			return
		}
		if !q.PromQL {
			return
		}
		if _, err := parser.ParseExpr(q.Rendered); err != nil {
			w.Rule, w.Msg = RuleQueryParse, fmt.Sprintf("query does not parse: %s%s", oneLine(err.Error()), atRunTime)
			add(w)
		}
	}
	referenced := map[*v1beta1.MetricTemplate]bool{}
	if a := cd.GetAnalysis(); a != nil {
		base := "spec.analysis"
		if cd.Spec.Analysis == nil {
			base = "spec.canaryAnalysis"
		}
		// every query of the checks, rendered as the engine renders them
		byMetric := map[int][]analysis.MetricQuery{}
		for _, q := range analysis.CanaryQueries(cd, v1beta1.DefaultMeshProvider, func(ns, name string) *v1beta1.MetricTemplate {
			if j := templateIndex(ld, ns, name); j >= 0 {
				return ld.Templates[j]
			}
			return nil
		}) {
			byMetric[q.Metric] = append(byMetric[q.Metric], q)
		}
		for i := range a.Metrics {
			m := &a.Metrics[i]
			mp := fmt.Sprintf("%s.metrics[%d]", base, i)
			for _, q := range byMetric[i] {
				switch {
				case q.Source == analysis.QueryBuiltin:
					// Flagger's own query, with the metric's interval in it
					err := q.Err
					if err == nil {
						_, err = parser.ParseExpr(q.Query)
					}
					if err != nil {
						warn(RuleQueryParse, mp, mp+".interval", "%s query with interval %q does not parse: %s%s",
							m.Name, q.Model.Interval, oneLine(err.Error()), atRunTime)
					}
				case q.Source == analysis.QueryTemplate:
					t, td, _ := l.templateOf(ld, *m)
					referenced[t] = true
					check(td, "spec.query", fmt.Sprintf("MetricTemplate %s (metric %q of Canary %s)", t.Name, m.Name, cd.Name), "", q)
					if m.Interval == "" && usesInterval(t.Spec.Query) {
						warn(RuleIntervalMissing, mp, mp, "metric %q has no interval but MetricTemplate %s uses {{ interval }}, which renders as \"\" (Flagger gives templateRef metrics no default interval)",
							m.Name, t.Name)
					}
				case q.Source == analysis.QueryInline && m.TemplateRef == nil:
					check(cdDoc, mp+".query", cdDoc.object, mp+".query", q)
				}
			}
			switch {
			case m.TemplateRef != nil:
				if t, _, ns := l.templateOf(ld, *m); t == nil {
					add(Warning{Rule: RuleTemplateMissing, File: cdDoc.file, Line: lineIn(cdDoc, mp+".templateRef"), Object: cdDoc.object,
						Path: mp + ".templateRef", Field: mp + ".templateRef",
						Msg: fmt.Sprintf("MetricTemplate %s.%s is not among the policy objects%s", m.TemplateRef.Name, ns, atRunTime)})
				}
			case m.Query == "" && m.Name != analysis.MetricRequestSuccessRate && m.Name != analysis.MetricRequestDuration:
				warn(RuleMetricUnknown, mp, mp+".name", "metric %q is neither a builtin metric (%s, %s) nor has it a templateRef or query: Flagger fails it with \"no usable metrics template and query were configured\"%s",
					m.Name, analysis.MetricRequestSuccessRate, analysis.MetricRequestDuration, atRunTime)
			}
		}
	}
	for j, t := range ld.Templates {
		if referenced[t] {
			continue
		}
		check(l.templateDocs[j], "spec.query", "MetricTemplate "+t.Name, "", analysis.TemplateQuery(t, analysis.Model(cd, v1beta1.MetricInterval, nil)))
	}
	return out
}

// templateIndex is the index of the policy's MetricTemplate namespace/name in
// ld.Templates, -1 when there is none.
func templateIndex(ld *Loaded, namespace, name string) int {
	for j, t := range ld.Templates {
		if t.Name == name && t.Namespace == namespace {
			return j
		}
	}
	return -1
}

// lineIn is the line of a field path in a policy document (or of the nearest
// recorded ancestor).
func lineIn(d *policyDoc, path string) int {
	for p := path; ; p = parentPath(p) {
		if line, ok := d.keyLines[p]; ok {
			return line
		}
		if n, ok := d.nodes[p]; ok {
			return n.Line
		}
		if p == "" {
			return d.node.Line
		}
	}
}

// usesInterval reports whether a template calls {{ interval }}. It parses with the
// model's own functions (text/template adds its builtins), so a template the engine
// can parse is walked; one it cannot is judged by its text.
func usesInterval(text string) bool {
	t, err := template.New("q").Funcs((&v1beta1.MetricTemplateModel{}).TemplateFunctions()).Parse(text)
	if err != nil {
		return strings.Contains(text, "interval")
	}
	found := false
	for _, tt := range t.Templates() {
		walkTemplate(tt.Root, func(n parse.Node) {
			if id, ok := n.(*parse.IdentifierNode); ok && id.Ident == "interval" {
				found = true
			}
		})
	}
	return found
}

func walkTemplate(n parse.Node, f func(parse.Node)) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	f(n)
	switch x := n.(type) {
	case *parse.ListNode:
		for _, c := range x.Nodes {
			walkTemplate(c, f)
		}
	case *parse.ActionNode:
		walkTemplate(x.Pipe, f)
	case *parse.PipeNode:
		for _, c := range x.Cmds {
			walkTemplate(c, f)
		}
	case *parse.CommandNode:
		for _, c := range x.Args {
			walkTemplate(c, f)
		}
	case *parse.IfNode:
		walkBranch(&x.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&x.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&x.BranchNode, f)
	case *parse.TemplateNode:
		walkTemplate(x.Pipe, f)
	}
}

// walkBranch walks what if, range and with have in common.
func walkBranch(b *parse.BranchNode, f func(parse.Node)) {
	walkTemplate(b.Pipe, f)
	walkTemplate(b.List, f)
	walkTemplate(b.ElseList, f)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
