package v1beta1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// CanaryKind is the kind of the Canary resource.
	CanaryKind = "Canary"
	// ProgressDeadlineSeconds is the default of spec.progressDeadlineSeconds.
	ProgressDeadlineSeconds = 600
	// AnalysisInterval is the default analysis interval (spec.analysis.interval
	// empty or unparsable).
	AnalysisInterval = 60 * time.Second
	// MinAnalysisInterval is the floor an analysis interval is clamped to.
	MinAnalysisInterval = 10 * time.Second
	// PrimaryReadyThreshold is the default of spec.analysis.primaryReadyThreshold (%).
	PrimaryReadyThreshold = 100
	// CanaryReadyThreshold is the default of spec.analysis.canaryReadyThreshold (%).
	CanaryReadyThreshold = 100
	// MetricInterval is the default interval of builtin and inline-query metrics.
	MetricInterval = "1m"
	// TotalWeight is the traffic weight shared by primary and canary.
	TotalWeight = 100
	// SessionAffinityMaxAge is the default cookie max age in seconds (one day).
	SessionAffinityMaxAge = 86400
	// DefaultMeshProvider is the provider of a canary without spec.provider when the
	// operator does not choose another (Flagger's -mesh-provider flag default).
	DefaultMeshProvider = "istio"
	// DefaultMetricsServer is the Prometheus address of builtin and inline-query
	// metrics of a canary without spec.metricsServer when the operator does not choose
	// another (Flagger's -metrics-server flag default).
	DefaultMetricsServer = "http://prometheus:9090"
)

const (
	// DeploymentStrategyCanary is progressive traffic shifting (stepWeight/stepWeights).
	DeploymentStrategyCanary = "canary"
	// DeploymentStrategyBlueGreen is iteration-based analysis without traffic shifting.
	DeploymentStrategyBlueGreen = "blue-green"
	// DeploymentStrategyABTesting is iteration-based analysis with HTTP match conditions.
	DeploymentStrategyABTesting = "ab-testing"
)

// Canary is the configuration for a canary release, which automatically manages
// the bootstrap, analysis, traffic shifting, promotion or rollback of an app revision.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Weight",type=string,JSONPath=`.status.canaryWeight`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`,priority=1
// +kubebuilder:printcolumn:name="FailedChecks",type=string,JSONPath=`.status.failedChecks`,priority=1
// +kubebuilder:printcolumn:name="Interval",type=string,JSONPath=`.spec.analysis.interval`,priority=1
// +kubebuilder:printcolumn:name="Mirror",type=boolean,JSONPath=`.spec.analysis.mirror`,priority=1
// +kubebuilder:printcolumn:name="StepWeight",type=string,JSONPath=`.spec.analysis.stepWeight`,priority=1
// +kubebuilder:printcolumn:name="StepWeights",type=string,JSONPath=`.spec.analysis.stepWeights`,priority=1
// +kubebuilder:printcolumn:name="MaxWeight",type=string,JSONPath=`.spec.analysis.maxWeight`,priority=1
// +kubebuilder:printcolumn:name="LastTransitionTime",type=string,JSONPath=`.status.lastTransitionTime`
type Canary struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behaviour of the canary.
	Spec CanarySpec `json:"spec"`
	// Status is the persisted analysis state (written by the engine only).
	// +optional
	Status CanaryStatus `json:"status,omitempty"`
}

// CanaryList is a list of Canary resources.
//
// +kubebuilder:object:root=true
type CanaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the canaries of the list.
	Items []Canary `json:"items"`
}

