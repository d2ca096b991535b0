package analysis

import (
	"bytes"
	"fmt"
	"regexp"
	"text/template"

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

var whitespaceRun = regexp.MustCompile(`\s+`)

// CollapseQuery replaces every run of whitespace with a single space, like the
// trimQuery of Flagger's Prometheus provider. Like Flagger it does not trim the
// ends: a builtin query rendered from a template that starts with a newline is
// sent with one leading space (" sum( rate( ..."), which is exactly what Flagger's
// observer tests assert. The collapsed query is the one sent to the MetricSource
// and recorded in Result.Query.
func CollapseQuery(q string) string {
	return whitespaceRun.ReplaceAllString(q, " ")
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
