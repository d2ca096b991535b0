package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
)

// Fallback is a field of a Canary that Flagger reads as something other than what it
// says, without a word: a value it cannot parse or that is out of the range it uses
// (it runs a default instead), a field it ignores, or a value that sends the rollout
// nowhere (a weight walk that never reaches maxWeight). The CRD admits all of them.
type Fallback struct {
	// Field is the path of the field in the Canary, e.g. "spec.analysis.interval".
	Field string
	// Msg says what is written and what Flagger does instead.
	Msg string
}

// Fallbacks lists where a tick would read cd otherwise than it is written, asking the
// code a tick runs: the analysis interval (GetAnalysisInterval), the threshold
// (GetAnalysisThreshold), the max weight (MaxWeight), the canary weights from 0 to the
// max weight (nextStepWeight and the step's arithmetic), the promotion's weights,
// each webhook's timeout (hooks.Timeout) and attempts (hooks.Attempts), and the bounds
// each metric check holds its value against (analysis.Bounds). The scenario loader
// turns them into load-time warnings at the field's line: aviary runs what Flagger
// would, and says so before the run. Nothing is read or written: cd is only looked at.
func (e *Engine) Fallbacks(cd *v1beta1.Canary) []Fallback {
	a := cd.GetAnalysis()
	if a == nil {
		return nil
	}
	var out []Fallback
	add := func(field, format string, args ...any) {
		out = append(out, Fallback{Field: "spec.analysis" + field, Msg: fmt.Sprintf(format, args...)})
	}

	if got := cd.GetAnalysisInterval(); a.Interval != "" {
		written, err := time.ParseDuration(a.Interval)
		switch {
		case err != nil:
			add(".interval", "%q is not a Go duration (%v): Flagger uses %s", a.Interval, err, FormatDuration(got))
		case written != got:
			add(".interval", "%s is shorter than Flagger's shortest analysis interval: it ticks every %s", a.Interval, FormatDuration(got))
		}
	}
	if got := cd.GetAnalysisThreshold(); got != a.Threshold {
		add(".threshold", "%d is below 1: Flagger uses %d (it rolls back at the first failed check)", a.Threshold, got)
	}
	if e.providerOf(cd) != "kubernetes" { // where Flagger turns weights into iterations, with Warning events
		out = append(out, weightFallbacks(cd)...)
	}
	for i, w := range a.Webhooks {
		p := fmt.Sprintf(".webhooks[%d]", i)
		switch t, err := hooks.Timeout(w); {
		case err != nil:
			add(p+".timeout", "%q is not a Go duration (%v): Flagger fails every call of webhook %q without sending it", w.Timeout, err, w.Name)
		case t <= 0:
			add(p+".timeout", "%s: Flagger's HTTP client takes a timeout of 0 or less as none, so a call of webhook %q waits as long as the endpoint takes", w.Timeout, w.Name)
		}
		if n := hooks.Attempts(w); n != w.Retries+1 {
			add(p+".retries", "%d is negative: Flagger makes %d attempt(s) at each call of webhook %q, as with 0", w.Retries, n, w.Name)
		}
	}
	for i, m := range a.Metrics {
		out = append(out, metricFallbacks(fmt.Sprintf("spec.analysis.metrics[%d]", i), m)...)
	}
	return out
}

