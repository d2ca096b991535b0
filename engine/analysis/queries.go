package analysis

import "aviary.dev/aviary/api/v1beta1"

// QuerySource says where a metric check's query comes from.
type QuerySource int

const (
	// QueryBuiltin is the observer's query of a builtin metric (request-success-rate,
	// request-duration) for the canary's mesh provider.
	QueryBuiltin QuerySource = iota
	// QueryInline is the metric's own spec.analysis.metrics[].query.
	QueryInline
	// QueryTemplate is the query of the metric's MetricTemplate.
	QueryTemplate
)

// MetricQuery is one query a Canary's metric check sends, rendered as the check
// renders it.
type MetricQuery struct {
	// Metric is the index of the metric in the canary's analysis.metrics.
	Metric int
	Source QuerySource
	// Template is the metric's MetricTemplate (QueryTemplate only).
	Template *v1beta1.MetricTemplate
	// Text is the query as written, before rendering.
	Text string
	// Model is what it is rendered with (the observer's encoding not applied).
	Model v1beta1.MetricTemplateModel
	// Rendered is the query as rendered, and Query the same whitespace-collapsed, as
	// sent (CollapseQuery); both "" when Err is set. A builtin's is collapsed in both.
	Rendered, Query string
	// Err is the render error, with Flagger's text.
	Err error
	// PromQL is true when the query goes to a Prometheus-handled provider (builtin and
	// inline queries always do).
	PromQL bool
}

// CanaryQueries renders every query cd's metric checks can send, in the order of
// its metrics, whatever the checks' outcomes: for each metric the builtin query of
// its name for the mesh provider's observer, its inline query, and the query of its
// MetricTemplate, found by template (namespace, name; nil when there is none, and
// then the metric has no template query). Queries that do not render are returned
// with Err set.
func CanaryQueries(cd *v1beta1.Canary, meshProvider string, template func(namespace, name string) *v1beta1.MetricTemplate) []MetricQuery {
	a := cd.GetAnalysis()
	if a == nil {
		return nil
	}
	var out []MetricQuery
	observer := ObserverFor(MetricsProvider(meshProvider, cd))
	for i, metric := range a.Metrics {
		model := builtinModel(cd, metric)
		builtin := ""
		switch metric.Name {
		case MetricRequestSuccessRate:
			builtin = observer.SuccessRate
		case MetricRequestDuration:
			builtin = observer.Duration
		}
		if builtin != "" {
			q, err := observer.render(nil, builtin, model)
			out = append(out, MetricQuery{Metric: i, Source: QueryBuiltin, Text: builtin, Model: model, Rendered: q, Query: q, Err: err, PromQL: true})
		}
		if metric.Query != "" {
			q := renderMetricQuery(metric.Query, model)
			q.Metric, q.Source, q.PromQL = i, QueryInline, true
			out = append(out, q)
		}
		if metric.TemplateRef == nil {
			continue
		}
		if t := template(templateNamespace(cd, metric), metric.TemplateRef.Name); t != nil {
			q := TemplateQuery(t, templateModel(cd, metric))
			q.Metric = i
			out = append(out, q)
		}
	}
	return out
}

// TemplateQuery renders a MetricTemplate's query with model as a check renders it
// (Metric is 0: set it when the query is a metric's).
func TemplateQuery(t *v1beta1.MetricTemplate, model v1beta1.MetricTemplateModel) MetricQuery {
	q := renderMetricQuery(t.Spec.Query, model)
	q.Source, q.Template, q.PromQL = QueryTemplate, t, IsPrometheusProvider(t.Spec.Provider)
	return q
}

// renderMetricQuery renders text with model, as sent and as rendered.
func renderMetricQuery(text string, model v1beta1.MetricTemplateModel) MetricQuery {
	r, err := RenderQuery(text, model)
	if err != nil {
		return MetricQuery{Text: text, Model: model, Err: err}
	}
	return MetricQuery{Text: text, Model: model, Rendered: r, Query: CollapseQuery(r)}
}
