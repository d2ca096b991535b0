package router

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

const (
	// toolkitReconcileKey and helmDriftDetectionKey, set to "disabled" on every
	// generated routing object, keep Flux from reverting what the router writes.
	toolkitReconcileKey   = "kustomize.toolkit.fluxcd.io/reconcile"
	helmDriftDetectionKey = "helm.toolkit.fluxcd.io/driftDetection"
	toolkitDisabled       = "disabled"

	// kubectlAnnotation is kubectl's last applied configuration.
	kubectlAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	// configAnnotation keeps the spec a router replaced (Flagger's name).
	configAnnotation = "flagger.kubernetes.io/original-configuration"
)

// filterMetadata is Flagger's: it adds the Flux opt-out annotations (in place).
func filterMetadata(meta map[string]string) map[string]string {
	if meta == nil {
		meta = map[string]string{}
	}
	meta[toolkitReconcileKey] = toolkitDisabled
	meta[helmDriftDetectionKey] = toolkitDisabled
	return meta
}

// ownerRef makes the Canary the controller of a generated object, in the API group
// c's scheme serves it in (aviary.dev, or flagger.app for a live controller that
// replaces Flagger; c may be nil, as when only computing objects).
func ownerRef(c client.Client, cd *v1beta1.Canary) metav1.OwnerReference {
	var s *runtime.Scheme
	if c != nil {
		s = c.Scheme()
	}
	return *metav1.NewControllerRef(cd, v1beta1.CanaryGVK(s))
}
