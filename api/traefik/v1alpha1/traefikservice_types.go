package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TraefikService is a Traefik service made of other services: a weighted round robin
// over them, a mirroring of one to others, or a highest-random-weight choice. Flagger
// writes one named after the canary's apex Service, weighting <apex>-primary and
// <apex>-canary; an IngressRoute sends traffic to it (kind: TraefikService).
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type TraefikService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec TraefikServiceSpec `json:"spec"`
}

// TraefikServiceList is a list of TraefikService resources.
//
// +kubebuilder:object:root=true
type TraefikServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TraefikService `json:"items"`
}

// TraefikServiceSpec says what the service does; one of its fields is set.
type TraefikServiceSpec struct {
	// Weighted balances requests over services in proportion to their weights.
	// +optional
	Weighted *WeightedRoundRobin `json:"weighted,omitempty"`
	// Mirroring sends every request to one service and copies a share to others.
	// +optional
	Mirroring *Mirroring `json:"mirroring,omitempty"`
	// HighestRandomWeight picks a service by rendezvous hashing of the client.
	// +optional
	HighestRandomWeight *HighestRandomWeight `json:"highestRandomWeight,omitempty"`
}

// WeightedRoundRobin balances requests over services by weight. A service without a
// weight weighs 1 (Traefik's CRD provider).
type WeightedRoundRobin struct {
	// Services are the Kubernetes Services and TraefikServices balanced over.
	// +optional
	Services []Service `json:"services,omitempty"`
	// Sticky keeps a client on the service it first reached (a cookie).
	// +optional
	Sticky *Sticky `json:"sticky,omitempty"`
}

// Mirroring sends requests to the service it names and copies them to its mirrors.
type Mirroring struct {
	LoadBalancerSpec `json:",inline"`

	// MirrorBody says whether the body is mirrored too (default true).
	// +optional
	MirrorBody *bool `json:"mirrorBody,omitempty"`
	// MaxBodySize is the largest body mirrored; larger requests are not (default -1,
	// no limit).
	// +optional
	MaxBodySize *int64 `json:"maxBodySize,omitempty"`
	// Mirrors receive copies of the requests.
	// +optional
	Mirrors []MirrorService `json:"mirrors,omitempty"`
}

// MirrorService is one mirror and the share of requests it receives.
type MirrorService struct {
	LoadBalancerSpec `json:",inline"`

	// Percent of the requests copied to this mirror, 0 to 100.
	// +optional
	Percent int `json:"percent,omitempty"`
}

// HighestRandomWeight chooses among services by the highest random weight.
type HighestRandomWeight struct {
	// Services are the Kubernetes Services and TraefikServices chosen among.
	// +optional
	Services []Service `json:"services,omitempty"`
}

// Service references a Kubernetes Service (kind Service, the default) or a
// TraefikService, with how to balance over its endpoints.
type Service struct {
	LoadBalancerSpec `json:",inline"`
}

// LoadBalancerSpec references a service and says how Traefik balances over it.
type LoadBalancerSpec struct {
	// Name of the Kubernetes Service or TraefikService.
	Name string `json:"name"`
	// Kind of what Name references: Service (the default) or TraefikService.
	// +kubebuilder:validation:Enum=Service;TraefikService
	// +optional
	Kind string `json:"kind,omitempty"`
	// Namespace of the referenced object (default: the referencing object's).
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Sticky sessions over the service's servers.
	// +optional
	Sticky *Sticky `json:"sticky,omitempty"`
	// Port of the Kubernetes Service, by number or by name.
	// +optional
	Port intstr.IntOrString `json:"port,omitempty"`
	// Scheme used to reach the servers (http, https, h2c).
	// +optional
	Scheme string `json:"scheme,omitempty"`
	// Strategy balancing over the servers: wrr, p2c, hrw, leasttime (Traefik v3), or
	// RoundRobin (v2, deprecated).
	// +optional
	Strategy string `json:"strategy,omitempty"`
	// PassHostHeader forwards the client's Host header (default true).
	// +optional
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
	// ResponseForwarding configures how responses are forwarded.
	// +optional
	ResponseForwarding *ResponseForwarding `json:"responseForwarding,omitempty"`
	// ServersTransport names the ServersTransport used to reach the servers.
	// +optional
	ServersTransport string `json:"serversTransport,omitempty"`
	// Weight of this service in a weighted round robin; absent is 1.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Weight *int `json:"weight,omitempty"`
	// NativeLB sends to the Service's cluster IP instead of its endpoints.
	// +optional
	NativeLB *bool `json:"nativeLB,omitempty"`
	// NodePortLB sends to the Service's node ports (Traefik v3).
	// +optional
	NodePortLB bool `json:"nodePortLB,omitempty"`
	// HealthCheck is the active health check of the servers (Traefik v3).
	// +optional
	HealthCheck *ServerHealthCheck `json:"healthCheck,omitempty"`
	// PassiveHealthCheck takes servers out after failed requests (Traefik v3).
	// +optional
	PassiveHealthCheck *PassiveServerHealthCheck `json:"passiveHealthCheck,omitempty"`
}

// Sticky configures sticky sessions.
type Sticky struct {
	// Cookie that keeps a client on one server or service.
	// +optional
	Cookie *Cookie `json:"cookie,omitempty"`
}

// Cookie is the sticky-session cookie.
type Cookie struct {
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Secure bool `json:"secure,omitempty"`
	// +optional
	HTTPOnly bool `json:"httpOnly,omitempty"`
	// +kubebuilder:validation:Enum=none;lax;strict;None;Lax;Strict
	// +optional
	SameSite string `json:"sameSite,omitempty"`
	// MaxAge in seconds; negative expires the cookie at once, 0 never.
	// +optional
	MaxAge int `json:"maxAge,omitempty"`
	// +optional
	Path *string `json:"path,omitempty"`
	// +optional
	Domain string `json:"domain,omitempty"`
}

// ResponseForwarding configures how responses are forwarded to the client.
type ResponseForwarding struct {
	// FlushInterval between flushes of the response buffer (default 100ms).
	// +optional
	FlushInterval string `json:"flushInterval,omitempty"`
}

// ServerHealthCheck is an active health check of the servers.
type ServerHealthCheck struct {
	// +optional
	Scheme string `json:"scheme,omitempty"`
	// +optional
	Mode string `json:"mode,omitempty"`
	// +optional
	Path string `json:"path,omitempty"`
	// +optional
	Method string `json:"method,omitempty"`
	// +optional
	Status int `json:"status,omitempty"`
	// +optional
	Port int `json:"port,omitempty"`
	// +optional
	Interval *intstr.IntOrString `json:"interval,omitempty"`
	// +optional
	UnhealthyInterval *intstr.IntOrString `json:"unhealthyInterval,omitempty"`
	// +optional
	Timeout *intstr.IntOrString `json:"timeout,omitempty"`
	// +optional
	Hostname string `json:"hostname,omitempty"`
	// +optional
	FollowRedirects *bool `json:"followRedirects,omitempty"`
	// +optional
	Headers map[string]string `json:"headers,omitempty"`
}

// PassiveServerHealthCheck takes a server out after failed requests.
type PassiveServerHealthCheck struct {
	// +optional
	FailureWindow *intstr.IntOrString `json:"failureWindow,omitempty"`
	// +optional
	MaxFailedAttempts *int `json:"maxFailedAttempts,omitempty"`
}
