package scenario

import (
	"fmt"
	"strings"
	"time"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/world"
)

// The severe fault NegativeControl puts on every new version of a scenario that
// expects promotion. It must make Flagger's builtin checks fail hard in any policy:
//
//   - errorRate 1: every request fails, so request-success-rate is 0% (or, with no
//     request served, "no values found"), below any min a policy can give;
//   - latency p50 = p99 = 30s: a degenerate distribution with every request at
//     exactly 30 s, on the 30000 ms bound of Istio's duration histogram, so
//     request-duration's P99 is about 30 s (10 s, the top finite bucket, in the
//     Prometheus client's histograms), far above any max a policy writes (Flagger's
//     examples use 500 ms).
//
// It applies from 0s, for the whole run.
const (
	SevereFaultErrorRate = 1.0
	SevereFaultLatency   = 30 * time.Second
)

// SevereFault is the fault NegativeControl adds for a new version image.
func SevereFault(image string) world.Fault {
	rate := SevereFaultErrorRate
	return world.Fault{
		Image:     image,
		ErrorRate: &rate,
		Latency:   &world.Latency{P50: Duration{Duration: SevereFaultLatency}, P99: Duration{Duration: SevereFaultLatency}},
	}
}

// NegativeControl derives the negative control of a scenario's expectations: the
// scenario with the world changed so that what it is about is undone, on whose run
// at least one expectation must fail. It never runs anything: it returns a copy of l
// with new faults and hooks (l itself is not modified; the rest is shared, which a
// run only reads), and a description of the change; or,
// when no control derives, ok false and why not. It does not look at
// spec.expect.control: a scenario that names its control is the caller's business.
//
// The phase is spec.expect.phase, else observedPhase (the final phase of the
// scenario's own run):
//
//   - Failed: the same scenario without spec.world.faults and without spec.hooks (a
//     simulated endpoint that answers errors is a fault of the world; without one
//     every webhook answers 200). A scenario that has neither derives no control.
//   - Succeeded: the same scenario with SevereFault on every new version, i.e. every
//     image the timeline introduces other than spec.target.image, from 0s. A timeline
//     without such an image derives no control.
//   - any other phase: no control.
func NegativeControl(l *Loaded, observedPhase string) (control *Loaded, ok bool, why string) {
	s := l.Scenario
	phase, source := observedPhase, "the run's final phase"
	if s.Spec.Expect != nil && s.Spec.Expect.Phase != "" {
		phase, source = s.Spec.Expect.Phase, "expect.phase"
	}
	switch phase {
	case string(v1beta1.CanaryPhaseFailed):
		faults, hooks := len(s.Spec.World.Faults), len(s.Spec.Hooks)
		if faults == 0 && hooks == 0 {
			return nil, false, fmt.Sprintf("%s is Failed but the scenario has no spec.world.faults and no spec.hooks to remove: "+
				"its failure lies elsewhere (spec.world.versions, counters or series, or the policy)", source)
		}
		c := l.withFaults(nil, nil)
		var removed []string
		if faults > 0 {
			removed = append(removed, fmt.Sprintf("spec.world.faults (%s)", plural(int64(faults), "fault")))
		}
		if hooks > 0 {
			removed = append(removed, fmt.Sprintf("spec.hooks (%s)", plural(int64(hooks), "endpoint")))
		}
		return c, true, fmt.Sprintf("%s without %s (%s is Failed): every version behaves as spec.world.versions says and every webhook answers 200",
			s.Metadata.Name, strings.Join(removed, " and "), source)
	case string(v1beta1.CanaryPhaseSucceeded):
		images := newImages(s)
		if len(images) == 0 {
			return nil, false, fmt.Sprintf("%s is Succeeded but the timeline introduces no image other than spec.target.image %s to break",
				source, s.Spec.Target.Image)
		}
		faults := append([]world.Fault(nil), s.Spec.World.Faults...)
		for _, img := range images {
			faults = append(faults, SevereFault(img))
		}
		c := l.withFaults(faults, s.Spec.Hooks)
		return c, true, fmt.Sprintf("%s with %s failing hard from 0s, errorRate %g and latency p50 = p99 = %s (%s is Succeeded)",
			s.Metadata.Name, strings.Join(images, ", "), SevereFaultErrorRate, SevereFaultLatency, source)
	case "":
		return nil, false, "no expect.phase, and the run ended in no phase: only Failed and Succeeded derive a control"
	default:
		return nil, false, fmt.Sprintf("%s is %s: only Failed (undo the faults) and Succeeded (break the new versions) derive a control",
			source, phase)
	}
}

// newImages are the images the timeline introduces other than the target's, in order
// of first appearance.
func newImages(s *Scenario) []string {
	var out []string
	seen := map[string]bool{s.Spec.Target.Image: true}
	for _, a := range s.Spec.Timeline {
		if a.Image != "" && !seen[a.Image] {
			seen[a.Image] = true
			out = append(out, a.Image)
		}
	}
	return out
}

// withFaults is l with the world's faults and the simulated webhook endpoints
// replaced.
func (l *Loaded) withFaults(faults []world.Fault, hooks []WebhookEndpoint) *Loaded {
	c, sc := *l, *l.Scenario
	sc.Spec.World.Faults, sc.Spec.Hooks = faults, hooks
	c.Scenario = &sc
	return &c
}
