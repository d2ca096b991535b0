package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ---------------------------------------------------------------------------------
// Conversion of policy objects written for APIs that are no longer served
//
// Convert is `aviary convert`; the HorizontalPodAutoscaler conversions are also what
// the loader applies at load time (policyKinds), so both read old HPAs alike. Every
// conversion works on the YAML nodes: keys keep their order, their comments and their
// lines, so the output reads like the input and errors point at the input's lines.

// Convert rewrites the objects of one multi-document YAML file written for Flagger's
// and Kubernetes' older APIs as Flagger 1.44 and a current Kubernetes serve them:
//
//   - Canary flagger.app/v1alpha1..3 becomes flagger.app/v1beta1, following Flagger's
//     upgrade guide (docs/gitbook/dev/upgrade-guide.md): canaryAnalysis becomes
//     analysis (an analysis without interval gets Flagger's default 1m, which
//     v1beta1 requires); the builtin metrics of Flagger 0.x (istio_requests_total and
//     envoy_cluster_upstream_rq; istio_request_duration_seconds_bucket and
//     envoy_cluster_upstream_rq_time_bucket) become request-success-rate and
//     request-duration; a metric's threshold becomes thresholdRange.min for
//     request-success-rate (a percentage) and thresholdRange.max for every other
//     (request-duration in milliseconds, as before); autoscalerRef and targetRef name
//     autoscaling/v2 and apps/v1. A v1beta1 Canary gets the same treatment for what it
//     still carries of the old fields;
//   - HorizontalPodAutoscaler autoscaling/v2beta1, v2beta2 and v1 become autoscaling/v2
//     as the API server converted them;
//   - Deployment apps/v1beta1, apps/v1beta2 and extensions/v1beta1 become apps/v1,
//     with spec.selector set from the pod template's labels when missing.
//
// Every other document is kept as it is. notes say what was changed that a reader
// should check, each as "file:line: Kind name: note".
func Convert(file string, data []byte) (out []byte, notes []string, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := &yaml.Node{}
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, msg := yamlErrorLine(err)
			return nil, nil, &LoadError{File: file, Line: line, Msg: "invalid YAML: " + msg}
		}
		docs = append(docs, doc)
	}
	type lineNote struct {
		line int
		text string
	}
	var all []lineNote
	for _, doc := range docs {
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind != yaml.MappingNode {
			continue
		}
		kind := scalarString(mappingValue(n, "kind"))
		label := kind + " " + scalarString(mappingValue(mappingValue(n, "metadata"), "name"))
		note := func(line int, format string, args ...any) {
			all = append(all, lineNote{line, fmt.Sprintf("%s:%d: %s: %s", file, line, label, fmt.Sprintf(format, args...))})
		}
		switch kind {
		case "Canary":
			convertCanary(n, note)
		case "HorizontalPodAutoscaler":
			av := mappingValue(n, "apiVersion")
			if k := kindNamed(kind); av != nil && k != nil {
				if lv, ok := k.Legacy[av.Value]; ok && lv.convert != nil {
					line := av.Line
					if msg := lv.convert(n); msg != "" {
						note(line, "%s", msg)
					}
				}
			}
		case "Deployment":
			convertDeployment(n, note)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].line < all[j].line })
	for _, n := range all {
		notes = append(notes, n.text)
	}
	var b bytes.Buffer
	for i, doc := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		if len(doc.Content) == 0 && doc.HeadComment == "" && doc.FootComment == "" {
			continue
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return nil, nil, &LoadError{File: file, Line: doc.Line, Msg: err.Error()}
		}
		if err := enc.Close(); err != nil {
			return nil, nil, &LoadError{File: file, Line: doc.Line, Msg: err.Error()}
		}
	}
	return b.Bytes(), notes, nil
}

// Old builtin metric names of Flagger 0.x and their Flagger 1.x names
// (pkg/controller/scheduler.go before 0.15, where they were aliases).
var oldBuiltinMetrics = map[string]string{
	"istio_requests_total":                  "request-success-rate",
	"envoy_cluster_upstream_rq":             "request-success-rate",
	"istio_request_duration_seconds_bucket": "request-duration",
	"envoy_cluster_upstream_rq_time_bucket": "request-duration",
}

