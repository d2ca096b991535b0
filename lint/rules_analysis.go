package lint

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
)

// analysisRules are the rules on a Canary's analysis: how its threshold, its
// builtin metrics' bounds and units, and its progress deadline play out in
// Flagger 1.44's scheduler.
var analysisRules = []*Rule{thresholdNeverBites, thresholdSide, latencyUnits, progressDeadlineShort, mirrorIgnored}

// engineRules is the engine whose rules the analysis rules ask (Flagger's defaults:
// mesh provider istio unless the Canary names one); it is only asked, never run.
var engineRules = &engine.Engine{}

var thresholdNeverBites = &Rule{
	ID:       "threshold-never-bites",
	Severity: Warning,
	Title:    "analysis.threshold is at least the number of checks to promotion: a flapping canary is promoted",
	Help: "A failed check only halts the canary where it is and adds one to failedChecks; a passing check " +
		"advances it, and failedChecks is never reset during the analysis. Flagger rolls back on the tick " +
		"after the threshold-th failed check, and promotes after as many passing checks as the analysis has " +
		"steps (canary weights to maxWeight, stepWeights, A/B iterations, blue/green iterations + 1). When the " +
		"threshold is at least that number, a canary that fails every other check is promoted (info); when " +
		"it exceeds it by two or more, one that fails more checks than it passes is (warning).",
	Fix:      "set analysis.threshold below the number of checks to promotion (2 or 3 tolerates a flaky check), or add steps",
	Scenario: "scenarios/podinfo-flapping-promoted.yaml",
}

var thresholdSide = &Rule{
	ID:       "threshold-side",
	Severity: Error,
	Title:    "thresholdRange on the wrong side of a builtin metric",
	Help: "Flagger's request-success-rate is the percentage of non-5xx requests: a check fails below min; a " +
		"max below 100 fails a canary that serves no error at all, and without min a canary answering " +
		"only 5xx passes. request-duration is the P99 latency: a check fails above max; without max a slow " +
		"canary passes, and a min fails a fast one.",
	Fix:      "request-success-rate: thresholdRange.min (e.g. 99); request-duration: thresholdRange.max in milliseconds (e.g. 500)",
	Scenario: "scenarios/podinfo-success-rate-max.yaml",
}

var latencyUnits = &Rule{
	ID:       "latency-units",
	Severity: Error,
	Title:    "a latency bound in a unit the query does not return",
	Help: "Flagger's builtin request-duration is in milliseconds for every provider (the HTTP observer's " +
		"seconds are scaled by 1000), and its bounds are truncated to whole milliseconds: max 0.5 is 0 ms, " +
		"so every check fails (error); a max under 10 was most likely meant in seconds (warning). A template " +
		"or inline query over a *_seconds histogram returns seconds: max 500 there is more than eight minutes " +
		"and passes anything; over a *_milliseconds histogram, max 0.5 fails everything (warning: the " +
		"histogram's name is all that tells its unit).",
	Fix:      "write the bound in the unit the query returns (builtin request-duration: milliseconds), or scale the query (* 1000)",
	Scenario: "scenarios/podinfo-duration-in-seconds.yaml",
}

var progressDeadlineShort = &Rule{
	ID:       "progress-deadline-short",
	Severity: Warning,
	Title:    "progressDeadlineSeconds shorter than the target's pods take to become available",
	Help: "Flagger reads spec.progressDeadlineSeconds (default 600) only in its readiness checks: a " +
		"Deployment whose Available condition is False (MinimumReplicasUnavailable) for longer than the " +
		"deadline is not retried but rolled back (the canary at its start, the primary while promoting). " +
		"The time the analysis takes, and webhook timeouts, do not count against it: a healthy Deployment " +
		"is Available. So it rolls back a healthy release only when the pods cannot be " +
		"available before the deadline: the readiness probe's initialDelaySeconds plus minReadySeconds " +
		"outlast it and an analysis tick falls in between.",
	Fix:      "raise spec.progressDeadlineSeconds above the pods' startup time (initialDelaySeconds + minReadySeconds) with room to spare",
	Scenario: "scenarios/podinfo-slow-start-deadline.yaml",
}

