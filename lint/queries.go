package lint

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// query is one PromQL query of the policy that rendered and parsed, with where it
// is written: the query rules read these.
type query struct {
	analysis.MetricQuery
	// Expr is the parsed query.
	Expr parser.Expr
	// Obj and Field are where the query is written (a MetricTemplate's spec.query,
	// a Canary metric's query, or, for a builtin, the metric's interval).
	Obj   client.Object
	Field string
	// MetricField is the Canary metric's path ("spec.analysis.metrics[1]"), and
	// CanaryMetric the metric; nil for a MetricTemplate no Canary metric references.
	MetricField  string
	CanaryMetric *v1beta1.CanaryMetric
	// Who says which query of the finding's object it is, or what it was rendered
	// for ("rendered for metric \"error-rate\" of Canary podinfo").
	Who string
}

// Placeholder says the query was rendered with a placeholder model: no Canary of the
// linted files references its MetricTemplate.
func (q *query) Placeholder() bool { return q.CanaryMetric == nil }

// queries are the policy's PromQL queries that render and parse (those that do not
// are the loader's query-render and query-parse warnings), computed once.
func (in *Input) queries() []query {
	if in.qs == nil {
		in.qs = in.collectQueries()
	}
	return in.qs
}

func (in *Input) collectQueries() []query {
	ld := in.Loaded
	cd := ld.Canary
	out := []query{}
	if cd == nil {
		return out
	}
	byName := map[[2]string]*v1beta1.MetricTemplate{}
	for _, t := range ld.Templates {
		byName[[2]string{t.Namespace, t.Name}] = t
	}
	referenced := map[*v1beta1.MetricTemplate]bool{}
	base := "spec.analysis"
	if cd.Spec.Analysis == nil {
		base = "spec.canaryAnalysis"
	}
	a := cd.GetAnalysis()
	for _, mq := range analysis.CanaryQueries(cd, v1beta1.DefaultMeshProvider, func(ns, name string) *v1beta1.MetricTemplate {
		return byName[[2]string{ns, name}]
	}) {
		m := &a.Metrics[mq.Metric]
		q := query{MetricQuery: mq, CanaryMetric: m, MetricField: fmt.Sprintf("%s.metrics[%d]", base, mq.Metric)}
		switch mq.Source {
		case analysis.QueryBuiltin:
			q.Obj, q.Field = cd, q.MetricField+".interval"
			q.Who = fmt.Sprintf("the builtin %s query", m.Name)
		case analysis.QueryInline:
			q.Obj, q.Field = cd, q.MetricField+".query"
			q.Who = fmt.Sprintf("the query of metric %q", m.Name)
		case analysis.QueryTemplate:
			referenced[mq.Template] = true
			q.Obj, q.Field = mq.Template, "spec.query"
			q.Who = fmt.Sprintf("rendered for metric %q of Canary %s", m.Name, cd.Name)
		}
		if q.parse() {
			out = append(out, q)
		}
	}
	for _, t := range ld.Templates {
		if referenced[t] || (in.skip != nil && in.skip(t)) {
			continue
		}
		mq := analysis.TemplateQuery(t, analysis.Model(cd, v1beta1.MetricInterval, nil))
		mq.Metric = -1
		q := query{MetricQuery: mq,
			Obj: t, Field: "spec.query",
			Who: fmt.Sprintf("rendered for Canary %s with interval %s (none of its metrics references this template)", cd.Name, v1beta1.MetricInterval)}
		if in.templateOnly {
			q.Who = fmt.Sprintf("rendered for a placeholder Canary (namespace %s, target %s, interval %s: no linted Canary references this template)",
				cd.Namespace, cd.Spec.TargetRef.Name, v1beta1.MetricInterval)
		}
		if q.parse() {
			out = append(out, q)
		}
	}
	return out
}

// parse parses a rendered PromQL query; false when it is not one or does not parse.
// A query that does not render only because it calls functions Flagger's model does
// not define (query-render reports it) is rendered with a stand-in for each, so that
// what else is wrong with it is found now rather than after the first fix.
func (q *query) parse() bool {
	if q.Err != nil && q.PromQL {
		rendered, standIns, ok := renderWithStandIns(q.Text, q.Model)
		if !ok {
			return false
		}
		q.Query = analysis.CollapseQuery(rendered)
		q.Who += " (with " + strings.Join(standIns, ", ") + ")"
	}
	if !q.PromQL || q.Query == "" {
		return false
	}
	e, err := parser.ParseExpr(q.Query)
	if err != nil {
		return false
	}
	q.Expr = e
	return true
}

// undefinedFunction is text/template's parse error for a function it does not know.
var undefinedFunction = regexp.MustCompile(`function "([^"]+)" not defined`)

// standInFor is what a function Flagger's model does not define most likely means:
// the workload names users reach for ({{ primary }}), or the function's own name.
func standInFor(name string, model v1beta1.MetricTemplateModel) string {
	switch name {
	case "primary", "canary":
		return model.Target + "-" + name
	}
	return name
}

// renderWithStandIns renders text with the model's functions and, for each function
// it calls that the model does not define, a stand-in (standInFor); standIns say
// which ({{ primary }} read as "podinfo-primary"). ok is false when the text does not
// render for another reason, or calls no undefined function.
func renderWithStandIns(text string, model v1beta1.MetricTemplateModel) (rendered string, standIns []string, ok bool) {
	funcs := model.TemplateFunctions()
	for range 10 { // a query calls a handful of functions at most
		t, err := template.New("tmpl").Option("missingkey=error").Funcs(funcs).Parse(text)
		if err != nil {
			m := undefinedFunction.FindStringSubmatch(err.Error())
			if m == nil {
				return "", nil, false
			}
			v := standInFor(m[1], model)
			funcs[m[1]] = func() string { return v }
			standIns = append(standIns, fmt.Sprintf("{{ %s }} read as %q", m[1], v))
			continue
		}
		var b strings.Builder
		if err := t.Execute(&b, nil); err != nil || len(standIns) == 0 {
			return "", nil, false
		}
		return b.String(), standIns, true
	}
	return "", nil, false
}
