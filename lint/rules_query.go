package lint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/engine/analysis"
)

// queryRules check the PromQL queries a Canary's checks send, rendered with
// Flagger's variables (builtins included) and parsed by Prometheus' parser.
var queryRules = []*Rule{nanDivision, falseNaNGuard, rateWindow, selectorMatchesPrimary, complementRatio, seriesAbsent, quantileWithoutLe}

var nanDivision = &Rule{
	ID:       "nan-division",
	Severity: Warning,
	Title:    "a division whose denominator can be 0 (an idle counter's rate) and is not filtered: 0/0 is NaN, a failed check",
	Help: "A rate or increase of a counter is 0 while the counter is idle, and x/0 is NaN (or ±Inf) in PromQL. " +
		"Flagger's Prometheus provider reads a NaN result as \"no values found\" and counts a failed check, so a " +
		"healthy canary that never does what the denominator counts (a version that serves from a cache and reads no " +
		"records) is rolled back. Filtering the denominator (`b > 0`) turns the NaN into an empty result, which a " +
		"fallback (`or on() vector(0)`) can then fill. Denominators that count requests are left alone: they are 0 " +
		"only when the canary gets no traffic, and then Flagger's builtin checks fail too. A denominator over the " +
		"primary only is reported as info: it is 0 only when the version in production is idle on that counter.",
	Fix:      "filter the denominator so that 0 drops out: `a / (b > 0)`, then `or on() vector(0)` for the empty result",
	Scenario: "scenarios/user-profile-nan-unguarded.yaml",
}

var falseNaNGuard = &Rule{
	ID:       "false-nan-guard",
	Severity: Warning,
	Title:    "`(a / b) or on() vector(0)` used as a NaN guard: `or` fills absent series, NaN is a value",
	Help: "`or` adds the right-hand side's series only where the left-hand side has none. When the denominator is 0, " +
		"a / b is a NaN sample, present, so `or on() vector(0)` keeps the NaN, Flagger reads it as \"no values " +
		"found\" and counts a failed check. The guard works once the denominator is filtered (`b > 0`): the division " +
		"is then empty and the fallback supplies 0.",
	Fix:      "filter the denominator inside the guard: `(a / (b > 0)) or on() vector(0)`",
	Scenario: "scenarios/user-profile-nan-division.yaml",
}

var rateWindow = &Rule{
	ID:       "rate-window",
	Severity: Error,
	Title:    "a rate/irate/increase window shorter than 2× the scrape interval (error; warning under 4×)",
	Help: "rate, irate and increase need two samples in their window. A window shorter than twice the scrape " +
		"interval often holds one: the query returns nothing and Flagger fails the check with \"no values found\"; " +
		"under four times, one missed or late scrape does the same (Prometheus' advice is at least 4×). The window " +
		"is the metric's interval wherever a query says `[{{ interval }}]` (builtins included). The scrape interval " +
		"is --scrape-interval (15s, Prometheus' default; Istio's and many managed setups scrape every 30s or more), " +
		"a scenario's own spec.world.scrapeInterval when linting a scenario file.",
	Fix:      "use a window of at least 4× the scrape interval (1m at 15s, 2m at 30s)",
	Scenario: "scenarios/podinfo-rate-window-too-short.yaml",
}

var selectorMatchesPrimary = &Rule{
	ID:       "selector-matches-primary",
	Severity: Error,
	Title:    "a pod/workload/service matcher of the canary's query that also matches the primary's",
	Help: "Flagger names the primary <target>-primary and its pods <target>-primary-<hash>-<id>, so a matcher such " +
		"as pod=~\"^{{ target }}.*\" selects the primary's pods as well as the canary's. The check then measures " +
		"canary and primary together (the primary carries most of the traffic until promotion): a ratio of canary " +
		"to primary reads 1 + canary/primary, an error rate dilutes the canary's errors. Each matcher on a pod, " +
		"workload or service label is tested, as Prometheus matches it, against the canary's, the primary's and an " +
		"unrelated workload's names.",
	Fix:      "select the canary's pods as Flagger's own queries do: pod=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\" (or destination_workload=\"{{ target }}\")",
	Scenario: "scenarios/stateful-canary-selector-bug.yaml",
}

