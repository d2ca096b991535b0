package scaffold

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/world"
)

// draft is one scenario before it is written.
type draft struct {
	// suffix names the scenario: <canary>-<suffix>.
	suffix      string
	description string
	faults      []*yaml.Node
	timeline    []*yaml.Node
	until       time.Duration
	expect      []field
	// observe: the outcome cannot be computed from the policy (only application
	// series decide it); the scenario expects what its run does, and says so.
	observe string
	// summary is the expectation and why, in one line.
	summary  string
	findings []string
	// ifPromoted is the finding of an observed scenario whose run promotes.
	ifPromoted string
}

// drafts are the five scenarios, in a fixed order.
func (p *plan) drafts() []draft {
	return []draft{p.healthy(), p.burst(), p.spike(), p.noTraffic(), p.newRevision()}
}

// Events the engine writes, in its words (engine/engine.go, strategy.go).
func (p *plan) scalingUp() string { return "New revision detected! Scaling up " + p.target() }
func (p *plan) starting() string  { return "Starting canary analysis for " + p.target() }
func (p *plan) copying() string {
	t := p.cd.Spec.TargetRef.Name
	return fmt.Sprintf("Copying %s template spec to %s-primary.%s", p.target(), t, p.cd.Namespace)
}
func (p *plan) completed() string { return "Promotion completed! Scaling down " + p.target() }
func (p *plan) rollingBack() string {
	return fmt.Sprintf("Rolling back %s failed checks threshold reached %d", p.canary(), p.threshold)
}
func (p *plan) canaryFailed() string { return "Canary failed! Scaling down " + p.canary() }
func (p *plan) restarting() string {
	return "New revision detected! Restarting analysis for " + p.target()
}

// lastAdvance is the event of the analysis' last step before the promotion.
func (p *plan) lastAdvance() string {
	w := p.walk
	if w.Strategy != v1beta1.DeploymentStrategyCanary {
		return fmt.Sprintf("Advance %s canary iteration %d/%d", p.canary(), w.Iterations, w.Iterations)
	}
	if len(w.Weights) == 0 {
		return ""
	}
	return fmt.Sprintf("Advance %s canary weight %d", p.canary(), w.Weights[len(w.Weights)-1])
}

// routes are the canary weights of one analysis that promotes, and whether the
// router's record of them is known: A/B testing routes its match 100, blue/green
// (without mirroring) all traffic to the canary before the promotion; the kubernetes
// provider and mirroring are left out.
func (p *plan) routes() ([]int, bool) {
	w := p.walk
	switch {
	case p.provider == "kubernetes" || w.Mirror:
		return nil, false
	case w.Strategy == v1beta1.DeploymentStrategyCanary:
		return append(append([]int(nil), w.Weights...), w.Promoting...), true
	case w.Strategy == v1beta1.DeploymentStrategyBlueGreen && p.cd.GetAnalysis().Mirror:
		return nil, false
	}
	return append([]int{100}, w.Promoting...), true
}

// until is the end of a run decided by at: a few ticks more, to the minute.
func (p *plan) until(at time.Duration) time.Duration {
	return (at + p.ticks(3) + time.Minute - 1).Truncate(time.Minute)
}

// revision is the timeline entry of the new revision.
func (p *plan) revision() *yaml.Node {
	return flow(field{key: "at", value: dur(p.rev)}, field{key: "image", value: str(p.nextImage(1))})
}

// margin is what within allows past the computed time: one tick.
func (p *plan) margin() time.Duration { return p.interval }

// promotedBy is the within of a revision whose analysis starts with the first step
// at `from` (what), and its reason.
func (p *plan) promotedBy(from time.Duration, what string) (time.Duration, string) {
	at := from + p.toPromotion() + p.margin()
	return at, fmt.Sprintf("%s at %s + %s (%s) + %s margin", what, engine.FormatDuration(from), engine.FormatDuration(p.toPromotion()),
		p.promotionReason(), engine.FormatDuration(p.margin()))
}

