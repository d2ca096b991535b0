package router

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