// CanarySpec is the specification of the desired behaviour of the Canary.
type CanarySpec struct {
	// Provider overrides the mesh provider for this canary. Unknown values fall
	// back to the Istio router.
	// +kubebuilder:validation:Enum=apisix;appmesh;"appmesh:v1beta2";contour;"gatewayapi:v1";"gatewayapi:v1beta1";gloo;istio;knative;kubernetes;kuma;linkerd;nginx;osm;skipper;"smi:v1alpha1";"smi:v1alpha2";"smi:v1alpha3";traefik
	// +optional
	Provider string `json:"provider,omitempty"`

	// MetricsServer overrides the metrics server address (builtin metrics and
	// inline queries) for this canary.
	// +optional
	MetricsServer string `json:"metricsServer,omitempty"`

	// TargetRef references the target workload (Deployment, DaemonSet or Service).
	// +kubebuilder:validation:XValidation:rule="has(self.apiVersion) && has(self.kind)",message="targetRef requires apiVersion, kind and name"
	// +kubebuilder:validation:XValidation:rule="!has(self.kind) || self.kind in ['Deployment', 'DaemonSet', 'Service']",message="targetRef.kind must be Deployment, DaemonSet or Service"
	TargetRef LocalObjectReference `json:"targetRef"`

	// AutoscalerRef references an autoscaler (HorizontalPodAutoscaler or ScaledObject).
	// +optional
	AutoscalerRef *AutoscalerRefernce `json:"autoscalerRef,omitempty"`

	// IngressRef references an NGINX Ingress.
	// +kubebuilder:validation:XValidation:rule="has(self.apiVersion) && has(self.kind) && self.kind == 'Ingress'",message="ingressRef requires apiVersion, name and kind Ingress"
	// +optional
	IngressRef *LocalObjectReference `json:"ingressRef,omitempty"`

	// RouteRef references an APISIX route.
	// +kubebuilder:validation:XValidation:rule="has(self.apiVersion) && has(self.kind) && self.kind == 'ApisixRoute'",message="routeRef requires apiVersion, name and kind ApisixRoute"
	// +optional
	RouteRef *LocalObjectReference `json:"routeRef,omitempty"`

	// UpstreamRef references a Gloo Upstream whose config is copied to the
	// generated upstreams.
	// +kubebuilder:validation:XValidation:rule="has(self.apiVersion) && has(self.kind) && self.kind == 'Upstream'",message="upstreamRef requires apiVersion, name and kind Upstream"
	// +optional
	UpstreamRef *CrossNamespaceObjectReference `json:"upstreamRef,omitempty"`

	// Service defines how ClusterIP services, service mesh or ingress routing
	// objects are generated.
	// +optional
	Service CanaryService `json:"service"`

	// Analysis defines the validation process of a release.
	// +kubebuilder:validation:Required
	Analysis *CanaryAnalysis `json:"analysis,omitempty"`

	// CanaryAnalysis is the deprecated alias of Analysis; Analysis wins when both are set.
	// +optional
	CanaryAnalysis *CanaryAnalysis `json:"canaryAnalysis,omitempty"`

	// ProgressDeadlineSeconds is the maximum time in seconds for a canary
	// deployment to make progress before it is considered failed (default 600).
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// SkipAnalysis promotes the canary without analysing it.
	// +optional
	SkipAnalysis bool `json:"skipAnalysis,omitempty"`

	// RevertOnDeletion reverts the mutated resources when the canary is deleted.
	// +optional
	RevertOnDeletion bool `json:"revertOnDeletion,omitempty"`

	// Suspend, when true, skips every canary run until it is unset.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// CanaryService defines how ClusterIP services, service mesh or ingress routing
// objects are generated.
type CanaryService struct {
	// Name of the apex Kubernetes service; defaults to targetRef.name.
	// +optional
	Name string `json:"name,omitempty"`

	// Port of the generated Kubernetes services.
	Port int32 `json:"port"`

	// PortName of the generated Kubernetes services; defaults to http.
	// +optional
	PortName string `json:"portName,omitempty"`

	// TargetPort (number or name) of the generated services; defaults to Port.
	// +optional
	TargetPort intstr.IntOrString `json:"targetPort,omitzero"`

	// AppProtocol of the service port.
	// +optional
	AppProtocol string `json:"appProtocol,omitempty"`

	// TrafficDistribution of the generated services.
	// +kubebuilder:validation:Enum=PreferClose;PreferSameZone;PreferSameNode
	// +optional
	TrafficDistribution string `json:"trafficDistribution,omitempty"`

	// PortDiscovery adds all container ports to the generated services.
	// +optional
	PortDiscovery bool `json:"portDiscovery,omitempty"`

	// Headless generates headless Kubernetes services.
	// +optional
	Headless bool `json:"headless,omitempty"`

	// Timeout of the HTTP or gRPC request (routers).
	// +optional
	Timeout string `json:"timeout,omitempty"`

	// BackendTimeout is the backend request timeout (Gateway API only).
	// +optional
	BackendTimeout string `json:"backendTimeout,omitempty"`

	// Gateways attached to the generated Istio VirtualService; empty means ["mesh"].
	// +optional
	Gateways []string `json:"gateways,omitempty"`

	// GatewayRefs are the parent Gateways of the generated Gateway API HTTPRoute.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	GatewayRefs []ParentReference `json:"gatewayRefs,omitempty"`

	// Hosts of the generated Istio VirtualService or HTTPRoute.
	// +optional
	Hosts []string `json:"hosts,omitempty"`

	// Delegation generates an Istio delegate VirtualService (no hosts, no gateways).
	// +optional
	Delegation bool `json:"delegation,omitempty"`

	// TrafficPolicy of the generated Istio DestinationRules.
	// +optional
	TrafficPolicy *TrafficPolicy `json:"trafficPolicy,omitempty"`

	// Match conditions of the generated route.
	// +optional
	Match []HTTPMatchRequest `json:"match,omitempty"`

	// Rewrite of HTTP URIs on the generated route.
	// +optional
	Rewrite *HTTPRewrite `json:"rewrite,omitempty"`

	// Retries policy of the generated route.
	// +optional
	Retries *HTTPRetry `json:"retries,omitempty"`

	// Headers operations of the generated route.
	// +optional
	Headers *Headers `json:"headers,omitempty"`

	// Mirror filters of the generated Gateway API route (not analysis.mirror).
	// +optional
	Mirror []HTTPRequestMirrorFilter `json:"mirror,omitempty"`

	// CorsPolicy of the generated Istio VirtualService.
	// +optional
	CorsPolicy *CorsPolicy `json:"corsPolicy,omitempty"`

	// MeshName of the generated App Mesh objects.
	// +optional
	MeshName string `json:"meshName,omitempty"`

	// Backends of the generated App Mesh virtual nodes.
	// +optional
	Backends []string `json:"backends,omitempty"`

	// Apex is metadata added to the apex service and routing objects.
	// +optional
	Apex *CustomMetadata `json:"apex,omitempty"`

	// Primary is metadata added to the primary service.
	// +optional
	Primary *CustomMetadata `json:"primary,omitempty"`

	// Canary is metadata added to the canary service.
	// +optional
	Canary *CustomMetadata `json:"canary,omitempty"`

	// UnmanagedMetadata lists metadata keys that reconciliation leaves alone.
	// +optional
	UnmanagedMetadata *UnmanagedMetadata `json:"unmanagedMetadata,omitempty"`
}

// CanaryAnalysis describes how the analysis of a release is done. Exactly one
// of iterations, stepWeight and stepWeights must be set.
//
// +kubebuilder:validation:XValidation:rule="[has(self.iterations), has(self.stepWeight), has(self.stepWeights)].exists_one(x, x)",message="exactly one of iterations, stepWeight and stepWeights must be set"
type CanaryAnalysis struct {
	// Interval is the schedule interval of the analysis (default 60s, floor 10s).
	// +kubebuilder:validation:Pattern=`^[0-9]+(m|s)`
	Interval string `json:"interval"`

	// Iterations is the number of checks of A/B testing and Blue/Green.
	// +optional
	Iterations int `json:"iterations,omitempty"`

	// MirrorWeight is the percentage [0,100] of traffic mirrored (Istio).
	// +optional
	MirrorWeight int `json:"mirrorWeight,omitempty"`

	// MaxWeight is the max traffic weight routed to the canary.
	// +optional
	MaxWeight int `json:"maxWeight,omitempty"`

	// StepWeight is the linear traffic weight step of the analysis phase.
	// +optional
	StepWeight int `json:"stepWeight,omitempty"`

	// StepWeights are the traffic weight steps of the analysis phase.
	// +optional
	StepWeights []int `json:"stepWeights,omitempty"`

	// StepWeightPromotion is the traffic weight step of the promotion phase.
	// +optional
	StepWeightPromotion int `json:"stepWeightPromotion,omitempty"`

	// Threshold is the number of failed checks before rollback.
	Threshold int `json:"threshold"`

	// PrimaryReadyThreshold is the percentage of primary pods that must be
	// available (default 100).
	// +optional
	PrimaryReadyThreshold *int `json:"primaryReadyThreshold,omitempty"`

	// CanaryReadyThreshold is the percentage of canary pods that must be
	// available (default 100).
	// +optional
	CanaryReadyThreshold *int `json:"canaryReadyThreshold,omitempty"`

	// Alerts of this analysis.
	// +optional
	Alerts []CanaryAlert `json:"alerts,omitempty"`

	// Metrics checked on every analysis tick.
	// +optional
	Metrics []CanaryMetric `json:"metrics,omitempty"`

	// Webhooks called during the analysis.
	// +optional
	Webhooks []CanaryWebhook `json:"webhooks,omitempty"`

	// Match holds the A/B testing HTTP match conditions.
	// +optional
	Match []HTTPMatchRequest `json:"match,omitempty"`

	// Mirror enables traffic mirroring (Blue/Green or first canary step).
	// +optional
	Mirror bool `json:"mirror,omitempty"`

	// SessionAffinity holds the session affinity settings of a canary run.
	// +optional
	SessionAffinity *SessionAffinity `json:"sessionAffinity,omitempty"`
}

// SessionAffinity holds the cookie settings of session affinity during a canary run.
type SessionAffinity struct {
	// CookieName is the name of the canary session affinity cookie.
	CookieName string `json:"cookieName"`

	// PrimaryCookieName is the name of the primary session affinity cookie.
	// +optional
	PrimaryCookieName string `json:"primaryCookieName,omitempty"`

	// Domain is the host the cookie is sent to.
	// +optional
	Domain string `json:"domain,omitempty"`

	// HttpOnly forbids JavaScript access to the cookie.
	// +optional
	HttpOnly bool `json:"httpOnly,omitempty"` //nolint:revive // Flagger's field name.

	// MaxAge is the number of seconds until the cookie expires (default 86400).
	// +optional
	MaxAge int `json:"maxAge,omitempty"`

	// Partitioned stores the cookie in partitioned storage.
	// +optional
	Partitioned bool `json:"partitioned,omitempty"`

	// Path that must exist in the request URL for the cookie to be sent.
	// +optional
	Path string `json:"path,omitempty"`

	// SameSite controls whether the cookie is sent with cross-site requests.
	// +kubebuilder:validation:Enum=Strict;Lax;None
	// +optional
	SameSite string `json:"sameSite,omitempty"`

	// Secure sends the cookie only over https.
	// +optional
	Secure bool `json:"secure,omitempty"`
}

// CanaryMetric is a metric checked during the analysis.
type CanaryMetric struct {
	// Name of the metric; request-success-rate and request-duration are builtin.
	Name string `json:"name"`

	// Interval is the query window (builtin and inline-query default 1m).
	// +kubebuilder:validation:Pattern=`^[0-9]+(m|s)`
	// +optional
	Interval string `json:"interval,omitempty"`

	// Threshold is the deprecated single-bound threshold (replaced by ThresholdRange).
	// +optional
	Threshold float64 `json:"threshold,omitempty"`

	// ThresholdRange is the inclusive range of accepted values.
	// +optional
	ThresholdRange *CanaryThresholdRange `json:"thresholdRange,omitempty"`

	// Query is the deprecated inline Prometheus query (replaced by TemplateRef).
	// +optional
	Query string `json:"query,omitempty"`

	// TemplateRef references a MetricTemplate (namespace defaults to the canary's).
	// +optional
	TemplateRef *CrossNamespaceObjectReference `json:"templateRef,omitempty"`

	// TemplateVariables are exposed to the query template as {{ variables.KEY }}.
	// +optional
	TemplateVariables map[string]string `json:"templateVariables,omitempty"`
}

// CanaryThresholdRange is the inclusive range of accepted metric values.
type CanaryThresholdRange struct {
	// Min is the minimum accepted value.
	// +optional
	Min *float64 `json:"min,omitempty"`

	// Max is the maximum accepted value.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// AlertSeverity selects which events an alert receives.
// +kubebuilder:validation:Enum="";info;warn;error
type AlertSeverity string

const (
	// SeverityInfo receives every event.
	SeverityInfo AlertSeverity = "info"
	// SeverityWarn receives warn and error events.
	SeverityWarn AlertSeverity = "warn"
	// SeverityError receives error events only.
	SeverityError AlertSeverity = "error"
)

// CanaryAlert routes the canary's events to an AlertProvider.
type CanaryAlert struct {
	// Name of the alert.
	Name string `json:"name"`

	// Severity of the alert: info, warn or error. Empty matches no event.
	// +optional
	Severity AlertSeverity `json:"severity,omitempty"`

	// ProviderRef references the AlertProvider.
	ProviderRef CrossNamespaceObjectReference `json:"providerRef"`
}

// HookType is the point of the canary lifecycle at which a webhook is called.
// +kubebuilder:validation:Enum="";confirm-rollout;pre-rollout;rollout;confirm-promotion;post-rollout;event;rollback;confirm-traffic-increase
type HookType string

const (
	// RolloutHook is called on every analysis tick, before the metric checks.
	RolloutHook HookType = "rollout"
	// PreRolloutHook is called before traffic is routed to the canary.
	PreRolloutHook HookType = "pre-rollout"
	// PostRolloutHook is called after the canary is promoted or rolled back.
	PostRolloutHook HookType = "post-rollout"
	// ConfirmRolloutHook halts the rollout until the webhook succeeds.
	ConfirmRolloutHook HookType = "confirm-rollout"
	// ConfirmPromotionHook halts the promotion until the webhook succeeds.
	ConfirmPromotionHook HookType = "confirm-promotion"
	// EventHook receives every event of the canary.
	EventHook HookType = "event"
	// RollbackHook rolls the canary back when the webhook succeeds.
	RollbackHook HookType = "rollback"
	// ConfirmTrafficIncreaseHook halts each weight increase until the webhook succeeds.
	ConfirmTrafficIncreaseHook HookType = "confirm-traffic-increase"
)

// HookTypes are every webhook type, in the order of a rollout's lifecycle (the CRD's
// enum of webhooks[].type, "" aside: it means rollout).
var HookTypes = []HookType{
	ConfirmRolloutHook, PreRolloutHook, RolloutHook, ConfirmTrafficIncreaseHook,
	ConfirmPromotionHook, PostRolloutHook, RollbackHook, EventHook,
}

// CanaryWebhook is an external check or notification called during the analysis.
type CanaryWebhook struct {
	// Type of the webhook; empty is treated as rollout.
	// +optional
	Type HookType `json:"type,omitempty"`

	// Name of the webhook.
	Name string `json:"name"`

	// URL of the webhook.
	URL string `json:"url"`

	// Timeout of one attempt (default 10s).
	// +kubebuilder:validation:Pattern=`^[0-9]+(m|s)`
	// +optional
	Timeout string `json:"timeout,omitempty"`

	// Retries is the number of retries of a failed call.
	// +optional
	Retries int `json:"retries,omitempty"`

	// DisableTLS skips TLS verification.
	// +optional
	DisableTLS bool `json:"disableTLS,omitempty"`

	// MuteAlert suppresses the alerts generated by this webhook.
	// +optional
	MuteAlert bool `json:"muteAlert,omitempty"`

	// Metadata is copied into the payload's metadata.
	// +optional
	Metadata *map[string]string `json:"metadata,omitempty"`
}

// CrossNamespaceObjectReference locates an object, possibly in another namespace.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the referent.
	Name string `json:"name"`

	// Namespace of the referent; defaults to the referrer's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// LocalObjectReference locates an object in the referrer's namespace.
type LocalObjectReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the referent.
	Name string `json:"name"`
}

// AutoscalerRefernce references an autoscaler of the target (the spelling is Flagger's).
type AutoscalerRefernce struct {
	// APIVersion of the scaler.
	APIVersion string `json:"apiVersion"`

	// Kind of the scaler.
	// +kubebuilder:validation:Enum=HorizontalPodAutoscaler;ScaledObject
	Kind string `json:"kind"`

	// Name of the scaler.
	Name string `json:"name"`

	// PrimaryScalerQueries maps a unique id to a query for the primary scaler,
	// for scalers that scale on queries.
	// +optional
	PrimaryScalerQueries map[string]string `json:"primaryScalerQueries,omitempty"`

	// PrimaryScalerReplicas overrides the primary scaler's replicas.
	// +optional
	PrimaryScalerReplicas *ScalerReplicas `json:"primaryScalerReplicas,omitempty"`
}

// AutoscalerReference is the correctly spelled name of AutoscalerRefernce.
type AutoscalerReference = AutoscalerRefernce

// ScalerReplicas overrides an autoscaler's replica bounds.
type ScalerReplicas struct {
	// MinReplicas of the scaler.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas of the scaler.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
}

// CustomMetadata holds labels and annotations set on generated objects.
type CustomMetadata struct {
	// Labels set on the generated object.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations set on the generated object.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// UnmanagedMetadata lists label and annotation keys that reconciliation ignores.
type UnmanagedMetadata struct {
	// Labels keys left alone.
	// +optional
	Labels []string `json:"labels,omitempty"`

	// Annotations keys left alone.
	// +optional
	Annotations []string `json:"annotations,omitempty"`
}