// convertCanary rewrites a Canary as flagger.app/v1beta1.
func convertCanary(n *yaml.Node, note func(int, string, ...any)) {
	if av := mappingValue(n, "apiVersion"); av != nil && strings.HasPrefix(av.Value, "flagger.app/v1alpha") {
		note(av.Line, "%s is no longer served by Flagger 1.x: now flagger.app/v1beta1", av.Value)
		av.Value = "flagger.app/v1beta1"
	}
	spec := mappingValue(n, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return
	}
	if k, _ := mappingKey(spec, "canaryAnalysis"); k != nil {
		if a, _ := mappingKey(spec, "analysis"); a != nil {
			note(k.Line, "spec.canaryAnalysis removed: spec.analysis is given and Flagger 1.x ignores canaryAnalysis")
			deleteKey(spec, "canaryAnalysis")
		} else {
			note(k.Line, "spec.canaryAnalysis is now spec.analysis")
			k.Value = "analysis"
		}
	}
	if a := mappingValue(spec, "analysis"); a != nil && a.Kind == yaml.MappingNode {
		if k, _ := mappingKey(a, "interval"); k == nil {
			ak, _ := mappingKey(spec, "analysis")
			setKey(a, "interval", plainScalar("1m", ak.Line), 0, ak.Line)
			note(ak.Line, "spec.analysis.interval set to 1m: v1beta1 requires it, and 1m was Flagger's default control loop interval")
		}
		if ms := mappingValue(a, "metrics"); ms != nil && ms.Kind == yaml.SequenceNode {
			for i, m := range ms.Content {
				if m.Kind == yaml.MappingNode {
					convertMetric(m, fmt.Sprintf("spec.analysis.metrics[%d]", i), note)
				}
			}
		}
	}
	for _, ref := range []struct{ key, want string }{{"autoscalerRef", "autoscaling/v2"}, {"targetRef", "apps/v1"}} {
		av := mappingValue(mappingValue(spec, ref.key), "apiVersion")
		if av == nil || av.Kind != yaml.ScalarNode || av.Value == ref.want || !oldAPIVersion(av.Value) {
			continue
		}
		note(av.Line, "spec.%s.apiVersion %s is no longer served: now %s", ref.key, av.Value, ref.want)
		av.Value = ref.want
	}
}

// oldAPIVersion reports whether an autoscaler or target apiVersion is one Kubernetes
// stopped serving.
func oldAPIVersion(av string) bool {
	switch av {
	case "autoscaling/v2beta1", "autoscaling/v2beta2", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1":
		return true
	}
	return false
}

// convertMetric renames an old builtin metric and turns threshold into thresholdRange.
func convertMetric(m *yaml.Node, path string, note func(int, string, ...any)) {
	nameNode := mappingValue(m, "name")
	name := scalarString(nameNode)
	if to, ok := oldBuiltinMetrics[name]; ok {
		note(nameNode.Line, "%s: metric %s is called %s in Flagger 1.x", path, name, to)
		nameNode.Value, name = to, to
	}
	builtin := name == "request-success-rate" || name == "request-duration"
	_, query := mappingKey(m, "query")
	_, ref := mappingKey(m, "templateRef")
	if !builtin && query < 0 && ref < 0 && nameNode != nil {
		note(nameNode.Line, "%s: %s is not a builtin metric of Flagger 1.x and has neither templateRef nor query: every check of it fails", path, name)
	}
	tk, ti := mappingKey(m, "threshold")
	if tk == nil {
		return
	}
	if rk, _ := mappingKey(m, "thresholdRange"); rk != nil {
		note(tk.Line, "%s: threshold removed: thresholdRange is given and wins", path)
		deleteKey(m, "threshold")
		return
	}
	side, unit := "max", " (the check fails above it)"
	switch name {
	case "request-success-rate":
		side, unit = "min", " (a percentage: the check fails below it)"
	case "request-duration":
		unit = " (milliseconds: the check fails above it)"
	}
	value := m.Content[ti+1]
	tk.Value = "thresholdRange"
	m.Content[ti+1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: value.Line, Column: value.Column,
		Content: []*yaml.Node{plainScalar(side, value.Line), value}}
	note(tk.Line, "%s: threshold is now thresholdRange.%s%s", path, side, unit)
}

