package lint

import "aviary.dev/aviary/sim/scenario"

// loaderQueryRules are the problems sim/scenario's loader finds while it loads a policy
// (Loaded.PolicyWarnings, worded there as what Flagger will do) and the load errors
// that are policy bugs (apiRemoved): lint documents them and turns each into a finding.
// Rules about an object "not among the policy objects" are warnings, not errors: the
// object may live in a file that was not linted.
var loaderQueryRules = []*Rule{
	{ID: scenario.RuleQueryRender, Severity: Error,
		Title: "a query does not render with Flagger's template variables (e.g. `{{ primary }}`)",
		Help: "Flagger renders a MetricTemplate's query with Go's text/template and its model: name, namespace, target, " +
			"service, ingress, route, interval and variables. Anything else (`{{ primary }}`, a misspelt variable) fails " +
			"the render on every tick, each a failed check: a healthy canary is rolled back.",
		Fix:      "use the model's variables only: `{{ target }}-primary` for the primary, `{{ variables.x }}` with templateVariables",
		Scenario: "scenarios/template-undefined-function.yaml"},
	{ID: scenario.RuleQueryParse, Severity: Error,
		Title: "a rendered query is not PromQL",
		Help: "After rendering, a Prometheus-handled query must parse as PromQL; Prometheus answers a query that does not " +
			"with a bad_data error, and Flagger counts every such check as failed, as it does a query that does not render.",
		Fix:      "fix the PromQL the message points at (check the query with `aviary query` or promtool after rendering)",
		Scenario: "scenarios/podinfo-template-interval-missing.yaml"},
	{ID: scenario.RuleTemplateMissing, Severity: Warning,
		Title: "a metric's templateRef names no MetricTemplate among the linted files",
		Help: "Flagger looks the template up in templateRef's namespace (the Canary's when none is given); when it is not " +
			"there every check of the metric fails. Lint only knows the files it reads: lint the templates' file with the Canary.",
		Fix:      "add the MetricTemplate's file to the lint, or correct templateRef's name and namespace",
		Scenario: "scenarios/podinfo-template-missing.yaml"},
	{ID: scenario.RuleIntervalMissing, Severity: Error,
		Title: "a templateRef metric without interval whose template uses `{{ interval }}`",
		Help: "Flagger gives templateRef metrics no default interval: `{{ interval }}` renders as \"\", `rate(x[])` does not " +
			"parse, and every check of the metric fails.",
		Fix:      "give the metric an interval (`interval: 1m`)",
		Scenario: "scenarios/podinfo-template-interval-missing.yaml"},
	{ID: scenario.RuleMetricUnknown, Severity: Error,
		Title: "a metric that is neither a builtin for the provider nor backed by a query or template",
		Help: "Flagger's builtins are request-success-rate and request-duration; any other name needs a templateRef or a " +
			"query, or Flagger fails the metric on every tick with \"no usable metrics template and query were configured\".",
		Fix:      "use a builtin's name (request-duration) or give the metric a templateRef",
		Scenario: "scenarios/production-canary-as-written.yaml"},
}

