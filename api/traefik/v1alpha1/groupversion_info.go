package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

const (
	// TraefikServiceKind is the kind of the TraefikService resource.
	TraefikServiceKind = "TraefikService"
	// IngressRouteKind is the kind of the IngressRoute resource.
	IngressRouteKind = "IngressRoute"
)

var (
	// GroupVersion is Traefik's current group and version.
	GroupVersion = schema.GroupVersion{Group: "traefik.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(
		&TraefikService{}, &TraefikServiceList{},
		&IngressRoute{}, &IngressRouteList{},
	)
}
