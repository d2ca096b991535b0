package lint

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/api/v1beta1"
)

// What the query rules know of PromQL expressions and of the names Kubernetes and
// the meshes give a canary's and a primary's pods, workloads and services.

// counterRates are the functions of a counter's increase over a window: 0 when the
// counter is idle, nothing when the window holds fewer than two samples.
var counterRates = map[string]bool{"rate": true, "irate": true, "increase": true}

// unwrap strips parentheses and step-invariant wrappers.
func unwrap(e parser.Expr) parser.Expr {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.StepInvariantExpr:
			e = x.Expr
		default:
			return e
		}
	}
}

// canBeZero reports whether e can evaluate to a 0 sample: a rate of a counter (or
// sums and products of such) not filtered by a comparison that drops 0 or clamped
// above 0.
func canBeZero(e parser.Expr) bool {
	switch x := unwrap(e).(type) {
	case *parser.NumberLiteral:
		return x.Val == 0
	case *parser.AggregateExpr:
		switch x.Op {
		case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.QUANTILE:
			return canBeZero(x.Expr)
		}
		return false
	case *parser.Call:
		switch name := x.Func.Name; {
		case counterRates[name]:
			return true
		case name == "clamp_min" || name == "clamp":
			if lo, ok := unwrap(x.Args[1]).(*parser.NumberLiteral); ok && lo.Val > 0 {
				return false
			}
			return canBeZero(x.Args[0])
		case name == "abs" || name == "ceil" || name == "floor" || name == "round" || name == "clamp_max":
			return canBeZero(x.Args[0])
		}
		return false
	case *parser.BinaryExpr:
		if x.Op.IsComparisonOperator() {
			if x.ReturnBool {
				return true
			}
			// a filter keeps a 0 sample only when 0 passes it
			if c, ok := unwrap(x.RHS).(*parser.NumberLiteral); ok {
				return canBeZero(x.LHS) && compare(x.Op, 0, c.Val)
			}
			return false
		}
		switch x.Op {
		case parser.ADD:
			return canBeZero(x.LHS) && canBeZero(x.RHS)
		case parser.SUB:
			return canBeZero(x.LHS) || canBeZero(x.RHS)
		case parser.MUL:
			return canBeZero(x.LHS) || canBeZero(x.RHS)
		case parser.DIV, parser.POW, parser.LAND, parser.LUNLESS, parser.LOR:
			return canBeZero(x.LHS) || (x.Op == parser.LOR && canBeZero(x.RHS))
		}
	}
	return false
}

// compare is a PromQL comparison of two numbers.
func compare(op parser.ItemType, a, b float64) bool {
	switch op {
	case parser.EQLC:
		return a == b
	case parser.NEQ:
		return a != b
	case parser.GTR:
		return a > b
	case parser.LSS:
		return a < b
	case parser.GTE:
		return a >= b
	case parser.LTE:
		return a <= b
	}
	return true
}

// selectors are the vector selectors under e.
func selectors(e parser.Node) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// series is the one counter a side of a ratio reads: sum(rate(name{...}[w])) and
// the like, through aggregations, parentheses and scalar factors.
func series(e parser.Expr) (*parser.VectorSelector, float64, bool) {
	factor := 1.0
	for {
		switch x := unwrap(e).(type) {
		case *parser.AggregateExpr:
			if x.Op != parser.SUM {
				return nil, 0, false
			}
			e = x.Expr
		case *parser.Call:
			if !counterRates[x.Func.Name] {
				return nil, 0, false
			}
			e = x.Args[0]
		case *parser.MatrixSelector:
			e = x.VectorSelector
		case *parser.BinaryExpr:
			if x.Op != parser.MUL {
				return nil, 0, false
			}
			if c, ok := unwrap(x.RHS).(*parser.NumberLiteral); ok {
				factor *= c.Val
				e = x.LHS
			} else if c, ok := unwrap(x.LHS).(*parser.NumberLiteral); ok {
				factor *= c.Val
				e = x.RHS
			} else {
				return nil, 0, false
			}
		case *parser.VectorSelector:
			return x, factor, true
		default:
			return nil, 0, false
		}
	}
}

