package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/template"

	"k8s.io/utils/lru"

	"aviary.dev/aviary/api/v1beta1"
)

// RenderQuery renders a MetricTemplate (or inline) query the way Flagger's
// observers.RenderQuery does: Go text/template with missingkey=error, executed with
// nil data; the model is reachable only through its niladic functions (name,
// namespace, target, service, ingress, route, interval, variables). A function the
// model does not define, such as {{ primary }}, is a parse error.
//
// Errors carry Flagger's texts: "template parsing failed: ..." and (Flagger's
// spelling) "template excution failed: ...". The result is not whitespace-collapsed;
// see CollapseQuery.
func RenderQuery(text string, model v1beta1.MetricTemplateModel) (string, error) {
	t, err := template.New("tmpl").Option("missingkey=error").Funcs(model.TemplateFunctions()).Parse(text)
	if err != nil {
		return "", fmt.Errorf("template parsing failed: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		return "", fmt.Errorf("template excution failed: %w", err)
	}
	return out.String(), nil
}

// CollapseQuery replaces every run of whitespace with a single space, like the
// trimQuery of Flagger's Prometheus provider (the regular expression \s+, whose \s
// is RE2's: tab, newline, form feed, carriage return and space). Like Flagger it
// does not trim the ends: a builtin query rendered from a template that starts with
// a newline is sent with one leading space (" sum( rate( ..."), which is exactly
// what Flagger's observer tests assert. The collapsed query is the one sent to the
// MetricSource and recorded in Result.Query.
func CollapseQuery(q string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
	clean := true
	for i := 0; i < len(q) && clean; i++ {
		// a lone space is already collapsed; any other whitespace, or a run, is not
		clean = !isSpace(q[i]) || q[i] == ' ' && (i+1 == len(q) || !isSpace(q[i+1]))
	}
	if clean {
		return q
	}
	b := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if !isSpace(q[i]) {
			b = append(b, q[i])
			continue
		}
		b = append(b, ' ')
		for i+1 < len(q) && isSpace(q[i+1]) {
			i++
		}
	}
	return string(b)
}

// renderKey names a query rendered for a model: the model's JSON (map keys sorted),
// so that every field of it counts.
type renderKey struct {
	text, model string
}

// rendered is a remembered renderCollapsed result.
type rendered struct {
	query string
	err   error
}

// renderCollapsed is CollapseQuery(RenderQuery(text, model)), or the error, remembered
// in memo (may be nil): every tick renders the same queries, and parsing the template
// was most of a check's own cost.
func renderCollapsed(memo *lru.Cache, text string, model v1beta1.MetricTemplateModel) (string, error) {
	m, err := json.Marshal(model)
	if memo == nil || err != nil {
		return renderCollapsedNow(text, model)
	}
	key := renderKey{text, string(m)}
	if r, ok := memo.Get(key); ok {
		return r.(rendered).query, r.(rendered).err
	}
	q, err := renderCollapsedNow(text, model)
	memo.Add(key, rendered{q, err})
	return q, err
}

func renderCollapsedNow(text string, model v1beta1.MetricTemplateModel) (string, error) {
	q, err := RenderQuery(text, model)
	if err != nil {
		return "", err
	}
	return CollapseQuery(q), nil
}

// Model is Flagger's toMetricModel: the template model of a canary for a metric
// with the given interval and templateVariables. service, ingress and route default
// to the target's name.
func Model(cd *v1beta1.Canary, interval string, variables map[string]string) v1beta1.MetricTemplateModel {
	service := cd.Spec.TargetRef.Name
	if cd.Spec.Service.Name != "" {
		service = cd.Spec.Service.Name
	}
	ingress := cd.Spec.TargetRef.Name
	if cd.Spec.IngressRef != nil {
		ingress = cd.Spec.IngressRef.Name
	}
	route := cd.Spec.TargetRef.Name
	if cd.Spec.RouteRef != nil {
		route = cd.Spec.RouteRef.Name
	}
	return v1beta1.MetricTemplateModel{
		Name:      cd.Name,
		Namespace: cd.Namespace,
		Target:    cd.Spec.TargetRef.Name,
		Service:   service,
		Ingress:   ingress,
		Route:     route,
		Interval:  interval,
		Variables: variables,
	}
}
