package analysis_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// Expected strings are the fixtures of Flagger 1.44's pkg/metrics/observers/*_test.go
// (the query as received by its fake Prometheus).
var _ = Describe("Observers", func() {
	podinfo := v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "default", Target: "podinfo", Service: "podinfo", Interval: "1m"}

	DescribeTable("render Flagger's exact collapsed queries",
		func(provider string, model v1beta1.MetricTemplateModel, successRate, duration string) {
			o := analysis.ObserverFor(provider)
			q, err := o.SuccessRateQuery(model)
			Expect(err).NotTo(HaveOccurred())
			Expect(q).To(Equal(successRate))
			q, err = o.DurationQuery(model)
			Expect(err).NotTo(HaveOccurred())
			Expect(q).To(Equal(duration))
		},
		Entry("istio", "istio", podinfo,
			` sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="default", destination_workload=~"podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( istio_requests_total{ reporter="destination", destination_workload_namespace="default", destination_workload=~"podinfo" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( istio_request_duration_milliseconds_bucket{ reporter="destination", destination_workload_namespace="default", destination_workload=~"podinfo" }[1m] ) ) by (le) )`),
		Entry("kubernetes (http)", "kubernetes", podinfo,
			` sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*" }[1m] ) ) / sum( rate( http_request_duration_seconds_count{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( http_request_duration_seconds_bucket{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) by (le) )`),
		Entry("linkerd", "linkerd", podinfo,
			` sum( rate( response_total{ namespace="default", deployment=~"podinfo", classification!="failure", direction="inbound" }[1m] ) ) / sum( rate( response_total{ namespace="default", deployment=~"podinfo", direction="inbound" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{ namespace="default", deployment=~"podinfo", direction="inbound" }[1m] ) ) by (le) )`),
		Entry("appmesh", "appmesh", podinfo,
			` sum( rate( envoy_cluster_upstream_rq{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ kubernetes_namespace="default", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m] ) ) by (le) )`),
		Entry("contour", "contour", podinfo,
			` sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default_podinfo-canary_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default_podinfo-canary_[0-9a-zA-Z-]+", }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"default_podinfo-canary_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )`),
		Entry("contour with a service name", "contour",
			v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "default", Target: "podinfo", Service: "podinfo-service", Interval: "1m"},
			` sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default_podinfo-service-canary_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default_podinfo-service-canary_[0-9a-zA-Z-]+", }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"default_podinfo-service-canary_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )`),
		Entry("gloo", "gloo", podinfo,
			` sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"default-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )`),
		Entry("nginx", "nginx",
			v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "nginx", Target: "podinfo", Ingress: "podinfo", Interval: "1m"},
			` sum( rate( nginx_ingress_controller_requests{ namespace="nginx", ingress="podinfo", canary!="", status!~"5.*" }[1m] ) ) / sum( rate( nginx_ingress_controller_requests{ namespace="nginx", ingress="podinfo", canary!="" }[1m] ) ) * 100`,
			` sum( rate( nginx_ingress_controller_response_duration_seconds_sum{ namespace="nginx", ingress="podinfo", canary!="" }[1m] ) ) / sum( rate( nginx_ingress_controller_response_duration_seconds_count{ namespace="nginx", ingress="podinfo", canary!="" }[1m] ) ) * 1000`),
		Entry("skipper", "skipper",
			v1beta1.MetricTemplateModel{Namespace: "skipper", Interval: "1m", Service: "backend", Ingress: "skipper-ingress"},
			` sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_skipper__skipper_ingress_canary__.*__backend_canary(_[0-9]+)?",code!~"5..",le="+Inf"}[1m])) / sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_skipper__skipper_ingress_canary__.*__backend_canary(_[0-9]+)?",le="+Inf"}[1m])) * 100`,
			` sum(rate(skipper_serve_route_duration_seconds_sum{route=~"kube(ew)?_skipper__skipper_ingress_canary__.*__backend_canary(_[0-9]+)?"}[1m])) / sum(rate(skipper_serve_route_duration_seconds_count{route=~"kube(ew)?_skipper__skipper_ingress_canary__.*__backend_canary(_[0-9]+)?"}[1m])) * 1000`),
		Entry("traefik", "traefik", podinfo,
			` sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"default-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", code!~"5..", le="+Inf" }[1m] ) ) / sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"default-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", le="+Inf" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"default-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd" }[1m] ) ) by (le) ) * 1000`),
		Entry("traefik with a service name: the query still names the target, not the Services Flagger writes", "traefik",
			v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "test", Target: "podinfo", Service: "podinfo-svc", Interval: "2m"},
			` sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", code!~"5..", le="+Inf" }[2m] ) ) / sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd", le="+Inf" }[2m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( traefik_service_request_duration_seconds_bucket{ service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd" }[2m] ) ) by (le) ) * 1000`),
		Entry("osm", "osm", podinfo,
			` sum( rate( osm_request_total{ destination_namespace="default", destination_kind="Deployment", destination_name="podinfo", response_code!~"5.*" }[1m] ) ) / sum( rate( osm_request_total{ destination_namespace="default", destination_kind="Deployment", destination_name="podinfo" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( osm_request_duration_ms_bucket{ destination_namespace="default", destination_kind="Deployment", destination_name="podinfo" }[1m] ) ) by (le) )`),
		Entry("kuma", "kuma", podinfo,
			` sum( rate( envoy_cluster_upstream_rq{ service=~"podinfo-canary_default_svc_[0-9a-zA-Z-]+", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ service=~"podinfo-canary_default_svc_[0-9a-zA-Z-]+", }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ service=~"podinfo-canary_default_svc_[0-9a-zA-Z-]+", }[1m] ) ) by (le) )`),
		Entry("apisix", "apisix",
			v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "default", Target: "podinfo", Route: "podinfo", Interval: "1m"},
			` sum( rate( apisix_http_status{ route=~"default_podinfo-podinfo-canary_.+", code!~"5.." }[1m] ) ) / sum( rate( apisix_http_status{ route=~"default_podinfo-podinfo-canary_.+" }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( apisix_http_latency_bucket{ type=~"request", route=~"default_podinfo-podinfo-canary_.+" }[1m] ) ) by (le) )`),
		Entry("knative", "knative",
			v1beta1.MetricTemplateModel{Name: "podinfo", Namespace: "default", Target: "podinfo", Service: "podinfo", Route: "podinfo-00001", Interval: "1m"},
			` sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default/podinfo-00001", envoy_response_code!~"5.*" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~"default/podinfo-00001", }[1m] ) ) * 100`,
			` histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{ envoy_cluster_name=~"default/podinfo-00001", }[1m] ) ) by (le) )`),
	)

	DescribeTable("ObserverFor follows Flagger's factory rule",
		func(provider, observer string) {
			Expect(analysis.ObserverFor(provider).Name).To(Equal(observer))
		},
		Entry(nil, "istio", "istio"),
		Entry(nil, "istio:service", "istio"),
		Entry(nil, "", "istio"),
		Entry(nil, "unknown", "istio"),
		Entry(nil, "smi:v1alpha3", "istio"),
		Entry(nil, "crossover", "istio"),
		Entry(nil, "kubernetes", "http"),
		Entry(nil, "kubernetes:service", "istio"),
		Entry(nil, "gatewayapi", "http"),
		Entry(nil, "gatewayapi:v1", "http"),
		Entry(nil, "gatewayapi:v1beta1:service", "http"),
		Entry(nil, "linkerd", "linkerd"),
		Entry(nil, "linkerd:service", "istio"),
		Entry(nil, "appmesh", "appmesh"),
		Entry(nil, "appmesh:v1beta2", "appmesh"),
		Entry(nil, "appmesh:service", "appmesh"),
		Entry(nil, "contour", "contour"),
		Entry(nil, "contour:service", "istio"),
		Entry(nil, "gloo", "gloo"),
		Entry(nil, "gloo:service", "gloo"),
		Entry(nil, "nginx", "nginx"),
		Entry(nil, "skipper", "skipper"),
		Entry(nil, "traefik", "traefik"),
		Entry(nil, "osm", "osm"),
		Entry(nil, "kuma", "kuma"),
		Entry(nil, "apisix", "apisix"),
		Entry(nil, "knative", "knative"),
	)

	DescribeTable("MetricsProvider combines the global and the canary's provider like Flagger",
		func(global, spec, kind, apiVersion, want string) {
			cd := canary()
			cd.Spec.Provider = spec
			cd.Spec.TargetRef.Kind = kind
			cd.Spec.TargetRef.APIVersion = apiVersion
			Expect(analysis.MetricsProvider(global, cd)).To(Equal(want))
		},
		Entry("global only", "istio", "", "Deployment", "apps/v1", "istio"),
		Entry("spec overrides global", "istio", "kubernetes", "Deployment", "apps/v1", "kubernetes"),
		Entry("global linkerd forces linkerd over spec", "linkerd", "kubernetes", "Deployment", "apps/v1", "linkerd"),
		Entry("global linkerd without spec", "linkerd", "", "Deployment", "apps/v1", "linkerd"),
		Entry("global crossover", "smi:crossover", "", "Deployment", "apps/v1", "crossover"),
		Entry("Service target appends :service", "istio", "", "Service", "v1", "istio:service"),
		Entry("Service target with gatewayapi", "istio", "gatewayapi:v1", "Service", "v1", "gatewayapi:v1:service"),
		Entry("Knative Service target gets no suffix", "knative", "", "Service", "serving.knative.dev/v1", "knative"),
		Entry("DaemonSet", "kubernetes", "", "DaemonSet", "apps/v1", "kubernetes"),
	)

	DescribeTable("DurationValue scales to ms and truncates",
		func(provider string, v float64, want time.Duration) {
			Expect(analysis.ObserverFor(provider).DurationValue(v)).To(Equal(want))
		},
		Entry("istio ms (Flagger fixture 100)", "istio", 100.0, 100*time.Millisecond),
		Entry("istio truncates 100.9", "istio", 100.9, 100*time.Millisecond),
		Entry("istio 0.7 is 0", "istio", 0.7, time.Duration(0)),
		Entry("http seconds (Flagger fixture 0.100)", "kubernetes", 0.100, 100*time.Millisecond),
		Entry("http truncates 0.0999 to 99ms", "gatewayapi:v1", 0.0999, 99*time.Millisecond),
		Entry("http 1.5151 s", "kubernetes", 1.5151, 1515*time.Millisecond),
		Entry("linkerd ms", "linkerd", 250.2, 250*time.Millisecond),
		Entry("traefik: the query multiplies seconds by 1000 (Flagger fixture 100)", "traefik", 100.0, 100*time.Millisecond),
		Entry("traefik truncates 99.9", "traefik", 99.9, 99*time.Millisecond),
	)
})
