package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	traefikio "aviary.dev/aviary/api/traefik/v1alpha1"
)

// TraefikService is traefik.io's TraefikService in the traefik.containo.us group.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type TraefikService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec traefikio.TraefikServiceSpec `json:"spec"`
}

// TraefikServiceList is a list of TraefikService resources.
//
// +kubebuilder:object:root=true
type TraefikServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TraefikService `json:"items"`
}

// IngressRoute is traefik.io's IngressRoute in the traefik.containo.us group.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
type IngressRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec traefikio.IngressRouteSpec `json:"spec"`
}

// IngressRouteList is a list of IngressRoute resources.
//
// +kubebuilder:object:root=true
type IngressRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []IngressRoute `json:"items"`
}