// convertDeployment rewrites a Deployment of the APIs Kubernetes 1.16 removed as apps/v1.
func convertDeployment(n *yaml.Node, note func(int, string, ...any)) {
	av := mappingValue(n, "apiVersion")
	if av == nil || !oldAPIVersion(av.Value) || !strings.HasSuffix(av.Value, "beta1") && !strings.HasSuffix(av.Value, "beta2") {
		return
	}
	note(av.Line, "%s is no longer served by Kubernetes: now apps/v1", av.Value)
	av.Value = "apps/v1"
	spec := mappingValue(n, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return
	}
	if k, _ := mappingKey(spec, "rollbackTo"); k != nil {
		note(k.Line, "spec.rollbackTo removed: apps/v1 has no such field")
		deleteKey(spec, "rollbackTo")
	}
	if k, _ := mappingKey(spec, "selector"); k == nil {
		labels := mappingValue(mappingValue(mappingValue(spec, "template"), "metadata"), "labels")
		if labels != nil && labels.Kind == yaml.MappingNode {
			sk, ti := mappingKey(spec, "template")
			sel := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: sk.Line,
				Content: []*yaml.Node{plainScalar("matchLabels", sk.Line), copyNode(labels)}}
			setKey(spec, "selector", sel, ti/2, sk.Line)
			note(sk.Line, "spec.selector set from the pod template's labels: apps/v1 requires it (the old APIs defaulted it so)")
		}
	}
}

// convertHPAv2beta2 reads an autoscaling/v2beta2 HPA as autoscaling/v2: the fields are
// the same.
func convertHPAv2beta2(n *yaml.Node) string {
	setAPIVersion(n, "autoscaling/v2")
	return "autoscaling/v2beta2 is no longer served by Kubernetes (removed in 1.26): read as autoscaling/v2, which has the same fields"
}

// convertHPAv1 converts an autoscaling/v1 HPA (still served) to autoscaling/v2 as the
// API server does: spec.targetCPUUtilizationPercentage becomes a CPU utilization metric.
func convertHPAv1(n *yaml.Node) string {
	setAPIVersion(n, "autoscaling/v2")
	spec := mappingValue(n, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return ""
	}
	k, i := mappingKey(spec, "targetCPUUtilizationPercentage")
	if k == nil {
		return ""
	}
	v := spec.Content[i+1]
	target := mapping(k.Line, "type", plainScalar("Utilization", k.Line), "averageUtilization", v)
	metric := mapping(k.Line, "type", plainScalar("Resource", k.Line),
		"resource", mapping(k.Line, "name", plainScalar("cpu", k.Line), "target", target))
	k.Value = "metrics"
	spec.Content[i+1] = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: k.Line, Content: []*yaml.Node{metric}}
	return ""
}

// convertHPAv2beta1 converts an autoscaling/v2beta1 HPA to autoscaling/v2 as the API
// server's conversion did (k8s.io/kubernetes pkg/apis/autoscaling/v2beta1/conversion.go).
func convertHPAv2beta1(n *yaml.Node) string {
	setAPIVersion(n, "autoscaling/v2")
	if ms := mappingValue(mappingValue(n, "spec"), "metrics"); ms != nil && ms.Kind == yaml.SequenceNode {
		for _, m := range ms.Content {
			if m.Kind == yaml.MappingNode {
				convertV2beta1Metric(m)
			}
		}
	}
	return "autoscaling/v2beta1 is no longer served by Kubernetes (removed in 1.25): converted to autoscaling/v2 as the API server converted it " +
		"(targetAverageUtilization, targetAverageValue, targetValue and metricName became target and metric)"
}