func (p *plan) promotionReason() string {
	return fmt.Sprintf("ticks of %s: %d more of analysis to the promotion, %d to the primary's rollout and the first promoting tick, %d more promoting, 1 finalising",
		engine.FormatDuration(p.interval), p.walk.Ticks-1, p.startTicks, p.walk.PromotingTicks-1)
}

// healthyExpect are the expectations of a revision pushed at at that is promoted.
func (p *plan) healthyExpect(at time.Duration, what string) (within time.Duration, fields []field) {
	within, why := p.promotedBy(at+p.firstStep(), what)
	fields = []field{
		{key: "phase", value: str(string(v1beta1.CanaryPhaseSucceeded))},
		{key: "within", value: dur(within), comment: why},
	}
	if r, ok := p.routes(); ok {
		fields = append(fields, field{key: "routes", value: ints(r), comment: "the walk's weights, then the promotion's"})
	}
	events := []string{p.scalingUp(), p.starting()}
	if e := p.lastAdvance(); e != "" {
		events = append(events, e)
	}
	events = append(events, p.copying(), p.completed())
	fields = append(fields,
		field{key: "events", value: strs(events)},
		field{key: "absentEvents", value: flowSeq(str("re:^Halt"), str("re:^Rolling back"))},
	)
	return within, fields
}

func (p *plan) healthy() draft {
	within, fields := p.healthyExpect(p.rev, "the first step of the new revision")
	d := draft{suffix: "healthy-promotion",
		description: fmt.Sprintf("%s behaves like %s: no errors, P99 %s. Every check passes and the canary is promoted.",
			p.nextImage(1), p.image, engine.FormatDuration(healthyP99(p.checks))),
		timeline: []*yaml.Node{p.revision()},
		until:    p.until(within),
		expect:   fields,
	}
	if !p.healthyFails() {
		d.expect = append(d.expect, field{key: "failedRequests", value: num(0), comment: "a healthy version fails no request"})
	}
	d.summary = fmt.Sprintf("Succeeded within %s: %s", engine.FormatDuration(within), p.strategy())
	return d
}

// failsBy is the within of a fault from `from` (what) that check c sees, and its reason:
// the first tick after from that fails (the window of c's queries full of the fault
// at the latest), the threshold's failed ticks, the rollback.
func (p *plan) failsBy(from time.Duration, what string, c *check) (time.Duration, string) {
	align := max(1, p.ticksFor(c.window))
	at := from + p.ticks(align+p.threshold) + p.margin()
	return at, fmt.Sprintf("%s at %s + %s (ticks of %s: up to %d until metric %s's %s window sees it and its check fails, %d more failed checks to the threshold of %d, the rollback) + %s margin",
		what, engine.FormatDuration(from), engine.FormatDuration(at-from-p.margin()), engine.FormatDuration(p.interval), align, c.name,
		engine.FormatDuration(c.window), p.threshold-1, p.threshold, engine.FormatDuration(p.margin()))
}

// faultAt is when a fault on the new revision starts: two ticks into the analysis,
// or fewer so that at least one analysis tick after it comes before the promotion.
func (p *plan) faultAt() time.Duration {
	k := min(2, p.walk.Ticks-2)
	return p.rev + p.firstStep() + p.ticks(max(k, 0))
}

func (p *plan) failedExpect(within time.Duration, why, halt string) []field {
	events := []string{}
	if halt != "" {
		events = append(events, halt)
	}
	events = append(events, p.rollingBack(), p.canaryFailed())
	return []field{
		{key: "phase", value: str(string(v1beta1.CanaryPhaseFailed))},
		{key: "within", value: dur(within), comment: why},
		{key: "events", value: strs(events)},
		{key: "absentEvents", value: flowSeq(str("re:^Promotion completed"))},
	}
}