var complementRatio = &Rule{
	ID:       "complement-ratio",
	Severity: Error,
	Title:    "a ratio whose numerator selects the complement of what its threshold bounds, or filters 4xx out of the numerator only",
	Help: "A ratio of one counter over itself (the numerator with an extra status code matcher) is judged by what it " +
		"reads on a healthy service, whose requests are nearly all answered 200: a numerator that keeps code 200 " +
		"reads about 100% of the denominator, one that does not about 0. When that healthy reading is already past " +
		"the metric's thresholdRange (code!=\"404\" over all requests, bounded by a max of 5), every check of a " +
		"healthy canary fails and only a broken one passes. And a success rate that leaves 4xx out of its numerator " +
		"but not out of its denominator counts every client error as a failure (Flagger's builtin counts only 5xx); " +
		"that case is a warning.",
	Fix:      "make the numerator select what the metric's name and threshold mean (code=\"404\", not code!=\"404\"); filter both sides alike",
	Scenario: "scenarios/traefik-tutorial-404-query.yaml",
}

var quantileWithoutLe = &Rule{
	ID:       "quantile-without-le",
	Severity: Error,
	Title:    "histogram_quantile over _bucket series aggregated without `le`: no values found",
	Help: "A classic histogram's quantile needs its buckets' upper bounds, the le label: histogram_quantile ignores " +
		"series without it. sum(rate(x_bucket[1m])) without `by (le)` (or `without` dropping le) sums the buckets " +
		"away, the query returns nothing on every tick and Flagger fails the check with \"no values found\".",
	Fix:      "keep le in the aggregation: histogram_quantile(0.99, sum by (le) (rate(x_bucket[1m])))",
	Scenario: "scenarios/podinfo-quantile-without-le.yaml",
}

var seriesAbsent = &Rule{
	ID:       "series-absent",
	Severity: Info,
	Title:    "an error counter, or only error status codes, that may have no series until the first error, with no fallback",
	Help: "A client library's labelled counter (a Prometheus CounterVec) exports no series until a label value is " +
		"first incremented, and a mesh's request counter has no series for a status code not answered yet: " +
		"sum(rate(x_errors_total[...])) or sum(rate(requests_total{code=~\"5..\"}[...])) over a version that never " +
		"fails is no value, not 0, and Flagger fails the check with \"no values found\" (Flagger issue #1365): a " +
		"healthy canary is rolled back. It is info, not a warning: a counter exported at 0 from the start (a plain " +
		"Counter, or label values initialised) has no such gap, a service with a steady trickle of such answers " +
		"rarely meets it, and the policy cannot say which the application has.",
	Fix:      "append `or on() vector(0)` to the query, or initialise the counter's label values when the application starts",
	Scenario: "scenarios/stateful-canary-uninitialized-counter.yaml",
}

// The checks refer to their rules (for findings), so they are attached here.
func init() {
	nanDivision.Check = func(in *Input) []Finding { return in.divisions(false) }
	falseNaNGuard.Check = func(in *Input) []Finding { return in.divisions(true) }
	rateWindow.Check = (*Input).rateWindows
	selectorMatchesPrimary.Check = (*Input).primarySelectors
	complementRatio.Check = (*Input).complementRatios
	seriesAbsent.Check = (*Input).absentSeries
	quantileWithoutLe.Check = (*Input).quantilesWithoutLe
}

// custom are the queries users write (inline and templates): builtins are Flagger's.
func (in *Input) custom() []query {
	var out []query
	for _, q := range in.queries() {
		if q.Source != analysis.QueryBuiltin {
			out = append(out, q)
		}
	}
	return out
}

// divisions finds divisions whose denominator can be 0 and is not filtered: under an
// `or` fallback (guarded) they are false-nan-guard's, otherwise nan-division's.
func (in *Input) divisions(guarded bool) []Finding {
	var out []Finding
	canary, primary, _ := sideNames(in.Loaded.Canary)
	for _, q := range in.custom() {
		parser.Inspect(q.Expr, func(n parser.Node, path []parser.Node) error {
			b, ok := n.(*parser.BinaryExpr)
			if !ok || b.Op != parser.DIV || !canBeZero(b.RHS) {
				return nil
			}
			den := selectors(b.RHS)
			for _, vs := range den {
				if requestCounter(metricName(vs)) {
					return nil
				}
			}
			fallback := orFallback(b, path)
			if (fallback != nil) != guarded {
				return nil
			}
			rule, msg := nanDivision, fmt.Sprintf("%s: the denominator %s can be 0 (its counter idle) and nothing filters it: "+
				"0/0 is NaN, which Flagger reads as \"no values found\" and counts as a failed check", q.Who, b.RHS)
			if guarded {
				rule, msg = falseNaNGuard, fmt.Sprintf("%s: the `or` fallback to %s does not guard the division by %s: when that "+
					"is 0, 0/0 is a NaN sample, not an absent one, so `or` keeps it; Flagger reads NaN as \"no values found\" and "+
					"counts a failed check", q.Who, fallback.RHS, b.RHS)
			}
			f := in.Finding(rule, q.Obj, q.Field, msg)
			if onlyPrimary(den, canary, primary) {
				f.Severity = Info
				f.Message += " (the denominator counts the primary's events only: this happens when the version in production is idle on that counter)"
			}
			out = append(out, f)
			return nil
		})
	}
	return out
}

