package scenario

import (
	"fmt"

	"go.yaml.in/yaml/v3"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/world"
)

// The scenario's limits (README "Limits", docs/scenario-format.md): each bound on
// what a scenario may ask of a run is here once, with why; the world's are in
// sim/world (world.Limits). Together they bound a run's work: its scrapes, its pods,
// its series, its ticks.
const (
	// MaxUntil is the longest run: a year of virtual time (world.MaxDuration bounds
	// every duration alike).
	MaxUntil = world.MaxDuration
	// MaxReplicas bounds the replicas of every simulated Deployment: spec.target's,
	// those of the policy's Deployments and the minReplicas of its
	// HorizontalPodAutoscalers (the target's replicas when it scales from zero).
	MaxReplicas = 1000
	// MaxPolicyObjects bounds the objects of a policy, files and inline together.
	MaxPolicyObjects = 100
	// MaxTimeline, MaxHooks, MaxResponses and MaxPatterns bound the scenario's lists.
	MaxTimeline  = 100
	MaxHooks     = 100
	MaxResponses = 100
	MaxPatterns  = 100
	// MaxSamples bounds the samples a run may write (the time it takes).
	MaxSamples = 1_000_000_000
	// MaxPodSeries bounds the series the pods of a run may create (the memory they hold).
	MaxPodSeries = 1_000_000
)

// Limit is one documented bound (world.Limit); Field is a scenario field path here.
type Limit = world.Limit

var (
	untilLimit = Limit{
		Field: "spec.until",
		Range: fmt.Sprintf("above 0, at most %s (%s)", world.FormatDuration(MaxUntil), world.FormatDuration(DefaultUntil)),
		Why:   "a year of virtual time; a run's work grows with it (samples and ticks, below)",
	}
	replicasLimit = Limit{
		Field: "spec.target.replicas, and the policy's Deployments' spec.replicas and HorizontalPodAutoscalers' spec.minReplicas",
		Range: fmt.Sprintf("0 to %s (%d)", world.FormatCount(MaxReplicas), DefaultReplicas),
		Why: fmt.Sprintf("Kubernetes allows 2^31-1, a laptop far fewer: each pod writes %d series per response code (about 1 KB each) "+
			"and is served at every scrape; 1,000 replicas rolled out once cost about 300 MB and 0.5 s", world.SeriesPerResponseCode),
	}
	objectsLimit = Limit{
		Field: "spec.policy: files and objects",
		Range: fmt.Sprintf("at most %d objects", MaxPolicyObjects),
		Why:   "each is decoded, checked and created before the run; a Canary and its neighbours in a repository are tens",
	}
	timelineLimit = Limit{
		Field: "spec.timeline",
		Range: fmt.Sprintf("at most %d entries, each at or before spec.until", MaxTimeline),
		Why:   "each entry writes to the API and may start a rollout; one after the end would never happen",
	}
	hooksLimit = Limit{
		Field: "spec.hooks",
		Range: fmt.Sprintf("at most %d entries of at most %d responses", MaxHooks, MaxResponses),
		Why:   "every webhook call looks through them",
	}
	patternsLimit = Limit{
		Field: "spec.expect: events, absentEvents, and each alert's messages and absentMessages",
		Range: fmt.Sprintf("at most %d patterns each", MaxPatterns),
		Why:   "each is matched against every event or alert of the run",
	}
	ticksLimit = Limit{
		Field: "ticks: the Canary's analysis.interval",
		Range: fmt.Sprintf("at most %s ticks (interval %s or more)", world.FormatCount(int64(MaxUntil/v1beta1.MinAnalysisInterval)),
			world.FormatDuration(v1beta1.MinAnalysisInterval)),
		Why: fmt.Sprintf("Flagger clamps a shorter interval to %s, and a run lasts at most spec.until", world.FormatDuration(v1beta1.MinAnalysisInterval)),
	}
	samplesLimit = Limit{
		Field: "samples: (spec.until / scrapeInterval + 1) scrapes × (2 × replicas pods × series per pod + spec.world.series)",
		Range: fmt.Sprintf("at most %s; series per pod: %d per response code, 1 per counter", world.FormatCount(MaxSamples), world.SeriesPerResponseCode),
		Why:   "a run's time: about 40 ns a sample (measured), so 10^9 take about 40 s",
	}
	podSeriesLimit = Limit{
		Field: "pod series: 2 × replicas × (1 + timeline entries) pods × series per pod",
		Range: fmt.Sprintf("at most %s", world.FormatCount(MaxPodSeries)),
		Why:   "a run's memory: each rollout starts new pods (the canary's, then the primary's) whose series, about 1 KB each (measured), keep their labels to the end (their samples only as long as a query can read them)",
	}
	// responsesLimit is hooksLimit, for the responses of one entry.
	responsesLimit = Limit{Field: "spec.hooks[].responses", Why: hooksLimit.Why}
)

// Limits are every documented bound on a scenario, the world's included: the rows
// of the README's "Limits" table.
func Limits() []Limit {
	out := []Limit{untilLimit, replicasLimit, objectsLimit, timelineLimit, hooksLimit, patternsLimit}
	for _, wl := range world.Limits() {
		wl.Field = "spec.world." + wl.Field
		out = append(out, wl)
	}
	return append(out, world.DurationLimit(), ticksLimit, samplesLimit, podSeriesLimit)
}

