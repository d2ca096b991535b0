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
// With an AlertSender, each is posted as it is resolved (Flagger posts in that order).
func (t *tick) alert(severity v1beta1.AlertSeverity, message string, metadata bool) {
	a := Alert{Severity: string(severity), Message: message}
	// Flagger's "Cluster" field comes from its -cluster-name flag, which a Canary
	// does not set; it is left out.
	if metadata {
		a.Fields = alertMetadata(t.cd)
	}
	msg := AlertMessage{Name: t.cd.Name, Namespace: t.cd.Namespace, Message: message, Fields: a.Fields, Severity: a.Severity}
	entries := analysisOf(t.cd).Alerts
	a.Global = len(entries) == 0
	if a.Global && t.e.Alerts != nil {
		if err := t.e.Alerts.SendGlobal(context.Background(), msg); err != nil {
			a.Error = fmt.Sprintf("alert can't be sent: %v", err)
		}
	}
	for _, entry := range entries {
		if !AlertAdmits(entry.Severity, severity) {
			continue
		}
		r, to := t.alertRecipient(entry)
		if to != nil && t.e.Alerts != nil {
			if err := t.e.Alerts.Send(context.Background(), *to, msg); err != nil {
				r.Error = fmt.Sprintf("alert provider %s send error: %v", r.Provider, err)
			}
		}
		a.Recipients = append(a.Recipients, r)
	}
	t.rec.Alerts = append(t.rec.Alerts, a)
}

// AlertAdmits is Flagger's severity filter: an entry of severity info gets every
// alert, warn gets warn and error alerts, error only error alerts. An entry without
// severity gets none (the CRD calls info the default, but nothing applies it).
func AlertAdmits(filter, severity v1beta1.AlertSeverity) bool {
	return filter == v1beta1.SeverityInfo || filter == severity ||
		severity == v1beta1.SeverityError && filter == v1beta1.SeverityWarn
}

// flaggerAlertProviderResource names AlertProviders in not-found errors the way
// Flagger's informer lister does: `alertprovider.flagger.app "<name>" not found`.
var flaggerAlertProviderResource = schema.GroupResource{Group: "flagger.app", Resource: "alertprovider"}

// alertRecipient resolves one analysis.alerts entry as Flagger does before posting:
// the provider (in providerRef.namespace, else the canary's), its secret's address
// and token, its defaults, and the notifier its type builds. Every failure is
// Flagger's log line and the alert is not sent there (to is nil); so is an empty
// address.
func (t *tick) alertRecipient(entry v1beta1.CanaryAlert) (r AlertRecipient, to *AlertDestination) {
	ctx := context.Background()
	name, ns := entry.ProviderRef.Name, t.cd.Namespace
	if ref := entry.ProviderRef.Namespace; ref != "" && ref != t.cd.Namespace {
		ns = ref
	}
	r = AlertRecipient{Alert: entry.Name, Severity: string(entry.Severity), Provider: name + "." + ns}
	fail := func(format string, args ...any) (AlertRecipient, *AlertDestination) {
		r.Error = fmt.Sprintf("alert provider %s.%s ", name, ns) + fmt.Sprintf(format, args...)
		return r, nil
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
		return r, nil
	}
	username, channel := alertDefaults(spec)
	switch spec.Type {
	case "slack", "discord", "rocket":
		r.Channel = channel
	}
	if spec.Proxy != "" {
		// postMessage parses the proxy before it sends anything.
		if _, err := url.Parse(spec.Proxy); err != nil {
			return fail("send error: postMessage failed: unable to parse proxy URL '%s', error: %v", spec.Proxy, err)
		}
	}
	// The token is only read with secretRef (a spec has no token field).
	return r, &AlertDestination{Type: spec.Type, Address: address, Token: string(secretData["token"]),
		Proxy: spec.Proxy, Username: username, Channel: channel}
}

// alertDefaults are the username and channel Flagger's alert() gives a provider's notifier.
func alertDefaults(spec v1beta1.AlertProviderSpec) (username, channel string) {
	username, channel = spec.Username, spec.Channel
	if username == "" {
		username = "flagger"
	}
	if channel == "" {
		channel = "general"
	}
	return username, channel
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
	username, channel := alertDefaults(spec)
	if err := CheckNotifier(spec.Type, address, username, channel); err != nil {
		return address, fmt.Sprintf("error: %v", err)
	}
	return address, ""
}

// CheckNotifier is what Flagger's notifier.Factory.Notifier checks when it builds the
// notifier of a type for a non-empty address, in its order and with its error texts:
// the type, the address (url.ParseRequestURI; the text names the address, as
// Flagger's does), then for Slack, Discord and Rocket a username and a channel. A live
// controller's notifiers are built only when it passes.
func CheckNotifier(typ, address, username, channel string) error {
	var what string
	slackLike := true // the notifiers that name a user and a channel
	switch typ {
	case "slack":
		what = "Slack hook URL"
	case "discord":
		what = "Discord hook URL"
	case "rocket":
		what = "Rocket hook URL"
	case "msteams":
		what, slackLike = "MS Teams webhook URL", false
	case "gchat":
		what, slackLike = "Google Chat webhook URL", false
	default:
		return fmt.Errorf("provider %s not supported", typ)
	}
	if _, err := url.ParseRequestURI(address); err != nil {
		return fmt.Errorf("invalid %s %s", what, address)
	}
	if !slackLike {
		return nil
	}
	name := strings.TrimSuffix(what, " hook URL")
	if username == "" {
		return fmt.Errorf("empty %s username", name)
	}
	if channel == "" {
		return fmt.Errorf("empty %s channel", name)
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