// orFallback is the `or` whose left-hand side holds b, nil when there is none.
func orFallback(b parser.Node, path []parser.Node) *parser.BinaryExpr {
	for i := len(path) - 1; i >= 0; i-- {
		or, ok := path[i].(*parser.BinaryExpr)
		if !ok || or.Op != parser.LOR {
			continue
		}
		child := b
		if i+1 < len(path) {
			child = path[i+1]
		}
		if child == parser.Node(or.LHS) {
			return or
		}
	}
	return nil
}

// onlyPrimary reports whether the selectors name the primary's pods, workloads or
// services and not the canary's.
func onlyPrimary(sels []*parser.VectorSelector, canary, primary names) bool {
	if len(sels) == 0 {
		return false
	}
	for _, vs := range sels {
		c, ok := canary.selects(vs)
		p, _ := primary.selects(vs)
		if !ok || c || !p {
			return false
		}
	}
	return true
}

// scrapeInterval is the scrape interval the rate-window rule judges windows by.
func (in *Input) scrapeInterval() time.Duration {
	if in.Config.ScrapeInterval > 0 {
		return in.Config.ScrapeInterval
	}
	return DefaultScrapeInterval
}

func (in *Input) rateWindows() []Finding {
	var out []Finding
	scrape := in.scrapeInterval()
	for _, q := range in.queries() {
		seen := map[time.Duration]bool{}
		parser.Inspect(q.Expr, func(n parser.Node, _ []parser.Node) error {
			c, ok := n.(*parser.Call)
			if !ok || !counterRates[c.Func.Name] || len(c.Args) != 1 {
				return nil
			}
			ms, ok := unwrap(c.Args[0]).(*parser.MatrixSelector)
			if !ok || ms.Range >= 4*scrape || seen[ms.Range] {
				return nil
			}
			seen[ms.Range] = true
			window := model.Duration(ms.Range).String()
			obj, field := q.Obj, q.Field
			if iv, err := time.ParseDuration(q.Model.Interval); err == nil && iv == ms.Range && q.CanaryMetric != nil &&
				strings.Contains(q.Text, "interval") {
				obj, field = in.Loaded.Canary, q.MetricField+".interval"
			}
			var f Finding
			if ms.Range < 2*scrape {
				f = in.Finding(rateWindow, obj, field, fmt.Sprintf("%s: %s(...[%s]) at a %s scrape interval: the window holds "+
					"fewer than the two samples %s needs, the query returns nothing and Flagger fails the check with \"no values found\"",
					q.Who, c.Func.Name, window, scrape, c.Func.Name))
			} else {
				f = in.Finding(rateWindow, obj, field, fmt.Sprintf("%s: %s(...[%s]) at a %s scrape interval: the window holds "+
					"two or three samples, and one missed or late scrape leaves too few: the query returns nothing and Flagger "+
					"fails the check with \"no values found\"", q.Who, c.Func.Name, window, scrape))
				f.Severity = Warning
			}
			out = append(out, f)
			return nil
		})
	}
	return out
}

func (in *Input) primarySelectors() []Finding {
	var out []Finding
	canary, primary, other := sideNames(in.Loaded.Canary)
	for _, q := range in.custom() {
		seen := map[string]bool{}
		for _, vs := range selectors(q.Expr) {
			c, ok := canary.selects(vs)
			p, _ := primary.selects(vs)
			o, _ := other.selects(vs)
			ms := matchersText(workloadMatchers(vs))
			if !ok || !c || !p || o || seen[ms] {
				continue
			}
			seen[ms] = true
			out = append(out, in.Finding(selectorMatchesPrimary, q.Obj, q.Field, fmt.Sprintf(
				"%s: {%s} selects the primary's %s as well as the canary's: the check counts the primary's traffic "+
					"(most of it until promotion) as the canary's", q.Who, ms, primaryExample(vs, primary))))
		}
	}
	return out
}

