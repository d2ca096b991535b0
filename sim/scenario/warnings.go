package scenario

import (
	"fmt"
	"strings"
)

// Rule IDs of the policy's load-time warnings: `aviary lint` reports each warning as a
// finding of its rule, so a warning's text and the finding's are the same sentence.
const (
	RuleQueryRender           = "query-render"            // a query does not render with Flagger's variables
	RuleQueryParse            = "query-parse"             // a rendered query is not PromQL
	RuleTemplateMissing       = "template-missing"        // templateRef names no template among the objects
	RuleIntervalMissing       = "interval-missing"        // {{ interval }} with no metric interval
	RuleMetricUnknown         = "metric-unknown"          // neither builtin nor template nor query
	RuleFlaggerReadsOtherwise = "flagger-reads-otherwise" // (*engine.Engine).Fallbacks
	RuleReadyThreshold        = "ready-threshold"         // more ready replicas than there are
	RuleProviderSecretMissing = "provider-secret-missing" // a template's Secret is not among the objects
	RuleProviderInvalid       = "provider-invalid"        // Flagger cannot build the template's provider
	RuleAutoscalerMissing     = "autoscaler-missing"      // autoscalerRef names no HPA among the objects
	RuleSelectorLabels        = "selector-labels"         // the target's selector has none of Flagger's labels
	RuleAPIVersionConverted   = "api-version-converted"   // an apiVersion no longer served, converted
	RuleCanaryAnalysisIgnored = "canary-analysis-ignored" // spec.canaryAnalysis beside spec.analysis
	RuleDeploymentNamespace   = "deployment-namespace"    // the target's name in another namespace
	RuleAlertNoSeverity       = "alert-no-severity"       // an alert no severity admits
	RuleAlertProviderMissing  = "alert-provider-missing"  // providerRef (or its Secret) not among the objects
	RuleAlertUndeliverable    = "alert-undeliverable"     // engine.AlertAddress: sent nowhere
)

// Warning is one load-time warning about the policy, where it is written. Its
// String is the text Loaded.Warnings holds.
type Warning struct {
	// Rule is one of the Rule* IDs.
	Rule string
	File string
	Line int
	// Object is the policy object ("Canary podinfo"), or who the query is of
	// ("MetricTemplate x (metric "m" of Canary c)"); Path the field, "" for none.
	Object, Path string
	Msg          string
	// Field is the field the warning is about: Path when the text names it, else the
	// field the line points at (a template's spec.query).
	Field string
}

func (w Warning) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", w.File, w.Line)
	if w.Object != "" {
		b.WriteString(w.Object + ": ")
	}
	if w.Path != "" {
		b.WriteString(w.Path + ": ")
	}
	b.WriteString(w.Msg)
	return b.String()
}

// warningTexts is the text of each warning, in order.
func warningTexts(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}
