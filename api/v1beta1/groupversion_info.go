package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the aviary API served by this package.
	GroupVersion = schema.GroupVersion{Group: "aviary.dev", Version: "v1beta1"}

	// FlaggerGroupVersion is Flagger's own group and version. Documents in this
	// group/version are schema-identical to GroupVersion and are rewritten to it
	// by the scenario loader; a live controller that replaces Flagger serves its
	// types in it (AddToSchemeAs).
	FlaggerGroupVersion = schema.GroupVersion{Group: "flagger.app", Version: "v1beta1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(objects()...)
}

func objects() []runtime.Object {
	return []runtime.Object{
		&Canary{}, &CanaryList{},
		&MetricTemplate{}, &MetricTemplateList{},
		&AlertProvider{}, &AlertProviderList{},
	}
}

// AddToSchemeAs adds the types of this package to s in the group and version gv
// instead of GroupVersion: FlaggerGroupVersion for a controller that serves Flagger's
// objects. A scheme holds them in one group only; clients then read and write that
// group (a Go type registered under two groups is ambiguous to controller-runtime).
func AddToSchemeAs(s *runtime.Scheme, gv schema.GroupVersion) error {
	s.AddKnownTypes(gv, objects()...)
	metav1.AddToGroupVersion(s, gv)
	return nil
}

// CanaryGVK is the Canary's kind in the group s serves it in (GroupVersion when s
// does not know the type, as a scheme without this package's types would not).
func CanaryGVK(s *runtime.Scheme) schema.GroupVersionKind {
	if s != nil {
		if gvks, _, err := s.ObjectKinds(&Canary{}); err == nil && len(gvks) == 1 {
			return gvks[0]
		}
	}
	return GroupVersion.WithKind(CanaryKind)
}

// Schemed is what has a scheme: a controller-runtime client.
type Schemed interface{ Scheme() *runtime.Scheme }

// ControllerRef makes the Canary the controller of an object generated for it, in the
// API group c's scheme serves Canaries in (aviary.dev, or flagger.app for a live
// controller that replaces Flagger; c may be nil, as when only computing objects).
func ControllerRef(c Schemed, cd *Canary) metav1.OwnerReference {
	var s *runtime.Scheme
	if c != nil {
		s = c.Scheme()
	}
	return *metav1.NewControllerRef(cd, CanaryGVK(s))
}
