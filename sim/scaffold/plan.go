package scaffold

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// World the scenarios share: the library's traffic, a healthy version with no
// errors, a tenth of the users matching an A/B route, a load tester's requests to a
// blue/green canary, which gets no user traffic.
const (
	userRPS       = 100
	matchFraction = 0.1
	directRPS     = 10
	// replicas of a target aviary makes (the policy has no Deployment).
	replicas = 2
	// revisionAt is the earliest the new revision comes: after initialization, as
	// the library's scenarios push theirs.
	revisionAt = 2 * time.Minute
)

// plan is what the scenarios are computed from: the Canary as the engine reads it.
type plan struct {
	ld    *scenario.Loaded
	cd    *v1beta1.Canary
	dir   string
	files []string // policy files relative to dir
	given []string // as given
	// provider is the mesh provider the engine routes with.
	provider string
	walk     engine.Walk
	// interval and threshold are the analysis' as Flagger reads them.
	interval  time.Duration
	threshold int
	// startup is how long a new pod takes to become available; startTicks how many
	// ticks after its Deployment changes a tick finds it available.
	startup    time.Duration
	startTicks int
	// rev is when the new revision is pushed.
	rev    time.Duration
	image  string
	checks []check
	// counters are the application counters the checks read, with the increment per
	// request the scenarios give them (calibrate); gauges are series only the user
	// can give.
	counters []counter
	gauges   []string
	// codes are the response codes other than 200 the checks select, which a
	// healthy version answers a small share of.
	codes []string
	// broken says why the policy does not promote a healthy version, when it does
	// not: every scenario then expects what its run does.
	broken string
	notes  []string
	run    *runner
}

type counter struct {
	name  string
	value float64
}

func newPlan(ld *scenario.Loaded, opts Options, rel []string) *plan {
	cd := ld.Canary
	p := &plan{ld: ld, cd: cd, dir: opts.Dir, files: rel, given: opts.Files,
		provider: cd.Spec.Provider, walk: (&engine.Engine{}).Walk(cd),
		interval: cd.GetAnalysisInterval(), threshold: cd.GetAnalysisThreshold()}
	if p.provider == "" {
		p.provider = v1beta1.DefaultMeshProvider
	}
	p.image = cd.Spec.TargetRef.Name + ":1.0.0"
	p.startup = scenario.DefaultStartupDelay
	if t := ld.Target; t != nil {
		p.image = t.Spec.Template.Spec.Containers[0].Image
		if d, ok := cluster.ProbeReadyDelay(&t.Spec.Template.Spec); ok && ld.ReadinessFromProbes {
			p.startup = d
		}
		p.startup += time.Duration(t.Spec.MinReadySeconds) * time.Second
	}
	p.startTicks = max(1, p.ticksFor(p.startup))
	// initialized at the first tick that finds the primary available, then a tick
	// at least before the new revision
	p.rev = p.ticks(p.ticksFor(max(revisionAt, p.ticks(p.startTicks+1))))
	p.checks = classify(ld)
	for _, c := range p.checks {
		for _, name := range c.counters {
			if !p.hasCounter(name) {
				p.counters = append(p.counters, counter{name: name})
			}
		}
		for _, g := range c.gauges {
			p.gauges = appendNew(p.gauges, g)
		}
		for _, code := range c.codes {
			p.codes = appendNew(p.codes, code)
		}
	}
	for _, g := range p.gauges {
		p.notes = append(p.notes, fmt.Sprintf("%s: a series of your application's that a check reads (metric %s) and aviary cannot derive: add it to every scenario's spec.world.series (docs/scenario-format.md, spec.world: series), with the values a healthy version has", g, p.readerOf(g)))
	}
	return p
}

func (p *plan) hasCounter(name string) bool {
	for _, c := range p.counters {
		if c.name == name {
			return true
		}
	}
	return false
}

// readerOf names the metrics that read series name.
func (p *plan) readerOf(name string) string {
	var out []string
	for _, c := range p.checks {
		for _, s := range append(append([]string(nil), c.counters...), c.gauges...) {
			if s == name {
				out = append(out, c.name)
			}
		}
	}
	return strings.Join(out, ", ")
}

// ticks is the time n analysis intervals take.
func (p *plan) ticks(n int) time.Duration { return time.Duration(n) * p.interval }

