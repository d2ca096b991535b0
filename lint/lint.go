package lint

import (
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/scenario"
)

// Severity orders findings: Info < Warning < Error.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

// String is the severity's name in text and JSON output.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// SARIFLevel is the severity as SARIF's result.level.
func (s Severity) SARIFLevel() string {
	if s == Info {
		return "note"
	}
	return s.String()
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for _, v := range []Severity{Info, Warning, Error} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

// Finding is one problem of a policy: where it is written, what goes wrong at run
// time and what to write instead.
type Finding struct {
	// Rule is the rule's ID, kebab-case ("query-render").
	Rule     string
	Severity Severity
	// File is as given on the command line (relative stays relative); Line is
	// 1-based, 0 when unknown.
	File string
	Line int
	// Object is the policy object ("Canary podinfo", "MetricTemplate error-rate").
	Object string
	// Field is the field path ("spec.analysis.metrics[1].thresholdRange.max").
	Field string
	// Message says what goes wrong at run time, in Flagger's terms.
	Message string
	// Fix says what to write instead.
	Fix string
}

// Rule is one check and its documentation.
type Rule struct {
	ID       string
	Severity Severity
	// Title is one line, for the README table and SARIF's shortDescription.
	Title string
	// Help is a paragraph: why it goes wrong (SARIF's fullDescription and help).
	Help string
	// Fix is the usual fix, for findings the loader reports (which carry none).
	Fix string
	// Scenario is the library scenario that shows the consequence when run
	// ("scenarios/<name>.yaml").
	Scenario string
	// Check finds the rule's problems in one policy; nil for rules the scenario
	// loader reports (Loaded.PolicyWarnings).
	Check func(*Input) []Finding
}

// Input is one Canary and everything the linted files give it.
type Input struct {
	// Loaded is the policy loaded through sim/scenario: Canary, Templates,
	// AlertProviders, Target and Objects decoded, defaults applied.
	Loaded *scenario.Loaded
	Config Config
	// templateOnly is set when the Canary is a placeholder for MetricTemplates no
	// linted Canary references: rules say their model is a placeholder.
	templateOnly bool
	// skip leaves out MetricTemplates already linted with a Canary (templateOnly).
	skip func(*v1beta1.MetricTemplate) bool
	// qs are the policy's parsed queries (queries), computed once.
	qs []query
}

// Config is what lint is told about the world the policy runs in.
type Config struct {
	// ScrapeInterval is Prometheus' scrape interval (--scrape-interval, default 15s).
	ScrapeInterval time.Duration
}

// DefaultScrapeInterval is Prometheus' default scrape interval.
const DefaultScrapeInterval = 15 * time.Second

// Finding is a finding of rule about the field at path of obj (the Canary, one of
// the Templates, AlertProviders, Objects or the Target of in.Loaded), positioned
// where the field (or its nearest written ancestor) is written.
func (in *Input) Finding(rule *Rule, obj client.Object, path, msg string) Finding {
	f := Finding{Rule: rule.ID, Severity: rule.Severity, Field: path, Message: msg, Fix: rule.Fix}
	if file, line, object, ok := in.Loaded.Where(obj, path); ok {
		f.File, f.Line, f.Object = file, line, object
	} else {
		f.File = in.Loaded.Scenario.File
		f.Object = objectName(obj)
	}
	return f
}

// objectName is "Kind name" of an object, for findings whose document is unknown.
func objectName(obj client.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = fmt.Sprintf("%T", obj)
		kind = kind[strings.LastIndex(kind, ".")+1:]
	}
	return kind + " " + obj.GetName()
}

// Rules is every rule lint knows, loader-reported ones included, in the order of
// the README's table.
func Rules() []*Rule {
	var all []*Rule
	all = append(all, loaderQueryRules...)
	all = append(all, queryRules...)
	all = append(all, loaderRules...)
	all = append(all, analysisRules...)
	all = append(all, webhookRules...)
	return all
}

// RuleByID is the rule with id, nil when there is none.
func RuleByID(id string) *Rule {
	for _, r := range Rules() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// WithFix is f with its Fix set (rules whose fix depends on the finding).
func (f Finding) WithFix(fix string) Finding {
	f.Fix = fix
	return f
}
