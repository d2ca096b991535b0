package engine

import (
	"time"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
)

// TickRecord is what one Tick saw and decided; the simulator keeps them as the run
// record and reports are built from them (docs/architecture.md#one-run).
type TickRecord struct {
	// At is the clock's time when the tick started.
	At time.Time `json:"at"`
	// Canary is "<name>.<namespace>".
	Canary string `json:"canary"`
	// PhaseBefore and Phase are the status phase at the start and at the end of the tick.
	PhaseBefore string `json:"phaseBefore"`
	Phase       string `json:"phase"`
	// Step names the last step the tick reached (e.g. "run-metrics", "advance-weight").
	Step string `json:"step"`
	// PrimaryWeight and CanaryWeight are the router's weights at the end of the tick.
	PrimaryWeight int  `json:"primaryWeight"`
	CanaryWeight  int  `json:"canaryWeight"`
	Mirrored      bool `json:"mirrored,omitempty"`
	// FailedChecks and Iterations are the status counters at the end of the tick.
	FailedChecks int `json:"failedChecks"`
	Iterations   int `json:"iterations,omitempty"`
	// Metrics are the checks evaluated in this tick, in order (the first failure stops the rest).
	Metrics []analysis.Result `json:"metrics,omitempty"`
	// Hooks are the webhooks called in this tick, in order.
	Hooks []hooks.Call `json:"hooks,omitempty"`
	// Routes are the weights the router was set to in this tick, in order.
	Routes []RouteChange `json:"routes,omitempty"`
	// Events are the events emitted in this tick, in order.
	Events []Event `json:"events,omitempty"`
	// Alerts are the notifications Flagger would send to alert providers, in order.
	Alerts []Alert `json:"alerts,omitempty"`
	// Error is the error the tick returned, if any.
	Error string `json:"error,omitempty"`
}

// RouteChange is one SetRoutes call.
type RouteChange struct {
	Primary  int  `json:"primary"`
	Canary   int  `json:"canary"`
	Mirrored bool `json:"mirrored,omitempty"`
}

// Event is one emitted event, with Flagger's type and message.
type Event struct {
	// Type is "Normal" or "Warning".
	Type    string `json:"type"`
	Message string `json:"message"`
	// Phase is the phase of the object the event is about (the event webhook payload's phase).
	Phase string `json:"phase,omitempty"`
}

// Alert is one notification for the canary's alert providers.
type Alert struct {
	// Severity is "info", "warn" or "error".
	Severity string `json:"severity"`
	Message  string `json:"message"`
}
