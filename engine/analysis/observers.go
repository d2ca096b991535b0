package analysis

import (
	"regexp"
	"strings"
	"time"

	"k8s.io/utils/lru"

	"aviary.dev/aviary/api/v1beta1"
)

// Observer is the builtin query set of one mesh provider (Flagger's
// pkg/metrics/observers): the request-success-rate and request-duration query
// templates and how the duration value becomes a time.Duration. Adding a provider
// is adding an entry to the observers table and, if needed, a rule to ObserverFor.
type Observer struct {
	// Name identifies the observer ("istio", "http", ...).
	Name string
	// SuccessRate renders to a query returning the percentage of non-5xx requests.
	SuccessRate string
	// Duration renders to a query returning the request duration (P99 for most).
	Duration string
	// DurationToMillis is the factor that turns the duration query's value into
	// milliseconds before truncation: 1 when the query returns ms, 1000 when it
	// returns seconds (the kubernetes/gatewayapi HTTP observer).
	DurationToMillis float64
	// EncodeModel, if set, rewrites the model before rendering (Skipper replaces
	// non-word characters with underscores).
	EncodeModel func(v1beta1.MetricTemplateModel) v1beta1.MetricTemplateModel
	// BareSuccessRateErrors reproduces a Flagger quirk: the HTTP observer returns
	// success-rate render and query errors without the "rendering query failed: " /
	// "running query failed: " prefixes every other query of every observer adds.
	BareSuccessRateErrors bool
}

// DurationValue converts the duration query's value the way the observer's
// GetRequestDuration does: scaled to milliseconds, then truncated to whole
// milliseconds (time.Duration(int64(v*scale)) * time.Millisecond).
func (o *Observer) DurationValue(v float64) time.Duration {
	scale := o.DurationToMillis
	if scale == 0 {
		scale = 1
	}
	return time.Duration(int64(v*scale)) * time.Millisecond
}

// SuccessRateQuery renders the observer's request-success-rate query for model,
// whitespace-collapsed as it is sent (CollapseQuery).
func (o *Observer) SuccessRateQuery(model v1beta1.MetricTemplateModel) (string, error) {
	return o.render(nil, o.SuccessRate, model)
}

// DurationQuery renders the observer's request-duration query for model,
// whitespace-collapsed as it is sent (CollapseQuery).
func (o *Observer) DurationQuery(model v1beta1.MetricTemplateModel) (string, error) {
	return o.render(nil, o.Duration, model)
}

// render is renderCollapsed with the observer's model encoding.
func (o *Observer) render(memo *lru.Cache, text string, model v1beta1.MetricTemplateModel) (string, error) {
	return renderCollapsed(memo, text, o.model(model))
}

func (o *Observer) model(m v1beta1.MetricTemplateModel) v1beta1.MetricTemplateModel {
	if o.EncodeModel != nil {
		return o.EncodeModel(m)
	}
	return m
}

// Mesh provider names (Flagger's v1beta1 provider constants).
const (
	ProviderApisix     = "apisix"
	ProviderAppMesh    = "appmesh"
	ProviderLinkerd    = "linkerd"
	ProviderIstio      = "istio"
	ProviderContour    = "contour"
	ProviderKnative    = "knative"
	ProviderGloo       = "gloo"
	ProviderNGINX      = "nginx"
	ProviderKubernetes = "kubernetes"
	ProviderSkipper    = "skipper"
	ProviderTraefik    = "traefik"
	ProviderOsm        = "osm"
	ProviderKuma       = "kuma"
	ProviderGatewayAPI = "gatewayapi"
)

// MetricsProviderServiceSuffix is appended to the metrics provider for Service targets.
const MetricsProviderServiceSuffix = ":service"

// MetricsProvider is the provider string Flagger's runBuiltinMetricChecks selects the
// observer with (docs/flagger-semantics.md#observer-selection) and prints in the "no values found ...
// metric" message: the global mesh provider ("crossover" if it contains
// "crossover"); the canary's spec.provider if set, except that a global provider
// containing "linkerd" forces "linkerd"; with ":service" appended when the target is
// a (non-Knative) Service.
func MetricsProvider(meshProvider string, cd *v1beta1.Canary) string {
	provider := meshProvider
	if strings.Contains(meshProvider, "crossover") {
		provider = "crossover"
	}
	if cd.Spec.Provider != "" {
		provider = cd.Spec.Provider
		if strings.Contains(meshProvider, ProviderLinkerd) {
			provider = ProviderLinkerd
		}
	}
	if cd.Spec.TargetRef.Kind == "Service" && !isKnativeService(cd.Spec.TargetRef) {
		provider += MetricsProviderServiceSuffix
	}
	return provider
}

func isKnativeService(ref v1beta1.LocalObjectReference) bool {
	return ref.Kind == "Service" && ref.APIVersion == "serving.knative.dev/v1"
}

