package scenario

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/workload"
)

// ---------------------------------------------------------------------------------
// Where Flagger silently runs something else than the policy says

// fallbackWarnings warns, at the field's line, wherever Flagger would read the policy
// otherwise than it is written and say nothing: what the engine reports of the
// Canary ((*engine.Engine).Fallbacks: an interval it cannot parse, a threshold below
// 1, weights that never reach maxWeight, a webhook timeout it cannot parse, ...),
// ready thresholds the target's replicas cannot meet (workload.ReadyThresholdReplicas),
// and the MetricTemplates whose provider Flagger cannot build (analysis.ValidateProvider).
// Each is worded as what Flagger will actually do; aviary runs that.
func (l *loader) fallbackWarnings(s *Scenario, ld *Loaded) {
	cd, d := ld.Canary, l.canaryDoc
	for _, f := range (&engine.Engine{}).Fallbacks(cd) {
		l.policyWarn(d, RuleFlaggerReadsOtherwise, f.Field, "%s", f.Msg)
	}
	a := cd.GetAnalysis()
	if a == nil {
		return
	}
	replicas := *s.Spec.Target.Replicas
	for _, t := range []struct {
		field, what string
		value       *int
	}{
		{"spec.analysis.primaryReadyThreshold", "the primary never counts as ready, so the canary never initializes", a.PrimaryReadyThreshold},
		{"spec.analysis.canaryReadyThreshold", "the canary never counts as ready, so its analysis never runs (every tick halts)", a.CanaryReadyThreshold},
	} {
		if t.value == nil {
			continue
		}
		if need := workload.ReadyThresholdReplicas(replicas, *t.value); need > replicas {
			l.policyWarn(d, RuleReadyThreshold, t.field, "%d%% of the target's %d replicas is %d: Flagger waits for more available replicas than there are: %s",
				*t.value, replicas, need, t.what)
		}
	}
	for _, m := range a.Metrics {
		if t, td, _ := l.templateOf(ld, m); t != nil {
			l.templateProviderWarning(ld, td, t, m.Name)
		}
	}
}

// templateOf is the policy's MetricTemplate a metric's templateRef names and its
// document (nil when the metric has no templateRef or the policy no such template),
// and the namespace the reference names (the Canary's when it names none).
func (l *loader) templateOf(ld *Loaded, m v1beta1.CanaryMetric) (*v1beta1.MetricTemplate, *policyDoc, string) {
	if m.TemplateRef == nil {
		return nil, nil, ""
	}
	ns := m.TemplateRef.Namespace
	if ns == "" {
		ns = ld.Canary.Namespace
	}
	if j := templateIndex(ld, ns, m.TemplateRef.Name); j >= 0 {
		return ld.Templates[j], l.templateDocs[j], ns
	}
	return nil, nil, ns
}

// templateProviderWarning warns when Flagger cannot build the client of a template's
// provider, which fails every check of the metric that uses it: its Secret is not
// among the policy objects, or the provider is not usable (analysis.ValidateProvider,
// the engine's own check).
func (l *loader) templateProviderWarning(ld *Loaded, d *policyDoc, t *v1beta1.MetricTemplate, metric string) {
	p := t.Spec.Provider
	var credentials map[string][]byte
	if p.SecretRef != nil {
		sec := secretOf(ld, t.Namespace, p.SecretRef.Name)
		if sec == nil {
			l.policyWarn(d, RuleProviderSecretMissing, "spec.provider.secretRef", "Secret %s.%s is not among the policy objects: Flagger fails every check of metric %q "+
				"(\"Metric template %s.%s secret %s error: ... not found\")", p.SecretRef.Name, t.Namespace, metric, t.Name, t.Namespace, p.SecretRef.Name)
			return
		}
		credentials = sec.Data
	}
	if err := analysis.ValidateProvider(p, credentials); err != nil {
		l.policyWarn(d, RuleProviderInvalid, "spec.provider", "Flagger cannot build its %s client and fails every check of metric %q: Metric template %s.%s provider %s error: %v",
			p.Type, metric, t.Name, t.Namespace, p.Type, err)
	}
}

// secretOf is the policy's Secret ns/name, nil when the policy has none.
func secretOf(ld *Loaded, ns, name string) *corev1.Secret {
	for _, o := range ld.Objects {
		if sec, ok := o.(*corev1.Secret); ok && sec.Namespace == ns && sec.Name == name {
			return sec
		}
	}
	return nil
}

// alertProviderWarning says what Flagger would do with an alert through provider
// instead of sending it ("" when it sends it), the provider's Secret (when it takes
// its address from one) being among the policy objects: engine.AlertAddress, the
// engine's own resolution.
func alertProviderWarning(ld *Loaded, provider *v1beta1.AlertProvider, alert string) string {
	var data map[string][]byte
	if ref := provider.Spec.SecretRef; ref != nil {
		data = secretOf(ld, provider.Namespace, ref.Name).Data
	}
	switch address, problem := engine.AlertAddress(provider.Spec, data); {
	case problem != "":
		return fmt.Sprintf("Flagger would log \"alert provider %s.%s %s\" and send alert %q nothing", provider.Name, provider.Namespace, problem, alert)
	case address == "":
		return fmt.Sprintf("its address is empty, so Flagger's notifier posts alert %q nowhere, without a word", alert)
	}
	return ""
}
