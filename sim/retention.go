package sim

import (
	"encoding/json"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// The store keeps only the samples a query of the run can still read: those within
// the retention horizon of every query the run can send (promstore.QueryRetention),
// so that a long run holds a window of samples, not its whole history. The queries
// are known before the run: the checks' queries of the Canary as created and as each
// timeline patch leaves it (MetricTemplates do not change during a run), and with
// baselines the same queries for the primary. RunOptions.KeepSeries keeps every
// sample instead.

// retention is how long the run's store keeps samples.
func (r *run) retention() promstore.Retention {
	return promstore.QueryRetention(runQueries(r.l, r.engine.MeshProvider, r.baselines != nil))
}

// runQueries are the queries a run of l can send: the metric checks' queries of every
// version of its Canary (analysis.Checker.Queries) and, with baselines, their
// primary's (baseline.go).
func runQueries(l *scenario.Loaded, meshProvider string, baselines bool) []string {
	checker := &analysis.Checker{MeshProvider: meshProvider}
	template := func(namespace, name string) *v1beta1.MetricTemplate {
		for _, t := range l.Templates {
			if t.Namespace == namespace && t.Name == name {
				return t
			}
		}
		return nil
	}
	var out []string
	for _, cd := range canaryVersions(l) {
		out = append(out, checker.Queries(cd, template)...)
		a := cd.GetAnalysis()
		if !baselines || a == nil {
			continue
		}
		for _, m := range a.Metrics {
			// A view keeps the part of the metric that makes checks of its kind:
			// the builtin and inline queries, or the template's.
			for _, kind := range []string{analysis.KindQuery, analysis.KindTemplate} {
				view, err := primaryView(cd, m, kind)
				if err != nil {
					continue // no baseline
				}
				for _, q := range checker.Queries(view, template) {
					out = append(out, primaryQuery(cd.Spec.TargetRef.Name, q))
				}
			}
		}
	}
	return out
}

// canaryVersions are l's Canary as created and as each timeline patch leaves it, a
// JSON merge patch as the API server applies it. A patch that does not apply is left
// out: the run fails where it is applied.
func canaryVersions(l *scenario.Loaded) []*v1beta1.Canary {
	out := []*v1beta1.Canary{l.Canary}
	doc, err := json.Marshal(l.Canary)
	if err != nil {
		return out
	}
	for _, a := range l.Scenario.Spec.Timeline {
		if a.Patch == nil {
			continue
		}
		patch, err := json.Marshal(a.Patch)
		if err != nil {
			continue
		}
		next, err := jsonpatch.MergePatch(doc, patch)
		if err != nil {
			continue
		}
		cd := &v1beta1.Canary{}
		if json.Unmarshal(next, cd) != nil {
			continue
		}
		doc = next
		out = append(out, cd)
	}
	return out
}
