package router_test

import (
	"context"
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/router"
)

func getVS(c client.Client) *istio.VirtualService {
	GinkgoHelper()
	vs := &istio.VirtualService{}
	Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "podinfo"}, vs)).To(Succeed())
	return vs
}

// specJSON is the spec as the API server stores it, for readable comparisons.
func specJSON(vs *istio.VirtualService) map[string]any {
	GinkgoHelper()
	b, err := json.Marshal(&vs.Spec)
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(b, &m)).To(Succeed())
	return m
}

func parseJSON(s string) map[string]any {
	GinkgoHelper()
	var m map[string]any
	Expect(json.Unmarshal([]byte(s), &m)).To(Succeed())
	return m
}

// meshRoutes calls GetRoutes and returns [primary, canary, mirrored].
func meshRoutes(r interface {
	GetRoutes(context.Context, *v1beta1.Canary) (int, int, bool, error)
}, cd *v1beta1.Canary) []any {
	GinkgoHelper()
	primary, canary, mirrored, err := r.GetRoutes(ctx, cd)
	Expect(err).NotTo(HaveOccurred())
	return []any{primary, canary, mirrored}
}

func routes(primary, canary int) []any { return []any{primary, canary, false} }

var _ = Describe("Istio", func() {
	var (
		c  client.Client
		r  *router.Istio
		cd *v1beta1.Canary
	)
	BeforeEach(func() {
		c = newClient()
		r = &router.Istio{Client: c}
		cd = newCanary()
	})

	It("creates the DestinationRules and a VirtualService at primary 100 / canary 0", func() {
		cd.Spec.Service.TrafficPolicy = &v1beta1.TrafficPolicy{TLS: &v1beta1.ClientTLSSettings{Mode: "ISTIO_MUTUAL"}}
		cd.Spec.Service.Timeout = "30s"
		cd.Spec.Service.Retries = &v1beta1.HTTPRetry{Attempts: 3, PerTryTimeout: "1s", RetryOn: "5xx"}
		cd.Spec.Service.Match = []v1beta1.HTTPMatchRequest{{URI: &v1beta1.StringMatch{Prefix: "/api"}}}
		cd.Spec.Service.Headers = &v1beta1.Headers{Request: &v1beta1.HeaderOperations{Set: map[string]string{"x-env": "prod"}}}
		cd.Spec.Service.Rewrite = &v1beta1.HTTPRewrite{URI: "/", Type: "ReplacePrefixMatch"}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())

		for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
			dr := &istio.DestinationRule{}
			Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dr)).To(Succeed())
			Expect(dr.Spec.GetHost()).To(Equal(name))
			Expect(dr.Spec.GetTrafficPolicy().GetTls().GetMode().String()).To(Equal("ISTIO_MUTUAL"))
			Expect(dr.OwnerReferences).To(HaveLen(1))
		}

		vs := getVS(c)
		Expect(specJSON(vs)).To(Equal(parseJSON(`{
			"hosts": ["podinfo"],
			"gateways": ["mesh"],
			"http": [{
				"match": [{"uri": {"prefix": "/api"}}],
				"route": [
					{"destination": {"host": "podinfo-primary"}, "weight": 100},
					{"destination": {"host": "podinfo-canary"}}
				],
				"rewrite": {"uri": "/"},
				"timeout": "30s",
				"retries": {"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx"},
				"headers": {"request": {"set": {"x-env": "prod"}}}
			}]
		}`)))
		Expect(vs.Annotations).To(HaveKeyWithValue("kustomize.toolkit.fluxcd.io/reconcile", "disabled"))
		Expect(vs.OwnerReferences).To(HaveLen(1))
		Expect(vs.OwnerReferences[0].Name).To(Equal("podinfo"))
		Expect(meshRoutes(r, cd)).To(Equal(routes(100, 0)))
	})

	It("rewrites a DestinationRule only when its spec changes", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		dr := &istio.DestinationRule{}
		key := types.NamespacedName{Namespace: ns, Name: "podinfo-canary"}
		Expect(c.Get(ctx, key, dr)).To(Succeed())
		before := dr.ResourceVersion

		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(c.Get(ctx, key, dr)).To(Succeed())
		Expect(dr.ResourceVersion).To(Equal(before))

		cd.Spec.Service.TrafficPolicy = &v1beta1.TrafficPolicy{LoadBalancer: &v1beta1.LoadBalancerSettings{Simple: "LEAST_REQUEST"}}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(c.Get(ctx, key, dr)).To(Succeed())
		Expect(dr.ResourceVersion).NotTo(Equal(before))
		Expect(dr.Spec.GetTrafficPolicy().GetLoadBalancer().GetSimple().String()).To(Equal("LEAST_REQUEST"))
	})

	It("keeps given hosts and gateways, adding the apex host unless present or '*'", func() {
		cd.Spec.Service.Hosts = []string{"app.example.com"}
		cd.Spec.Service.Gateways = []string{"public-gateway"}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getVS(c).Spec.GetHosts()).To(Equal([]string{"app.example.com", "podinfo"}))
		Expect(getVS(c).Spec.GetGateways()).To(Equal([]string{"public-gateway"}))

		cd.Spec.Service.Hosts = []string{"*"}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getVS(c).Spec.GetHosts()).To(Equal([]string{"*"}))
	})

	It("round-trips weights through SetRoutes and GetRoutes", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 60, 40, false)).To(Succeed())
		Expect(meshRoutes(r, cd)).To(Equal(routes(60, 40)))
		Expect(r.SetRoutes(ctx, cd, 0, 100, false)).To(Succeed())
		Expect(meshRoutes(r, cd)).To(Equal(routes(0, 100)))
	})

	It("mirrors to the canary with analysis.mirrorWeight", func() {
		cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: 5, Mirror: true, MirrorWeight: 25}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 100, 0, true)).To(Succeed())
		primary, canary, mirrored, err := r.GetRoutes(ctx, cd)
		Expect(err).NotTo(HaveOccurred())
		Expect([]any{primary, canary, mirrored}).To(Equal([]any{100, 0, true}))
		http := specJSON(getVS(c))["http"].([]any)[0].(map[string]any)
		Expect(http["mirror"]).To(Equal(map[string]any{"host": "podinfo-canary"}))
		Expect(http["mirrorPercentage"]).To(Equal(map[string]any{"value": 25.0}))

		Expect(r.SetRoutes(ctx, cd, 100, 0, false)).To(Succeed())
		_, _, mirrored, err = r.GetRoutes(ctx, cd)
		Expect(err).NotTo(HaveOccurred())
		Expect(mirrored).To(BeFalse())
	})

	It("keeps weights while nothing else changed, and resets them to 100/0 on any other spec change, like Flagger", func() {
		cd.Spec.Analysis.Mirror = true
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 70, 30, true)).To(Succeed())
		before := getVS(c).ResourceVersion

		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getVS(c).ResourceVersion).To(Equal(before), "nothing to update")

		// a metadata-only change is written with the routing as it was
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"team": "checkout"}}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getVS(c).Labels).To(HaveKeyWithValue("team", "checkout"))
		primary, canary, mirrored, err := r.GetRoutes(ctx, cd)
		Expect(err).NotTo(HaveOccurred())
		Expect([]any{primary, canary, mirrored}).To(Equal([]any{70, 30, true}))

		cd.Spec.Service.Timeout = "5s"
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		vs := getVS(c)
		Expect(vs.Spec.GetHttp()[0].GetTimeout().AsDuration().String()).To(Equal("5s"))
		primary, canary, mirrored, err = r.GetRoutes(ctx, cd)
		Expect(err).NotTo(HaveOccurred())
		Expect([]any{primary, canary, mirrored}).To(Equal([]any{100, 0, false}))
		Expect(vs.Annotations).To(HaveKey("flagger.kubernetes.io/original-configuration"))
	})

	It("routes A/B matches to the canary in a first route", func() {
		cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: 10, Match: []v1beta1.HTTPMatchRequest{
			{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}},
		}}
		cd.Spec.Service.Match = []v1beta1.HTTPMatchRequest{{URI: &v1beta1.StringMatch{Prefix: "/api"}}}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(specJSON(getVS(c))["http"]).To(Equal(parseJSON(`{"http": [
			{
				"match": [{"uri": {"prefix": "/api"}, "headers": {"x-canary": {"exact": "insider"}}}],
				"route": [
					{"destination": {"host": "podinfo-primary"}, "weight": 100},
					{"destination": {"host": "podinfo-canary"}}
				]
			},
			{
				"match": [{"uri": {"prefix": "/api"}}],
				"route": [{"destination": {"host": "podinfo-primary"}, "weight": 100}]
			}
		]}`)["http"]))
		Expect(meshRoutes(r, cd)).To(Equal(routes(100, 0)))

		Expect(r.SetRoutes(ctx, cd, 0, 100, false)).To(Succeed())
		Expect(meshRoutes(r, cd)).To(Equal(routes(0, 100)))
		http := getVS(c).Spec.GetHttp()
		Expect(http).To(HaveLen(2))
		Expect(http[0].GetMatch()[0].GetHeaders()["x-canary"].GetExact()).To(Equal("insider"))
		Expect(http[1].GetRoute()).To(HaveLen(1))
		Expect(http[1].GetRoute()[0].GetDestination().GetHost()).To(Equal("podinfo-primary"))
	})

	It("fails when the VirtualService has no canary route", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		vs := getVS(c)
		vs.Spec.Http = vs.Spec.Http[:0]
		Expect(c.Update(ctx, vs)).To(Succeed())
		_, _, _, err := r.GetRoutes(ctx, cd)
		Expect(err).To(MatchError("VirtualService podinfo.test does not contain routes for podinfo-primary and podinfo-canary"))
	})

	It("rejects hosts or gateways on a delegate VirtualService, and session affinity", func() {
		cd.Spec.Service.Delegation = true
		cd.Spec.Service.Gateways = []string{"public"}
		Expect(r.Reconcile(ctx, cd)).To(MatchError("reconcileVirtualService failed: VirtualService podinfo.test cannot have hosts and gateways when delegation enabled"))

		cd.Spec.Service.Gateways = nil
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getVS(c).Spec.GetHosts()).To(BeEmpty())
		Expect(getVS(c).Spec.GetGateways()).To(BeEmpty())

		cd.Spec.Analysis.SessionAffinity = &v1beta1.SessionAffinity{CookieName: "canary"}
		Expect(r.Reconcile(ctx, cd)).To(MatchError(ContainSubstring("sessionAffinity is not supported")))
	})
})

var _ = Describe("Nop", func() {
	DescribeTable("GetRoutes",
		func(iterations, wantPrimary, wantCanary int) {
			cd := newCanary()
			cd.Status.Iterations = iterations
			Expect(meshRoutes(router.Nop{}, cd)).To(Equal(routes(wantPrimary, wantCanary)))
			Expect(router.Nop{}.SetRoutes(ctx, cd, 10, 90, true)).To(Succeed())
			Expect(router.Nop{}.Reconcile(ctx, cd)).To(Succeed())
		},
		Entry("before the first iteration: all traffic on the primary", 0, 100, 0),
		Entry("from the first iteration on: all traffic on the canary", 1, 0, 100),
	)
})
