package engine

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// The engine's ports (docs/architecture.md#ports). The Kubernetes client and the clock are the
// controller-runtime client.Client and k8s.io/utils' clock.PassiveClock; the metric
// source is analysis.MetricSource. The rest are declared here, where they are used.

// WebhookCaller delivers a webhook payload. Success is Flagger's rule (final status
// <= 202); any failure is returned as an error whose text Flagger would show.
type WebhookCaller interface {
	Call(ctx context.Context, hook v1beta1.CanaryWebhook, payload hooks.Payload) error
}

// EventSink receives every event the engine emits (Kubernetes events in a cluster).
// k8s.io/client-go/tools/record.EventRecorder satisfies it.
type EventSink interface {
	Event(object runtime.Object, eventtype, reason, message string)
}

// AlertSender posts the alerts the engine routes (Flagger's notifiers; a live
// controller's controller/notify). The engine resolves where an alert goes as Flagger
// does (docs/flagger-semantics.md#alerts) and records it; the sender only posts. The
// tick waits for each post, as Flagger's alert() does.
type AlertSender interface {
	// Send posts msg to one analysis.alerts entry's AlertProvider, resolved by the
	// engine: to holds the provider's secrets, which the engine never records. The
	// error, which the engine records as Flagger logs it ("alert provider <name>.<ns>
	// send error: <err>"), must not contain to.Address or to.Token.
	Send(ctx context.Context, to AlertDestination, msg AlertMessage) error
	// SendGlobal posts msg of a canary without analysis.alerts to the operator's
	// notifier (Flagger's -slack-url, -msteams-url flags); it is a no-op when there is
	// none. The error is recorded as Flagger logs it ("alert can't be sent: <err>").
	SendGlobal(ctx context.Context, msg AlertMessage) error
}

// AlertDestination is where an AlertProvider's alerts go, resolved as Flagger's alert()
// resolves it before it builds a notifier: Address and Token are secrets (from the
// provider's spec.address or its Secret's "address" and "token"); never log or record them.
type AlertDestination struct {
	// Type is the provider's type: slack, msteams, discord, rocket or gchat.
	Type    string
	Address string
	// Token is the Secret's "token" ("" without one); only Slack sends it.
	Token string
	// Proxy is spec.proxy ("" = none); it parses as a URL.
	Proxy string
	// Username and Channel are the provider's, with Flagger's defaults ("flagger",
	// "general"); MS Teams and Google Chat messages carry neither.
	Username string
	Channel  string
}

// AlertMessage is one alert as Flagger's notifiers receive it (notifier.Interface.Post).
type AlertMessage struct {
	// Name and Namespace are the canary's (Flagger's "workload" and namespace).
	Name, Namespace string
	Message         string
	// Fields are the alert's facts (AlertField); Flagger's -cluster-name field is the
	// sender's to add.
	Fields []AlertField
	// Severity is "info", "warn" or "error".
	Severity string
}

// TickObserver receives the record of every tick.
type TickObserver interface {
	ObserveTick(TickRecord)
}

// MeshRouter routes traffic between the primary and the canary (Istio VirtualService,
// Gateway API HTTPRoute, ...). Weights are percentages summing to 100.
type MeshRouter interface {
	// Reconcile creates or updates the routing objects; existing weights are kept,
	// new objects start at primary 100 / canary 0.
	Reconcile(ctx context.Context, cd *v1beta1.Canary) error
	// GetRoutes reads the current weights and whether traffic is mirrored to the canary.
	GetRoutes(ctx context.Context, cd *v1beta1.Canary) (primary, canary int, mirrored bool, err error)
	// SetRoutes writes new weights, mirroring the canary's traffic when mirrored and
	// the router can (CanMirror).
	SetRoutes(ctx context.Context, cd *v1beta1.Canary, primary, canary int, mirrored bool) error
	// CanMirror reports whether SetRoutes writes a mirror when asked to, so that the
	// record says what the routing objects hold.
	CanMirror(cd *v1beta1.Canary) bool
}

// ServiceRouter manages the apex, primary and canary ClusterIP Services.
type ServiceRouter interface {
	// Initialize creates the canary and primary Services if absent.
	Initialize(ctx context.Context, cd *v1beta1.Canary) error
	// Reconcile creates or updates the apex Service (selector -> primary) and the others.
	Reconcile(ctx context.Context, cd *v1beta1.Canary) error
}

// Workload is the target controller: it owns the primary copy of the target and the
// target's scale, and judges readiness (Flagger's canary.Controller for Deployments).
type Workload interface {
	// Metadata reads the target's selector label and, with portDiscovery, its ports.
	Metadata(ctx context.Context, cd *v1beta1.Canary) (labelKey, labelValue string, ports map[string]int32, err error)
	// Initialize creates <target>-primary (and its ConfigMaps/Secrets) if absent.
	Initialize(ctx context.Context, cd *v1beta1.Canary) error
	// IsPrimaryReady reports nil when the primary is ready; retriable says whether
	// waiting may help (false = progress deadline exceeded).
	IsPrimaryReady(ctx context.Context, cd *v1beta1.Canary) (retriable bool, err error)
	// IsCanaryReady does the same for the target.
	IsCanaryReady(ctx context.Context, cd *v1beta1.Canary) (retriable bool, err error)
	// ScaleToZero sets the target's replicas to 0.
	ScaleToZero(ctx context.Context, cd *v1beta1.Canary) error
	// ScaleFromZero restores the target's replicas (from the primary's, at least 1).
	ScaleFromZero(ctx context.Context, cd *v1beta1.Canary) error
	// Promote copies the target's pod template (and configs) to the primary.
	Promote(ctx context.Context, cd *v1beta1.Canary) error
	// Hash is the target's spec hash used as status.lastAppliedSpec.
	Hash(ctx context.Context, cd *v1beta1.Canary) (string, error)
	// TrackedConfigs returns the checksums of ConfigMaps/Secrets the target uses.
	TrackedConfigs(ctx context.Context, cd *v1beta1.Canary) (map[string]string, error)
}

// Autoscaler keeps the primary's autoscaler in step with the target's (Flagger's
// canary.ScalerReconciler for autoscalerRef; docs/flagger-semantics.md#autoscaler).
// Flagger's PauseTargetScaler and ResumeTargetScaler do nothing for an HPA, the only
// kind aviary reconciles, so they are not part of it.
type Autoscaler interface {
	// ReconcilePrimary creates the primary's autoscaler when absent and, unless init,
	// brings it in line with the target's.
	ReconcilePrimary(ctx context.Context, cd *v1beta1.Canary, init bool) error
}