var mirrorIgnored = &Rule{
	ID:       "mirror-ignored",
	Severity: Error,
	Title:    "analysis.mirror with a router that cannot mirror",
	Help: "Flagger's Traefik router writes no mirror and never reports one, the kubernetes provider has no " +
		"router, and Istio's A/B testing routes carry none. With the canary strategy the first step is a " +
		"mirror step that the next tick must find mirrored: with Traefik it never is, so every tick takes " +
		"the mirror step again (\"Advance ... canary weight 0\"), runs the pre-rollout webhooks again and " +
		"checks nothing: the canary is never promoted (error). Blue/green and A/B testing just run without " +
		"the mirror (info).",
	Fix:      "remove analysis.mirror (or mirror with a router that can: Istio, by weights or blue/green)",
	Scenario: "scenarios/traefik-mirror-never-advances.yaml",
}

func init() {
	mirrorIgnored.Check = checkMirrorIgnored
	thresholdNeverBites.Check = checkThresholdNeverBites
	thresholdSide.Check = checkThresholdSide
	latencyUnits.Check = checkLatencyUnits
	progressDeadlineShort.Check = checkProgressDeadline
}

// checkThresholdNeverBites compares the threshold with the passing checks the
// engine needs to promote (engine.ChecksToPromote).
func checkThresholdNeverBites(in *Input) []Finding {
	cd := in.Loaded.Canary
	a := cd.GetAnalysis()
	if a == nil || cd.SkipAnalysis() {
		return nil
	}
	n, ok := engineRules.ChecksToPromote(cd)
	threshold := cd.GetAnalysisThreshold()
	if !ok || n == 0 || threshold < n || threshold < 2 {
		return nil // threshold 1 rolls back at the first failed check
	}
	f := in.Finding(thresholdNeverBites, cd, "spec.analysis.threshold", fmt.Sprintf(
		"threshold %d with %d analysis %s to promotion (%s): failed checks add up but a passing check still advances, "+
			"so Flagger rolls back only on the tick after the %s failed check, and promotes after %d passing %s whatever "+
			"failed in between: a canary that fails %s is promoted (up to %d failed %s out of %d)",
		threshold, n, plural(n, "check", "checks"), stepsOf(cd, n), ordinal(threshold), n, plural(n, "one", "ones"),
		flapping(threshold, n), threshold-1, plural(threshold-1, "check", "checks"), n+threshold-1))
	if threshold-1 <= n {
		f.Severity = Info
	}
	fix := fmt.Sprintf("set analysis.threshold to %d or less (below the %d checks to promotion; 2 or 3 tolerates a flaky check), or add steps", n-1, n)
	if n == 1 {
		fix = "add steps (one check to promotion lets a canary through after a single pass), or set analysis.threshold to 1"
	}
	return []Finding{f.WithFix(fix)}
}

// stepsOf says where a revision's analysis checks come from.
func stepsOf(cd *v1beta1.Canary, n int) string {
	a := cd.GetAnalysis()
	switch {
	case a.Iterations > 0 && len(a.Match) > 0 && cd.Spec.Provider != analysis.ProviderKubernetes:
		return fmt.Sprintf("A/B testing, %d iterations", a.Iterations)
	case a.Iterations > 0 || cd.Spec.Provider == analysis.ProviderKubernetes:
		return fmt.Sprintf("blue/green, %d iterations and the check with all traffic on the canary", n-1)
	case len(a.StepWeights) > 0:
		return fmt.Sprintf("stepWeights %s", strings.Join(strings.Fields(strings.Trim(fmt.Sprint(a.StepWeights), "[]")), ", "))
	}
	s := fmt.Sprintf("stepWeight %d to maxWeight %d", a.StepWeight, cd.MaxWeight())
	if a.Mirror {
		s += ", after a mirrored check"
	}
	return s
}