// ObserverFor returns the observer for a metrics provider string (as computed by
// MetricsProvider), with Flagger's observers.Factory rule: prefix "appmesh" →
// appmesh; "linkerd" → linkerd; "istio" → istio; "contour" → contour; prefix "gloo"
// → gloo; "nginx" → nginx; "kubernetes" or prefix "gatewayapi" → http; "skipper",
// "traefik", "osm", "kuma", "apisix", "knative" → their own; anything else
// (including "smi:*", "crossover" and every "X:service" not matched by a prefix
// rule, e.g. "istio:service" or "kubernetes:service") → istio.
func ObserverFor(metricsProvider string) *Observer {
	p := metricsProvider
	switch {
	case strings.HasPrefix(p, ProviderAppMesh):
		return observers[ProviderAppMesh]
	case p == ProviderLinkerd:
		return observers[ProviderLinkerd]
	case p == ProviderIstio:
		return observers[ProviderIstio]
	case p == ProviderContour:
		return observers[ProviderContour]
	case strings.HasPrefix(p, ProviderGloo):
		return observers[ProviderGloo]
	case p == ProviderNGINX:
		return observers[ProviderNGINX]
	case p == ProviderKubernetes || strings.HasPrefix(p, ProviderGatewayAPI):
		return observers["http"]
	case p == ProviderSkipper, p == ProviderTraefik, p == ProviderOsm, p == ProviderKuma,
		p == ProviderApisix, p == ProviderKnative:
		return observers[p]
	default:
		return observers[ProviderIstio]
	}
}

