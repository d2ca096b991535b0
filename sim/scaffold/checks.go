package scaffold

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/world"
)

// check is one metric of the Canary's analysis and what it can see of the faults the
// scenarios inject, read from its kind (a builtin's is known), its bounds
// (analysis.Bounds, as each check holds them) and the series its queries read
// (analysis.Checker.Queries, rendered as the checks render them).
type check struct {
	name string
	// builtin is request-success-rate or request-duration, "" for a query or template.
	builtin string
	lo, hi  *float64
	// window is the metric's interval: how far back its queries read.
	window time.Duration
	// errors: its value changes with the share of 5xx (a builtin success rate with a
	// minimum above 0, a query that tells response code 500 from 200 in a family
	// of the world's).
	errors bool
	// latency: its value changes with latency (request-duration with a maximum, a
	// query over a latency histogram of the world's).
	latency bool
	// traffic: it reads the world's request families, which hold no values for a
	// canary that serves nothing (Flagger's "no values found").
	traffic bool
	// counters and gauges are the application's own series its queries read, which
	// the world writes only when the scenario says so.
	counters, gauges []string
	// codes are response codes other than 200 its queries select (code="404"): a
	// healthy world answers a share of each, or the selection holds no series and
	// the check finds no values.
	codes []string
}

// codeCandidates are the codes a query's selection of codes is answered with, in
// order of preference: a client's error before a server's.
var codeCandidates = []string{"404", "400", "401", "403", "429", "503", "500"}

// classify reads the checks of cd's analysis.
func classify(ld *scenario.Loaded) []check {
	cd := ld.Canary
	template := func(ns, name string) *v1beta1.MetricTemplate {
		for _, t := range ld.Templates {
			if t.Namespace == ns && t.Name == name {
				return t
			}
		}
		return nil
	}
	var out []check
	for _, m := range cd.GetAnalysis().Metrics {
		c := check{name: m.Name, window: time.Minute}
		if d, err := time.ParseDuration(m.Interval); err == nil && d > 0 {
			c.window = d
		}
		for _, kind := range analysis.Kinds(m) {
			lo, hi := analysis.Bounds(m, kind)
			switch kind {
			case analysis.KindSuccessRate:
				c.builtin, c.lo, c.hi = kind, lo, hi
				c.errors, c.traffic = lo != nil && *lo > 0, true
			case analysis.KindDuration:
				c.builtin, c.lo, c.hi = kind, lo, hi
				c.latency, c.traffic = hi != nil, true
			default:
				if c.builtin == "" {
					c.lo, c.hi = lo, hi
				}
			}
		}
		one := cd.DeepCopy()
		one.Spec.Analysis.Metrics = []v1beta1.CanaryMetric{m}
		if c.builtin == "" {
			for _, q := range (&analysis.Checker{}).Queries(one, template) {
				c.read(q)
			}
		}
		out = append(out, c)
	}
	return out
}

// read notes what query q reads.
func (c *check) read(q string) {
	expr, err := parser.ParseExpr(q)
	if err != nil {
		return // the loader warned; the check fails on every tick, whatever the world
	}
	parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			return nil
		}
		f, known := world.FamilyOf(name)
		if !known {
			ranged := len(path) > 0 && isMatrix(path[len(path)-1])
			if strings.HasSuffix(name, "_total") || ranged {
				c.counters = appendNew(c.counters, name)
			} else {
				c.gauges = appendNew(c.gauges, name)
			}
			return nil
		}
		c.traffic = true
		if f.Histogram && strings.HasSuffix(name, "_bucket") && !pinsBucket(vs) {
			c.latency = true
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != f.CodeLabel {
				continue
			}
			if m.Matches("500") != m.Matches("200") {
				c.errors = true
			}
			if !m.Matches("200") {
				for _, code := range codeCandidates {
					if m.Matches(code) {
						c.codes = appendNew(c.codes, code)
						break
					}
				}
			}
		}
		return nil
	})
}

// pinsBucket: the selector reads one bucket (le="+Inf": a count), not a distribution.
func pinsBucket(vs *parser.VectorSelector) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == "le" && m.Type == labels.MatchEqual {
			return true
		}
	}
	return false
}

func isMatrix(n parser.Node) bool {
	_, ok := n.(*parser.MatrixSelector)
	return ok
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// first is the first check that satisfies ok, nil when none does.
func first(checks []check, ok func(check) bool) *check {
	for i := range checks {
		if ok(checks[i]) {
			return &checks[i]
		}
	}
	return nil
}

// burstErrorRate is the share of 5xx of the burst: enough for a success-rate check
// with a minimum of lo (percent) to fail at the first tick after the burst starts,
// when only interval of its window of window has seen it.
func burstErrorRate(c *check, interval time.Duration) float64 {
	rate := 0.3
	if c != nil && c.builtin != "" && c.lo != nil {
		windows := math.Ceil(float64(c.window) / float64(interval))
		rate = max(rate, 2*(1-*c.lo/100)*windows)
	}
	return min(rate, 1)
}

// spikeP99 is the P99 latency of the spike: well above a request-duration maximum of
// hi milliseconds, and above what a healthy version reads by far.
func spikeP99(c *check) time.Duration {
	p99 := 1500 * time.Millisecond
	if c != nil && c.hi != nil && c.builtin == analysis.KindDuration {
		p99 = max(p99, 4*time.Duration(*c.hi)*time.Millisecond)
	}
	return p99
}

// healthyP99 is the P99 latency of a healthy version: the world's default, or well
// under a request-duration maximum of hi milliseconds (PromQL reads a quantile up to
// the top of its histogram bucket).
func healthyP99(checks []check) time.Duration {
	p99 := world.DefaultP99
	for _, c := range checks {
		if c.builtin == analysis.KindDuration && c.hi != nil {
			p99 = min(p99, time.Duration(*c.hi/4*float64(time.Millisecond)))
		}
	}
	return max(p99, time.Millisecond)
}