func (p *plan) burst() draft {
	from := p.faultAt()
	c := first(p.checks, func(c check) bool { return c.errors })
	rate := burstErrorRate(c, p.interval)
	mix := field{key: "errorRate", value: float(rate)}
	if len(p.codes) > 0 {
		mix = field{key: "codes", value: p.mix(&rate)}
	}
	d := draft{suffix: "5xx-burst",
		faults:   []*yaml.Node{flow(field{key: "image", value: str(p.nextImage(1))}, field{key: "from", value: dur(from)}, mix)},
		timeline: []*yaml.Node{p.revision()},
	}
	d.description = fmt.Sprintf("From %s, %s answers %g%% of requests with 500.", engine.FormatDuration(from), p.nextImage(1), rate*100)
	blast := field{key: "failedRequests", value: flow(field{key: "min", value: num(1)}), comment: "users of the canary got 500s"}
	if c != nil && p.walk.Strategy == v1beta1.DeploymentStrategyBlueGreen {
		blast = field{key: "failedRequests", value: num(0), comment: "before its promotion a blue/green canary serves only the load tester"}
	}
	finding := fmt.Sprintf("no check of the Canary sees 5xx responses (no request-success-rate with a minimum, no query that tells code 500 from 200): a canary answering %g%% 500s is promoted", rate*100)
	return p.caught(d, c, from, "the burst", "the 5xx", "success rate ", finding, blast,
		field{key: "control", value: mapping(field{key: "scenario", value: str(p.name(p.healthy()))}), comment: "the same rollout without the burst fails no request"})
}

func (p *plan) spike() draft {
	from := p.faultAt()
	c := first(p.checks, func(c check) bool { return c.latency })
	p99 := spikeP99(c)
	d := draft{suffix: "latency-spike",
		faults: []*yaml.Node{flow(field{key: "image", value: str(p.nextImage(1))}, field{key: "from", value: dur(from)},
			field{key: "latency", value: flow(field{key: "p50", value: dur(p99 / 2)}, field{key: "p99", value: dur(p99)})})},
		timeline: []*yaml.Node{p.revision()},
	}
	d.description = fmt.Sprintf("From %s, %s's P99 latency rises to %s (no errors).", engine.FormatDuration(from), p.nextImage(1), engine.FormatDuration(p99))
	noErrors := field{key: "failedRequests", value: num(0), comment: "slow, not failed"}
	if p.healthyFails() {
		noErrors = field{}
	}
	finding := fmt.Sprintf("no check of the Canary sees latency (no request-duration with a maximum, no query over a latency histogram): a canary whose P99 rises to %s is promoted", engine.FormatDuration(p99))
	return p.caught(d, c, from, "the spike", "the latency", "request duration ", finding, noErrors)
}

// caught completes the draft of a fault from from: rolled back by check c, the
// first that sees it (its Halt event: the builtin's words, or the metric's name);
// with no such check, promoted (unseen is the finding that says why), with unseenOnly
// among the expectations too. blast is the expectation on failed requests.
func (p *plan) caught(d draft, c *check, from time.Duration, fault, sees, builtinHalt, unseen string, blast field, unseenOnly ...field) draft {
	if c == nil {
		within, fields := p.healthyExpect(p.rev, "the first step of the new revision")
		d.until, d.findings = p.until(within), []string{unseen}
		d.expect = append(append(fields[:2:2], field{key: "absentEvents", value: flowSeq(str("re:^Rolling back"))}, blast), unseenOnly...)
		d.description += " " + sentence(unseen)
		d.summary = "Succeeded (FINDING): " + unseen
		return d
	}
	within, why := p.failsBy(from, fault, c)
	halt := "re:^Halt " + regexp.QuoteMeta(p.canary()) + " advancement "
	if c.builtin != "" {
		halt += builtinHalt
	} else {
		halt += regexp.QuoteMeta(c.name) + " "
	}
	d.until = p.until(within)
	d.expect = append(p.failedExpect(within, why, halt), blast)
	d.description += fmt.Sprintf(" Metric %s fails from the next tick on and the canary is rolled back after %d failed checks.", c.name, p.threshold)
	d.summary = fmt.Sprintf("Failed within %s: metric %s sees %s, threshold %d × %s", engine.FormatDuration(within), c.name, sees, p.threshold, engine.FormatDuration(p.interval))
	return d
}