// primaryExample names what of the primary a selector matches ("pods (user-profile-primary-7d9f8b6c5d-x2kqz)").
func primaryExample(vs *parser.VectorSelector, primary names) string {
	what := map[workloadClass]string{podClass: "pods", workloadClassName: "workload", serviceClass: "service"}
	for _, m := range workloadMatchers(vs) {
		class := workloadLabels[m.Name]
		for _, n := range primary[class] {
			if m.Matches(n) {
				return fmt.Sprintf("%s (%s)", what[class], n)
			}
		}
	}
	return "objects"
}

// healthyCode and clientErrorCode are the response codes the complement-ratio rule
// tries a ratio's matchers with: nearly every request of a healthy service is
// answered 200; 404 stands for the client errors it also answers.
const (
	healthyCode     = "200"
	clientErrorCode = "404"
)

func (in *Input) complementRatios() []Finding {
	var out []Finding
	for _, q := range in.custom() {
		if q.CanaryMetric == nil || q.CanaryMetric.ThresholdRange == nil {
			continue
		}
		tr := q.CanaryMetric.ThresholdRange
		parser.Inspect(q.Expr, func(n parser.Node, path []parser.Node) error {
			b, ok := n.(*parser.BinaryExpr)
			if !ok || b.Op != parser.DIV {
				return nil
			}
			scale, ok := valueScale(b, path)
			if !ok {
				return nil
			}
			num, fn, ok1 := series(b.LHS)
			den, fd, ok2 := series(b.RHS)
			if !ok1 || !ok2 || metricName(num) == "" || metricName(num) != metricName(den) || fd == 0 {
				return nil
			}
			scale *= fn / fd
			numCodes, denCodes := codeMatchers(num), codeMatchers(den)
			if len(numCodes) == 0 || sameMatchers(numCodes, denCodes) || !matchAll(denCodes, healthyCode) {
				return nil
			}
			keepsHealthy := matchAll(numCodes, healthyCode)
			healthy := 0.0
			if keepsHealthy {
				healthy = scale
			}
			nc := matchersText(numCodes)
			switch {
			case tr.Max != nil && healthy > *tr.Max:
				out = append(out, in.Finding(complementRatio, q.Obj, q.Field, fmt.Sprintf("%s: the numerator keeps the requests "+
					"with {%s}, nearly all of a healthy service's, over all of them: Flagger reads about %s on a healthy canary, "+
					"above thresholdRange.max %s, so every check fails, and it passes only when nearly every request is one the "+
					"numerator leaves out", q.Who, nc, num64(healthy), num64(*tr.Max))).WithFix(complementFix(numCodes)))
			case tr.Min != nil && healthy < *tr.Min:
				out = append(out, in.Finding(complementRatio, q.Obj, q.Field, fmt.Sprintf("%s: the numerator keeps only the requests "+
					"with {%s}, few of a healthy service's: Flagger reads about %s on a healthy canary, below thresholdRange.min %s, "+
					"so every check fails", q.Who, nc, num64(healthy), num64(*tr.Min))).WithFix(complementFix(numCodes)))
			case keepsHealthy && tr.Min != nil && !matchAll(numCodes, clientErrorCode) && matchAll(denCodes, clientErrorCode):
				at1 := scale * 0.99
				f := in.Finding(complementRatio, q.Obj, q.Field, fmt.Sprintf("%s: the numerator leaves 4xx responses out "+
					"({%s}) but the denominator keeps them, so every client error (a 404 for a page that does not exist, a 401) "+
					"counts as a failure, unlike Flagger's builtin request-success-rate: a healthy canary answering 1%% 404s "+
					"reads %s against thresholdRange.min %s", q.Who, nc, num64(at1), num64(*tr.Min)))
				f.Severity = Warning
				out = append(out, f.WithFix("filter 4xx out of both sides (the same matcher in the denominator), or count only 5xx as failures"))
			}
			return nil
		})
	}
	return out
}

