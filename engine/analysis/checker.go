package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/lru"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// Names of the builtin metrics.
const (
	MetricRequestSuccessRate = "request-success-rate"
	MetricRequestDuration    = "request-duration"
)

// Result kinds.
const (
	KindSuccessRate = "request-success-rate"
	KindDuration    = "request-duration"
	KindQuery       = "query"
	KindTemplate    = "template"
)

// EventTypeWarning is the event type of every non-pass Result (Flagger records
// metric check failures with recordEventWarningf or recordEventErrorf, both Warning).
const EventTypeWarning = corev1.EventTypeWarning

// Checker runs the metric checks of a canary, as Flagger's runBuiltinMetricChecks
// and runMetricChecks do.
type Checker struct {
	// Source answers the queries.
	Source MetricSource
	// Client reads MetricTemplates and provider Secrets.
	Client client.Reader
	// MetricsServer is the Prometheus address of builtin and inline-query metrics
	// when the canary has no spec.metricsServer (v1beta1.DefaultMetricsServer when empty).
	MetricsServer string
	// MeshProvider is the global mesh provider (v1beta1.DefaultMeshProvider when empty).
	MeshProvider string
	// Memo, when set, remembers rendered queries across ticks (keyed by their input,
	// so it may be shared with other users of distinct key types).
	Memo *lru.Cache
}

func (c *Checker) metricsServer(cd *v1beta1.Canary) string {
	if cd.Spec.MetricsServer != "" {
		return cd.Spec.MetricsServer
	}
	if c.MetricsServer != "" {
		return c.MetricsServer
	}
	return v1beta1.DefaultMetricsServer
}

func (c *Checker) meshProvider() string {
	if c.MeshProvider != "" {
		return c.MeshProvider
	}
	return v1beta1.DefaultMeshProvider
}

// Run performs the metric checks of cd's analysis in Flagger's order: first the
// builtin pass (for each metric in spec order: request-success-rate,
// request-duration, then its inline query if any), then the template pass (each
// metric with a templateRef; a metric that is neither builtin nor has a
// templateRef or query fails here). A metric with both a query and a templateRef
// is checked twice, once in each pass. Run stops at the first check that does not
// pass and returns the Results of the checks performed, in order; ok is true when
// all of them passed (also when there are none).
func (c *Checker) Run(ctx context.Context, cd *v1beta1.Canary) (results []Result, ok bool) {
	if cd.GetAnalysis() == nil {
		return nil, true
	}
	if !c.runBuiltinMetricChecks(ctx, cd, &results) {
		return results, false
	}
	return results, c.runMetricChecks(ctx, cd, &results)
}

func (c *Checker) runBuiltinMetricChecks(ctx context.Context, cd *v1beta1.Canary, results *[]Result) bool {
	metricsProvider := MetricsProvider(c.meshProvider(), cd)
	address := c.metricsServer(cd)
	if cd.Spec.MetricsServer != "" {
		// Flagger builds a Prometheus client for spec.metricsServer before looking
		// at any metric: an unusable address fails every analysis.
		if err := validateAddress("prometheus", address); err != nil {
			*results = append(*results, warning(Result{Outcome: OutcomeError},
				"Error building Prometheus client for %s %v", address, err))
			return false
		}
	}
	prometheus := v1beta1.MetricTemplateProvider{Type: "prometheus", Address: address}
	observer := ObserverFor(metricsProvider)

	for _, metric := range cd.GetAnalysis().Metrics {
		model := builtinModel(cd, metric)

		if metric.Name == MetricRequestSuccessRate {
			r := c.checkSuccessRate(ctx, cd, metric, observer, metricsProvider, prometheus, model)
			*results = append(*results, r)
			if r.Outcome != OutcomePass {
				return false
			}
		}
		if metric.Name == MetricRequestDuration {
			r := c.checkDuration(ctx, cd, metric, observer, metricsProvider, prometheus, model)
			*results = append(*results, r)
			if r.Outcome != OutcomePass {
				return false
			}
		}
		if metric.Query != "" {
			r := c.checkInlineQuery(ctx, cd, metric, prometheus, model)
			*results = append(*results, r)
			if r.Outcome != OutcomePass {
				return false
			}
		}
	}
	return true
}