// ticksFor is how many analysis intervals d spans, rounded up.
func (p *plan) ticksFor(d time.Duration) int {
	return int((d + p.interval - 1) / p.interval)
}

// target is the Canary's target, namespace included, as the engine's events name it.
func (p *plan) target() string { return p.cd.Spec.TargetRef.Name + "." + p.cd.Namespace }

// canary is the Canary, namespace included, as the engine's events name it.
func (p *plan) canary() string { return p.cd.Name + "." + p.cd.Namespace }

// nextImage is the image of the n-th new revision: the tag's last number counted
// up (podinfo:6.0.0, podinfo:6.0.1), or a suffix when the tag ends otherwise.
func (p *plan) nextImage(n int) string {
	img := p.image
	if at := strings.Index(img, "@"); at >= 0 {
		img = img[:at]
	}
	name, tag := img, ""
	if c := strings.LastIndex(img, ":"); c > strings.LastIndex(img, "/") {
		name, tag = img[:c], img[c+1:]
	}
	if m := trailingNumber.FindStringSubmatchIndex(tag); m != nil {
		v, err := strconv.Atoi(tag[m[2]:m[3]])
		if err == nil {
			return name + ":" + tag[:m[2]] + strconv.Itoa(v+n) + tag[m[3]:]
		}
	}
	if tag == "" {
		tag = "latest"
	}
	return fmt.Sprintf("%s:%s-next%d", name, tag, n)
}

var trailingNumber = regexp.MustCompile(`(\d{1,9})\D*$`)

// promoted is how long after its revision is pushed a revision whose analysis
// starts right away is Succeeded, by the engine's walk: the tick that scales the
// target up, startTicks until its pods are available and the first step, then
// toPromotion.
func (p *plan) promoted() time.Duration { return p.firstStep() + p.toPromotion() }

// toPromotion is how long after the first step Succeeded comes: the analysis ticks
// to the promoting one, startTicks until the primary runs the new template, the
// promotion's ticks and the one that finalises.
func (p *plan) toPromotion() time.Duration {
	return p.ticks(p.walk.Ticks - 1 + p.startTicks + p.walk.PromotingTicks)
}

// firstStep is how long after the revision is pushed its analysis starts (the
// pre-rollout hooks, the first step).
func (p *plan) firstStep() time.Duration { return p.ticks(p.startTicks) }

// nextTick is the first tick at or after t.
func (p *plan) nextTick(t time.Duration) time.Duration { return p.ticks(p.ticksFor(t)) }

// strategy describes the walk for a header.
func (p *plan) strategy() string {
	w := p.walk
	var s string
	switch w.Strategy {
	case v1beta1.DeploymentStrategyABTesting:
		s = fmt.Sprintf("A/B testing, %d iterations", w.Iterations)
	case v1beta1.DeploymentStrategyBlueGreen:
		s = fmt.Sprintf("blue/green, %d iterations then all traffic to the canary", w.Iterations)
	default:
		s = "canary weights " + joinInts(w.Weights)
		if w.Mirror {
			s = "a mirror step, then " + s
		}
	}
	if p.provider == "kubernetes" && p.cd.DeploymentStrategy() != v1beta1.DeploymentStrategyBlueGreen {
		s += " (provider kubernetes runs any analysis as blue/green)"
	}
	return s
}

// summary is what every scenario's expectations are computed from.
func (p *plan) summary() string {
	return fmt.Sprintf("provider %s; %s: %d analysis ticks from the first step to the promotion, %d to promote; analysis every %s; threshold %d; new pods available after %s (%d tick(s))",
		p.provider, p.strategy(), p.walk.Ticks, p.walk.PromotingTicks, engine.FormatDuration(p.interval), p.threshold,
		engine.FormatDuration(p.startup), p.startTicks)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// rollbackHooks are the Canary's rollback webhooks: a scenario answers them 403, since
// one answering 200 (every unlisted webhook does) rolls the canary back at once.
func (p *plan) rollbackHooks() []string {
	var out []string
	for _, h := range p.cd.GetAnalysis().Webhooks {
		if h.Type == v1beta1.RollbackHook {
			out = append(out, h.Name)
		}
	}
	return out
}
