package scenario

import (
	"time"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/world"
)

// ResultFormatVersion is the version of the JSON run-record format; bump it on any
// incompatible change.
const ResultFormatVersion = 1

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

	// Ticks is every engine tick, in order.
	Ticks []engine.TickRecord `json:"ticks"`

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