func (c *Checker) checkSuccessRate(ctx context.Context, cd *v1beta1.Canary, metric v1beta1.CanaryMetric,
	observer *Observer, metricsProvider string, prometheus v1beta1.MetricTemplateProvider, model v1beta1.MetricTemplateModel) Result {
	r := newResult(metric, KindSuccessRate)
	q, err := observer.render(c.Memo, observer.SuccessRate, model)
	val, err := c.runObserverQuery(ctx, q, err, observer.BareSuccessRateErrors, prometheus, &r)
	if err != nil {
		if errors.Is(err, ErrNoValuesFound) {
			return noData(r, err, "Halt advancement no values found for %s metric %s probably %s.%s is not receiving traffic: %v",
				metricsProvider, metric.Name, cd.Spec.TargetRef.Name, cd.Namespace, err)
		}
		return warning(withOutcome(r, OutcomeError), "Prometheus query failed: %v", err)
	}
	r.Value = &val
	if tr := metric.ThresholdRange; tr != nil {
		if tr.Min != nil && val < *tr.Min {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement success rate %.2f%% < %v%%",
				cd.Name, cd.Namespace, val, *tr.Min)
		}
		if tr.Max != nil && val > *tr.Max {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement success rate %.2f%% > %v%%",
				cd.Name, cd.Namespace, val, *tr.Max)
		}
	} else {
		// Deprecated threshold: a minimum percentage (0 = always pass).
		if metric.Threshold > val {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement success rate %.2f%% < %v%%",
				cd.Name, cd.Namespace, val, metric.Threshold)
		}
	}
	return withOutcome(r, OutcomePass)
}

func (c *Checker) checkDuration(ctx context.Context, cd *v1beta1.Canary, metric v1beta1.CanaryMetric,
	observer *Observer, metricsProvider string, prometheus v1beta1.MetricTemplateProvider, model v1beta1.MetricTemplateModel) Result {
	r := newResult(metric, KindDuration)
	q, err := observer.render(c.Memo, observer.Duration, model)
	raw, err := c.runObserverQuery(ctx, q, err, false, prometheus, &r)
	if err != nil {
		if errors.Is(err, ErrNoValuesFound) {
			return noData(r, err, "Halt advancement no values found for %s metric %s probably %s.%s is not receiving traffic",
				metricsProvider, metric.Name, cd.Spec.TargetRef.Name, cd.Namespace)
		}
		return warning(withOutcome(r, OutcomeError), "Prometheus query failed: %v", err)
	}
	val := observer.DurationValue(raw)
	r.Value = millis(val)
	if tr := metric.ThresholdRange; tr != nil {
		// Bounds are milliseconds, truncated like Flagger's time.Duration(*min).
		var minD, maxD time.Duration
		if tr.Min != nil {
			minD = time.Duration(*tr.Min) * time.Millisecond
		}
		if tr.Max != nil {
			maxD = time.Duration(*tr.Max) * time.Millisecond
		}
		if tr.Min != nil && val < minD {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement request duration %v < %v",
				cd.Name, cd.Namespace, val, minD)
		}
		if tr.Max != nil && val > maxD {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement request duration %v > %v",
				cd.Name, cd.Namespace, val, maxD)
		}
	} else {
		// Deprecated threshold: a maximum in ms (0 = fail on any positive latency).
		maxD := time.Duration(metric.Threshold) * time.Millisecond
		if val > maxD {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement request duration %v > %v",
				cd.Name, cd.Namespace, val, maxD)
		}
	}
	return withOutcome(r, OutcomePass)
}

// runObserverQuery runs a rendered builtin query (or reports its render error),
// wrapping errors the way Flagger's observers do ("rendering query failed: ",
// "running query failed: ") unless bare.
func (c *Checker) runObserverQuery(ctx context.Context, q string, renderErr error, bare bool,
	prometheus v1beta1.MetricTemplateProvider, r *Result) (float64, error) {
	if renderErr != nil {
		if bare {
			return 0, renderErr
		}
		return 0, fmt.Errorf("rendering query failed: %w", renderErr)
	}
	r.Query = q
	val, err := c.query(ctx, prometheus, nil, q)
	if err != nil {
		if bare {
			return 0, err
		}
		return 0, fmt.Errorf("running query failed: %w", err)
	}
	return val, nil
}

