package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the aviary API served by this package.
	GroupVersion = schema.GroupVersion{Group: "aviary.dev", Version: "v1beta1"}

	// FlaggerGroupVersion is Flagger's own group and version. Documents in this
	// group/version are schema-identical to GroupVersion and are rewritten to it
	// by the scenario loader.
	FlaggerGroupVersion = schema.GroupVersion{Group: "flagger.app", Version: "v1beta1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(
		&Canary{}, &CanaryList{},
		&MetricTemplate{}, &MetricTemplateList{},
		&AlertProvider{}, &AlertProviderList{},
	)
}
