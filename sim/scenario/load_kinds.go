package scenario

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	containous "aviary.dev/aviary/api/traefik/containous/v1alpha1"
	traefikio "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
)

// ---------------------------------------------------------------------------------
// The kinds a policy may hold

// policyKind is one kind of object a policy file may hold. policyKinds is the one
// table of them: the loader accepts these kinds and no other, decodes each strictly
// into its Go type, and the runner creates what they decode to (Loaded.Objects) as
// given. A mesh's routing objects that users write (Traefik's IngressRoute) are one
// more row, with their API types in the scheme and their CRDs in fixtures/.
type policyKind struct {
	// Kind as written in a document.
	Kind string
	// APIVersions are the apiVersions decoded as written; the first is the one
	// messages name.
	APIVersions []string
	// Flagger: an object of Flagger's API, decoded as aviary.dev/v1beta1 (the same
	// schema; flagger.app/v1beta1 marks the run Flagger-exact).
	Flagger bool
	// ClusterScoped: the kind has no namespace (a Namespace); the loader does not put
	// it in the Canary's, and drops a namespace written on it, as the API server does.
	ClusterScoped bool
	// New returns the typed object a document of apiVersion is decoded into (one Go
	// type per group: Traefik's two groups have a type each).
	New func(apiVersion string) client.Object
	// Legacy are older apiVersions, each converted at load time (with a warning) or
	// refused (with how to convert it).
	Legacy map[string]legacyVersion
}

// legacyVersion is what the loader does with an apiVersion that is no longer served.
type legacyVersion struct {
	// convert rewrites a copy of the document into the kind's first APIVersion in
	// place and returns the load-time warning; nil refuses the document.
	convert func(n *yaml.Node) string
	// refusal says why the document is refused and how to convert it; %s is the file.
	refusal string
}

// refuseOldCanary is the refusal of Canaries of Flagger's 0.x APIs.
var refuseOldCanary = legacyVersion{refusal: "Flagger 1.x no longer serves this API: Canaries are flagger.app/v1beta1 " +
	"(canaryAnalysis became analysis, a metric's threshold became thresholdRange, the builtin metrics are " +
	`request-success-rate and request-duration); "aviary convert %s" prints the v1beta1 equivalent`}

// refuseOldDeployment is the refusal of Deployments of the APIs Kubernetes 1.16 stopped serving.
var refuseOldDeployment = legacyVersion{refusal: "Kubernetes no longer serves this API (removed in 1.16): Deployments are apps/v1, " +
	`which requires spec.selector; "aviary convert %s" prints the apps/v1 equivalent`}

var policyKinds = []*policyKind{
	{Kind: v1beta1.CanaryKind, APIVersions: flaggerVersions, Flagger: true,
		New: func(string) client.Object { return &v1beta1.Canary{} },
		Legacy: map[string]legacyVersion{
			"flagger.app/v1alpha1": refuseOldCanary, "flagger.app/v1alpha2": refuseOldCanary, "flagger.app/v1alpha3": refuseOldCanary,
		}},
	{Kind: v1beta1.MetricTemplateKind, APIVersions: flaggerVersions, Flagger: true,
		New: func(string) client.Object { return &v1beta1.MetricTemplate{} }},
	{Kind: v1beta1.AlertProviderKind, APIVersions: flaggerVersions, Flagger: true,
		New: func(string) client.Object { return &v1beta1.AlertProvider{} }},
	{Kind: "Deployment", APIVersions: []string{"apps/v1"},
		New: func(string) client.Object { return &appsv1.Deployment{} },
		Legacy: map[string]legacyVersion{
			"apps/v1beta1": refuseOldDeployment, "apps/v1beta2": refuseOldDeployment, "extensions/v1beta1": refuseOldDeployment,
		}},
	{Kind: "Service", APIVersions: []string{"v1"},
		New: func(string) client.Object { return &corev1.Service{} }},
	{Kind: "HorizontalPodAutoscaler", APIVersions: []string{"autoscaling/v2"},
		New: func(string) client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
		Legacy: map[string]legacyVersion{
			"autoscaling/v2beta2": {convert: convertHPAv2beta2},
			"autoscaling/v2beta1": {convert: convertHPAv2beta1},
			"autoscaling/v1":      {convert: convertHPAv1},
		}},
	{Kind: "ConfigMap", APIVersions: []string{"v1"},
		New: func(string) client.Object { return &corev1.ConfigMap{} }},
	{Kind: "Secret", APIVersions: []string{"v1"},
		New: func(string) client.Object { return &corev1.Secret{} }},
	{Kind: "IngressRoute", APIVersions: []string{traefikio.GroupVersion.String(), containous.GroupVersion.String()},
		New: func(apiVersion string) client.Object {
			if apiVersion == containous.GroupVersion.String() {
				return &containous.IngressRoute{}
			}
			return &traefikio.IngressRoute{}
		}},
	// A repository's namespace manifest (often with labels such as istio-injection):
	// the run creates it, as given, instead of a bare namespace of that name.
	{Kind: "Namespace", APIVersions: []string{"v1"}, ClusterScoped: true,
		New: func(string) client.Object { return &corev1.Namespace{} }},
}

// flaggerVersions are the apiVersions of Flagger's kinds.
var flaggerVersions = []string{v1beta1.FlaggerGroupVersion.String(), v1beta1.GroupVersion.String()}

// kindNamed returns the row of a kind, nil if it is not accepted.
func kindNamed(kind string) *policyKind {
	for _, k := range policyKinds {
		if k.Kind == kind {
			return k
		}
	}
	return nil
}

// acceptedKinds lists the kinds and their apiVersions, for messages.
func acceptedKinds() string {
	var b strings.Builder
	for i, k := range policyKinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", k.Kind, strings.Join(k.APIVersions, " or "))
	}
	return b.String()
}