func (c *Checker) checkInlineQuery(ctx context.Context, cd *v1beta1.Canary, metric v1beta1.CanaryMetric,
	prometheus v1beta1.MetricTemplateProvider, model v1beta1.MetricTemplateModel) Result {
	r := newResult(metric, KindQuery)
	// Flagger discards the render error (docs/flagger-semantics.md#h4-inline-query-render-errors): the empty
	// query is then sent and fails at the metrics server.
	r.Query, _ = renderCollapsed(c.Memo, metric.Query, model)
	val, err := c.query(ctx, prometheus, nil, r.Query)
	if err != nil {
		if errors.Is(err, ErrNoValuesFound) {
			return noData(r, err, "Halt advancement no values found for metric: %s", metric.Name)
		}
		return warning(withOutcome(r, OutcomeError), "Prometheus query failed for %s: %v", metric.Name, err)
	}
	r.Value = &val
	return checkValue(cd, metric, r, val)
}

func (c *Checker) runMetricChecks(ctx context.Context, cd *v1beta1.Canary, results *[]Result) bool {
	for _, metric := range cd.GetAnalysis().Metrics {
		if metric.TemplateRef != nil {
			r := c.checkTemplate(ctx, cd, metric)
			*results = append(*results, r)
			if r.Outcome != OutcomePass {
				return false
			}
		} else if metric.Name != MetricRequestSuccessRate && metric.Name != MetricRequestDuration && metric.Query == "" {
			*results = append(*results, warning(Result{Name: metric.Name, Kind: KindTemplate, Outcome: OutcomeError},
				"Metric query failed for no usable metrics template and query were configured"))
			return false
		}
	}
	return true
}

func (c *Checker) checkTemplate(ctx context.Context, cd *v1beta1.Canary, metric v1beta1.CanaryMetric) Result {
	r := newResult(metric, KindTemplate)
	name, namespace := metric.TemplateRef.Name, templateNamespace(cd, metric)

	template, err := c.getTemplate(ctx, namespace, name)
	if err != nil {
		return warning(withOutcome(r, OutcomeError), "Metric template %s.%s error: %v", name, namespace, err)
	}
	provider := template.Spec.Provider
	credentials, err := c.getCredentials(ctx, namespace, provider)
	if err != nil {
		return warning(withOutcome(r, OutcomeError), "Metric template %s.%s secret %s error: %v",
			name, namespace, provider.SecretRef.Name, err)
	}
	if err := ValidateProvider(provider, credentials); err != nil {
		return warning(withOutcome(r, OutcomeError), "Metric template %s.%s provider %s error: %v",
			name, namespace, provider.Type, err)
	}
	q, err := renderCollapsed(c.Memo, template.Spec.Query, templateModel(cd, metric))
	if err != nil {
		return warning(withOutcome(r, OutcomeError), "Metric template %s.%s query render error: %v", name, namespace, err)
	}
	r.Query = q
	val, err := c.query(ctx, provider, credentials, r.Query)
	if err != nil {
		if errors.Is(err, ErrNoValuesFound) {
			return noData(r, err, "Halt advancement no values found for custom metric: %s: %v", metric.Name, err)
		}
		return warning(withOutcome(r, OutcomeError), "Metric query failed for %s: %v", metric.Name, err)
	}
	r.Value = &val
	return checkValue(cd, metric, r, val)
}

// builtinModel is the template model of a metric's builtin and inline queries: the
// metric's interval, or the canary's default.
func builtinModel(cd *v1beta1.Canary, metric v1beta1.CanaryMetric) v1beta1.MetricTemplateModel {
	interval := metric.Interval
	if interval == "" {
		interval = cd.GetMetricInterval()
	}
	return Model(cd, interval, metric.TemplateVariables)
}

// templateModel is the template model of a templateRef metric's query. No interval
// default for template metrics: {{ interval }} renders "" when the metric has none
// (Flagger quirk, docs/flagger-semantics.md#interval-defaults).
func templateModel(cd *v1beta1.Canary, metric v1beta1.CanaryMetric) v1beta1.MetricTemplateModel {
	return Model(cd, metric.Interval, metric.TemplateVariables)
}