func (p *plan) noTraffic() draft {
	c := first(p.checks, func(c check) bool { return c.traffic })
	d := draft{suffix: "no-traffic",
		faults:   []*yaml.Node{flow(field{key: "image", value: str(p.nextImage(1))}, field{key: "rps", value: num(0)})},
		timeline: []*yaml.Node{p.revision()},
	}
	d.description = fmt.Sprintf("%s gets no requests at all (a mis-routed load test, a missing sidecar).", p.nextImage(1))
	none := field{key: "failedRequests", value: num(0), comment: "nobody reached it"}
	switch {
	case c != nil:
		// the first step runs no check; every analysis tick after it finds no values
		at := p.rev + p.firstStep()
		within := at + p.ticks(p.threshold+1) + p.margin()
		why := fmt.Sprintf("the first step at %s + %s (ticks of %s: %d failed checks to the threshold of %d, the rollback) + %s margin",
			engine.FormatDuration(at), engine.FormatDuration(p.ticks(p.threshold+1)), engine.FormatDuration(p.interval), p.threshold, p.threshold, engine.FormatDuration(p.margin()))
		d.until = p.until(within)
		d.expect = append(p.failedExpect(within, why, "re:^Halt advancement no values found"), none)
		if r, ok := p.routes(); ok && p.walk.Strategy == v1beta1.DeploymentStrategyCanary {
			d.expect = append(d.expect, field{key: "routes", value: ints([]int{r[0], 0}), comment: "the first step, then back to the primary"})
		}
		d.description += fmt.Sprintf(" Metric %s finds no values (Flagger: \"no values found\"), a failed check at every tick, and the canary is rolled back instead of promoted.", c.name)
		d.summary = fmt.Sprintf("Failed within %s: metric %s finds no values without traffic", engine.FormatDuration(within), c.name)
	case len(p.counters) > 0 || len(p.gauges) > 0:
		d.observe = "whether the Canary's checks over its application's own series notice a canary nobody exercised depends on what the queries make of counters that do not move: aviary cannot tell from the queries, and expects what the run shows"
		within, _ := p.healthyExpect(p.rev, "")
		d.until = p.until(within)
		d.ifPromoted = "the Canary's checks pass a canary nobody exercised: it is promoted"
		d.description += " " + sentence(d.observe)
		d.summary = "as the run shows: " + d.observe
	default:
		within, fields := p.healthyExpect(p.rev, "the first step of the new revision")
		finding := "the Canary has no metric checks: a canary nobody exercised is promoted"
		d.until, d.findings = p.until(within), []string{finding}
		d.expect = append(fields[:2:2], none,
			field{key: "control", value: mapping(field{key: "none", value: str("no expectation tells a canary nobody exercised from one everybody did, as no check of the Canary does")})})
		d.description += " " + sentence(finding)
		d.summary = "Succeeded (FINDING): " + finding
	}
	return d
}

func (p *plan) newRevision() draft {
	k := max(min(2, p.walk.Ticks-2), 0)
	second := p.rev + p.firstStep() + p.ticks(k) + p.interval/2
	restart := p.rev + p.firstStep() + p.ticks(k+1)
	d := draft{suffix: "new-revision-mid-analysis",
		timeline: []*yaml.Node{p.revision(), flow(field{key: "at", value: dur(second)}, field{key: "image", value: str(p.nextImage(2))})},
	}
	d.description = fmt.Sprintf("%s is being analysed when %s is pushed at %s. The analysis restarts for the new revision, which is promoted.",
		p.nextImage(1), p.nextImage(2), engine.FormatDuration(second))
	// its pods started at `second`: the first step is the first tick after the
	// restart that finds them available
	within, why := p.promotedBy(max(restart+p.interval, p.nextTick(second+p.startup)), "the first step after the restart")
	d.until = p.until(within)
	d.expect = []field{
		{key: "phase", value: str(string(v1beta1.CanaryPhaseSucceeded))},
		{key: "within", value: dur(within), comment: why},
	}
	if r, ok := p.routes(); ok && p.walk.Strategy == v1beta1.DeploymentStrategyCanary && len(p.walk.Weights) > k {
		routes := append(append(append([]int(nil), p.walk.Weights[:k+1]...), 0), r...)
		d.expect = append(d.expect, field{key: "routes", value: ints(routes), comment: "the first analysis until the restart, back to the primary, the second"})
	}
	d.expect = append(d.expect, field{key: "events", value: strs([]string{p.restarting(), p.starting(), p.completed()})})
	if !p.healthyFails() {
		d.expect = append(d.expect, field{key: "failedRequests", value: num(0), comment: "both revisions are healthy"})
	}
	d.summary = fmt.Sprintf("Succeeded within %s: the analysis restarts at %s for %s", engine.FormatDuration(within), engine.FormatDuration(restart), p.nextImage(2))
	return d
}

