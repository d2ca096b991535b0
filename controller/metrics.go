package controller

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/utils/clock"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/version"
)

// recorder holds Flagger's Prometheus metrics (pkg/metrics/recorder.go: the same
// names, help, labels, types and buckets) and sets them from the engine's tick
// records: it is the engine's TickObserver. Flagger labels most series by the
// target's name, which the record does not carry: the scheduler tells the recorder
// each canary's target and strategy (canary) before its job starts.
type recorder struct {
	clock clock.PassiveClock

	// info is Flagger's flagger_info; aviaryInfo is aviary's own (aviary_info).
	info       *prometheus.GaugeVec
	aviaryInfo *prometheus.GaugeVec
	duration   *prometheus.HistogramVec
	// ticks is aviary's own: the wall time of every tick, analysing or not, with
	// buckets fine enough (25% apart) for p50/p99 (Flagger's histogram has its
	// default buckets and only observes ticks that analysed).
	ticks     prometheus.Histogram
	total     *prometheus.GaugeVec
	status    *prometheus.GaugeVec
	weight    *prometheus.GaugeVec
	analysis  *prometheus.GaugeVec
	successes *prometheus.CounterVec
	failures  *prometheus.CounterVec

	canaries sync.Map // "name.namespace" -> canaryLabels
}

// TickSecondsMetric is the histogram of every tick's wall time.
const TickSecondsMetric = "aviary_controller_tick_seconds"

// canaryLabels is what the recorder needs of a Canary besides its tick record.
type canaryLabels struct {
	target, namespace, strategy string
}

// Flagger's analysis_status label values.
const (
	analysisCompleted = "completed"
	analysisSkipped   = "skipped"
)

// newRecorder registers Flagger's metrics, and the Go and process collectors Flagger's
// default registry has, in reg.
func newRecorder(reg prometheus.Registerer, c clock.PassiveClock) (*recorder, error) {
	const sub = "flagger" // Flagger's controllerAgentName
	r := &recorder{
		clock: c,
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "info",
			Help: "Flagger version and mesh provider information"}, []string{"version", "mesh_provider"}),
		aviaryInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aviary_info",
			Help: "aviary version, commit and the Flagger version whose semantics it reproduces (aviary's; not a Flagger series)."},
			[]string{"version", "commit", "flagger_version"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: sub, Name: "canary_duration_seconds",
			Help: "Seconds spent performing canary analysis.", Buckets: prometheus.DefBuckets}, []string{"name", "namespace"}),
		ticks: prometheus.NewHistogram(prometheus.HistogramOpts{Name: TickSecondsMetric,
			Help:    "Wall time of every engine tick of every canary (aviary's; not a Flagger series).",
			Buckets: prometheus.ExponentialBucketsRange(0.001, 60, 50)}),
		total: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "canary_total",
			Help: "Total number of canary object"}, []string{"namespace"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "canary_status",
			Help: "Last canary analysis result"}, []string{"name", "namespace"}),
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "canary_weight",
			Help: "The virtual service destination weight current value"}, []string{"workload", "namespace"}),
		analysis: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: sub, Name: "canary_metric_analysis",
			Help: "Last canary analysis result per metric"}, []string{"name", "namespace", "metric"}),
		successes: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "canary_successes_total",
			Help: "Total number of canary successes"}, []string{"name", "namespace", "deployment_strategy", "analysis_status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: sub, Name: "canary_failures_total",
			Help: "Total number of canary failures"}, []string{"name", "namespace", "deployment_strategy", "analysis_status"}),
	}
	for _, m := range []prometheus.Collector{r.info, r.aviaryInfo, r.duration, r.ticks, r.total, r.status, r.weight, r.analysis, r.successes, r.failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(m); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return r, nil
}

// setInfo sets the info series to 1. flagger_info's version is the Flagger release
// whose semantics aviary reproduces, not aviary's own: the series means to
// Flagger's dashboards and alerts "which Flagger behaviour runs here", and that is
// the answer; aviary's version and commit are aviary_info's.
func (r *recorder) setInfo(meshProvider string) {
	r.info.WithLabelValues(version.FlaggerVersion, meshProvider).Set(1)
	r.aviaryInfo.WithLabelValues(version.Version, version.Revision(), version.FlaggerVersion).Set(1)
}

// setCanary records the labels of cd's series.
func (r *recorder) setCanary(cd *v1beta1.Canary) {
	r.canaries.Store(cd.Name+"."+cd.Namespace, canaryLabels{target: cd.Spec.TargetRef.Name, namespace: cd.Namespace, strategy: cd.DeploymentStrategy()})
}

// forgetCanary drops cd's labels (its series stay, as Flagger's do).
func (r *recorder) forgetCanary(key string) { r.canaries.Delete(key) }

// analysedSteps are the engine's steps (TickRecord.Step) a tick ends in once it got
// past the failed-checks threshold: Flagger observes the analysis duration exactly
// then (a deferred SetDuration after the threshold check).
var analysedSteps = map[string]bool{"analysis": true, "kubernetes-provider": true, "advance": true}

// ObserveTick sets Flagger's series from one tick's record, where Flagger's
// advanceCanary sets them: the status from the phase the tick ended in (0 running,
// 1 successful, 2 failed), the weights the router holds, each metric's value
// (request-duration in seconds), the duration of a tick that analysed, and the
// success and failure counters when the phase becomes Succeeded or Failed.
func (r *recorder) ObserveTick(rec engine.TickRecord) {
	v, ok := r.canaries.Load(rec.Canary)
	if !ok || rec.Phase == "" {
		return // gone, or never read: Flagger's job returns before any metric
	}
	l := v.(canaryLabels)
	r.status.WithLabelValues(l.target, l.namespace).Set(statusValue(v1beta1.CanaryPhase(rec.Phase)))
	if rec.PrimaryWeight+rec.CanaryWeight > 0 { // the routes were read
		r.weight.WithLabelValues(l.target+"-primary", l.namespace).Set(float64(rec.PrimaryWeight))
		r.weight.WithLabelValues(l.target, l.namespace).Set(float64(rec.CanaryWeight))
	}
	for _, m := range rec.Metrics {
		if m.Value == nil {
			continue
		}
		val := *m.Value
		if m.Kind == analysis.MetricRequestDuration {
			val /= 1000 // Flagger sets the time.Duration's seconds
		}
		r.analysis.WithLabelValues(l.target, l.namespace, m.Name).Set(val)
	}
	if analysedSteps[rec.Step] {
		r.duration.WithLabelValues(l.target, l.namespace).Observe(r.clock.Since(rec.At).Seconds())
	}
	if rec.Phase == rec.PhaseBefore {
		return
	}
	status := analysisCompleted
	if rec.Step == "skip-analysis" {
		status = analysisSkipped
	}
	switch v1beta1.CanaryPhase(rec.Phase) {
	case v1beta1.CanaryPhaseSucceeded:
		r.successes.WithLabelValues(l.target, l.namespace, l.strategy, status).Inc()
	case v1beta1.CanaryPhaseFailed:
		r.failures.WithLabelValues(l.target, l.namespace, l.strategy, status).Inc()
	}
}

// statusValue is Flagger's SetStatus: 0 progressing, 2 failed, 1 otherwise.
func statusValue(p v1beta1.CanaryPhase) float64 {
	switch p {
	case v1beta1.CanaryPhaseProgressing:
		return 0
	case v1beta1.CanaryPhaseFailed:
		return 2
	default:
		return 1
	}
}