// Queries renders every PromQL query cd's metric checks can send, as Run renders
// them but whatever the checks' outcomes (Run stops at the first that does not pass):
// for each metric, the builtin query of its name for the canary's mesh provider, its
// inline query, and the query of its MetricTemplate — found by template (namespace,
// name; nil when there is none) — when the template's provider is Prometheus-handled.
// A query that does not render is left out (no query, or the empty one, is sent).
// The simulator bounds how far back it keeps samples by what these read.
func (c *Checker) Queries(cd *v1beta1.Canary, template func(namespace, name string) *v1beta1.MetricTemplate) []string {
	var out []string
	for _, q := range CanaryQueries(cd, c.meshProvider(), template) {
		if q.Err == nil && q.Query != "" && q.PromQL {
			out = append(out, q.Query)
		}
	}
	return out
}

// checkValue applies the thresholds of inline-query and template metrics.
func checkValue(cd *v1beta1.Canary, metric v1beta1.CanaryMetric, r Result, val float64) Result {
	if tr := metric.ThresholdRange; tr != nil {
		if tr.Min != nil && val < *tr.Min {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement %s %.2f < %v",
				cd.Name, cd.Namespace, metric.Name, val, *tr.Min)
		}
		if tr.Max != nil && val > *tr.Max {
			return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement %s %.2f > %v",
				cd.Name, cd.Namespace, metric.Name, val, *tr.Max)
		}
		return withOutcome(r, OutcomePass)
	}
	// Deprecated threshold: a maximum (0 = fail on any positive value).
	if val > metric.Threshold {
		return warning(withOutcome(r, OutcomeFail), "Halt %s.%s advancement %s %.2f > %v",
			cd.Name, cd.Namespace, metric.Name, val, metric.Threshold)
	}
	return withOutcome(r, OutcomePass)
}

// CheckProviders is Flagger's checkMetricProviderAvailability, run while a canary
// initializes: for a builtin metric the metrics server must answer vector(1) with 1;
// for a templateRef metric the template (and its secret) must exist, its provider
// must be valid and, for a Prometheus-handled provider, answer vector(1) with 1.
// The first problem is returned with Flagger's error text; the engine reports it
// as the Warning event "Error checking metric providers: %v" and carries on.
// Other provider types are not probed (their IsOnline is not reproduced).
func (c *Checker) CheckProviders(ctx context.Context, cd *v1beta1.Canary) error {
	if cd.GetAnalysis() == nil {
		return nil
	}
	for _, metric := range cd.GetAnalysis().Metrics {
		if metric.Name == MetricRequestSuccessRate || metric.Name == MetricRequestDuration {
			address := c.metricsServer(cd)
			if cd.Spec.MetricsServer != "" {
				if err := validateAddress("prometheus", address); err != nil {
					return fmt.Errorf("error building Prometheus client for %s %v", address, err)
				}
			}
			prometheus := v1beta1.MetricTemplateProvider{Type: "prometheus", Address: address}
			if err := c.isOnline(ctx, prometheus, nil); err != nil {
				return fmt.Errorf("prometheus not avaiable: %v", err)
			}
			continue
		}
		if metric.TemplateRef == nil {
			continue
		}
		name, namespace := metric.TemplateRef.Name, templateNamespace(cd, metric)
		template, err := c.getTemplate(ctx, namespace, name)
		if err != nil {
			return fmt.Errorf("metric template %s.%s error: %v", name, namespace, err)
		}
		provider := template.Spec.Provider
		credentials, err := c.getCredentials(ctx, namespace, provider)
		if err != nil {
			return fmt.Errorf("metric template %s.%s secret %s error: %v", name, namespace, provider.SecretRef.Name, err)
		}
		if err := ValidateProvider(provider, credentials); err != nil {
			return fmt.Errorf("metric template %s.%s provider %s error: %v", name, namespace, provider.Type, err)
		}
		if IsPrometheusProvider(provider) {
			if err := c.isOnline(ctx, provider, credentials); err != nil {
				return fmt.Errorf("%v in metric template %s.%s not avaiable: %v", provider.Type,
					template.Name, template.Namespace, err)
			}
		}
	}
	return nil
}

