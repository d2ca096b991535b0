// Package analysis owns the metric checks of a canary analysis, exactly as Flagger
// 1.44 runs them (docs/flagger-semantics.md#metric-checks): MetricTemplate query rendering, the builtin
// request-success-rate and request-duration queries of each mesh provider
// (observers), the interpretation of a Prometheus instant-query result, and the
// threshold evaluation with Flagger's event messages.
//
// It touches no Kubernetes object except reading MetricTemplates and their
// provider Secrets through a controller-runtime client.Reader. Queries go out
// through the MetricSource port; the engine decides what a failed check means
// (failedChecks, rollback) and emits the events this package describes in each
// Result.
package analysis
