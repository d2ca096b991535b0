package policytest

import (
	"context"
	"fmt"
	"time"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// Option changes how a scenario is loaded or run.
type Option func(*config)

type config struct {
	load    scenario.LoadOptions
	envtest *cluster.Envtest
}

// WithCanaryFile tests the Canary in path instead of the one the scenario's policy
// gives: the scenario's world, timeline and expectations against the team's own
// Canary (scenario.LoadOptions.CanaryFile). Relative to the working directory,
// which is the package's directory under `go test`.
func WithCanaryFile(path string) Option {
	return func(c *config) { c.load.CanaryFile = path }
}

// InEnvtest runs against e's API server (a real kube-apiserver, sim/cluster's
// envtest) instead of the fast in-memory client, in namespaces of the run's own.
// Start e once per test suite: it takes seconds.
func InEnvtest(e *cluster.Envtest) Option {
	return func(c *config) { c.envtest = e }
}

// Scenario is a loaded scenario, ready to run (any number of times).
type Scenario struct {
	// Loaded is what the loader made of it: the scenario, the policy objects and
	// the load-time warnings.
	Loaded *scenario.Loaded
	cfg    config
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Load loads the scenario file at path; policy files are relative to it.
func Load(path string, opts ...Option) (*Scenario, error) {
	c := newConfig(opts)
	l, err := scenario.LoadFileWith(path, c.load)
	if err != nil {
		return nil, err
	}
	return &Scenario{Loaded: l, cfg: c}, nil
}

// LoadYAML loads a scenario from data; name is the file name its errors give and
// what relative spec.policy.files are relative to (e.g. "testdata/inline.yaml"; the
// file itself need not exist).
func LoadYAML(name string, data []byte, opts ...Option) (*Scenario, error) {
	c := newConfig(opts)
	l, err := scenario.Load(name, data, c.load)
	if err != nil {
		return nil, err
	}
	return &Scenario{Loaded: l, cfg: c}, nil
}

// Run plays the scenario from virtual time zero to spec.until and checks its
// expectations. An error is about the simulation itself (bad objects, an API
// failure); a policy that misbehaves is a record that fails a matcher.
func (s *Scenario) Run(ctx context.Context) (*Record, error) {
	var opts sim.RunOptions
	if s.cfg.envtest != nil {
		opts = sim.InEnvtest(s.cfg.envtest, s.Loaded)
	}
	r, err := sim.Run(ctx, s.Loaded, opts)
	if err != nil {
		return nil, err
	}
	return &Record{Result: r}, nil
}

// Run loads the scenario file at path and runs it.
func Run(ctx context.Context, path string, opts ...Option) (*Record, error) {
	s, err := Load(path, opts...)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx)
}

// Record is the record of one run: the scenario.Result that `aviary test`, its
// reports and results.json are made from, with accessors for what tests ask most.
type Record struct {
	*scenario.Result
}

// Promoted is true when the run ended promoted (final phase Succeeded).
func (r *Record) Promoted() bool { return promoted(r.Result) }

// RolledBack is true when the run ended rolled back (final phase Failed).
func (r *Record) RolledBack() bool { return rolledBack(r.Result) }

func promoted(r *scenario.Result) bool { return r.Phase == string(v1beta1.CanaryPhaseSucceeded) }

func rolledBack(r *scenario.Result) bool { return r.Phase == string(v1beta1.CanaryPhaseFailed) }

// Decided is the virtual time at which the final phase was first reached when that
// phase is Succeeded or Failed; ok is false when the run ended undecided.
func (r *Record) Decided() (at time.Duration, ok bool) {
	if r.DecidedAt == nil {
		return 0, false
	}
	return time.Duration(*r.DecidedAt), true
}

// FinalWeights are the primary and canary weights the router was set to at the end
// (Result.Routes, which the methods do not shadow, are the canary weights it went
// through).
func (r *Record) FinalWeights() (primary, canary int) {
	primary, canary, _ = r.WeightsAt(time.Duration(r.Until))
	return primary, canary
}

// WeightsAt are the primary and canary weights the router was set to at virtual
// time at: those of the last engine tick at or before it; ok is false before the first.
func (r *Record) WeightsAt(at time.Duration) (primary, canary int, ok bool) {
	return routesAt(r.Result, at)
}

func routesAt(r *scenario.Result, at time.Duration) (primary, canary int, ok bool) {
	end := scenario.Epoch.Add(at)
	for t := range r.EachTick() {
		if t.At.After(end) {
			break
		}
		primary, canary, ok = t.PrimaryWeight, t.CanaryWeight, true
	}
	return primary, canary, ok
}

// Event is one Kubernetes event the engine emitted, at its virtual time.
type Event struct {
	At time.Duration
	// Type is "Normal" or "Warning".
	Type    string
	Message string
}

func (e Event) String() string {
	return fmt.Sprintf("at %s: %s", engine.FormatDuration(e.At), e.Message)
}

// Events are the run's events in order, one per event a tick emitted.
func (r *Record) Events() []Event { return eventsOf(r.Result) }

func eventsOf(r *scenario.Result) []Event {
	var out []Event
	for t := range r.EachTick() {
		for _, e := range t.Events {
			out = append(out, Event{At: t.At.Sub(scenario.Epoch), Type: e.Type, Message: e.Message})
		}
	}
	return out
}

// FailedChecks is the most failed checks any analysis of the run counted (the
// Canary's status.failedChecks at its highest).
func (r *Record) FailedChecks() int { return failedChecks(r.Result) }

func failedChecks(r *scenario.Result) int {
	n := 0
	for t := range r.EachTick() {
		n = max(n, t.FailedChecks)
	}
	return n
}