// convertV2beta1Metric rewrites one v2beta1 metric source in place.
func convertV2beta1Metric(m *yaml.Node) {
	for _, src := range []string{"resource", "containerResource", "pods", "object", "external"} {
		s := mappingValue(m, src)
		if s == nil || s.Kind != yaml.MappingNode {
			continue
		}
		switch src {
		case "resource", "containerResource":
			typ := "AverageValue"
			if _, i := mappingKey(s, "targetAverageUtilization"); i >= 0 {
				typ = "Utilization"
			}
			moveInto(s, "target", typ, map[string]string{"targetAverageUtilization": "averageUtilization", "targetAverageValue": "averageValue"})
		case "pods":
			moveInto(s, "metric", "", map[string]string{"metricName": "name", "selector": "selector"})
			moveInto(s, "target", "AverageValue", map[string]string{"targetAverageValue": "averageValue"})
		case "object":
			if k, _ := mappingKey(s, "target"); k != nil {
				k.Value = "describedObject"
			}
			typ := "Value"
			if _, i := mappingKey(s, "averageValue"); i >= 0 {
				typ = "AverageValue"
			}
			moveInto(s, "metric", "", map[string]string{"metricName": "name", "selector": "selector"})
			moveInto(s, "target", typ, map[string]string{"targetValue": "value", "averageValue": "averageValue"})
		case "external":
			typ := "AverageValue"
			if _, i := mappingKey(s, "targetValue"); i >= 0 {
				typ = "Value"
			}
			moveInto(s, "metric", "", map[string]string{"metricName": "name", "metricSelector": "selector"})
			moveInto(s, "target", typ, map[string]string{"targetValue": "value", "targetAverageValue": "averageValue"})
		}
	}
}

// moveInto moves the keys of s named in fields (old -> new name) into a new mapping
// under key, placed where the first of them was, with "type: typ" first when typ is
// given. Nothing happens when none of them is present.
func moveInto(s *yaml.Node, key, typ string, fields map[string]string) {
	at, line := -1, s.Line
	var moved []*yaml.Node
	var comment string
	for i := 0; i+1 < len(s.Content); {
		k := s.Content[i]
		to, ok := fields[k.Value]
		if !ok || k.Kind != yaml.ScalarNode {
			i += 2
			continue
		}
		if at < 0 {
			at, line, comment = i, k.Line, k.HeadComment
		}
		moved = append(moved, plainScalar(to, k.Line), s.Content[i+1])
		s.Content = append(s.Content[:i], s.Content[i+2:]...)
	}
	if at < 0 {
		return
	}
	if typ != "" {
		moved = append([]*yaml.Node{plainScalar("type", line), plainScalar(typ, line)}, moved...)
	}
	k := plainScalar(key, line)
	k.HeadComment = comment
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Content: moved}
	s.Content = append(s.Content[:at], append([]*yaml.Node{k, v}, s.Content[at:]...)...)
}

// ---------------------------------------------------------------------------------
// YAML node editing

// mappingKey returns the key node of key in mapping n and its index in n.Content,
// (nil, -1) when absent.
func mappingKey(n *yaml.Node, key string) (*yaml.Node, int) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, -1
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return k, i
		}
	}
	return nil, -1
}

// setKey sets key to v in mapping n: replaces the value when present, else inserts
// the pair at index pos of the pairs (-1: at the end).
func setKey(n *yaml.Node, key string, v *yaml.Node, pos, line int) {
	if _, i := mappingKey(n, key); i >= 0 {
		n.Content[i+1] = v
		return
	}
	pair := []*yaml.Node{plainScalar(key, line), v}
	if pos < 0 || 2*pos >= len(n.Content) {
		n.Content = append(n.Content, pair...)
		return
	}
	n.Content = append(n.Content[:2*pos], append(pair, n.Content[2*pos:]...)...)
}

// deleteKey removes key from mapping n.
func deleteKey(n *yaml.Node, key string) {
	if _, i := mappingKey(n, key); i >= 0 {
		n.Content = append(n.Content[:i], n.Content[i+2:]...)
	}
}

// setAPIVersion sets the apiVersion of an object node.
func setAPIVersion(n *yaml.Node, av string) {
	if v := mappingValue(n, "apiVersion"); v != nil && v.Kind == yaml.ScalarNode {
		v.Value, v.Tag, v.Style = av, "!!str", 0
	}
}

// plainScalar is a string scalar written plain.
func plainScalar(value string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: line}
}

// mapping builds a mapping node from key, value pairs.
func mapping(line int, kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, plainScalar(kv[i].(string), line), kv[i+1].(*yaml.Node))
	}
	return n
}

// copyNode deep-copies a node (aliases are copied as aliases).
func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = copyNode(x)
	}
	c.Anchor = ""
	return &c
}