// weightFallbacks are the weight fields a canary-strategy analysis is not run as
// written: a max weight Flagger replaces or ignores, canary weights that never
// reach the max weight (Flagger never promotes) or step past it, stepWeights walked
// otherwise than listed, and a promotion that never gives the primary its traffic
// back.
func weightFallbacks(cd *v1beta1.Canary) []Fallback {
	a := cd.GetAnalysis()
	var out []Fallback
	add := func(field, format string, args ...any) {
		out = append(out, Fallback{Field: "spec.analysis" + field, Msg: fmt.Sprintf(format, args...)})
	}
	maxWeight := cd.MaxWeight()
	if cd.DeploymentStrategy() != v1beta1.DeploymentStrategyCanary {
		if a.MaxWeight != 0 {
			add(".maxWeight", "ignored: with iterations %d Flagger runs %s, which routes by iterations, not weights", a.Iterations, cd.DeploymentStrategy())
		}
		return append(out, promotionFallbacks(cd, totalWeight)...)
	}
	switch {
	case a.MaxWeight != 0 && len(a.StepWeights) > 0:
		add(".maxWeight", "ignored: with stepWeights, Flagger's max weight is %d, from the last of them", maxWeight)
	case a.MaxWeight != 0 && a.MaxWeight != maxWeight:
		add(".maxWeight", "%d is not positive: Flagger uses %d", a.MaxWeight, maxWeight)
	}
	weights, stalled, next := weightWalk(cd)
	walk := joinInts(weights)
	switch {
	case stalled && len(weights) == 0:
		never := fmt.Sprintf("Flagger never moves traffic to the canary (its first step, %d, is not positive): every tick starts the analysis again at weight 0 "+
			"(its pre-rollout webhooks, no metric check) and the canary is never promoted", next)
		switch {
		case len(a.StepWeights) > 0:
			add(".stepWeights[0]", "%d: %s", a.StepWeights[0], never)
		case a.StepWeight == 0 && a.Iterations < 0:
			add(".iterations", "%d is not positive, so Flagger runs a canary by weights, without stepWeight: %s", a.Iterations, never)
		default:
			add(".stepWeight", "%d: %s", a.StepWeight, never)
		}
	case stalled && next <= 0:
		add(".stepWeights", "Flagger's canary weights go %s and stop there: the next step (%d) is not positive, so it never promotes the canary", walk, next)
	case stalled:
		add(".maxWeight", "Flagger's canary weights go %s and stop there, short of the max weight %d (a weight is at most 100): it never promotes the canary", walk, maxWeight)
	case len(a.StepWeights) > 0 && !slices.Equal(weights, a.StepWeights):
		add(".stepWeights", "Flagger's canary weights go %s and it promotes from %d, not as listed (its max weight is %d: the last of them, at most 100)",
			walk, weights[len(weights)-1], maxWeight)
	case len(weights) > 0 && weights[len(weights)-1] > maxWeight:
		add(".maxWeight", "Flagger's canary weights go %s: it steps past %d, since it compares the weight with it before each step, and promotes from %d",
			walk, maxWeight, weights[len(weights)-1])
	}
	if stalled {
		return out
	}
	last := maxWeight
	if len(weights) > 0 {
		last = weights[len(weights)-1]
	}
	return append(out, promotionFallbacks(cd, last)...)
}

// promotionFallbacks reports a stepWeightPromotion that never gives the primary all
// the traffic back, from a canary weight of canary: the promotion never finishes.
func promotionFallbacks(cd *v1beta1.Canary, canary int) []Fallback {
	step := cd.GetAnalysis().StepWeightPromotion
	if step == 0 {
		return nil // all traffic back in one go
	}
	primaries, stalled := promotionWalk(step, canary)
	if !stalled {
		return nil
	}
	return []Fallback{{Field: "spec.analysis.stepWeightPromotion",
		Msg: fmt.Sprintf("%d: while promoting, Flagger's primary weight goes %s, never back to 100: the promotion never finishes", step, joinInts(primaries))}}
}

// weightWalk is the canary weights a canary-strategy analysis routes, tick after
// tick, while every check passes and no gate holds it (advance, advanceCanary; the
// mirroring step left out): from 0, nextStepWeight at a time, until the weight
// reaches the max weight, when Flagger promotes. Every tick, the promotion included,
// needs a positive next step. stalled is true when the walk stops for good: next is
// then the step that stops it, not positive (advance does nothing) or one that does
// not move the weight (100 is the most it can be).
func weightWalk(cd *v1beta1.Canary) (weights []int, stalled bool, next int) {
	maxWeight := cd.MaxWeight()
	primary, canary := totalWeight, 0
	for {
		step := nextStepWeight(cd, canary)
		if step <= 0 {
			return weights, true, step
		}
		if canary >= maxWeight {
			return weights, false, step
		}
		p, c := stepWeights(primary, canary, step)
		if c == canary {
			return weights, true, step
		}
		primary, canary = p, c
		weights = append(weights, canary)
	}
}

// promotionWalk is the primary weights shiftPromotionTraffic routes from a canary
// weight of canary, stopping once the primary has all the traffic back (done) or at
// the first step that takes traffic from it (stalled; the first few weights given).
func promotionWalk(step, canary int) (primaries []int, stalled bool) {
	primary := totalWeight - canary
	for primary < totalWeight {
		p, c := promotionWeights(primary, canary, step)
		primaries = append(primaries, p)
		if p <= primary {
			for len(primaries) < 3 {
				p, c = promotionWeights(p, c, step)
				primaries = append(primaries, p)
			}
			return primaries, true
		}
		primary, canary = p, c
	}
	return primaries, false
}