// loaderRules are the loader's other warnings, about the Canary, its objects and its
// alerts, and apiRemoved.
var loaderRules = []*Rule{
	{ID: scenario.RuleFlaggerReadsOtherwise, Severity: Warning,
		Title: "a field Flagger reads otherwise than it is written (an unparsable interval, a threshold below 1, ...)",
		Help: "Flagger silently replaces some values: an interval it cannot parse, a threshold below 1, step weights that " +
			"never reach maxWeight, a webhook timeout it cannot parse. The message says what Flagger runs instead.",
		Fix: "write the value Flagger should run"},
	{ID: scenario.RuleReadyThreshold, Severity: Error,
		Title: "a ready threshold the target's replicas cannot meet",
		Help: "primaryReadyThreshold and canaryReadyThreshold are percentages of the target's replicas; when that needs " +
			"more available replicas than there are, Flagger waits forever (the primary never initializes, or the " +
			"canary's analysis never runs).",
		Fix: "lower the threshold or raise the replicas"},
	{ID: scenario.RuleProviderSecretMissing, Severity: Warning,
		Title:    "a MetricTemplate's provider Secret is not among the linted files",
		Help:     "Flagger reads the provider's credentials from secretRef; without the Secret it fails every check of the metric.",
		Fix:      "add the Secret's file to the lint, or correct secretRef",
		Scenario: "scenarios/podinfo-provider-secret-missing.yaml"},
	{ID: scenario.RuleProviderInvalid, Severity: Error,
		Title: "a MetricTemplate's provider Flagger cannot build",
		Help:  "An address Flagger cannot parse, or credentials its provider refuses, fail every check of the metric.",
		Fix:   "correct the provider's address and credentials"},
	{ID: scenario.RuleAutoscalerMissing, Severity: Warning,
		Title: "autoscalerRef names no HorizontalPodAutoscaler among the linted files",
		Help:  "Flagger copies the autoscaler for the primary; without it every tick fails and the canary never initializes.",
		Fix:   "add the HorizontalPodAutoscaler's file to the lint, or correct autoscalerRef"},
	{ID: scenario.RuleSelectorLabels, Severity: Error,
		Title: "the target's selector has none of the labels Flagger selects by",
		Help: "Flagger needs the target's spec.selector.matchLabels to hold app, name or app.kubernetes.io/name (its " +
			"-selector-labels); otherwise it warns on every tick and never initializes.",
		Fix: "label the target's selector with app: <name>"},
	{ID: scenario.RuleAPIVersionConverted, Severity: Warning,
		Title: "an apiVersion Kubernetes no longer serves, read as its successor",
		Help: "The object is read as its current apiVersion (autoscaling/v2beta2 as autoscaling/v2); a cluster of today " +
			"refuses the file as written.",
		Fix:      "write the current apiVersion (`aviary convert FILE` prints the converted objects)",
		Scenario: "scenarios/traefik-article-404-gate.yaml"},
	{ID: scenario.RuleCanaryAnalysisIgnored, Severity: Warning,
		Title: "spec.canaryAnalysis beside spec.analysis: ignored",
		Help:  "Flagger 1.x reads spec.analysis only; spec.canaryAnalysis, the v1alpha API's name, is ignored when both are written.",
		Fix:   "merge canaryAnalysis into analysis and remove it"},
	{ID: scenario.RuleDeploymentNamespace, Severity: Info,
		Title: "a Deployment named like the target in another namespace",
		Help:  "Flagger only reads the target in the Canary's namespace; a Deployment of that name elsewhere is not the target.",
		Fix:   "put the Deployment in the Canary's namespace"},
	{ID: scenario.RuleAlertNoSeverity, Severity: Warning,
		Title: "an analysis alert without severity: Flagger sends it nothing",
		Help:  "The CRD calls info the default, but Flagger's filter does not apply it: an alert without severity receives no alert.",
		Fix:   "give the alert severity: info, warn or error"},
	{ID: scenario.RuleAlertProviderMissing, Severity: Warning,
		Title: "an alert's AlertProvider (or its Secret) is not among the linted files",
		Help:  "Flagger logs the lookup error and sends the alert nothing.",
		Fix:   "add the AlertProvider's (and Secret's) file to the lint, or correct providerRef"},
	{ID: scenario.RuleAlertUndeliverable, Severity: Warning,
		Title: "an AlertProvider Flagger can send nothing through",
		Help:  "The provider's address or type leaves Flagger nowhere to post (the message says why): the alert is lost.",
		Fix:   "give the provider an address (or a Secret with one) Flagger can post to"},
	apiRemoved,
}

// apiRemoved is the load error of a policy object whose apiVersion Flagger no longer
// serves and the loader does not read (the 2018 article's flagger.app/v1alpha1 Canary).
var apiRemoved = &Rule{ID: "api-removed", Severity: Error,
	Title: "an apiVersion Flagger or Kubernetes no longer serves (e.g. flagger.app/v1alpha1)",
	Help: "The API server refuses the object: `kubectl apply` fails and nothing is deployed. Flagger 1.x serves " +
		"flagger.app/v1beta1 only, and its Canary's fields changed (canaryAnalysis became analysis, metric names changed).",
	Fix:      "aviary convert FILE prints the objects in the current API",
	Scenario: "scenarios/podinfo-2018-tutorial.yaml"}