// The query texts below are Flagger 1.44's (pkg/metrics/observers/*.go); only
// their whitespace-collapsed form matters (CollapseQuery), which the observer
// tests assert against Flagger's own fixtures.
var observers = map[string]*Observer{
	ProviderIstio: {
		Name: ProviderIstio,
		SuccessRate: `
	sum(
		rate(
			istio_requests_total{
				reporter="destination",
				destination_workload_namespace="{{ namespace }}",
				destination_workload=~"{{ target }}",
				response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			istio_requests_total{
				reporter="destination",
				destination_workload_namespace="{{ namespace }}",
				destination_workload=~"{{ target }}"
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				istio_request_duration_milliseconds_bucket{
					reporter="destination",
					destination_workload_namespace="{{ namespace }}",
					destination_workload=~"{{ target }}"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	"http": {
		Name: "http",
		SuccessRate: `
	sum(
		rate(
			http_request_duration_seconds_count{
				kubernetes_namespace="{{ namespace }}",
				kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",
				status!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			http_request_duration_seconds_count{
				kubernetes_namespace="{{ namespace }}",
				kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				http_request_duration_seconds_bucket{
					kubernetes_namespace="{{ namespace }}",
					kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis:      1000,
		BareSuccessRateErrors: true,
	},
	ProviderLinkerd: {
		Name: ProviderLinkerd,
		SuccessRate: `
	sum(
		rate(
			response_total{
				namespace="{{ namespace }}",
				deployment=~"{{ target }}",
				classification!="failure",
				direction="inbound"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			response_total{
				namespace="{{ namespace }}",
				deployment=~"{{ target }}",
				direction="inbound"
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				response_latency_ms_bucket{
					namespace="{{ namespace }}",
					deployment=~"{{ target }}",
					direction="inbound"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderAppMesh: {
		Name: ProviderAppMesh,
		SuccessRate: `
	sum(
		rate(
			envoy_cluster_upstream_rq{
				kubernetes_namespace="{{ namespace }}",
				kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",
				envoy_response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			envoy_cluster_upstream_rq{
				kubernetes_namespace="{{ namespace }}",
				kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				envoy_cluster_upstream_rq_time_bucket{
					kubernetes_namespace="{{ namespace }}",
					kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderContour: {
		Name: ProviderContour,
		SuccessRate: `
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+",
				envoy_response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+",
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				envoy_cluster_upstream_rq_time_bucket{
					envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+",
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderGloo: {
		Name: ProviderGloo,
		SuccessRate: `
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+",
				envoy_response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+",
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				envoy_cluster_upstream_rq_time_bucket{
					envoy_cluster_name=~"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+",
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderNGINX: {
		Name: ProviderNGINX,
		SuccessRate: `
	sum(
		rate(
			nginx_ingress_controller_requests{
				namespace="{{ namespace }}",
				ingress="{{ ingress }}",
				canary!="",
				status!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			nginx_ingress_controller_requests{
				namespace="{{ namespace }}",
				ingress="{{ ingress }}",
				canary!=""
			}[{{ interval }}]
		)
	)
	* 100`,
		// Mean, not P99, already in ms.
		Duration: `
	sum(
		rate(
			nginx_ingress_controller_response_duration_seconds_sum{
				namespace="{{ namespace }}",
				ingress="{{ ingress }}",
				canary!=""
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			nginx_ingress_controller_response_duration_seconds_count{
				namespace="{{ namespace }}",
				ingress="{{ ingress }}",
				canary!=""
			}[{{ interval }}]
		)
	)
	* 1000`,
		DurationToMillis: 1,
	},
	ProviderSkipper: {
		Name: ProviderSkipper,
		SuccessRate: skipperRoute + `
	sum(rate(skipper_response_duration_seconds_bucket{route=~"{{ $route }}",code!~"5..",le="+Inf"}[{{ interval }}])) /
	sum(rate(skipper_response_duration_seconds_bucket{route=~"{{ $route }}",le="+Inf"}[{{ interval }}])) * 100`,
		// Mean, not P99, already in ms.
		Duration: skipperRoute + `
	sum(rate(skipper_serve_route_duration_seconds_sum{route=~"{{ $route }}"}[{{ interval }}])) /
	sum(rate(skipper_serve_route_duration_seconds_count{route=~"{{ $route }}"}[{{ interval }}])) * 1000`,
		DurationToMillis: 1,
		EncodeModel:      encodeModelForSkipper,
	},
	ProviderTraefik: {
		Name: ProviderTraefik,
		SuccessRate: `
	sum(
		rate(
			traefik_service_request_duration_seconds_bucket{
				service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
				code!~"5..",
				le="+Inf"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			traefik_service_request_duration_seconds_bucket{
				service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd",
				le="+Inf"
			}[{{ interval }}]
		)
	) * 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				traefik_service_request_duration_seconds_bucket{
					service=~"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd"
				}[{{ interval }}]
			)
		) by (le)
	) * 1000`,
		DurationToMillis: 1,
	},
	ProviderOsm: {
		Name: ProviderOsm,
		SuccessRate: `
	sum(
		rate(
			osm_request_total{
				destination_namespace="{{ namespace }}",
				destination_kind="Deployment",
				destination_name="{{ target }}",
				response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			osm_request_total{
				destination_namespace="{{ namespace }}",
				destination_kind="Deployment",
				destination_name="{{ target }}"
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				osm_request_duration_ms_bucket{
					destination_namespace="{{ namespace }}",
					destination_kind="Deployment",
					destination_name="{{ target }}"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderKuma: {
		Name: ProviderKuma,
		SuccessRate: `
	sum(
		rate(
			envoy_cluster_upstream_rq{
				service=~"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+",
				envoy_response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			envoy_cluster_upstream_rq{
				service=~"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+",
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				envoy_cluster_upstream_rq_time_bucket{
					service=~"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+",
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	ProviderApisix: {
		Name: ProviderApisix,
		SuccessRate: `
	sum(
		rate(
			apisix_http_status{
				route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+",
				code!~"5.."
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			apisix_http_status{
				route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+"
			}[{{ interval }}]
		)
	) * 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				apisix_http_latency_bucket{
					type=~"request",
					route=~"{{ namespace }}_{{ route }}-{{ target }}-canary_.+"
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
	// Knative: Flagger sets {{ route }} to the Knative Service's
	// status.latestCreatedRevisionName; aviary does not read Knative objects, so
	// route is routeRef.name or the target name.
	ProviderKnative: {
		Name: ProviderKnative,
		SuccessRate: `
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}/{{ route }}",
				envoy_response_code!~"5.*"
			}[{{ interval }}]
		)
	)
	/
	sum(
		rate(
			envoy_cluster_upstream_rq{
				envoy_cluster_name=~"{{ namespace }}/{{ route }}",
			}[{{ interval }}]
		)
	)
	* 100`,
		Duration: `
	histogram_quantile(
		0.99,
		sum(
			rate(
				envoy_cluster_upstream_rq_time_bucket{
					envoy_cluster_name=~"{{ namespace }}/{{ route }}",
				}[{{ interval }}]
			)
		) by (le)
	)`,
		DurationToMillis: 1,
	},
}

const skipperRoute = `{{- $route := printf "kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?" namespace ingress service }}`

var nonWord = regexp.MustCompile(`\W`)

// encodeModelForSkipper replaces non-word characters with underscores, to match
// Skipper's route names.
func encodeModelForSkipper(m v1beta1.MetricTemplateModel) v1beta1.MetricTemplateModel {
	m.Ingress = nonWord.ReplaceAllString(m.Ingress, "_")
	m.Name = nonWord.ReplaceAllString(m.Name, "_")
	m.Namespace = nonWord.ReplaceAllString(m.Namespace, "_")
	m.Service = nonWord.ReplaceAllString(m.Service, "_")
	m.Target = nonWord.ReplaceAllString(m.Target, "_")
	return m
}