// checkLengths checks the length of every list the limits bound, on the YAML nodes,
// before anything is decoded from them.
func (l *loader) checkLengths() {
	check := func(path string, max int, lim Limit) {
		if n := l.nodes[path]; n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > max {
			l.errAt(path, "%s", lim.Msg("%d entries, more than %d", len(n.Content), max))
		}
	}
	check("spec.policy.files", MaxPolicyObjects, objectsLimit)
	check("spec.policy.objects", MaxPolicyObjects, objectsLimit)
	check("spec.timeline", MaxTimeline, timelineLimit)
	check("spec.hooks", MaxHooks, hooksLimit)
	if n := l.nodes["spec.hooks"]; n != nil && n.Kind == yaml.SequenceNode {
		for i := range min(len(n.Content), MaxHooks) {
			check(fmt.Sprintf("spec.hooks[%d].responses", i), MaxResponses, responsesLimit)
		}
	}
	for _, wl := range world.ListLimits() {
		check("spec.world."+wl.Path, wl.Max, wl.Limit)
	}
	for _, key := range []string{"events", "absentEvents"} {
		check("spec.expect."+key, MaxPatterns, patternsLimit)
	}
	if n := l.nodes["spec.expect.alerts"]; n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := world.JoinKey("spec.expect.alerts", n.Content[i].Value)
			check(p+".messages", MaxPatterns, patternsLimit)
			check(p+".absentMessages", MaxPatterns, patternsLimit)
		}
	}
}

// checkReplicas checks a replica count against MaxReplicas; report records a problem.
func checkReplicas(n int32, report func(format string, args ...any)) {
	switch {
	case n < 0:
		report("must not be negative, got %d", n)
	case n > MaxReplicas:
		report("%s", replicasLimit.Msg("%d is more than %s", n, world.FormatCount(MaxReplicas)))
	}
}

// checkWork checks what the run will cost against MaxSamples and MaxPodSeries, once
// every value it depends on is known to be within its own bounds.
func (l *loader) checkWork(s *Scenario, ld *Loaded) {
	sp := &s.Spec
	until, interval := DefaultUntil, world.DefaultScrapeInterval
	if l.present("spec.until") {
		until = sp.Until.Duration
	}
	if l.present("spec.world.scrapeInterval") {
		interval = sp.World.ScrapeInterval.Duration
	}
	replicas := int64(max(l.replicas(sp, ld), 1))
	pods := 2 * replicas
	perPod := int64(sp.World.SeriesPerPod())
	scrapes := int64(until/interval) + 1
	perScrape := pods*perPod + int64(len(sp.World.Series))
	if samples := scrapes * perScrape; samples > MaxSamples {
		l.errAt(l.firstPresent("spec.until", "spec.world.scrapeInterval", "spec.target.replicas"),
			"%s; shorten spec.until, lengthen spec.world.scrapeInterval or lower spec.target.replicas",
			samplesLimit.Msg("%s at scrapeInterval %s is %s scrapes of %s series (%d pods × %d series, and %d of spec.world.series): %s samples, more than %s",
				world.FormatDuration(until), world.FormatDuration(interval), world.FormatCount(scrapes), world.FormatCount(perScrape),
				pods, perPod, len(sp.World.Series), world.FormatCount(samples), world.FormatCount(MaxSamples)))
	}
	started := pods * int64(1+len(sp.Timeline))
	if series := started * perPod; series > MaxPodSeries {
		msg := podSeriesLimit.Msg("%d replicas and %d timeline entries may start %s pods of %d series: %s series, more than %s",
			replicas, len(sp.Timeline), world.FormatCount(started), perPod, world.FormatCount(series), world.FormatCount(MaxPodSeries)) +
			"; lower the replicas or split the timeline into scenarios"
		if l.targetDoc != nil && !l.present("spec.target.replicas") {
			l.policyErr(l.targetDoc, nil, "spec.replicas", "%s", msg)
		} else {
			l.errAt(l.firstPresent("spec.target.replicas", "spec.timeline"), "%s", msg)
		}
	}
}

// firstPresent is the first of paths written in the scenario, else the first: where a
// problem that depends on all of them is reported.
func (l *loader) firstPresent(paths ...string) string {
	for _, p := range paths {
		if l.present(p) {
			return p
		}
	}
	return paths[0]
}

// replicas is the most replicas the target may have: spec.target's (the target
// Deployment's when the policy holds it), or the minReplicas of the
// HorizontalPodAutoscaler autoscalerRef names, which the target scales from zero to.
func (l *loader) replicas(sp *ScenarioSpec, ld *Loaded) int32 {
	r := DefaultReplicas
	if sp.Target.Replicas != nil {
		r = *sp.Target.Replicas
	}
	ref := ld.Canary.Spec.AutoscalerRef
	if ref == nil {
		return r
	}
	for _, o := range ld.Objects {
		if h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok && h.Name == ref.Name && h.Namespace == ld.Canary.Namespace && h.Spec.MinReplicas != nil {
			r = max(r, *h.Spec.MinReplicas)
		}
	}
	return r
}
