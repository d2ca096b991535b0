package scenario

import (
	"fmt"
	"strings"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/world"
)

// ---------------------------------------------------------------------------------
// Alerts: AlertProviders, the Canary's analysis.alerts and spec.expect.alerts

// validateAlertExpectations checks the values of spec.expect.alerts: each entry gives
// something to check, its patterns compile and its count is a count.
func (l *loader) validateAlertExpectations(alerts map[string]AlertExpectation) {
	for _, name := range sortedMapKeys(alerts) {
		a := alerts[name]
		p := world.JoinKey("spec.expect.alerts", name)
		if a.Count == nil && len(a.Messages) == 0 && len(a.AbsentMessages) == 0 {
			l.errAt(p, "give count, messages or absentMessages: what the alert %q must have been sent", name)
		}
		if a.Count != nil {
			l.checkCount(p+".count", *a.Count)
		}
		l.checkPatterns(p+".messages", a.Messages, "message")
		l.checkPatterns(p+".absentMessages", a.AbsentMessages, "message")
	}
}

// checkPatterns checks a list of event or alert message patterns.
func (l *loader) checkPatterns(path string, list []string, what string) {
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if strings.TrimSpace(strings.TrimPrefix(s, regexPrefix)) == "" {
			l.errAt(p, "empty %s", what)
			continue
		}
		if _, err := compileEventPattern(s); err != nil {
			l.errAt(p, "bad regular expression: %v", err)
		}
	}
}

// checkAlertKeys checks that every spec.expect.alerts key names an analysis.alerts
// entry of the Canary (or of a timeline patch).
func (l *loader) checkAlertKeys(s *Scenario, cd *v1beta1.Canary) {
	alerts := s.Spec.Expect.Alerts
	if len(alerts) == 0 {
		return
	}
	known := map[string]bool{}
	var names []string
	for _, a := range analyses(s, cd) {
		for _, entry := range a.Alerts {
			if !known[entry.Name] {
				known[entry.Name] = true
				names = append(names, entry.Name)
			}
		}
	}
	for _, key := range sortedMapKeys(alerts) {
		if known[key] {
			continue
		}
		p := world.JoinKey("spec.expect.alerts", key)
		if len(names) == 0 {
			l.errAt(p, "Canary %s has no analysis.alerts: Flagger hands its alerts to the global notifier, which its operator "+
				"configures, not the Canary; name an analysis.alerts entry (keys are analysis.alerts names)", cd.Name)
			continue
		}
		l.errAt(p, "no analysis.alerts entry named %q%s in Canary %s (its alerts: %s)",
			key, suggest(key, append([]string(nil), names...)), cd.Name, strings.Join(names, ", "))
	}
}

// alertWarnings reports analysis.alerts entries that Flagger would send nothing to:
// an entry without severity (Flagger's filter admits no alert for it, although the
// CRD calls info the default), a provider that is not among the policy objects, a
// provider whose address comes from a Secret the policy does not hold (Flagger would
// log the missing secret).
func (l *loader) alertWarnings(ld *Loaded) []Warning {
	cd, d := ld.Canary, l.canaryDoc
	a := cd.GetAnalysis()
	if a == nil {
		return nil
	}
	base := "spec.analysis"
	if cd.Spec.Analysis == nil {
		base = "spec.canaryAnalysis"
	}
	var out []Warning
	warn := func(rule, path, format string, args ...any) {
		out = append(out, Warning{Rule: rule, File: d.file, Line: lineIn(d, path), Object: d.object, Path: path, Field: path,
			Msg: fmt.Sprintf(format, args...)})
	}
	for i, entry := range a.Alerts {
		p := fmt.Sprintf("%s.alerts[%d]", base, i)
		if entry.Severity == "" {
			warn(RuleAlertNoSeverity, p, "alert %q has no severity, so it receives no alert: Flagger's filter admits none for it "+
				"(the CRD calls info the default, but Flagger does not apply it); give severity: info, warn or error", entry.Name)
		}
		ns := cd.Namespace
		if ref := entry.ProviderRef.Namespace; ref != "" {
			ns = ref
		}
		var provider *v1beta1.AlertProvider
		for _, cand := range ld.AlertProviders {
			if cand.Name == entry.ProviderRef.Name && cand.Namespace == ns {
				provider = cand
			}
		}
		switch {
		case provider == nil:
			warn(RuleAlertProviderMissing, p+".providerRef", "AlertProvider %s.%s is not among the policy objects: Flagger would log "+
				"\"alert provider %s.%s error: ... not found\" and send alert %q nothing", entry.ProviderRef.Name, ns, entry.ProviderRef.Name, ns, entry.Name)
		case provider.Spec.SecretRef != nil && secretOf(ld, ns, provider.Spec.SecretRef.Name) == nil:
			warn(RuleAlertProviderMissing, p+".providerRef", "AlertProvider %s.%s takes its address from Secret %s, which is not among the policy objects: "+
				"Flagger would log \"alert provider %s.%s secretRef error\" and send alert %q nothing", provider.Name, ns,
				provider.Spec.SecretRef.Name, provider.Name, ns, entry.Name)
		default:
			if why := alertProviderWarning(ld, provider, entry.Name); why != "" {
				warn(RuleAlertUndeliverable, p+".providerRef", "AlertProvider %s.%s: %s", provider.Name, ns, why)
			}
		}
	}
	return out
}
