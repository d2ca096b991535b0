// Package engine is the rollout state machine: one Tick per canary, Flagger 1.44-exact
// (docs/flagger-semantics.md#tick-order), written as small named steps.
//
// The engine owns the decision: initialization, new-revision detection, gates, metric
// checks, weight and iteration advancement, promotion, finalisation and rollback. It
// reaches the world only through its ports (docs/architecture.md#ports): a controller-runtime
// client.Client, a clock.PassiveClock, an analysis.MetricSource, a WebhookCaller, and
// optional EventSink and TickObserver. The same code runs in the simulator (fake or
// envtest API server, virtual clock, embedded PromQL) and in the live controller (real
// API server, real clock, Prometheus over HTTP); nothing here knows which.
//
// All rollout state lives in the Canary's status, so a restarted controller resumes.
package engine
