package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// What the run records beside the engine's ticks, for reports: what reached users
// between ticks (exposure) and each metric check's query against the primary
// (baselines). Neither is seen by the engine, and neither changes a decision or
// which ticks are repeated (replay.go): exposure is read from the world's counts,
// and baselines are evaluated after a tick that ran checks (never an idle one), with
// a checker and a metric source of their own, and only read the API.

// noteExposure records what reached users since the previous tick (the start, for
// the first), for the tick at at; for a tick that repeated the last record, since
// the tick before that record.
func (r *run) noteExposure(at time.Time, repeated bool) {
	now := r.world.Exposure()
	if !repeated {
		r.recordStart = r.exposed
		r.exposure = append(r.exposure, scenario.TickExposure{})
	}
	from := r.recordStart
	e := scenario.TickExposure{
		At:               at,
		PrimaryRequests:  roundCount(now.Primary - from.Primary),
		CanaryRequests:   roundCount(now.Canary - from.Canary),
		MirroredRequests: roundCount(now.Mirrored - from.Mirrored),
	}
	if total := e.PrimaryRequests + e.CanaryRequests; total > 0 {
		share := math.Round(1e4*100*e.CanaryRequests/total) / 1e4
		e.CanaryShare = &share
	}
	r.exposure[len(r.exposure)-1] = e
	r.exposed = now
}

// roundCount rounds a request count to a thousandth: counts are sums of expected
// values (or draws), and float sums should not print as 1799.9999999999998.
func roundCount(n float64) float64 { return math.Round(n*1000) / 1000 }

// noteBaselines evaluates the baselines of the ticks with checks since it last did.
func (r *run) noteBaselines(ctx context.Context) error {
	if r.baselines == nil {
		return nil
	}
	start := time.Now()
	defer func() { r.profile.Baselines += time.Since(start) }()
	for i := range r.checked {
		rec := &r.checked[i]
		if err := r.baselines.evaluate(ctx, r.key, rec); err != nil {
			return fmt.Errorf("baselines at %s: %w", rec.At.Sub(scenario.Epoch), err)
		}
	}
	clear(r.checked)
	r.checked = r.checked[:0]
	return nil
}

// baseliner evaluates metric checks against the primary with the engine's own
// checker (analysis.Checker): the canary as the tick saw it, with one metric, no
// thresholds, and the template variable target pointing at <target>-primary.
type baseliner struct {
	client  client.Reader
	source  *primarySource
	checker *analysis.Checker
	results []scenario.Baseline
	// views are the primary's views by metric and kind, for the Canary's generation
	// viewsOf (its spec as of then).
	views   map[viewKey]*v1beta1.Canary
	viewsOf int64
}

type viewKey struct{ name, kind string }

func newBaseliner(c client.Reader, src analysis.MetricSource, meshProvider, metricsServer string) *baseliner {
	ps := &primarySource{src: src}
	return &baseliner{
		client: c,
		source: ps,
		checker: &analysis.Checker{Source: ps, Client: c, MeshProvider: meshProvider, MetricsServer: metricsServer,
			Memo: lru.New(64)},
		views: map[viewKey]*v1beta1.Canary{},
	}
}

// evaluate adds the baselines of rec's checks.
func (b *baseliner) evaluate(ctx context.Context, key client.ObjectKey, rec *engine.TickRecord) error {
	cd := &v1beta1.Canary{} // only looked at: views are copies
	if err := b.client.Get(ctx, key, cd, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("read Canary %s: %w", key, err)
	}
	if cd.Generation != b.viewsOf || cd.Generation == 0 {
		clear(b.views)
		b.viewsOf = cd.Generation
	}
	for _, m := range rec.Metrics {
		if m.Name == "" {
			continue // spec.metricsServer's failure: not a metric
		}
		bl := scenario.Baseline{At: rec.At, Name: m.Name, Kind: m.Kind}
		b.evaluateOne(ctx, cd, m, &bl)
		b.results = append(b.results, bl)
	}
	return nil
}

func (b *baseliner) evaluateOne(ctx context.Context, cd *v1beta1.Canary, check analysis.Result, bl *scenario.Baseline) {
	if check.Query == "" {
		bl.Missing = "no query was sent for the canary"
		return
	}
	key := viewKey{check.Name, check.Kind}
	view, ok := b.views[key]
	if !ok {
		metric, found := metricOf(cd, check)
		if !found {
			bl.Missing = "the metric is no longer in the Canary"
			return
		}
		var err error
		if view, err = primaryView(cd, metric, check.Kind); err != nil {
			bl.Missing = err.Error()
			return
		}
		b.views[key] = view
	}
	b.source.retarget(cd.Spec.TargetRef.Name)
	results, _ := b.checker.Run(ctx, view)
	var r *analysis.Result
	for i := range results {
		if results[i].Kind == check.Kind {
			r = &results[i]
		}
	}
	sent := b.source.sent
	switch {
	case r == nil:
		bl.Missing = "not evaluated: an earlier part of the metric found nothing for the primary"
		return
	case sent == "" || r.Query == "":
		bl.Missing = "no query: " + r.Message
		return
	case sent == check.Query:
		bl.Missing = "no baseline: the query does not change with {{ target }}, so it would measure what the canary's measures"
		return
	}
	bl.Query = sent
	switch {
	case r.NaN:
		bl.NaN = true
		bl.Missing = "NaN"
	case r.Value != nil:
		v := *r.Value
		bl.Value = &v
	case r.Outcome == analysis.OutcomeNoData:
		bl.Missing = "no data"
	default:
		bl.Missing = r.Message
	}
}

