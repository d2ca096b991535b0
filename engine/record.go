package engine

import (
	"math"
	"slices"
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

// Quiet reports whether the record shows no dealings with anything but the API: no
// metric query, webhook, route change, event, alert or error, and no phase change.
// It is the record's half of what makes a tick idle: the simulator repeats a quiet
// tick that also wrote nothing instead of running it again (sim/replay.go), and
// `aviary run --until-decided` leaves quiet ticks after the decision out.
func (r *TickRecord) Quiet() bool {
	return r.Error == "" && len(r.Metrics) == 0 && len(r.Hooks) == 0 && len(r.Routes) == 0 &&
		len(r.Events) == 0 && len(r.Alerts) == 0 && r.PhaseBefore == r.Phase
}

// SameAs reports whether r and o are the same record but for At: what the simulator
// stores once for a stretch of ticks (sim/scenario.Tick). Numbers are compared by
// their bits: the record's JSON tells -0 from 0.
func (r *TickRecord) SameAs(o *TickRecord) bool {
	return r.Canary == o.Canary && r.PhaseBefore == o.PhaseBefore && r.Phase == o.Phase && r.Step == o.Step &&
		r.PrimaryWeight == o.PrimaryWeight && r.CanaryWeight == o.CanaryWeight && r.Mirrored == o.Mirrored &&
		r.FailedChecks == o.FailedChecks && r.Iterations == o.Iterations && r.Error == o.Error &&
		slices.EqualFunc(r.Metrics, o.Metrics, sameResult) && slices.Equal(r.Hooks, o.Hooks) &&
		slices.Equal(r.Routes, o.Routes) && slices.Equal(r.Events, o.Events) && slices.EqualFunc(r.Alerts, o.Alerts, sameAlert)
}

func sameResult(a, b analysis.Result) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Query == b.Query && a.NaN == b.NaN && a.Outcome == b.Outcome &&
		a.EventType == b.EventType && a.Message == b.Message &&
		sameNumber(a.Value, b.Value) && sameNumber(a.Min, b.Min) && sameNumber(a.Max, b.Max)
}

func sameNumber(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Float64bits(*a) == math.Float64bits(*b)
}

func sameAlert(a, b Alert) bool {
	return a.Severity == b.Severity && a.Message == b.Message && a.Global == b.Global && a.Error == b.Error &&
		slices.Equal(a.Fields, b.Fields) && slices.Equal(a.Recipients, b.Recipients)
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

// Alert is one call of Flagger's alert(): a notification about the canary, and where
// Flagger routes it (docs/flagger-semantics.md#alerts). The record says what goes out
// and to whom, never where to (addresses and tokens are secrets); it is posted only
// by an engine with an AlertSender (a live controller), the simulator has none.
type Alert struct {
	// Severity is the alert's own: "info", "warn" or "error".
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// Fields are the facts the message carries besides its text (Flagger's
	// alertMetadata: Target, Failed checks threshold, Progress deadline, Traffic
	// routing), for the alerts Flagger sends with metadata.
	Fields []AlertField `json:"fields,omitempty"`
	// Global is true when the canary has no analysis.alerts: Flagger then hands the
	// alert to its global notifier, which its operator configures with flags
	// (-slack-url, -msteams-url), not the Canary.
	Global bool `json:"global,omitempty"`
	// Error is why the global notifier did not post the alert, as Flagger logs it
	// ("alert can't be sent: ..."); only an engine with an AlertSender posts.
	Error string `json:"error,omitempty"`
	// Recipients are the analysis.alerts entries whose severity admits the alert, in
	// spec order, each with the provider it goes to or why it does not.
	Recipients []AlertRecipient `json:"recipients,omitempty"`
}

// AlertField is one named fact of an alert's message (a Slack attachment field, an
// MS Teams fact, a Google Chat section).
type AlertField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// AlertRecipient is one analysis.alerts entry an alert is routed to.
type AlertRecipient struct {
	// Alert is the entry's name and Severity its filter ("" admits nothing).
	Alert    string `json:"alert"`
	Severity string `json:"severity,omitempty"`
	// Provider is the AlertProvider the entry references, "<name>.<namespace>".
	Provider string `json:"provider"`
	// Type is the provider's type (slack, msteams, discord, rocket, gchat), "" when
	// the provider could not be read.
	Type string `json:"type,omitempty"`
	// Channel is the channel a Slack, Discord or Rocket message names (the provider's,
	// default "general"); MS Teams and Google Chat messages name none.
	Channel string `json:"channel,omitempty"`
	// Error is why the alert does not go out to this provider: the error Flagger
	// logs, "" when Flagger would post it (with an AlertSender: when it was posted).
	Error string `json:"error,omitempty"`
}