// metricName is a selector's metric name, from its name or its __name__ matcher.
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// requestCounter reports whether a metric counts requests (istio_requests_total,
// http_requests_total, a latency histogram's buckets or count, Envoy's upstream_rq):
// such a counter is idle only when the canary gets no traffic.
func requestCounter(name string) bool {
	return strings.Contains(name, "request") || strings.Contains(name, "_rq_") || strings.HasSuffix(name, "_rq")
}

// codeLabels are the labels meshes and clients put a response's status code in.
var codeLabels = map[string]bool{"code": true, "response_code": true, "status": true, "status_code": true,
	"http_status": true, "http_status_code": true, "http_response_status_code": true}

// codeMatchers are a selector's matchers on a status code label.
func codeMatchers(vs *parser.VectorSelector) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if codeLabels[m.Name] {
			out = append(out, m)
		}
	}
	return out
}

// matchAll reports whether every matcher matches v.
func matchAll(ms []*labels.Matcher, v string) bool {
	for _, m := range ms {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// matchersText is matchers as PromQL writes them, comma-separated.
func matchersText(ms []*labels.Matcher) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}

// workloadClass is what a label names: a pod, a workload or a service.
type workloadClass int

const (
	podClass workloadClass = iota + 1
	workloadClassName
	serviceClass
)

// workloadLabels are the labels that name a pod, workload or service, as Kubernetes'
// service discovery, kube-state-metrics and the meshes write them.
var workloadLabels = map[string]workloadClass{
	"pod": podClass, "pod_name": podClass, "kubernetes_pod_name": podClass, "exported_pod": podClass,
	"destination_workload": workloadClassName, "source_workload": workloadClassName, "workload": workloadClassName,
	"deployment": workloadClassName, "app": workloadClassName, "destination_app": workloadClassName,
	"destination_canonical_service": workloadClassName,
	"service":                       serviceClass, "destination_service_name": serviceClass, "destination_service": serviceClass,
	"exported_service": serviceClass, "service_name": serviceClass,
}

// names are sample names of one side (canary, primary, or an unrelated app) per
// class, the way they appear in labels.
type names map[workloadClass][]string

// sideNames are the names the canary's, the primary's and an unrelated workload's
// pods, workloads and services have: Flagger names the primary <target>-primary and
// the canary's Service <target>-canary; pods add the pod template hash and a
// suffix; Traefik names services <namespace>-<service>-<port>@kubernetescrd and
// Istio's destination_service is the Service's host name.
func sideNames(cd *v1beta1.Canary) (canary, primary, other names) {
	target, ns := cd.Spec.TargetRef.Name, cd.Namespace
	port := fmt.Sprint(cd.Spec.Service.Port)
	if port == "0" {
		port = "80"
	}
	build := func(workload, service string) names {
		return names{
			podClass:          {workload + "-7d9f8b6c5d-x2kqz", workload + "-5b4c9d7f8-m4n7p"},
			workloadClassName: {workload},
			serviceClass: {service, service + "." + ns + ".svc.cluster.local", ns + "-" + service + "-" + port + "@kubernetescrd",
				ns + "-" + service + "-http@kubernetescrd"},
		}
	}
	svc := target
	if cd.Spec.Service.Name != "" {
		svc = cd.Spec.Service.Name
	}
	return build(target, svc+"-canary"), build(target+"-primary", svc+"-primary"), build("unrelated-app", "unrelated-app")
}

// selects reports whether a selector's pod, workload and service matchers match a
// name of side; ok is false when it has none.
func (side names) selects(vs *parser.VectorSelector) (match, ok bool) {
	match = true
	for _, m := range vs.LabelMatchers {
		class := workloadLabels[m.Name]
		if class == 0 {
			continue
		}
		ok = true
		any := false
		for _, n := range side[class] {
			if m.Matches(n) {
				any = true
				break
			}
		}
		match = match && any
	}
	return match, ok
}

// workloadMatchers are a selector's matchers on pod, workload and service labels.
func workloadMatchers(vs *parser.VectorSelector) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if workloadLabels[m.Name] != 0 {
			out = append(out, m)
		}
	}
	return out
}
