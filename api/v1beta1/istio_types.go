package v1beta1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// The types in this file are the Istio networking shapes embedded in a Canary
// (spec.service and spec.analysis.match). Their JSON field names are Istio's, so
// that a value marshalled with encoding/json unmarshals into the matching
// istio.io/api networking/v1beta1 message (the Istio router converts that way).
// Parts of TrafficPolicy that the engine never reads are kept as raw JSON.

// HTTPMatchRequest is a set of conditions a request must meet for a route to apply
// (Istio networking HTTPMatchRequest). All conditions of one request are ANDed;
// the requests of a list are ORed.
type HTTPMatchRequest struct {
	// Name of the match, appended to the parent route's name.
	// +optional
	Name string `json:"name,omitempty"`

	// URI to match.
	// +optional
	URI *StringMatch `json:"uri,omitempty"`

	// Scheme of the request to match.
	// +optional
	Scheme *StringMatch `json:"scheme,omitempty"`

	// Method of the request to match.
	// +optional
	Method *StringMatch `json:"method,omitempty"`

	// Authority (host) of the request to match.
	// +optional
	Authority *StringMatch `json:"authority,omitempty"`

	// Headers to match; keys are lower-case header names.
	// +optional
	Headers map[string]StringMatch `json:"headers,omitempty"`

	// Port on the host being addressed.
	// +optional
	Port uint32 `json:"port,omitempty"`

	// SourceLabels of the calling workload (mesh gateway only).
	// +optional
	SourceLabels map[string]string `json:"sourceLabels,omitempty"`

	// Gateways the match applies to.
	// +optional
	Gateways []string `json:"gateways,omitempty"`

	// QueryParams to match.
	// +optional
	QueryParams map[string]StringMatch `json:"queryParams,omitempty"`

	// IgnoreUriCase makes URI matching case-insensitive.
	// +optional
	IgnoreUriCase bool `json:"ignoreUriCase,omitempty"` //nolint:revive // Istio's field name.

	// WithoutHeaders are headers that must not match.
	// +optional
	WithoutHeaders map[string]StringMatch `json:"withoutHeaders,omitempty"`

	// SourceNamespace of the calling workload.
	// +optional
	SourceNamespace string `json:"sourceNamespace,omitempty"`
}

// StringMatch is a string condition; at most one field is set. Suffix is
// Flagger's own extension (used by some routers) and has no Istio counterpart.
type StringMatch struct {
	// Exact string match.
	// +optional
	Exact string `json:"exact,omitempty"`

	// Prefix-based match.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// Suffix-based match (not Istio).
	// +optional
	Suffix string `json:"suffix,omitempty"`

	// Regex is an RE2 regular expression match.
	// +optional
	Regex string `json:"regex,omitempty"`
}

// HTTPRewrite rewrites the URI and authority of a request before forwarding.
type HTTPRewrite struct {
	// URI replaces the matched URI (or prefix).
	// +optional
	URI string `json:"uri,omitempty"`

	// Authority replaces the Host header.
	// +optional
	Authority string `json:"authority,omitempty"`

	// Type of rewrite for Gateway API: ReplaceFullPath or ReplacePrefixMatch (not Istio).
	// +optional
	Type string `json:"type,omitempty"`
}

// HTTPRetry is the retry policy of an HTTP route.
type HTTPRetry struct {
	// Attempts is the number of retries of a request; 0 disables retries.
	// +optional
	Attempts int `json:"attempts"`

	// PerTryTimeout is the timeout of each attempt (a duration such as 2s).
	// +optional
	PerTryTimeout string `json:"perTryTimeout,omitempty"`

	// RetryOn lists the conditions under which a retry happens.
	// +optional
	RetryOn string `json:"retryOn,omitempty"`
}

// Headers are the header manipulations of a route.
type Headers struct {
	// Request header operations, applied before forwarding.
	// +optional
	Request *HeaderOperations `json:"request,omitempty"`

	// Response header operations, applied before returning.
	// +optional
	Response *HeaderOperations `json:"response,omitempty"`
}

// HeaderOperations sets, adds and removes headers.
type HeaderOperations struct {
	// Set overwrites the given headers.
	// +optional
	Set map[string]string `json:"set,omitempty"`

	// Add appends the given headers.
	// +optional
	Add map[string]string `json:"add,omitempty"`

	// Remove deletes the given headers.
	// +optional
	Remove []string `json:"remove,omitempty"`
}