func templateNamespace(cd *v1beta1.Canary, metric v1beta1.CanaryMetric) string {
	if metric.TemplateRef.Namespace != "" {
		return metric.TemplateRef.Namespace
	}
	return cd.Namespace
}

// flaggerTemplateResource names MetricTemplates in not-found errors the way
// Flagger's informer lister does: `metrictemplate.flagger.app "<name>" not found`.
var flaggerTemplateResource = schema.GroupResource{Group: "flagger.app", Resource: "metrictemplate"}

func (c *Checker) getTemplate(ctx context.Context, namespace, name string) (*v1beta1.MetricTemplate, error) {
	if c.Client == nil {
		return nil, errors.New("no Kubernetes client to read metric templates")
	}
	template := &v1beta1.MetricTemplate{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, template); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(flaggerTemplateResource, name)
		}
		return nil, err
	}
	return template, nil
}

// getCredentials reads the provider's secretRef Secret from the template's
// namespace; nil without secretRef.
func (c *Checker) getCredentials(ctx context.Context, namespace string, p v1beta1.MetricTemplateProvider) (map[string][]byte, error) {
	if p.SecretRef == nil {
		return nil, nil
	}
	if c.Client == nil {
		return nil, errors.New("no Kubernetes client to read secrets")
	}
	secret := &corev1.Secret{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: p.SecretRef.Name}, secret); err != nil {
		return nil, err
	}
	return secret.Data, nil
}

func withOutcome(r Result, o Outcome) Result {
	r.Outcome = o
	return r
}

func warning(r Result, format string, args ...any) Result {
	r.EventType = EventTypeWarning
	r.Message = fmt.Sprintf(format, args...)
	return r
}

func noData(r Result, err error, format string, args ...any) Result {
	r.NaN = errors.Is(err, ErrNaN)
	return warning(withOutcome(r, OutcomeNoData), format, args...)
}

// Kinds are the checks Run makes of metric, in its order: request-success-rate or
// request-duration for a builtin name, then its inline query, then its template (a
// metric that has none of them fails with no check made).
func Kinds(metric v1beta1.CanaryMetric) []string {
	var out []string
	switch metric.Name {
	case MetricRequestSuccessRate:
		out = append(out, KindSuccessRate)
	case MetricRequestDuration:
		out = append(out, KindDuration)
	}
	if metric.Query != "" {
		out = append(out, KindQuery)
	}
	if metric.TemplateRef != nil {
		out = append(out, KindTemplate)
	}
	return out
}

// Bounds are the bounds a check of kind holds metric's value against (nil: none):
// its thresholdRange, else its deprecated threshold, a minimum for
// request-success-rate and a maximum for the others; request-duration's in whole
// milliseconds. A value below min or above max fails the check.
func Bounds(metric v1beta1.CanaryMetric, kind string) (lo, hi *float64) {
	r := newResult(metric, kind)
	return r.Min, r.Max
}

// newResult starts a metric's record with the bounds its value will be held against,
// so that a check without a value (no data, NaN, error) still shows its threshold.
func newResult(metric v1beta1.CanaryMetric, kind string) Result {
	r := Result{Name: metric.Name, Kind: kind}
	if tr := metric.ThresholdRange; tr != nil {
		r.Min, r.Max = copyFloat(tr.Min), copyFloat(tr.Max)
		if kind == KindDuration {
			// thresholds in ms, truncated to whole milliseconds as Flagger converts them
			if tr.Min != nil {
				r.Min = millis(time.Duration(*tr.Min) * time.Millisecond)
			}
			if tr.Max != nil {
				r.Max = millis(time.Duration(*tr.Max) * time.Millisecond)
			}
		}
		return r
	}
	switch kind {
	case KindSuccessRate:
		r.Min = copyFloat(&metric.Threshold)
	case KindDuration:
		r.Max = millis(time.Millisecond * time.Duration(metric.Threshold))
	default:
		r.Max = copyFloat(&metric.Threshold)
	}
	return r
}

func copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func millis(d time.Duration) *float64 {
	v := float64(d.Milliseconds())
	return &v
}
