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
	// check renders and parses a query; who and path are what the warning names,
	// field the query's field in d.
	check := func(d *policyDoc, field, who, path, text string, provider v1beta1.MetricTemplateProvider, model v1beta1.MetricTemplateModel) {
		w := Warning{File: d.file, Line: lineIn(d, field), Object: who, Path: path, Field: field}
		q, err := analysis.RenderQuery(text, model)
		if err != nil {
			w.Rule, w.Msg = RuleQueryRender, fmt.Sprintf("query render error: %v%s", err, atRunTime)
			add(w)
			return
		}
		if !analysis.IsPrometheusProvider(provider) {
			return
		}
		if _, err := parser.ParseExpr(q); err != nil {
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
		observer := analysis.ObserverFor(analysis.MetricsProvider(v1beta1.DefaultMeshProvider, cd))
		for i := range a.Metrics {
			m := &a.Metrics[i]
			mp := fmt.Sprintf("%s.metrics[%d]", base, i)
			if builtin := builtinQuery(observer, m.Name); builtin != nil {
				// Flagger's own query, with the metric's interval in it
				model := analysis.Model(cd, m.GetMetricInterval(), m.TemplateVariables)
				q, err := builtin(model)
				if err == nil {
					_, err = parser.ParseExpr(q)
				}
				if err != nil {
					warn(RuleQueryParse, mp, mp+".interval", "%s query with interval %q does not parse: %s%s",
						m.Name, model.Interval, oneLine(err.Error()), atRunTime)
				}
			}
			switch {
			case m.TemplateRef != nil:
				t, td, ns := l.templateOf(ld, *m)
				if t == nil {
					add(Warning{Rule: RuleTemplateMissing, File: cdDoc.file, Line: lineIn(cdDoc, mp+".templateRef"), Object: cdDoc.object,
						Path: mp + ".templateRef", Field: mp + ".templateRef",
						Msg: fmt.Sprintf("MetricTemplate %s.%s is not among the policy objects%s", m.TemplateRef.Name, ns, atRunTime)})
					continue
				}
				referenced[t] = true
				who := fmt.Sprintf("MetricTemplate %s (metric %q of Canary %s)", t.Name, m.Name, cd.Name)
				check(td, "spec.query", who, "", t.Spec.Query, t.Spec.Provider,
					analysis.Model(cd, m.Interval, m.TemplateVariables))
				if m.Interval == "" && usesInterval(t.Spec.Query) {
					warn(RuleIntervalMissing, mp, mp, "metric %q has no interval but MetricTemplate %s uses {{ interval }}, which renders as \"\" (Flagger gives templateRef metrics no default interval)",
						m.Name, t.Name)
				}
			case m.Query != "":
				check(cdDoc, mp+".query", cdDoc.object, mp+".query", m.Query, v1beta1.MetricTemplateProvider{Type: "prometheus"},
					analysis.Model(cd, m.GetMetricInterval(), m.TemplateVariables))
			case m.Name != analysis.MetricRequestSuccessRate && m.Name != analysis.MetricRequestDuration:
				warn(RuleMetricUnknown, mp, mp+".name", "metric %q is neither a builtin metric (%s, %s) nor has it a templateRef or query: Flagger fails it with \"no usable metrics template and query were configured\"%s",
					m.Name, analysis.MetricRequestSuccessRate, analysis.MetricRequestDuration, atRunTime)
			}
		}
	}
	for j, t := range ld.Templates {
		if referenced[t] {
			continue
		}
		td := l.templateDocs[j]
		check(td, "spec.query", "MetricTemplate "+t.Name, "", t.Spec.Query, t.Spec.Provider,
			analysis.Model(cd, v1beta1.MetricInterval, nil))
	}
	return out
}

// builtinQuery renders a builtin metric's query (nil for other metrics).
func builtinQuery(o *analysis.Observer, metric string) func(v1beta1.MetricTemplateModel) (string, error) {
	switch metric {
	case analysis.MetricRequestSuccessRate:
		return o.SuccessRateQuery
	case analysis.MetricRequestDuration:
		return o.DurationQuery
	}
	return nil
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