// Shares of a response code in a healthy version's mix: a client error as often as
// the library's worlds answer 404, a server error rarely enough for a success rate
// of 99.9%.
const (
	clientErrorShare = 0.01
	serverErrorShare = 0.001
)

// mix is the response codes of a healthy version that the checks select, with the
// burst's share of 500 over them when burst is given.
func (p *plan) mix(burst *float64) *yaml.Node {
	codes := slices.Clone(p.codes)
	if burst != nil && !slices.Contains(codes, world.ErrorRateCode) {
		codes = append(codes, world.ErrorRateCode)
	}
	n := flow()
	others := 0.0
	for _, c := range codes {
		if c != world.ErrorRateCode || burst == nil {
			others += share(c)
		}
	}
	for _, c := range codes {
		v := share(c)
		if c == world.ErrorRateCode && burst != nil {
			v = min(*burst, 1-others)
		}
		n.Content = append(n.Content, str(c), float(v))
	}
	return n
}

func share(code string) float64 {
	if code[0] == '5' {
		return serverErrorShare
	}
	return clientErrorShare
}

// healthyFails: a healthy version answers some 5xx (a query selects them).
func (p *plan) healthyFails() bool {
	return slices.ContainsFunc(p.codes, func(c string) bool { return c[0] == '5' })
}

// world is the world section of a scenario with faults.
func (p *plan) world(faults []*yaml.Node) *yaml.Node {
	p99 := healthyP99(p.checks)
	fields := []field{{key: "rps", value: num(userRPS)}}
	switch p.walk.Strategy {
	case v1beta1.DeploymentStrategyABTesting:
		fields = append(fields, field{key: "matchFraction", value: float(matchFraction), comment: "the users the A/B match routes to the canary"})
	case v1beta1.DeploymentStrategyBlueGreen:
		fields = append(fields, field{key: "directRps", value: num(directRPS), comment: "a load tester's requests: no user reaches a blue/green canary before its promotion"})
	}
	mix, why := field{key: "errorRate", value: num(0)}, ""
	if len(p.codes) > 0 {
		mix, why = field{key: "codes", value: p.mix(nil)}, "the codes the Canary's queries select, besides 200"
	}
	fields = append(fields, field{key: "versions", value: mapping(field{key: world.AnyVersion, comment: why, value: flow(
		mix,
		field{key: "latency", value: flow(field{key: "p50", value: dur(p99 / 5)}, field{key: "p99", value: dur(p99)})},
	)})})
	if len(faults) > 0 {
		fields = append(fields, field{key: "faults", value: seq(faults...)})
	}
	if len(p.counters) > 0 {
		cs := seq()
		for _, c := range p.counters {
			cs.Content = append(cs.Content, flow(field{key: "name", value: str(c.name)},
				field{key: "perRequest", value: flow(field{key: world.AnyVersion, value: float(c.value)})}))
		}
		fields = append(fields, field{key: "counters", value: cs, comment: "your application's, read by the Canary's templates: set what it counts per request"})
	}
	return mapping(fields...)
}

// sentence is s as a sentence of its own: capitalized, with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
