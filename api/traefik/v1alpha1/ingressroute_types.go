package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IngressRoute routes HTTP requests that match its rules, arriving on its entry
// points, to services: Kubernetes Services or TraefikServices (the one Flagger writes
// for a canary is named after the canary's apex Service).
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type IngressRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec IngressRouteSpec `json:"spec"`
}

// IngressRouteList is a list of IngressRoute resources.
//
// +kubebuilder:object:root=true
type IngressRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []IngressRoute `json:"items"`
}

// IngressRouteSpec is what an IngressRoute routes.
type IngressRouteSpec struct {
	// Routes are the route rules.
	Routes []Route `json:"routes"`
	// EntryPoints the routes listen on (default: every entry point).
	// +optional
	EntryPoints []string `json:"entryPoints,omitempty"`
	// TLS terminates TLS for the routes.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// ParentRefs are IngressRoutes whose rules must match first (Traefik v3).
	// +optional
	ParentRefs []IngressRouteRef `json:"parentRefs,omitempty"`
}

// Route is one rule and where matching requests go.
type Route struct {
	// Match is the rule, e.g. Host(`app.example.com`).
	Match string `json:"match"`
	// Kind of the route; Rule is the only kind.
	// +kubebuilder:validation:Enum=Rule
	// +optional
	Kind string `json:"kind,omitempty"`
	// Priority among routes (default: the rule's length).
	// +kubebuilder:validation:Maximum=9223372036854774807
	// +optional
	Priority int `json:"priority,omitempty"`
	// Syntax of the rule (v2 or v3; deprecated in Traefik v3).
	// +optional
	Syntax string `json:"syntax,omitempty"`
	// Services the matching requests go to.
	// +optional
	Services []Service `json:"services,omitempty"`
	// Middlewares applied to the matching requests, in order.
	// +optional
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
	// Observability of the route (Traefik v3).
	// +optional
	Observability *RouterObservabilityConfig `json:"observability,omitempty"`
}

// TLS configures TLS termination for an IngressRoute.
type TLS struct {
	// SecretName of the certificate.
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// Options names the TLSOption used.
	// +optional
	Options *TLSOptionRef `json:"options,omitempty"`
	// Store names the TLSStore used.
	// +optional
	Store *TLSStoreRef `json:"store,omitempty"`
	// CertResolver names the ACME resolver of the certificates.
	// +optional
	CertResolver string `json:"certResolver,omitempty"`
	// Domains the certificates are requested for.
	// +optional
	Domains []Domain `json:"domains,omitempty"`
}

// TLSOptionRef references a TLSOption.
type TLSOptionRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// TLSStoreRef references a TLSStore.
type TLSStoreRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Domain is a certificate's main domain and its subject alternative names.
type Domain struct {
	// +optional
	Main string `json:"main,omitempty"`
	// +optional
	SANs []string `json:"sans,omitempty"`
}

// MiddlewareRef references a Middleware.
type MiddlewareRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// IngressRouteRef references another IngressRoute.
type IngressRouteRef struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// RouterObservabilityConfig switches a route's access logs, metrics and tracing.
type RouterObservabilityConfig struct {
	// +optional
	AccessLogs *bool `json:"accessLogs,omitempty"`
	// +optional
	Metrics *bool `json:"metrics,omitempty"`
	// +optional
	Tracing *bool `json:"tracing,omitempty"`
	// +optional
	TraceVerbosity string `json:"traceVerbosity,omitempty"`
}