// flapping is the share of failed checks that still gets a canary promoted.
func flapping(threshold, n int) string {
	if threshold-1 > n {
		return "more checks than it passes"
	}
	return "every other check"
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

// checkThresholdSide finds builtin metrics whose thresholdRange bounds the wrong side,
// as each check holds its value (analysis.Bounds). A metric without any threshold
// is engine.Fallbacks' (the loader warns), and so is a min above max.
func checkThresholdSide(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, m := range analysisOf(cd).Metrics {
		if m.ThresholdRange == nil {
			continue
		}
		path := fmt.Sprintf("spec.analysis.metrics[%d].thresholdRange", i)
		switch m.Name {
		case analysis.MetricRequestSuccessRate:
			lo, hi := analysis.Bounds(m, analysis.KindSuccessRate)
			switch {
			case hi != nil && *hi < 100 && (lo == nil || *lo <= *hi):
				out = append(out, in.Finding(thresholdSide, cd, path+".max", fmt.Sprintf(
					"max %v on request-success-rate (the percentage of non-5xx requests): Flagger fails a canary whose success rate is above %v%%, "+
						"a healthy one serving no 5xx included (100%%)%s", *hi, *hi, noMin(lo))))
			case lo == nil:
				out = append(out, in.Finding(thresholdSide, cd, path, fmt.Sprintf(
					"request-success-rate has no thresholdRange.min: Flagger fails it only below min, so a canary answering every request with a 5xx passes (0%% success)")))
			}
		case analysis.MetricRequestDuration:
			lo, hi := analysis.Bounds(m, analysis.KindDuration)
			if hi == nil {
				msg := "request-duration has no thresholdRange.max: Flagger fails it only above max, so a canary of any latency passes"
				if lo != nil && *lo > 0 {
					msg = fmt.Sprintf("min %v on request-duration (the P99 latency, in ms) and no max: Flagger fails a canary faster than %v ms and passes one of any latency above it", *lo, *lo)
				}
				out = append(out, in.Finding(thresholdSide, cd, path, msg))
			}
		}
	}
	return out
}

func noMin(lo *float64) string {
	if lo == nil {
		return ", and with no min it passes one answering every request with a 5xx (0%)"
	}
	return ""
}

// analysisOf is the Canary's analysis, empty when it has none.
func analysisOf(cd *v1beta1.Canary) *v1beta1.CanaryAnalysis {
	if a := cd.GetAnalysis(); a != nil {
		return a
	}
	return &v1beta1.CanaryAnalysis{}
}

// checkProgressDeadline finds a target Deployment whose new pods cannot be available
// before the Canary's progress deadline while an analysis tick looks (the target is
// known only when the linted files hold it).
func checkProgressDeadline(in *Input) []Finding {
	cd, d := in.Loaded.Canary, in.Loaded.Target
	if d == nil {
		return nil
	}
	startup := 0 // seconds before a new pod can be available: its probes' first chance, then minReadySeconds
	for _, c := range d.Spec.Template.Spec.Containers {
		if p := c.ReadinessProbe; p != nil {
			startup = max(startup, int(p.InitialDelaySeconds))
		}
		if p := c.StartupProbe; p != nil {
			startup = max(startup, int(p.InitialDelaySeconds))
		}
	}
	startup += int(d.Spec.MinReadySeconds)
	deadline := cd.GetProgressDeadlineSeconds()
	interval := int(cd.GetAnalysisInterval().Seconds())
	// the first tick after the deadline (ticks every interval from the scale-up)
	firstLate := (deadline/interval + 1) * interval
	if startup <= deadline || firstLate >= startup {
		return nil
	}
	path := "spec.progressDeadlineSeconds"
	written := fmt.Sprintf("progressDeadlineSeconds %d", deadline)
	if cd.Spec.ProgressDeadlineSeconds == nil {
		path, written = "spec", fmt.Sprintf("progressDeadlineSeconds (default %d)", deadline)
	}
	return []Finding{in.Finding(progressDeadlineShort, cd, path, fmt.Sprintf(
		"%s, but Deployment %s's new pods need at least %ds to become available (readiness initialDelaySeconds + minReadySeconds): "+
			"the tick %ds after the canary is scaled up finds it still unavailable past the deadline, which Flagger does not retry: "+
			"every release is rolled back before its analysis starts",
		written, d.Name, startup, firstLate))}
}

// checkLatencyUnits finds latency bounds in a unit the metric's query does not
// return: the builtin request-duration's milliseconds (as each provider's observer
// returns or scales them), and templates or inline queries whose value is a
// quantile of a *_seconds or *_milliseconds histogram.
func checkLatencyUnits(in *Input) []Finding {
	cd := in.Loaded.Canary
	a := analysisOf(cd)
	var out []Finding
	observer := analysis.ObserverFor(analysis.MetricsProvider(v1beta1.DefaultMeshProvider, cd))
	for i, m := range a.Metrics {
		if m.Name != analysis.MetricRequestDuration {
			continue
		}
		written, path := m.Threshold, fmt.Sprintf("spec.analysis.metrics[%d].threshold", i)
		if m.ThresholdRange != nil {
			if m.ThresholdRange.Max == nil {
				continue
			}
			written, path = *m.ThresholdRange.Max, fmt.Sprintf("spec.analysis.metrics[%d].thresholdRange.max", i)
		}
		if written <= 0 || written >= 10 {
			continue
		}
		_, hi := analysis.Bounds(m, analysis.KindDuration)
		unit := fmt.Sprintf("Flagger's %s query returns the P99 in milliseconds", observer.Name)
		if observer.DurationToMillis != 1 {
			unit = fmt.Sprintf("Flagger's %s query returns seconds, which Flagger turns into milliseconds", observer.Name)
		}
		f := in.Finding(latencyUnits, cd, path, fmt.Sprintf(
			"request-duration max %v is in milliseconds (%s), truncated to whole milliseconds: %v ms, so a canary fails every check unless its P99 stays under %v ms; seconds were meant?",
			written, unit, *hi, *hi+1))
		f.Severity = Warning // a P99 under a few ms is rare, not impossible
		if *hi == 0 {
			f.Severity = Error
			f.Message = fmt.Sprintf(
				"request-duration max %v is in milliseconds (%s), truncated to whole milliseconds: 0 ms, so every check of a P99 of 1 ms or more fails and every release is rolled back",
				written, unit)
		}
		out = append(out, f.WithFix(fmt.Sprintf("write max: %v (milliseconds) if %v s was meant", written*1000, written)))
	}
	for _, q := range metricQueries(in) {
		if q.Err != nil || q.Source == analysis.QueryBuiltin {
			continue
		}
		m := a.Metrics[q.Metric]
		if m.ThresholdRange == nil || m.ThresholdRange.Max == nil {
			continue
		}
		unit, toSeconds := latencyUnit(q.Query)
		if unit == "" {
			continue
		}
		bound := *m.ThresholdRange.Max * toSeconds
		var what string
		switch {
		case bound >= 60:
			what = fmt.Sprintf("%v %s is %s: any latency passes", *m.ThresholdRange.Max, unit, engine.FormatDuration(secondsDuration(bound)))
		case bound > 0 && bound < 0.001:
			what = fmt.Sprintf("%v %s is under a millisecond: every check fails", *m.ThresholdRange.Max, unit)
		default:
			continue
		}
		where := fmt.Sprintf("metric %q's query", m.Name)
		if q.Source == analysis.QueryTemplate {
			where = fmt.Sprintf("MetricTemplate %s's query", q.Template.Name)
		}
		f := in.Finding(latencyUnits, cd, fmt.Sprintf("spec.analysis.metrics[%d].thresholdRange.max", q.Metric), fmt.Sprintf(
			"%s is a quantile of a histogram in %s, and max %s", where, unitName(unit), what))
		f.Severity = Warning // the histogram's name is all that says its unit
		out = append(out, f.WithFix(fmt.Sprintf("write max in %s (e.g. %v), or multiply the query to the unit you mean", unitName(unit), suggest(unit))))
	}
	return out
}

func unitName(unit string) string {
	if unit == "s" {
		return "seconds"
	}
	return "milliseconds"
}

func suggest(unit string) float64 {
	if unit == "s" {
		return 0.5
	}
	return 500
}

// metricQueries are the queries of the Canary's checks as the checker renders them,
// templates found among the linted files.
func metricQueries(in *Input) []analysis.MetricQuery {
	return analysis.CanaryQueries(in.Loaded.Canary, v1beta1.DefaultMeshProvider, func(namespace, name string) *v1beta1.MetricTemplate {
		for _, t := range in.Loaded.Templates {
			if t.Namespace == namespace && t.Name == name {
				return t
			}
		}
		return nil
	})
}

// latencyUnit is the unit of a query whose value is a histogram_quantile over a
// *_seconds or *_milliseconds histogram, possibly multiplied or divided by a number:
// "s" or "ms", and what one of it is in seconds; "" when the query is not such a
// quantile or its scale is neither.
func latencyUnit(q string) (unit string, toSeconds float64) {
	expr, err := parser.ParseExpr(q)
	if err != nil {
		return "", 0
	}
	scale := 1.0
	for {
		switch e := expr.(type) {
		case *parser.ParenExpr:
			expr = e.Expr
			continue
		case *parser.BinaryExpr:
			k, other, ok := numberSide(e)
			if !ok {
				return "", 0
			}
			switch e.Op {
			case parser.MUL:
				scale *= k
			case parser.DIV:
				if _, isNum := e.RHS.(*parser.NumberLiteral); !isNum || k == 0 {
					return "", 0
				}
				scale /= k
			default:
				return "", 0
			}
			expr = other
			continue
		case *parser.Call:
			if e.Func.Name != "histogram_quantile" || len(e.Args) != 2 {
				return "", 0
			}
			base := histogramUnit(e.Args[1])
			if base == 0 {
				return "", 0
			}
			switch perUnit := base / scale; perUnit {
			case 1:
				return "s", 1
			case 0.001:
				return "ms", 0.001
			}
		}
		return "", 0
	}
}

// numberSide splits a binary expression into its number literal and its other side.
func numberSide(e *parser.BinaryExpr) (k float64, other parser.Expr, ok bool) {
	if n, isNum := e.RHS.(*parser.NumberLiteral); isNum {
		return n.Val, e.LHS, true
	}
	if n, isNum := e.LHS.(*parser.NumberLiteral); isNum {
		return n.Val, e.RHS, true
	}
	return 0, nil, false
}

// histogramUnit is one unit of the histogram the expression reads, in seconds, when
// every metric it names is a *_seconds or every one a *_milliseconds histogram; 0
// otherwise.
func histogramUnit(expr parser.Expr) float64 {
	unit := 0.0
	mixed := false
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		var u float64
		switch name := vs.Name; {
		case strings.Contains(name, "_milliseconds"):
			u = 0.001
		case strings.Contains(name, "_seconds"):
			u = 1
		}
		if u == 0 || unit != 0 && u != unit {
			mixed = true
		}
		unit = u
		return nil
	})
	if mixed {
		return 0
	}
	return unit
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// checkMirrorIgnored asks the engine whether the Canary's router mirrors
// (engine.Mirrors) and whether the analysis then promotes at all
// (engine.ChecksToPromote).
func checkMirrorIgnored(in *Input) []Finding {
	cd := in.Loaded.Canary
	a := analysisOf(cd)
	if !a.Mirror || cd.SkipAnalysis() || engineRules.Mirrors(cd) {
		return nil
	}
	why := "Flagger's Traefik router writes no mirror and never reports one"
	switch {
	case cd.Spec.Provider == analysis.ProviderKubernetes:
		why = "provider kubernetes has no router to mirror with"
	case len(a.Match) > 0 && a.Iterations > 0:
		why = "A/B testing's routes carry no mirror"
	}
	if _, ok := engineRules.ChecksToPromote(cd); !ok && cd.DeploymentStrategy() == v1beta1.DeploymentStrategyCanary {
		return []Finding{in.Finding(mirrorIgnored, cd, "spec.analysis.mirror", fmt.Sprintf(
			"%s: the canary strategy's first step mirrors and the next tick must find the mirror, so every tick takes the mirror step again "+
				"(\"Advance %s.%s canary weight 0\"), runs the pre-rollout webhooks again and checks no metric: the canary never gets traffic and is never promoted",
			why, cd.Name, cd.Namespace))}
	}
	then := "the iterations run with all live traffic on the primary (the canary gets only what is sent to its own Service), then all of it at once"
	if len(a.Match) > 0 && a.Iterations > 0 && cd.Spec.Provider != analysis.ProviderKubernetes {
		then = "the requests the match selects go to the canary, and none is mirrored"
	}
	f := in.Finding(mirrorIgnored, cd, "spec.analysis.mirror", fmt.Sprintf("%s: analysis.mirror is ignored: %s", why, then))
	f.Severity = Info
	return []Finding{f}
}