// CorsPolicy is the Cross-Origin Resource Sharing policy of a route.
type CorsPolicy struct {
	// AllowOrigin is Istio's deprecated list of allowed origins.
	// +optional
	AllowOrigin []string `json:"allowOrigin,omitempty"`

	// AllowOrigins are patterns matching the allowed origins.
	// +optional
	AllowOrigins []StringMatch `json:"allowOrigins,omitempty"`

	// AllowMethods lists the HTTP methods allowed to access the resource.
	// +optional
	AllowMethods []string `json:"allowMethods,omitempty"`

	// AllowHeaders lists the headers usable when requesting the resource.
	// +optional
	AllowHeaders []string `json:"allowHeaders,omitempty"`

	// ExposeHeaders lists the headers browsers may access.
	// +optional
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`

	// MaxAge is how long preflight results may be cached (a duration).
	// +optional
	MaxAge string `json:"maxAge,omitempty"`

	// AllowCredentials allows credentialed requests.
	// +optional
	AllowCredentials *bool `json:"allowCredentials,omitempty"`
}

// TrafficPolicy is the subset of Istio's DestinationRule traffic policy that a
// Canary may set on the generated DestinationRules.
type TrafficPolicy struct {
	// LoadBalancer settings.
	// +optional
	LoadBalancer *LoadBalancerSettings `json:"loadBalancer,omitempty"`

	// ConnectionPool settings.
	// +optional
	ConnectionPool *ConnectionPoolSettings `json:"connectionPool,omitempty"`

	// OutlierDetection settings (eviction of unhealthy hosts).
	// +optional
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty"`

	// TLS settings of connections to the upstream service.
	// +optional
	TLS *ClientTLSSettings `json:"tls,omitempty"`
}

// LoadBalancerSettings are Istio's load balancing settings.
type LoadBalancerSettings struct {
	// Simple is a standard load balancing algorithm.
	// +kubebuilder:validation:Enum=UNSPECIFIED;LEAST_CONN;RANDOM;PASSTHROUGH;ROUND_ROBIN;LEAST_REQUEST
	// +optional
	Simple string `json:"simple,omitempty"`

	// ConsistentHash is Istio's consistent hash settings, kept as raw JSON.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	ConsistentHash *apiextensionsv1.JSON `json:"consistentHash,omitempty"`

	// LocalityLbSetting is Istio's locality load balancing settings, kept as raw JSON.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	LocalityLbSetting *apiextensionsv1.JSON `json:"localityLbSetting,omitempty"`

	// WarmupDurationSecs is the warmup duration of new endpoints (a duration).
	// +optional
	WarmupDurationSecs string `json:"warmupDurationSecs,omitempty"`
}

// ConnectionPoolSettings are Istio's connection pool settings.
type ConnectionPoolSettings struct {
	// TCP settings common to HTTP and TCP upstream connections.
	// +optional
	TCP *TCPSettings `json:"tcp,omitempty"`

	// HTTP settings of HTTP/1.1 and HTTP/2 connections.
	// +optional
	HTTP *HTTPSettings `json:"http,omitempty"`
}

// TCPSettings are Istio's TCP connection pool settings.
type TCPSettings struct {
	// MaxConnections to a destination host.
	// +optional
	MaxConnections int32 `json:"maxConnections,omitempty"`

	// ConnectTimeout of a TCP connection (a duration).
	// +optional
	ConnectTimeout string `json:"connectTimeout,omitempty"`

	// TcpKeepalive settings, kept as raw JSON.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +optional
	TcpKeepalive *apiextensionsv1.JSON `json:"tcpKeepalive,omitempty"` //nolint:revive // Istio's field name.

	// MaxConnectionDuration is the maximum lifetime of a connection (a duration).
	// +optional
	MaxConnectionDuration string `json:"maxConnectionDuration,omitempty"`

	// IdleTimeout of a TCP connection (a duration).
	// +optional
	IdleTimeout string `json:"idleTimeout,omitempty"`
}

