package v1beta1_test

import (
	"encoding/json"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networkingv1beta1 "istio.io/api/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"aviary.dev/aviary/api/v1beta1"
)

// loadPodinfo reads testdata/podinfo-canary.yaml strictly: a YAML field that no
// Go field claims (a misspelt JSON name) is an error.
func loadPodinfo() (*v1beta1.Canary, map[string]any) {
	GinkgoHelper()
	raw, err := os.ReadFile("testdata/podinfo-canary.yaml")
	Expect(err).NotTo(HaveOccurred())
	cd := &v1beta1.Canary{}
	Expect(yaml.UnmarshalStrict(raw, cd)).To(Succeed())
	doc := map[string]any{}
	Expect(yaml.Unmarshal(raw, &doc)).To(Succeed())
	return cd, doc
}

// jsonOf marshals v with encoding/json.
func jsonOf(v any) string {
	GinkgoHelper()
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// viaIstio sends ours through the Istio message msg: encoding/json out, strict
// protojson in (unknown field = error), Istio's own MarshalJSON out, and
// encoding/json back into a fresh value of ours' type, which it returns.
func viaIstio[T any](ours *T, msg proto.Message) *T {
	GinkgoHelper()
	Expect(protojson.Unmarshal([]byte(jsonOf(ours)), msg)).To(Succeed())
	back, err := json.Marshal(msg)
	Expect(err).NotTo(HaveOccurred())
	out := new(T)
	Expect(json.Unmarshal(back, out)).To(Succeed())
	return out
}

var _ = Describe("Canary JSON", func() {
	It("decodes every field of a podinfo canary under Flagger's JSON names", func() {
		cd, _ := loadPodinfo()

		Expect(cd.APIVersion).To(Equal("flagger.app/v1beta1"))
		Expect(cd.Kind).To(Equal(v1beta1.CanaryKind))
		Expect(cd.Name).To(Equal("podinfo"))
		Expect(cd.Namespace).To(Equal("test"))

		spec := cd.Spec
		Expect(spec.Provider).To(Equal("istio"))
		Expect(spec.TargetRef).To(Equal(v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"}))
		Expect(spec.AutoscalerRef).NotTo(BeNil())
		Expect(spec.AutoscalerRef.Kind).To(Equal("HorizontalPodAutoscaler"))
		Expect(*spec.AutoscalerRef.PrimaryScalerReplicas.MinReplicas).To(Equal(int32(2)))
		Expect(cd.GetProgressDeadlineSeconds()).To(Equal(60))
		Expect(spec.RevertOnDeletion).To(BeTrue())

		svc := spec.Service
		Expect(svc.Port).To(Equal(int32(9898)))
		Expect(svc.TargetPort).To(Equal(intstr.FromString("http")))
		Expect(svc.PortDiscovery).To(BeTrue())
		Expect(svc.Gateways).To(ConsistOf("public-gateway.istio-system.svc.cluster.local", "mesh"))
		Expect(svc.Match).To(HaveLen(2))
		Expect(svc.Match[1].URI).To(Equal(&v1beta1.StringMatch{Exact: "/api/info"}))
		Expect(svc.Match[1].IgnoreUriCase).To(BeTrue())
		Expect(svc.Match[1].QueryParams).To(HaveKeyWithValue("version", v1beta1.StringMatch{Regex: "^v[0-9]+$"}))
		Expect(svc.Retries).To(Equal(&v1beta1.HTTPRetry{Attempts: 3, PerTryTimeout: "5s", RetryOn: "gateway-error,connect-failure,refused-stream"}))
		Expect(svc.Headers.Response.Remove).To(Equal([]string{"x-powered-by"}))
		Expect(*svc.CorsPolicy.AllowCredentials).To(BeTrue())
		Expect(svc.TrafficPolicy.TLS.Mode).To(Equal("ISTIO_MUTUAL"))
		Expect(*svc.TrafficPolicy.OutlierDetection.Consecutive5xxErrors).To(Equal(uint32(5)))
		Expect(svc.TrafficPolicy.LoadBalancer.ConsistentHash).NotTo(BeNil())
		Expect(string(svc.TrafficPolicy.LoadBalancer.ConsistentHash.Raw)).To(MatchJSON(`{"httpCookie":{"name":"user","ttl":"0s"}}`))
		Expect(svc.Apex.Annotations).To(HaveKeyWithValue("test", "annotation-test"))
		Expect(svc.UnmanagedMetadata.Labels).To(Equal([]string{"app.kubernetes.io/managed-by"}))

		a := cd.GetAnalysis()
		Expect(a).To(BeIdenticalTo(spec.Analysis))
		Expect(cd.GetAnalysisInterval()).To(Equal(15 * time.Second))
		Expect(cd.GetAnalysisThreshold()).To(Equal(10))
		Expect(cd.GetAnalysisPrimaryReadyThreshold()).To(Equal(80))
		Expect(cd.GetAnalysisCanaryReadyThreshold()).To(Equal(90))
		Expect(cd.MaxWeight()).To(Equal(50))
		Expect(a.StepWeight).To(Equal(5))
		Expect(a.StepWeightPromotion).To(Equal(25))
		Expect(cd.DeploymentStrategy()).To(Equal(v1beta1.DeploymentStrategyCanary))
		Expect(a.Match[0].Headers).To(HaveKeyWithValue("x-canary", v1beta1.StringMatch{Exact: "insider"}))
		Expect(a.Match[1].SourceLabels).To(HaveKeyWithValue("app", "frontend"))
		Expect(a.SessionAffinity.GetMaxAge()).To(Equal(21600))
		Expect(a.SessionAffinity.PrimaryCookieName).To(Equal("flagger-primary-cookie"))
		Expect(a.Alerts).To(Equal([]v1beta1.CanaryAlert{{
			Name: "on-call", Severity: v1beta1.SeverityError,
			ProviderRef: v1beta1.CrossNamespaceObjectReference{Name: "on-call-msteams", Namespace: "flagger"},
		}}))

		Expect(a.Metrics).To(HaveLen(4))
		Expect(*a.Metrics[0].ThresholdRange.Min).To(Equal(99.0))
		Expect(a.Metrics[0].ThresholdRange.Max).To(BeNil())
		Expect(*a.Metrics[1].ThresholdRange.Max).To(Equal(500.0))
		Expect(a.Metrics[1].Interval).To(Equal("30s"))
		Expect(a.Metrics[2].TemplateRef).To(Equal(&v1beta1.CrossNamespaceObjectReference{Name: "error-rate", Namespace: "istio-system"}))
		Expect(a.Metrics[2].TemplateVariables).To(Equal(map[string]string{"direction": "inbound"}))
		Expect(*a.Metrics[2].ThresholdRange.Min).To(Equal(0.5))
		Expect(*a.Metrics[2].ThresholdRange.Max).To(Equal(1.5))
		Expect(a.Metrics[3].Query).To(Equal("sum(rate(http_requests_total[1m]))"))
		Expect(a.Metrics[3].Threshold).To(Equal(2.5))
		Expect(a.Metrics[3].GetMetricInterval()).To(Equal("1m"))

		Expect(a.Webhooks).To(HaveLen(3))
		Expect(a.Webhooks[0].Type).To(Equal(v1beta1.PreRolloutHook))
		Expect(*a.Webhooks[0].Metadata).To(HaveKeyWithValue("type", "bash"))
		Expect(a.Webhooks[1].Type).To(BeEmpty(), "an untyped webhook stays empty (treated as rollout by the engine)")
		Expect(a.Webhooks[1].URL).To(Equal("http://flagger-loadtester.test/"))
		Expect(a.Webhooks[1].Timeout).To(Equal("5s"))
		Expect(a.Webhooks[1].Retries).To(Equal(2))
		Expect(a.Webhooks[1].DisableTLS).To(BeTrue())
		Expect(a.Webhooks[1].MuteAlert).To(BeTrue())
		Expect(a.Webhooks[2].Type).To(Equal(v1beta1.ConfirmPromotionHook))

		st := cd.Status
		Expect(st.Phase).To(Equal(v1beta1.CanaryPhaseProgressing))
		Expect(st.FailedChecks).To(Equal(1))
		Expect(st.CanaryWeight).To(Equal(10))
		Expect(st.SessionAffinityCookie).To(Equal("flagger-cookie=abc"))
		Expect(*st.TrackedConfigs).To(HaveKeyWithValue("configmap/podinfo-config", "6b8d7a5b5c"))
		Expect(st.LastTransitionTime.UTC()).To(Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		Expect(st.Conditions).To(HaveLen(1))
		Expect(st.Conditions[0].Type).To(Equal(v1beta1.PromotedType))
		Expect(st.Conditions[0].Status).To(Equal(corev1.ConditionUnknown))
		Expect(st.Conditions[0].Reason).To(Equal("Progressing"))
	})

	It("re-encodes spec and status to exactly the JSON it was decoded from", func() {
		cd, doc := loadPodinfo()
		Expect(jsonOf(cd.Spec)).To(MatchJSON(jsonOf(doc["spec"])))
		Expect(jsonOf(cd.Status)).To(MatchJSON(jsonOf(doc["status"])))
	})

	It("survives an encoding/json round trip unchanged", func() {
		cd, _ := loadPodinfo()
		back := &v1beta1.Canary{}
		Expect(json.Unmarshal([]byte(jsonOf(cd)), back)).To(Succeed())
		Expect(back).To(Equal(cd))
	})

	It("deep-copies without sharing nested state", func() {
		cd, _ := loadPodinfo()
		cp := cd.DeepCopy()
		Expect(cp).To(Equal(cd))
		(*cp.Spec.Analysis.Webhooks[0].Metadata)["type"] = "changed"
		*cp.Spec.Analysis.Metrics[0].ThresholdRange.Min = 1
		cp.Spec.Service.Match[0].URI.Prefix = "/changed"
		cp.Spec.Service.TrafficPolicy.LoadBalancer.ConsistentHash.Raw[0] = ' '
		(*cp.Status.TrackedConfigs)["configmap/podinfo-config"] = "changed"
		Expect(*cd.Spec.Analysis.Webhooks[0].Metadata).To(HaveKeyWithValue("type", "bash"))
		Expect(*cd.Spec.Analysis.Metrics[0].ThresholdRange.Min).To(Equal(99.0))
		Expect(cd.Spec.Service.Match[0].URI.Prefix).To(Equal("/"))
		Expect(string(cd.Spec.Service.TrafficPolicy.LoadBalancer.ConsistentHash.Raw)).To(HavePrefix("{"))
		Expect(*cd.Status.TrackedConfigs).To(HaveKeyWithValue("configmap/podinfo-config", "6b8d7a5b5c"))
	})

	It("omits the deprecated canaryAnalysis and unset optional fields", func() {
		cd := &v1beta1.Canary{Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   v1beta1.CanaryService{Port: 80},
			Analysis:  &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: 3},
		}}
		Expect(jsonOf(cd.Spec)).To(MatchJSON(`{
			"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
			"service": {"port": 80},
			"analysis": {"interval": "1m", "threshold": 5, "iterations": 3}
		}`))
	})

	It("reads the deprecated canaryAnalysis field", func() {
		cd := &v1beta1.Canary{}
		Expect(yaml.UnmarshalStrict([]byte(`
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 80}
  canaryAnalysis: {interval: 20s, threshold: 3, stepWeights: [10, 30]}
`), cd)).To(Succeed())
		Expect(cd.Spec.Analysis).To(BeNil())
		Expect(cd.SkipAnalysis()).To(BeFalse())
		Expect(cd.GetAnalysisInterval()).To(Equal(20 * time.Second))
		Expect(cd.MaxWeight()).To(Equal(30))
	})

	It("reads Gateway API shaped service fields", func() {
		cd := &v1beta1.Canary{}
		Expect(yaml.UnmarshalStrict([]byte(`
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
    backendTimeout: 5s
    trafficDistribution: PreferClose
    headless: true
    gatewayRefs:
      - name: gateway
        namespace: istio-ingress
        sectionName: https
        port: 443
    rewrite: {uri: /v2, type: ReplacePrefixMatch}
    mirror:
      - backendRef: {name: podinfo-shadow, port: 9898}
        percent: 20
  analysis: {interval: 1m, threshold: 5, iterations: 10}
`), cd)).To(Succeed())
		svc := cd.Spec.Service
		Expect(svc.BackendTimeout).To(Equal("5s"))
		Expect(svc.TrafficDistribution).To(Equal("PreferClose"))
		Expect(svc.Headless).To(BeTrue())
		Expect(svc.GatewayRefs).To(HaveLen(1))
		Expect(svc.GatewayRefs[0].Name).To(Equal("gateway"))
		Expect(*svc.GatewayRefs[0].Namespace).To(Equal("istio-ingress"))
		Expect(*svc.GatewayRefs[0].SectionName).To(Equal("https"))
		Expect(*svc.GatewayRefs[0].Port).To(Equal(int32(443)))
		Expect(svc.GatewayRefs[0].Group).To(BeNil())
		Expect(svc.Rewrite).To(Equal(&v1beta1.HTTPRewrite{URI: "/v2", Type: "ReplacePrefixMatch"}))
		Expect(svc.Mirror).To(HaveLen(1))
		Expect(svc.Mirror[0].BackendRef.Name).To(Equal("podinfo-shadow"))
		Expect(*svc.Mirror[0].Percent).To(Equal(int32(20)))
		Expect(cd.DeploymentStrategy()).To(Equal(v1beta1.DeploymentStrategyBlueGreen))
	})
})

var _ = Describe("Istio-shaped types", func() {
	var svc v1beta1.CanaryService
	var analysis *v1beta1.CanaryAnalysis

	BeforeEach(func() {
		cd, _ := loadPodinfo()
		svc, analysis = cd.Spec.Service, cd.Spec.Analysis
	})

	It("round-trip service.match through Istio's HTTPMatchRequest", func() {
		for i := range svc.Match {
			msg := &networkingv1beta1.HTTPMatchRequest{}
			Expect(viaIstio(&svc.Match[i], msg)).To(Equal(&svc.Match[i]))
		}
		msg := &networkingv1beta1.HTTPMatchRequest{}
		viaIstio(&svc.Match[1], msg)
		Expect(msg.GetName()).To(Equal("api"))
		Expect(msg.GetUri().GetExact()).To(Equal("/api/info"))
		Expect(msg.GetMethod().GetExact()).To(Equal("GET"))
		Expect(msg.GetIgnoreUriCase()).To(BeTrue())
		Expect(msg.GetQueryParams()["version"].GetRegex()).To(Equal("^v[0-9]+$"))
	})

	It("round-trip analysis.match through Istio's HTTPMatchRequest", func() {
		for i := range analysis.Match {
			msg := &networkingv1beta1.HTTPMatchRequest{}
			Expect(viaIstio(&analysis.Match[i], msg)).To(Equal(&analysis.Match[i]))
		}
		msg := &networkingv1beta1.HTTPMatchRequest{}
		viaIstio(&analysis.Match[1], msg)
		Expect(msg.GetHeaders()["cookie"].GetRegex()).To(Equal("^(.*?;)?(canary=always)(;.*)?$"))
		Expect(msg.GetSourceLabels()).To(HaveKeyWithValue("app", "frontend"))
	})

	It("round-trip retries through Istio's HTTPRetry", func() {
		msg := &networkingv1beta1.HTTPRetry{}
		Expect(viaIstio(svc.Retries, msg)).To(Equal(svc.Retries))
		Expect(msg.GetAttempts()).To(Equal(int32(3)))
		Expect(msg.GetPerTryTimeout().AsDuration()).To(Equal(5 * time.Second))
		Expect(msg.GetRetryOn()).To(Equal("gateway-error,connect-failure,refused-stream"))
	})

	It("round-trip headers through Istio's Headers", func() {
		msg := &networkingv1beta1.Headers{}
		Expect(viaIstio(svc.Headers, msg)).To(Equal(svc.Headers))
		Expect(msg.GetRequest().GetAdd()).To(HaveKeyWithValue("x-some-header", "value"))
		Expect(msg.GetResponse().GetSet()).To(HaveKeyWithValue("x-frame-options", "DENY"))
		Expect(msg.GetResponse().GetRemove()).To(Equal([]string{"x-powered-by"}))
	})

	It("round-trip corsPolicy through Istio's CorsPolicy", func() {
		msg := &networkingv1beta1.CorsPolicy{}
		Expect(viaIstio(svc.CorsPolicy, msg)).To(Equal(svc.CorsPolicy))
		Expect(msg.GetAllowOrigins()).To(HaveLen(2))
		Expect(msg.GetAllowOrigins()[1].GetPrefix()).To(Equal("https://app."))
		Expect(msg.GetMaxAge().AsDuration()).To(Equal(10 * time.Minute))
		Expect(msg.GetAllowCredentials().GetValue()).To(BeTrue())
	})

	It("round-trip rewrite (without the Gateway API type) through Istio's HTTPRewrite", func() {
		msg := &networkingv1beta1.HTTPRewrite{}
		Expect(viaIstio(svc.Rewrite, msg)).To(Equal(svc.Rewrite))
		Expect(msg.GetUri()).To(Equal("/"))
		Expect(msg.GetAuthority()).To(Equal("podinfo.test"))
	})

	It("round-trip trafficPolicy through Istio's TrafficPolicy", func() {
		msg := &networkingv1beta1.TrafficPolicy{}
		back := viaIstio(svc.TrafficPolicy, msg)
		Expect(jsonOf(back)).To(MatchJSON(jsonOf(svc.TrafficPolicy)))
		Expect(msg.GetTls().GetMode().String()).To(Equal("ISTIO_MUTUAL"))
		Expect(msg.GetTls().GetInsecureSkipVerify()).NotTo(BeNil())
		Expect(msg.GetTls().GetInsecureSkipVerify().GetValue()).To(BeFalse())
		Expect(msg.GetConnectionPool().GetTcp().GetMaxConnections()).To(Equal(int32(100)))
		Expect(msg.GetConnectionPool().GetTcp().GetConnectTimeout().AsDuration()).To(Equal(3 * time.Second))
		Expect(msg.GetConnectionPool().GetHttp().GetHttp1MaxPendingRequests()).To(Equal(int32(64)))
		Expect(msg.GetConnectionPool().GetHttp().GetH2UpgradePolicy().String()).To(Equal("UPGRADE"))
		Expect(msg.GetOutlierDetection().GetConsecutive_5XxErrors().GetValue()).To(Equal(uint32(5)))
		Expect(msg.GetOutlierDetection().GetConsecutiveGatewayErrors().GetValue()).To(Equal(uint32(2)))
		Expect(msg.GetOutlierDetection().GetBaseEjectionTime().AsDuration()).To(Equal(30 * time.Second))
		Expect(msg.GetOutlierDetection().GetMaxEjectionPercent()).To(Equal(int32(50)))
		Expect(msg.GetLoadBalancer().GetConsistentHash().GetHttpCookie().GetName()).To(Equal("user"))
		Expect(msg.GetLoadBalancer().GetWarmupDurationSecs().AsDuration()).To(Equal(time.Minute))
	})

	It("reject a misspelt field when decoded strictly by Istio", func() {
		Expect(protojson.Unmarshal([]byte(`{"attempts":3,"perTryTimout":"5s"}`), &networkingv1beta1.HTTPRetry{})).NotTo(Succeed())
	})
})
