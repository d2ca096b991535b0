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
