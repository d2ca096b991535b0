package scenario

import (
	"time"

	"aviary.dev/aviary/sim/world"
)

// ResultFormatVersion is the version of the JSON run-record format; bump it on any
// incompatible change. Version 2 stores repeated ticks as one record with a repeat
// count (Tick); a version 1 record is a version 2 record without repeats.
const ResultFormatVersion = 2

// Epoch is virtual time zero of every run: a fixed instant, so that runs are
// byte-for-byte reproducible.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Result is the full record of one scenario run.
type Result struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
	File        string `json:"file,omitempty"`
	// Mode is the cluster mode that ran: "fast" or "envtest".
	Mode string `json:"mode"`
	// Warnings found while loading (e.g. a MetricTemplate whose PromQL does not parse).
	Warnings []string `json:"warnings,omitempty"`

	// Ticks is every engine tick, in order, a stretch of ticks with the same record
	// but for their time as one record with a repeat count (Tick): EachTick yields
	// every tick.
	Ticks []Tick `json:"ticks"`
	// Exposure is, for every record of Ticks, what reached users since the previous
	// record's last tick: Exposure[i] belongs to Ticks[i], all its repeats.
	Exposure []TickExposure `json:"exposure"`
	// Baselines are the metric checks' queries evaluated against the primary, at
	// the same virtual time as the check, in the order of the ticks and their
	// metrics; only when the run was asked for them (sim.RunOptions.Baselines).
	Baselines []Baseline `json:"baselines,omitempty"`

	// Phase is the Canary's final phase.
	Phase string `json:"phase"`
	// DecidedAt is the virtual time (since Epoch) at which the final phase was first
	// reached, when that phase is Succeeded or Failed; nil otherwise.
	DecidedAt *Offset `json:"decidedAt,omitempty"`
	// Until is the virtual end of the run.
	Until Offset `json:"until"`

	// Routes are the canary weights the router was set to from the first new revision
	// on (initialization excluded), consecutive repeats collapsed.
	Routes []int `json:"routes"`
	// MaxCanaryWeight is the highest canary weight the router was set to.
	MaxCanaryWeight int `json:"maxCanaryWeight"`

	// Traffic is what each version served to users (mirrored and direct load excluded).
	Traffic []world.VersionTraffic `json:"traffic"`
	// FailedUserRequests is the blast radius: failed user requests served by new versions
	// (every image other than the target's initial one), rounded to the nearest integer.
	FailedUserRequests int64 `json:"failedUserRequests"`

	// Expectations are the checks of spec.expect, in the order written.
	Expectations []ExpectationResult `json:"expectations"`
	// Passed is true when every expectation holds.
	Passed bool `json:"passed"`
}

// TickExposure is what users were exposed to between the previous tick (the start,
// for the first) and a tick, or the last tick of a repeated record: the user
// requests each workload served, whatever the router's weights say. In A/B testing
// the canary's route has weight 100 but only the requests that match it
// (spec.world.matchFraction) reach the canary.
type TickExposure struct {
	// At is the time of the tick, or of the last repeat of a repeated record (Tick.Last).
	At time.Time `json:"at"`
	// PrimaryRequests and CanaryRequests are the user requests <target>-primary and
	// the canary (<target>) served (answered, or failed for want of a ready pod).
	PrimaryRequests float64 `json:"primaryRequests"`
	CanaryRequests  float64 `json:"canaryRequests"`
	// MirroredRequests are copies of user requests the mesh also sent to the
	// canary; their answers are discarded, so they are not exposure.
	MirroredRequests float64 `json:"mirroredRequests,omitempty"`
	// CanaryShare is the canary's share of the user requests, in percent; nil when
	// no user request was served.
	CanaryShare *float64 `json:"canaryShare,omitempty"`
}

// Baseline is one metric check's query evaluated against the primary: the same
// metric rendered with the template variable target set to <target>-primary
// (every other variable as for the canary), and a query that names the canary's
// Service as <target>-canary (Flagger's Traefik queries) pointed at
// <target>-primary. It is for reading the check's value against, never a check:
// nothing is decided on it.
type Baseline struct {
	// At is the tick's time; Name and Kind are the check's (analysis.Result's).
	At   time.Time `json:"at"`
	Name string    `json:"name"`
	Kind string    `json:"kind"`
	// Query is the query sent for the primary, "" when none was.
	Query string `json:"query,omitempty"`
	// Value is what it returned (request-duration in milliseconds, as the check's),
	// nil when nothing usable came back.
	Value *float64 `json:"value,omitempty"`
	// NaN is true when the query returned NaN.
	NaN bool `json:"nan,omitempty"`
	// Missing says why there is no value: no data, an error, or why the check has no
	// baseline (its query does not change with target, or none was sent).
	Missing string `json:"missing,omitempty"`
}

// Offset is a virtual time since Epoch; it marshals as a Go duration string.
type Offset time.Duration

// MarshalText writes the offset as a Go duration ("4m30s").
func (o Offset) MarshalText() ([]byte, error) { return []byte(time.Duration(o).String()), nil }

// UnmarshalText parses a Go duration.
func (o *Offset) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*o = Offset(d)
	return nil
}

// String renders the offset as a Go duration.
func (o Offset) String() string { return time.Duration(o).String() }

// ExpectationResult is one checked expectation.
type ExpectationResult struct {
	// Name is the expect key, e.g. "phase", "events[1]", "hookCalls.rollout".
	Name     string `json:"name"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	OK       bool   `json:"ok"`
}
