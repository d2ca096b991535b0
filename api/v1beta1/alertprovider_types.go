package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// AlertProviderKind is the kind of the AlertProvider resource.
	AlertProviderKind = "AlertProvider"
)

// AlertProvider is the configuration of a chat or webhook alerting destination.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
type AlertProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the provider configuration.
	Spec AlertProviderSpec `json:"spec"`
	// Status of the provider.
	// +optional
	Status AlertProviderStatus `json:"status,omitempty"`
}

// AlertProviderList is a list of AlertProvider resources.
//
// +kubebuilder:object:root=true
type AlertProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the providers of the list.
	Items []AlertProvider `json:"items"`
}

// AlertProviderSpec is the configuration of an AlertProvider. Exactly one of
// address and secretRef must be set (Flagger's CRD oneOf).
//
// +kubebuilder:validation:XValidation:rule="[has(self.address), has(self.secretRef)].exists_one(x, x)",message="exactly one of address and secretRef must be set"
type AlertProviderSpec struct {
	// Type of the provider.
	// +kubebuilder:validation:Enum=slack;msteams;discord;rocket;gchat
	Type string `json:"type"`

	// Channel alerts are posted to (default "general").
	// +optional
	Channel string `json:"channel,omitempty"`

	// Username of the bot (default "flagger").
	// +optional
	Username string `json:"username,omitempty"`

	// Address is the HTTP(S) webhook address of the provider.
	// +optional
	Address string `json:"address,omitempty"`

	// Proxy is the HTTP(S) proxy address used to reach the provider.
	// +optional
	Proxy string `json:"proxy,omitempty"`

	// SecretRef references a Secret with the keys address and optionally token.
	// +optional
	SecretRef *corev1.LocalObjectReference `json:"secretRef,omitempty"`
}

// AlertProviderStatus is the status of an AlertProvider.
type AlertProviderStatus struct {
	// Conditions of the provider.
	// +optional
	Conditions []AlertProviderCondition `json:"conditions,omitempty"`
}

// AlertProviderCondition is a status condition of an AlertProvider.
type AlertProviderCondition struct {
	// Type of the condition.
	Type string `json:"type"`

	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`

	// LastUpdateTime is when the condition was last written.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`

	// LastTransitionTime is when the condition's status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason for the condition's status.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message explaining the condition.
	// +optional
	Message string `json:"message,omitempty"`
}