// metricFallbacks reports a metric whose checks cannot pass (a thresholdRange whose
// min is above its max) or that holds its value against a bound of 0 because it has
// no thresholds at all (Flagger's deprecated threshold, 0 when not written), as each
// check holds it (analysis.Bounds).
func metricFallbacks(path string, m v1beta1.CanaryMetric) []Fallback {
	var out []Fallback
	for _, kind := range analysis.Kinds(m) {
		lo, hi := analysis.Bounds(m, kind)
		switch {
		case lo != nil && hi != nil && *lo > *hi:
			return append(out, Fallback{Field: path + ".thresholdRange",
				Msg: fmt.Sprintf("min %v is above max %v (as the %s check reads them): no value passes, so Flagger fails every check of metric %q", *lo, *hi, kind, m.Name)})
		case m.ThresholdRange == nil && m.Threshold == 0 && lo != nil:
			return append(out, Fallback{Field: path, Msg: fmt.Sprintf("metric %q has neither thresholdRange nor threshold: Flagger holds its %s value against a minimum of 0, so every value passes", m.Name, kind)})
		case m.ThresholdRange == nil && m.Threshold == 0 && hi != nil:
			return append(out, Fallback{Field: path, Msg: fmt.Sprintf("metric %q has neither thresholdRange nor threshold: Flagger holds its %s value against a maximum of 0, so every value above 0 fails", m.Name, kind)})
		}
	}
	return out
}

// FormatDuration writes a duration as a policy or a person would: "4m", "6m30s",
// "1h2m", not "4m0s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// joinInts lists weights for a message: "10, 20, 30".
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// kubernetesIterations is how many iterations Flagger runs a kubernetes-provider
// analysis with when it has none (applyKubernetesProviderLimits).
const kubernetesIterations = 10

// Walk is the course a new revision of a Canary takes by the engine's rules while
// every check passes, every gate opens and every pod is ready when a tick looks:
// how many analysis ticks lead to the promotion, the canary weights the router is
// set to on the way, and how many ticks the promotion then takes. It is read off
// the functions the ticks run (weightWalk, promotionWalk, the kubernetes provider's
// iterations), so that what is computed from it (aviary init's expectations) follows
// the engine.
type Walk struct {
	// Strategy is the strategy the ticks run (v1beta1.DeploymentStrategy*): with
	// provider kubernetes, blue/green.
	Strategy string
	// Iterations are the A/B testing or blue/green iterations (kubernetes: 10 when
	// the analysis has none).
	Iterations int
	// Weights are the canary weights a canary-strategy analysis routes, one per
	// analysis tick, after a mirror step when Mirror.
	Weights []int
	// Mirror is a canary-strategy analysis whose first step mirrors traffic.
	Mirror bool
	// Ticks are the analysis ticks from the first step (Starting canary analysis,
	// the pre-rollout hooks) to the one that promotes, both included.
	Ticks int
	// Promoting are the canary weights the ticks in Promoting route, one per tick,
	// the last of them entering Finalising (provider kubernetes: none, one tick).
	Promoting []int
	// PromotingTicks are the ticks in Promoting.
	PromotingTicks int
	// Promotes is false when the rollout never reaches a promotion (Fallbacks says
	// why); the other fields are then what it does before it stalls.
	Promotes bool
}

// Walk is how a new revision of cd is rolled out while everything passes (see Walk).
// Nothing is read or written: cd is only looked at.
func (e *Engine) Walk(cd *v1beta1.Canary) Walk {
	provider := e.providerOf(cd)
	a := cd.GetAnalysis()
	w := Walk{Strategy: cd.DeploymentStrategy(), Promotes: true}
	if a != nil {
		w.Iterations = a.Iterations
	}
	if provider == "kubernetes" {
		w.Strategy = v1beta1.DeploymentStrategyBlueGreen
		if w.Iterations < 1 {
			w.Iterations = kubernetesIterations
		}
	}
	last := totalWeight
	switch w.Strategy {
	case v1beta1.DeploymentStrategyABTesting:
		w.Ticks = w.Iterations + 1 // the first step is iteration 1; the tick after the last promotes
	case v1beta1.DeploymentStrategyBlueGreen:
		w.Ticks = w.Iterations + 2 // then all traffic to the canary, then the promotion
	default:
		weights, stalled, _ := weightWalk(cd)
		w.Weights, w.Promotes = weights, !stalled
		w.Mirror = a != nil && a.Mirror
		if w.Mirror && !e.Mirrors(cd) {
			w.Promotes = false // a router that cannot mirror never reports the mirror step done (H12)
		}
		w.Ticks = len(weights) + 1
		if w.Mirror {
			w.Ticks++
		}
		if len(weights) > 0 {
			last = weights[len(weights)-1]
		}
	}
	switch {
	case provider == "kubernetes":
		w.PromotingTicks = 1
	case a != nil && a.StepWeightPromotion != 0:
		primaries, stalled := promotionWalk(a.StepWeightPromotion, last)
		if stalled {
			w.Promotes = false
		}
		for _, p := range primaries {
			w.Promoting = append(w.Promoting, totalWeight-p)
		}
		w.PromotingTicks = len(primaries)
	default:
		w.Promoting, w.PromotingTicks = []int{0}, 1
	}
	return w
}