// valueScale is the factor the query multiplies the ratio b by (100 for a
// percentage); false when b is not the query's value (it is compared, summed, ...).
func valueScale(b parser.Node, path []parser.Node) (float64, bool) {
	scale := 1.0
	for i := len(path) - 1; i >= 0; i-- {
		child := b
		if i+1 < len(path) {
			child = path[i+1]
		}
		switch x := path[i].(type) {
		case *parser.ParenExpr, *parser.StepInvariantExpr, *parser.EvalStmt:
		case *parser.BinaryExpr:
			switch {
			case x.Op == parser.LOR && parser.Node(x.LHS) == child:
			case x.Op == parser.MUL:
				other := x.RHS
				if parser.Node(other) == child {
					other = x.LHS
				}
				c, ok := unwrap(other).(*parser.NumberLiteral)
				if !ok {
					return 0, false
				}
				scale *= c.Val
			default:
				return 0, false
			}
		default:
			return 0, false
		}
	}
	return scale, true
}

// sameMatchers reports whether a and b hold the same matchers.
func sameMatchers(a, b []*labels.Matcher) bool {
	return matchersText(a) == matchersText(b)
}

// complementFix is the numerator's code matchers turned around.
func complementFix(ms []*labels.Matcher) string {
	inverse := map[labels.MatchType]labels.MatchType{labels.MatchEqual: labels.MatchNotEqual, labels.MatchNotEqual: labels.MatchEqual,
		labels.MatchRegexp: labels.MatchNotRegexp, labels.MatchNotRegexp: labels.MatchRegexp}
	var turned []*labels.Matcher
	for _, m := range ms {
		if t, err := labels.NewMatcher(inverse[m.Type], m.Name, m.Value); err == nil {
			turned = append(turned, t)
		}
	}
	return fmt.Sprintf("select what the metric measures in the numerator: {%s} instead of {%s}", matchersText(turned), matchersText(ms))
}

// num64 prints a number without trailing zeros.
func num64(v float64) string { return fmt.Sprintf("%.4g", v) }

func (in *Input) absentSeries() []Finding {
	var out []Finding
	for _, q := range in.custom() {
		if hasFallback(q.Expr) {
			continue
		}
		seen := map[string]bool{}
		parser.Inspect(q.Expr, func(n parser.Node, _ []parser.Node) error {
			c, ok := n.(*parser.Call)
			if !ok || !counterRates[c.Func.Name] {
				return nil
			}
			for _, vs := range selectors(c) {
				name, what := metricName(vs), ""
				switch codes := codeMatchers(vs); {
				case errorCounter(name):
					what = name + " may have no series until the first error (a labelled counter is exported only once incremented)"
				case len(codes) > 0 && !matchAll(codes, healthyCode):
					what = fmt.Sprintf("%s{%s} keeps only error responses, which have no series until the canary first answers one", name, matchersText(codes))
				}
				if what == "" || seen[what] {
					continue
				}
				seen[what] = true
				out = append(out, in.Finding(seriesAbsent, q.Obj, q.Field, fmt.Sprintf("%s: %s: a version that never fails reads "+
					"no value and Flagger fails the check with \"no values found\"", q.Who, what)))
			}
			return nil
		})
	}
	return out
}

func (in *Input) quantilesWithoutLe() []Finding {
	var out []Finding
	for _, q := range in.custom() {
		parser.Inspect(q.Expr, func(n parser.Node, _ []parser.Node) error {
			c, ok := n.(*parser.Call)
			if !ok || c.Func.Name != "histogram_quantile" || len(c.Args) != 2 {
				return nil
			}
			agg, ok := unwrap(c.Args[1]).(*parser.AggregateExpr)
			if !ok || slices.Contains(agg.Grouping, "le") != agg.Without {
				return nil
			}
			for _, vs := range selectors(agg) {
				if name := metricName(vs); strings.HasSuffix(name, "_bucket") {
					out = append(out, in.Finding(quantileWithoutLe, q.Obj, q.Field, fmt.Sprintf("%s: histogram_quantile over "+
						"%s(...) of %s: the aggregation drops le, the buckets' bounds, so histogram_quantile has no bucket to read, "+
						"returns nothing and Flagger fails every check with \"no values found\"", q.Who, agg.Op, name)))
					return nil
				}
			}
			return nil
		})
	}
	return out
}

// errorCounter reports whether a metric name says it counts errors or failures.
func errorCounter(name string) bool {
	return strings.Contains(name, "error") || strings.Contains(name, "fail")
}

// hasFallback reports whether a query supplies a value when its series are absent:
// an `or` or absent()/absent_over_time().
func hasFallback(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.BinaryExpr:
			found = found || x.Op == parser.LOR
		case *parser.Call:
			found = found || strings.HasPrefix(x.Func.Name, "absent")
		}
		return nil
	})
	return found
}