// HTTPSettings are Istio's HTTP connection pool settings.
type HTTPSettings struct {
	// Http1MaxPendingRequests is the maximum number of queued requests.
	// +optional
	Http1MaxPendingRequests int32 `json:"http1MaxPendingRequests,omitempty"` //nolint:revive // Istio's field name.

	// Http2MaxRequests is the maximum number of active requests.
	// +optional
	Http2MaxRequests int32 `json:"http2MaxRequests,omitempty"` //nolint:revive // Istio's field name.

	// MaxRequestsPerConnection to a backend.
	// +optional
	MaxRequestsPerConnection int32 `json:"maxRequestsPerConnection,omitempty"`

	// MaxRetries outstanding to all hosts of a cluster.
	// +optional
	MaxRetries int32 `json:"maxRetries,omitempty"`

	// IdleTimeout of an upstream connection (a duration).
	// +optional
	IdleTimeout string `json:"idleTimeout,omitempty"`

	// H2UpgradePolicy decides whether HTTP/1.1 connections are upgraded to HTTP/2.
	// +kubebuilder:validation:Enum=DEFAULT;DO_NOT_UPGRADE;UPGRADE
	// +optional
	H2UpgradePolicy string `json:"h2UpgradePolicy,omitempty"`

	// UseClientProtocol preserves the client's protocol upstream.
	// +optional
	UseClientProtocol bool `json:"useClientProtocol,omitempty"`

	// MaxConcurrentStreams per HTTP/2 connection.
	// +optional
	MaxConcurrentStreams int32 `json:"maxConcurrentStreams,omitempty"`
}

// OutlierDetection are Istio's settings for ejecting unhealthy hosts.
type OutlierDetection struct {
	// ConsecutiveErrors is Istio's deprecated error count before ejection.
	// +optional
	ConsecutiveErrors int32 `json:"consecutiveErrors,omitempty"`

	// SplitExternalLocalOriginErrors distinguishes local-origin failures from external errors.
	// +optional
	SplitExternalLocalOriginErrors bool `json:"splitExternalLocalOriginErrors,omitempty"`

	// ConsecutiveLocalOriginFailures before ejection.
	// +optional
	ConsecutiveLocalOriginFailures *uint32 `json:"consecutiveLocalOriginFailures,omitempty"`

	// ConsecutiveGatewayErrors (502, 503, 504) before ejection.
	// +optional
	ConsecutiveGatewayErrors *uint32 `json:"consecutiveGatewayErrors,omitempty"`

	// Consecutive5xxErrors before ejection.
	// +optional
	Consecutive5xxErrors *uint32 `json:"consecutive5xxErrors,omitempty"`

	// Interval between ejection sweeps (a duration).
	// +optional
	Interval string `json:"interval,omitempty"`

	// BaseEjectionTime is the minimum ejection duration (a duration).
	// +optional
	BaseEjectionTime string `json:"baseEjectionTime,omitempty"`

	// MaxEjectionPercent of hosts that may be ejected.
	// +optional
	MaxEjectionPercent int32 `json:"maxEjectionPercent,omitempty"`

	// MinHealthPercent below which outlier detection is disabled.
	// +optional
	MinHealthPercent int32 `json:"minHealthPercent,omitempty"`
}

// ClientTLSSettings are Istio's TLS settings of upstream connections.
type ClientTLSSettings struct {
	// Mode of TLS.
	// +kubebuilder:validation:Enum=DISABLE;SIMPLE;MUTUAL;ISTIO_MUTUAL
	// +optional
	Mode string `json:"mode,omitempty"`

	// ClientCertificate file path (MUTUAL).
	// +optional
	ClientCertificate string `json:"clientCertificate,omitempty"`

	// PrivateKey file path (MUTUAL).
	// +optional
	PrivateKey string `json:"privateKey,omitempty"`

	// CaCertificates file path.
	// +optional
	CaCertificates string `json:"caCertificates,omitempty"`

	// CredentialName of the secret holding the client certificates.
	// +optional
	CredentialName string `json:"credentialName,omitempty"`

	// SubjectAltNames that verify the server certificate.
	// +optional
	SubjectAltNames []string `json:"subjectAltNames,omitempty"`

	// Sni presented to the server.
	// +optional
	Sni string `json:"sni,omitempty"`

	// InsecureSkipVerify skips verification of the server certificate.
	// +optional
	InsecureSkipVerify *bool `json:"insecureSkipVerify,omitempty"`

	// CaCrl is the certificate revocation list file path.
	// +optional
	CaCrl string `json:"caCrl,omitempty"`
}
