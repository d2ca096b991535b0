package scenario

import (
	"encoding/base64"
	"fmt"

	"go.yaml.in/yaml/v3"

	"aviary.dev/aviary/sim/world"
)

// ScenarioAPIVersion and ScenarioKind identify a scenario document.
const (
	ScenarioAPIVersion = "aviary.dev/v1alpha1"
	ScenarioKind       = "Scenario"
)

// Scenario is one simulated world and what must happen in it (docs/scenario-format.md).
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
	Policy   Policy            `yaml:"policy"`
	Target   Target            `yaml:"target"`
	World    world.Spec        `yaml:"world"`
	Hooks    []WebhookEndpoint `yaml:"hooks"`
	Timeline []Action          `yaml:"timeline"`
	Until    Duration          `yaml:"until"`
	Expect   *Expectations     `yaml:"expect"`
}

// Policy points at the objects under test: one Canary, its MetricTemplates and
// AlertProviders, and what sits next to them in a repository (the target Deployment,
// Services, HorizontalPodAutoscalers, ConfigMaps, Secrets).
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

// WebhookEndpoint is an entry of spec.hooks: what a simulated endpoint answers the
// webhook calls the entry selects, from which point of virtual time on. It selects
// calls by the hook's name as written in the Canary, by the URL, by pairs of the
// hook's metadata, or by several of these at once (all must match); when several
// entries select a call, the most specific answers (SelectEndpoint).
type WebhookEndpoint struct {
	Name      string            `yaml:"name"`
	URL       string            `yaml:"url"`
	Metadata  map[string]string `yaml:"metadata"`
	Responses []WebhookResponse `yaml:"responses"`
}

// WebhookResponse is what an endpoint answers from a point in virtual time on.
type WebhookResponse struct {
	From   Duration `yaml:"from"`
	Status int      `yaml:"status"`
	Delay  Duration `yaml:"delay"`
	Body   string   `yaml:"body"`
}

// Action is a timeline step: a new image for the target, a merge patch of the Canary,
// or a new version of a ConfigMap or Secret of the policy. Exactly one is given.
type Action struct {
	At        Duration       `yaml:"at"`
	Image     string         `yaml:"image"`
	Patch     map[string]any `yaml:"patch"`
	ConfigMap *ConfigChange  `yaml:"configMap"`
	Secret    *ConfigChange  `yaml:"secret"`
}

// ConfigChange is a new version of a ConfigMap or Secret of the policy, in the
// Canary's namespace, as `kubectl apply` of its changed manifest would write it: its
// data is replaced. For a Secret, data values are base64 as in a manifest and
// stringData values plain text, merged over data as the API server does; a ConfigMap
// has no stringData.
type ConfigChange struct {
	Name       string            `yaml:"name"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

// SecretData is the data a Secret holds after the change: data decoded from base64
// (the loader checked it), stringData merged over it.
func (c *ConfigChange) SecretData() map[string][]byte {
	out := make(map[string][]byte, len(c.Data)+len(c.StringData))
	for k, v := range c.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			continue
		}
		out[k] = b
	}
	for k, v := range c.StringData {
		out[k] = []byte(v)
	}
	return out
}

// Expectations are what must hold at the end of the run; every field is optional.
// Control is not checked against the run: it names the run the expectations must NOT
// all hold on (see Control).
type Expectations struct {
	Phase           string           `yaml:"phase"`
	Within          Duration         `yaml:"within"`
	Routes          []int            `yaml:"routes"`
	MaxCanaryWeight *int             `yaml:"maxCanaryWeight"`
	Events          []string         `yaml:"events"`
	AbsentEvents    []string         `yaml:"absentEvents"`
	HookCalls       map[string]Count `yaml:"hookCalls"`
	// Alerts are keyed by the name of an analysis.alerts entry of the Canary.
	Alerts         map[string]AlertExpectation `yaml:"alerts"`
	FailedRequests *Count                      `yaml:"failedRequests"`
	Control        *Control                    `yaml:"control"`
}

// AlertExpectation is what one analysis.alerts entry must have been sent
// (spec.expect.alerts.<name>): the alerts Flagger would post to its provider, i.e.
// those its severity admits and that its provider resolves for. Every field is
// optional; at least one is given.
type AlertExpectation struct {
	// Count is how many alerts it was sent.
	Count *Count `yaml:"count"`
	// Messages occurred in this order among them (patterns as in events).
	Messages []string `yaml:"messages"`
	// AbsentMessages match none of them.
	AbsentMessages []string `yaml:"absentMessages"`
}

// Control is the negative control of a scenario's expectations (spec.expect.control):
// a run on which at least one of them must fail, so that they are known to say
// something about the world the scenario describes rather than about any run. The
// scenario library's tests check it.
//
// Without spec.expect.control the control is derived from the scenario itself
// (NegativeControl): when it expects Failed, the same scenario without
// spec.world.faults and spec.hooks; when it expects Succeeded, the same scenario with
// every new version failing hard. Where that does not apply, or does not tell the two
// worlds apart (the failure lies in spec.world.versions, counters or series, or in
// the policy), give exactly one of:
//
//	control:
//	  scenario: user-profile-nan-guarded   # its run must fail these expectations
//	control:
//	  none: "why no negative control applies"
type Control struct {
	// Scenario is the metadata.name of another scenario of the same suite, the
	// counterpart that differs in what this one is about: its run must fail at least
	// one of this scenario's expectations.
	Scenario string `yaml:"scenario"`
	// None says why no negative control applies; a non-empty reason is required.
	None string `yaml:"none"`
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

// Duration is a span of virtual time written as a Go duration: the world's, so that
// every time in a scenario reads alike.
type Duration = world.Duration
