package v1beta1

// The types in this file are the Gateway API shapes embedded in a Canary's
// spec.service, with Gateway API's JSON field names (gateway.networking.k8s.io).

// ParentReference identifies a parent (usually a Gateway) the generated HTTPRoute
// attaches to.
type ParentReference struct {
	// Group of the referent; defaults to gateway.networking.k8s.io.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Group *string `json:"group,omitempty"`

	// Kind of the referent; defaults to Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`
	// +optional
	Kind *string `json:"kind,omitempty"`

	// Namespace of the referent; defaults to the route's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// SectionName is the name of a section (listener) of the parent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	SectionName *string `json:"sectionName,omitempty"`

	// Port of the parent the route targets.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// HTTPRequestMirrorFilter mirrors requests to another backend (Gateway API).
type HTTPRequestMirrorFilter struct {
	// BackendRef is the backend requests are mirrored to.
	BackendRef BackendObjectReference `json:"backendRef"`

	// Percent of requests mirrored (0-100).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Percent *int32 `json:"percent,omitempty"`

	// Fraction of requests mirrored.
	// +optional
	Fraction *Fraction `json:"fraction,omitempty"`
}

// BackendObjectReference identifies a backend (usually a Service).
type BackendObjectReference struct {
	// Group of the referent; "" is the core group.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Group *string `json:"group,omitempty"`

	// Kind of the referent; defaults to Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`
	// +optional
	Kind *string `json:"kind,omitempty"`

	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the referent; defaults to the route's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace *string `json:"namespace,omitempty"`

	// Port of the referent (required for a Service).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// Fraction is numerator/denominator (denominator defaults to 100).
type Fraction struct {
	// Numerator of the fraction.
	// +kubebuilder:validation:Minimum=0
	Numerator int32 `json:"numerator"`

	// Denominator of the fraction; defaults to 100.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Denominator *int32 `json:"denominator,omitempty"`
}
