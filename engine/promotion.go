package engine

import "aviary.dev/aviary/api/v1beta1"

// ChecksToPromote is how many analysis ticks — ticks that run the rollout webhooks
// and the metric checks — a revision of cd must pass before Flagger promotes it,
// when no gate holds it: the ticks of its Walk but the one that promotes (with the
// canary strategy, one per canary weight from 0 to the max weight, plus the mirror
// step's tick with analysis.mirror; A/B testing, its iterations; blue/green, its
// iterations and one more, the tick that routes all traffic to the canary). The
// first tick of a revision (the pre-rollout webhooks) checks no metric and is not
// counted. A failed check holds the canary where it is, so a revision is promoted
// after this many passes whatever failures come between, until failedChecks
// reaches the threshold. ok is false when the analysis never promotes (the Walk's
// Promotes: Fallbacks says why, or a router that cannot mirror is asked to, H12).
func (e *Engine) ChecksToPromote(cd *v1beta1.Canary) (n int, ok bool) {
	if cd.GetAnalysis() == nil {
		return 0, false
	}
	w := e.Walk(cd)
	return w.Ticks - 1, w.Promotes
}

// Mirrors reports whether cd's router writes the mirror its analysis.mirror asks for
// (the router's CanMirror): not Flagger's Traefik router, not the kubernetes
// provider's (no router), not Istio's A/B testing routes. The canary strategy's
// first step then never happens (H12); blue/green runs its iterations without
// mirrored traffic.
func (e *Engine) Mirrors(cd *v1beta1.Canary) bool {
	r, ok := e.meshRouter(e.providerOf(cd))
	return ok && r.CanMirror(cd)
}
