package analysis

import (
	"context"
	"errors"

	"aviary.dev/aviary/api/v1beta1"
)

// MetricSource answers an instant PromQL query with one value, interpreted the way
// Flagger's Prometheus provider does (PickValue). It is the engine's metric port: the
// simulator implements it with Prometheus' engine over synthetic series, the live
// controller with the Prometheus HTTP API. provider is the MetricTemplate's provider,
// or, for builtin and inline-query metrics, {Type: "prometheus", Address: metricsServer}.
type MetricSource interface {
	Query(ctx context.Context, provider v1beta1.MetricTemplateProvider, query string) (float64, error)
}

// Errors with Flagger's texts; wrap-compatible with errors.Is.
var (
	ErrNoValuesFound          = errors.New("no values found")
	ErrMultipleValuesReturned = errors.New("query returned multiple values")
)

// Outcome of one metric check.
type Outcome string

// Metric check outcomes.
const (
	OutcomePass   Outcome = "pass"
	OutcomeFail   Outcome = "fail"   // value outside the threshold
	OutcomeNoData Outcome = "nodata" // empty result or NaN ("no values found")
	OutcomeError  Outcome = "error"  // query, render, template or provider error
)

// Result records one metric check: what was asked, what came back, what it meant.
type Result struct {
	Name string `json:"name"`
	// Kind is "request-success-rate", "request-duration", "query" or "template"
	// (also for a metric with neither templateRef nor query); Name and Kind are
	// both "" for the failure of an unusable spec.metricsServer, which Flagger
	// reports before looking at any metric.
	Kind string `json:"kind"`
	// Query is the resolved query as sent (whitespace collapsed), "" if rendering failed.
	Query string `json:"query,omitempty"`
	// Value is the returned value (request-duration in milliseconds), nil when none.
	Value *float64 `json:"value,omitempty"`
	// NaN is true when the query returned NaN (treated as no data, like Flagger).
	NaN bool `json:"nan,omitempty"`
	// Min and Max are the effective inclusive bounds the value was held against
	// (nil = unbounded on that side).
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Outcome is the verdict.
	Outcome Outcome `json:"outcome"`
	// EventType ("Normal"/"Warning") and Message are the event Flagger emits for a
	// non-pass ("" for a pass).
	EventType string `json:"eventType,omitempty"`
	Message   string `json:"message,omitempty"`
}
