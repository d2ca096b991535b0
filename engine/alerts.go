package engine

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// Alerts as Flagger routes them (docs/flagger-semantics.md#alerts; Flagger's
// pkg/controller/events.go alert and alertMetadata, pkg/notifier/factory.go). The
// engine decides who gets an alert and what it carries; posting it is a sender's
// job, and the simulator has none (README: alerts are recorded, not sent).

// alert is Flagger's alert(canary, message, metadata, severity): it records the alert
// with the fields its message carries and routes it. Without analysis.alerts it goes
// to the global notifier (an operator setting); otherwise to every entry whose
// severity admits it, in spec order, through the AlertProvider the entry references.
func (t *tick) alert(severity v1beta1.AlertSeverity, message string, metadata bool) {
	a := Alert{Severity: string(severity), Message: message}
	// Flagger's "Cluster" field comes from its -cluster-name flag, which a Canary
	// does not set; it is left out.
	if metadata {
		a.Fields = alertMetadata(t.cd)
	}
	entries := analysisOf(t.cd).Alerts
	a.Global = len(entries) == 0
	for _, entry := range entries {
		if alertAdmits(entry.Severity, severity) {
			a.Recipients = append(a.Recipients, t.alertRecipient(entry))
		}
	}
	t.rec.Alerts = append(t.rec.Alerts, a)
}

// alertAdmits is Flagger's severity filter: an entry of severity info gets every
// alert, warn gets warn and error alerts, error only error alerts. An entry without
// severity gets none (the CRD calls info the default, but nothing applies it).
func alertAdmits(filter, severity v1beta1.AlertSeverity) bool {
	return filter == v1beta1.SeverityInfo || filter == severity ||
		severity == v1beta1.SeverityError && filter == v1beta1.SeverityWarn
}

// flaggerAlertProviderResource names AlertProviders in not-found errors the way
// Flagger's informer lister does: `alertprovider.flagger.app "<name>" not found`.
var flaggerAlertProviderResource = schema.GroupResource{Group: "flagger.app", Resource: "alertprovider"}

// alertRecipient resolves one analysis.alerts entry as Flagger does before posting:
// the provider (in providerRef.namespace, else the canary's), its secret's address,
// its defaults, and the notifier its type builds. Every failure is Flagger's log line
// and the alert is not sent there.
func (t *tick) alertRecipient(entry v1beta1.CanaryAlert) AlertRecipient {
	ctx := context.Background()
	name, ns := entry.ProviderRef.Name, t.cd.Namespace
	if ref := entry.ProviderRef.Namespace; ref != "" && ref != t.cd.Namespace {
		ns = ref
	}
	r := AlertRecipient{Alert: entry.Name, Severity: string(entry.Severity), Provider: name + "." + ns}
	fail := func(format string, args ...any) AlertRecipient {
		r.Error = fmt.Sprintf("alert provider %s.%s ", name, ns) + fmt.Sprintf(format, args...)
		return r
	}
	provider := &v1beta1.AlertProvider{}
	if err := t.e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, provider); err != nil {
		if apierrors.IsNotFound(err) {
			err = apierrors.NewNotFound(flaggerAlertProviderResource, name)
		}
		return fail("error: %v", err)
	}
	spec := provider.Spec
	r.Type = spec.Type
	var secretData map[string][]byte
	if spec.SecretRef != nil {
		secret := &corev1.Secret{}
		if err := t.e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: spec.SecretRef.Name}, secret); err != nil {
			return fail("secretRef error: %v", err)
		}
		secretData = secret.Data
	}
	address, problem := AlertAddress(spec, secretData)
	switch {
	case problem != "":
		return fail("%s", problem)
	case address == "":
		// notifier.Factory builds a NopNotifier for an empty address, before it
		// looks at the type: nothing is posted and nothing is logged.
		r.Error = "empty address: Flagger's notifier posts nothing"
		return r
	}
	switch spec.Type {
	case "slack", "discord", "rocket":
		r.Channel = spec.Channel
		if r.Channel == "" {
			r.Channel = "general"
		}
	}
	if spec.Proxy != "" {
		// postMessage parses the proxy before it sends anything.
		if _, err := url.Parse(spec.Proxy); err != nil {
			return fail("send error: postMessage failed: unable to parse proxy URL '%s', error: %v", spec.Proxy, err)
		}
	}
	return r
}

// AlertAddress is where Flagger's notifier for an AlertProvider posts: spec.address,
// or with secretRef the Secret's "address" (secret is its data). problem is why
// Flagger sends nothing there, as its log line says it after "alert provider
// <name>.<namespace> " (no address in the Secret, a notifier the type cannot build
// for the address); an empty address with no problem is a notifier that posts
// nothing and logs nothing.
func AlertAddress(spec v1beta1.AlertProviderSpec, secret map[string][]byte) (address, problem string) {
	address = spec.Address
	if spec.SecretRef != nil {
		a, ok := secret["address"]
		if !ok {
			return "", "secret does not contain an address"
		}
		address = string(a)
	}
	if address == "" {
		return "", ""
	}
	if err := checkNotifier(spec.Type, address); err != nil {
		return address, fmt.Sprintf("error: %v", err)
	}
	return address, ""
}

// checkNotifier is what notifier.Factory.Notifier checks when it builds the notifier
// of a type for an address (the username and channel always have defaults here).
func checkNotifier(typ, address string) error {
	what := map[string]string{
		"slack":   "Slack hook URL",
		"discord": "Discord hook URL",
		"rocket":  "Rocket hook URL",
		"msteams": "MS Teams webhook URL",
		"gchat":   "Google Chat webhook URL",
	}[typ]
	if what == "" {
		return fmt.Errorf("provider %s not supported", typ)
	}
	if _, err := url.ParseRequestURI(address); err != nil {
		return fmt.Errorf("invalid %s %s", what, address)
	}
	return nil
}

// alertMetadata is Flagger's alertMetadata: the target, the failed-checks threshold,
// the progress deadline and how traffic is routed.
func alertMetadata(cd *v1beta1.Canary) []AlertField {
	a := analysisOf(cd)
	fields := []AlertField{
		{Name: "Target", Value: fmt.Sprintf("%s/%s.%s", cd.Spec.TargetRef.Kind, cd.Spec.TargetRef.Name, cd.Namespace)},
		{Name: "Failed checks threshold", Value: fmt.Sprintf("%v", cd.GetAnalysisThreshold())},
		{Name: "Progress deadline", Value: fmt.Sprintf("%vs", cd.GetProgressDeadlineSeconds())},
	}
	const routing = "Traffic routing"
	switch cd.DeploymentStrategy() {
	case v1beta1.DeploymentStrategyABTesting:
		fields = append(fields, AlertField{Name: routing, Value: "A/B Testing"})
	case v1beta1.DeploymentStrategyBlueGreen:
		fields = append(fields, AlertField{Name: routing, Value: "Blue/Green"})
	default:
		switch {
		case a.StepWeight > 0:
			fields = append(fields, AlertField{Name: routing, Value: fmt.Sprintf("Weight step: %v max: %v", a.StepWeight, a.MaxWeight)})
		case len(a.StepWeights) > 0:
			// Flagger prints the slice and turns "[10 20 30]" into "10,20,30".
			steps := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(a.StepWeights)), ","), "[]")
			fields = append(fields, AlertField{Name: routing, Value: fmt.Sprintf("Weight steps: %s max: %v", steps, a.MaxWeight)})
		}
	}
	return fields
}
