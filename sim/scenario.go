package sim

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// ScenarioAPIVersion and ScenarioKind identify a scenario document.
const (
	ScenarioAPIVersion = "aviary.dev/v1alpha1"
	ScenarioKind       = "Scenario"
)

// Scenario is one simulated world and what must happen in it (DESIGN.md §5).
// Field names and YAML keys are a public interface: change them only through an issue.
type Scenario struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Metadata   ScenarioMetadata `yaml:"metadata"`
	Spec       ScenarioSpec     `yaml:"spec"`

	// File is the path the scenario was loaded from ("" when built in code).
	File string `yaml:"-"`
}

// ScenarioMetadata names and describes a scenario.
type ScenarioMetadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`

	// nameLine is the line of metadata.name in the scenario file (for suite-level errors).
	nameLine int
}

// ScenarioSpec is the body of a scenario.
type ScenarioSpec struct {
	Policy   Policy        `yaml:"policy"`
	Target   Target        `yaml:"target"`
	World    World         `yaml:"world"`
	Hooks    []HookSim     `yaml:"hooks"`
	Timeline []Action      `yaml:"timeline"`
	Until    Duration      `yaml:"until"`
	Expect   *Expectations `yaml:"expect"`
}

// Policy points at the Canary, MetricTemplates and AlertProviders under test.
type Policy struct {
	// Files are multi-document YAML files, relative to the scenario file.
	Files []string `yaml:"files"`
	// Objects are the same objects written inline.
	Objects []yaml.Node `yaml:"objects"`
}

// Target describes the workload aviary creates for the Canary's targetRef.
type Target struct {
	Replicas     *int32   `yaml:"replicas"`
	Image        string   `yaml:"image"`
	StartupDelay Duration `yaml:"startupDelay"`
}

// World describes traffic, version behaviour, faults and extra series.
type World struct {
	Seed           int64               `yaml:"seed"`
	ScrapeInterval Duration            `yaml:"scrapeInterval"`
	RPS            *float64            `yaml:"rps"`
	DirectRPS      float64             `yaml:"directRps"`
	MatchFraction  float64             `yaml:"matchFraction"`
	Noise          bool                `yaml:"noise"`
	Versions       map[string]Behavior `yaml:"versions"`
	Faults         []Fault             `yaml:"faults"`
	Counters       []Counter           `yaml:"counters"`
	Series         []RawSeries         `yaml:"series"`
}

// Behavior is how a version serves requests.
type Behavior struct {
	ErrorRate *float64 `yaml:"errorRate"`
	Latency   *Latency `yaml:"latency"`
}

// Latency is a log-normal latency distribution given by two quantiles.
type Latency struct {
	P50 Duration `yaml:"p50"`
	P99 Duration `yaml:"p99"`
}

// Fault overrides behaviour in a window of virtual time. Image "" means every version.
type Fault struct {
	Image     string   `yaml:"image"`
	From      Duration `yaml:"from"`
	Until     Duration `yaml:"until"` // 0 = until the end
	ErrorRate *float64 `yaml:"errorRate"`
	Latency   *Latency `yaml:"latency"`
	RPS       *float64 `yaml:"rps"`
	Ready     *bool    `yaml:"ready"`
}

// Counter is an application counter incremented per request served, by version.
type Counter struct {
	Name       string             `yaml:"name"`
	PerRequest map[string]float64 `yaml:"perRequest"`
}

// RawSeries is a series in promtool's expanding notation, one sample per scrape.
type RawSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// HookSim is a simulated webhook endpoint.
type HookSim struct {
	URL       string         `yaml:"url"`
	Responses []HookResponse `yaml:"responses"`
}

// HookResponse is what an endpoint answers from a point in virtual time on.
type HookResponse struct {
	From   Duration `yaml:"from"`
	Status int      `yaml:"status"`
	Delay  Duration `yaml:"delay"`
	Body   string   `yaml:"body"`
}

// Action is a timeline step: a new image for the target, or a merge patch of the Canary.
type Action struct {
	At    Duration       `yaml:"at"`
	Image string         `yaml:"image"`
	Patch map[string]any `yaml:"patch"`
}

// Expectations are what must hold at the end of the run; every field is optional.
type Expectations struct {
	Phase           string           `yaml:"phase"`
	Within          Duration         `yaml:"within"`
	Routes          []int            `yaml:"routes"`
	MaxCanaryWeight *int             `yaml:"maxCanaryWeight"`
	Events          []string         `yaml:"events"`
	AbsentEvents    []string         `yaml:"absentEvents"`
	HookCalls       map[string]Count `yaml:"hookCalls"`
	FailedRequests  *Count           `yaml:"failedRequests"`
}

// Count is an exact number (`3`) or a range (`{min: 1, max: 5}`).
type Count struct {
	Exact *int64 `yaml:"-"`
	Min   *int64 `yaml:"min"`
	Max   *int64 `yaml:"max"`
}

// UnmarshalYAML accepts a plain integer or a {min, max} mapping.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var v int64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: want an integer or {min, max}, got %q", n.Line, n.Value)
		}
		c.Exact = &v
		return nil
	}
	type plain Count
	var p plain
	dec := n.Decode
	if err := dec(&p); err != nil {
		return err
	}
	if p.Min == nil && p.Max == nil {
		return fmt.Errorf("line %d: a count range needs min or max", n.Line)
	}
	*c = Count(p)
	return nil
}

// Holds reports whether v satisfies the count.
func (c Count) Holds(v int64) bool {
	if c.Exact != nil && v != *c.Exact {
		return false
	}
	if c.Min != nil && v < *c.Min {
		return false
	}
	if c.Max != nil && v > *c.Max {
		return false
	}
	return true
}

// String renders the count as a scenario author wrote it.
func (c Count) String() string {
	switch {
	case c.Exact != nil:
		return fmt.Sprint(*c.Exact)
	case c.Min != nil && c.Max != nil:
		return fmt.Sprintf("between %d and %d", *c.Min, *c.Max)
	case c.Min != nil:
		return fmt.Sprintf("at least %d", *c.Min)
	case c.Max != nil:
		return fmt.Sprintf("at most %d", *c.Max)
	}
	return "any"
}

// Duration is a Go duration written as a string ("90s", "1m30s").
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string; a bare 0 is accepted.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 30s or 5m", n.Line)
	}
	if n.Value == "0" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (want a Go duration such as 30s or 5m)", n.Line, n.Value)
	}
	if v < 0 {
		return fmt.Errorf("line %d: duration %q must not be negative", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