// metricOf finds the Canary's metric a check was made for: the first metric of the
// check's name that makes a check of its kind.
func metricOf(cd *v1beta1.Canary, check analysis.Result) (v1beta1.CanaryMetric, bool) {
	a := cd.GetAnalysis()
	if a == nil {
		return v1beta1.CanaryMetric{}, false
	}
	for _, m := range a.Metrics {
		if m.Name != check.Name {
			continue
		}
		switch check.Kind {
		case analysis.KindSuccessRate, analysis.KindDuration:
			return m, true
		case analysis.KindQuery:
			if m.Query != "" {
				return m, true
			}
		case analysis.KindTemplate:
			if m.TemplateRef != nil {
				return m, true
			}
		}
	}
	return v1beta1.CanaryMetric{}, false
}

// primaryView is cd as the checker should see it to measure the primary with metric:
// its only metric is metric (without thresholds, so that every value is returned,
// and with only the part that makes a check of kind), and its template model is the
// canary's with target set to <target>-primary. service, ingress and route default
// to the target's name in Flagger's model, so they are pinned to what they are for
// the canary; everything else (name, namespace, interval, variables) is unchanged.
func primaryView(cd *v1beta1.Canary, metric v1beta1.CanaryMetric, kind string) (*v1beta1.Canary, error) {
	m := *metric.DeepCopy()
	m.ThresholdRange = &v1beta1.CanaryThresholdRange{}
	if kind == analysis.KindTemplate {
		m.Query = ""
	} else {
		m.TemplateRef = nil
	}
	want := analysis.Model(cd, m.Interval, m.TemplateVariables)
	v := cd.DeepCopy()
	v.Spec.Analysis, v.Spec.CanaryAnalysis = v.GetAnalysis(), nil
	v.Spec.Analysis.Metrics = []v1beta1.CanaryMetric{m}
	v.Spec.TargetRef.Name = want.Target + "-primary"
	v.Spec.Service.Name = want.Service
	v.Spec.IngressRef = &v1beta1.LocalObjectReference{Name: want.Ingress}
	if cd.Spec.IngressRef != nil {
		ref := *cd.Spec.IngressRef
		v.Spec.IngressRef = &ref
	}
	v.Spec.RouteRef = &v1beta1.LocalObjectReference{Name: want.Route}
	if cd.Spec.RouteRef != nil {
		ref := *cd.Spec.RouteRef
		v.Spec.RouteRef = &ref
	}
	// The view's model must be the canary's but for target: a guard against a change
	// of how Flagger's model is built.
	want.Target += "-primary"
	if got := analysis.Model(v, m.Interval, m.TemplateVariables); !modelsEqual(got, want) {
		return nil, errors.New("no baseline: the primary's template model cannot be built from the Canary")
	}
	return v, nil
}

func modelsEqual(a, b v1beta1.MetricTemplateModel) bool {
	return a.Name == b.Name && a.Namespace == b.Namespace && a.Target == b.Target && a.Service == b.Service &&
		a.Ingress == b.Ingress && a.Route == b.Route && a.Interval == b.Interval && maps.Equal(a.Variables, b.Variables)
}

// primarySource is the baselines' metric source: it sends the queries of the
// primary's view as primaryQuery turns them, and remembers the last query sent.
type primarySource struct {
	src    analysis.MetricSource
	target string
	sent   string
}

// retarget prepares the source for the metrics of the canary whose target is target.
func (s *primarySource) retarget(target string) { s.target, s.sent = target, "" }

func (s *primarySource) Query(ctx context.Context, p v1beta1.MetricTemplateProvider, q string) (float64, error) {
	q = primaryQuery(s.target, q)
	s.sent = q
	return s.src.Query(ctx, p, q)
}

// primaryQuery is q, a query of the primary's view of the canary whose target is
// target, with the canary's Service as Flagger's Traefik queries name it ({{ target
// }}-canary, rendered <target>-primary-canary in the view) turned into the primary's.
func primaryQuery(target, q string) string {
	return strings.ReplaceAll(q, target+"-primary-canary", target+"-primary")
}
