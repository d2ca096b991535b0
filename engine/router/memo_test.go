package router_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/router"
)

// memoStep is one call made on both routers.
type memoStep struct {
	reconcile       bool
	primary, canary int
	mirrored        bool
}

func reconcileStep() memoStep { return memoStep{reconcile: true} }

func setRoutesStep(primary, canary int, mirrored bool) memoStep {
	return memoStep{primary: primary, canary: canary, mirrored: mirrored}
}

// weightSteps steps the canary's weight from 0 to 100 by 10, and back to 0.
func weightSteps(mirrored bool) []memoStep {
	var steps []memoStep
	for w := 0; w <= 100; w += 10 {
		steps = append(steps, setRoutesStep(100-w, w, mirrored))
	}
	return append(steps, setRoutesStep(100, 0, false))
}

// capturingClient is newClient's fake client, remembering every object the router
// passed to Create and Update (the router's own objects, not the client's copies) in
// written (may be nil). Like an API server, and unlike the fake client, it gives each
// created object a UID (numbered in order, so two such clients agree).
func capturingClient(written *[]client.Object) client.Client {
	s := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	Expect(istio.AddToScheme(s)).To(Succeed())
	uids := 0
	capture := func(obj client.Object) {
		if written != nil {
			*written = append(*written, obj)
		}
	}
	return fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			capture(obj)
			uids++
			obj.SetUID(types.UID(fmt.Sprintf("uid-%d", uids)))
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			capture(obj)
			return c.Update(ctx, obj, opts...)
		},
	}).Build()
}

// expectSameRouting compares the VirtualService and the DestinationRules each client
// holds for cd: their specs with proto.Equal, their metadata (resourceVersion
// included, so both made the same writes) exactly, and what GetRoutes reads back.
func expectSameRouting(plain, memo *router.Istio, cd *v1beta1.Canary) {
	GinkgoHelper()
	apex, primary, canary := cd.GetServiceNames()
	for _, name := range []string{primary, canary} {
		key := types.NamespacedName{Namespace: cd.Namespace, Name: name}
		want, got := &istio.DestinationRule{}, &istio.DestinationRule{}
		Expect(plain.Client.Get(ctx, key, want)).To(Succeed())
		Expect(memo.Client.Get(ctx, key, got)).To(Succeed())
		Expect(proto.Equal(&got.Spec, &want.Spec)).To(BeTrue(), "DestinationRule %s: without a memo %v, with one %v", name, &want.Spec, &got.Spec)
		Expect(got.ObjectMeta).To(Equal(want.ObjectMeta))
	}
	key := types.NamespacedName{Namespace: cd.Namespace, Name: apex}
	want, got := &istio.VirtualService{}, &istio.VirtualService{}
	Expect(plain.Client.Get(ctx, key, want)).To(Succeed())
	Expect(memo.Client.Get(ctx, key, got)).To(Succeed())
	Expect(proto.Equal(&got.Spec, &want.Spec)).To(BeTrue(), "VirtualService: without a memo %v, with one %v", &want.Spec, &got.Spec)
	Expect(got.ObjectMeta).To(Equal(want.ObjectMeta))
	Expect(meshRoutes(memo, cd)).To(Equal(meshRoutes(plain, cd)))
}

var _ = Describe("Istio with a spec memo", func() {
	var (
		plain, memo *router.Istio
		cache       *lru.Cache
		written     []client.Object
	)
	BeforeEach(func() {
		written = nil
		cache = lru.New(256)
		plain = &router.Istio{Client: capturingClient(nil)}
		memo = &router.Istio{Client: capturingClient(&written), Memo: cache}
	})

	// run makes each step on both routers and compares what they stored after each.
	run := func(cd *v1beta1.Canary, steps []memoStep) {
		GinkgoHelper()
		for i, s := range steps {
			By(fmt.Sprintf("step %d: %+v", i, s))
			if s.reconcile {
				Expect(memo.Reconcile(ctx, cd)).To(Succeed())
				Expect(plain.Reconcile(ctx, cd)).To(Succeed())
			} else {
				Expect(memo.SetRoutes(ctx, cd, s.primary, s.canary, s.mirrored)).To(Succeed())
				Expect(plain.SetRoutes(ctx, cd, s.primary, s.canary, s.mirrored)).To(Succeed())
			}
			expectSameRouting(plain, memo, cd)
		}
	}

	DescribeTable("writes exactly what the router without a memo writes",
		func(configure func(*v1beta1.Canary), steps func() []memoStep) {
			cd := newCanary()
			cd.Generation = 1 // as read from an API server: the memo remembers verdicts
			configure(cd)
			all := append([]memoStep{reconcileStep()}, steps()...)
			all = append(all, reconcileStep())
			// twice: the second pass is served from the memo
			run(cd, all)
			run(cd, all)
			Expect(cache.Len()).To(BeNumerically(">", 0))

			// a change of the service's options (a new generation) resets the routes alike
			cd.Spec.Service.Timeout = "7s"
			cd.Generation++
			run(cd, []memoStep{reconcileStep(), setRoutesStep(50, 50, false), reconcileStep()})

			// and so does a VirtualService changed by someone else, routes included
			for _, r := range []*router.Istio{plain, memo} {
				vs := getVS(r.Client)
				vs.Spec.Hosts = []string{"elsewhere"}
				vs.Spec.Http[0].Timeout = durationpb.New(99 * time.Second)
				Expect(r.Client.Update(ctx, vs)).To(Succeed())
			}
			run(cd, []memoStep{setRoutesStep(60, 40, false)})
			Expect(getVS(memo.Client).Spec.GetHttp()[0].GetTimeout().AsDuration()).To(Equal(7*time.Second),
				"SetRoutes builds the routes from the canary again")
			run(cd, []memoStep{reconcileStep(), setRoutesStep(50, 50, false), reconcileStep()})
			Expect(getVS(memo.Client).Spec.GetHosts()).NotTo(ContainElement("elsewhere"))
		},
		Entry("a weighted canary", func(*v1beta1.Canary) {}, func() []memoStep { return weightSteps(false) }),
		Entry("an A/B canary (analysis.match)", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: 10, Match: []v1beta1.HTTPMatchRequest{
				{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}},
				{Headers: map[string]v1beta1.StringMatch{"cookie": {Regex: "^(.*?;)?(canary=always)(;.*)?$"}}},
			}}
		}, func() []memoStep {
			return []memoStep{setRoutesStep(0, 100, false), setRoutesStep(100, 0, false), setRoutesStep(0, 100, false)}
		}),
		Entry("an A/B canary with service.match", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: 10, Match: []v1beta1.HTTPMatchRequest{
				{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}},
			}}
			cd.Spec.Service.Match = []v1beta1.HTTPMatchRequest{{URI: &v1beta1.StringMatch{Prefix: "/api"}}, {URI: &v1beta1.StringMatch{Prefix: "/v2"}}}
		}, func() []memoStep { return []memoStep{setRoutesStep(0, 100, false), setRoutesStep(100, 0, false)} }),
		Entry("mirroring (analysis.mirrorWeight)", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis = &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, StepWeight: 10, Mirror: true, MirrorWeight: 25}
		}, func() []memoStep {
			return append([]memoStep{setRoutesStep(100, 0, true), setRoutesStep(100, 0, false)}, weightSteps(true)...)
		}),
		Entry("service match, retries, timeout, corsPolicy, headers, rewrite and a traffic policy", func(cd *v1beta1.Canary) {
			svc := &cd.Spec.Service
			svc.Match = []v1beta1.HTTPMatchRequest{{URI: &v1beta1.StringMatch{Prefix: "/api"}, Method: &v1beta1.StringMatch{Exact: "GET"}}}
			svc.Retries = &v1beta1.HTTPRetry{Attempts: 3, PerTryTimeout: "1s", RetryOn: "gateway-error,connect-failure"}
			svc.Timeout = "30s"
			svc.CorsPolicy = &v1beta1.CorsPolicy{
				AllowOrigins:  []v1beta1.StringMatch{{Exact: "https://example.com"}},
				AllowMethods:  []string{"GET", "POST"},
				AllowHeaders:  []string{"x-token"},
				MaxAge:        "24h",
				ExposeHeaders: []string{"x-version"},
			}
			svc.Headers = &v1beta1.Headers{
				Request:  &v1beta1.HeaderOperations{Set: map[string]string{"x-env": "prod"}, Add: map[string]string{"x-a": "1"}},
				Response: &v1beta1.HeaderOperations{Remove: []string{"x-internal"}},
			}
			svc.Rewrite = &v1beta1.HTTPRewrite{URI: "/", Authority: "podinfo.internal"}
			svc.TrafficPolicy = &v1beta1.TrafficPolicy{TLS: &v1beta1.ClientTLSSettings{Mode: "ISTIO_MUTUAL"}}
			svc.Hosts = []string{"app.example.com"}
			svc.Gateways = []string{"public-gateway"}
			svc.PortDiscovery = true
		}, func() []memoStep { return weightSteps(false) }),
	)

	It("holds one VirtualService spec per route shape, not one per weight", func() {
		cd := newCanary()
		run(cd, append([]memoStep{reconcileStep()}, weightSteps(false)...))
		// the two DestinationRules and the one shape of the VirtualService
		Expect(cache.Len()).To(Equal(3))
	})

	It("keeps canaries apart when they share a memo", func() {
		other := &router.Istio{Client: memo.Client, Memo: cache}
		plainOther := &router.Istio{Client: plain.Client}
		a, b := newCanary(), newCanary()
		a.Generation, b.Generation = 1, 1
		b.UID = "backend-uid"
		b.Name = "backend"
		b.Spec.TargetRef.Name = "backend"
		b.Spec.Service.Timeout = "3s"
		for _, r := range []*router.Istio{plain, memo} {
			Expect(r.Reconcile(ctx, a)).To(Succeed())
		}
		for _, r := range []*router.Istio{plainOther, other} {
			Expect(r.Reconcile(ctx, b)).To(Succeed())
		}
		for _, w := range []int{10, 20} {
			Expect(memo.SetRoutes(ctx, a, 100-w, w, false)).To(Succeed())
			Expect(plain.SetRoutes(ctx, a, 100-w, w, false)).To(Succeed())
			Expect(other.SetRoutes(ctx, b, 100-2*w, 2*w, false)).To(Succeed())
			Expect(plainOther.SetRoutes(ctx, b, 100-2*w, 2*w, false)).To(Succeed())
			expectSameRouting(plain, memo, a)
			expectSameRouting(plainOther, other, b)
		}
		Expect(meshRoutes(other, b)).To(Equal(routes(60, 40)))
	})

	It("hands out copies: changing a spec it returned changes nothing it returns later", func() {
		cd := newCanary()
		cd.Spec.Service.Retries = &v1beta1.HTTPRetry{Attempts: 3, PerTryTimeout: "1s"}
		cd.Spec.Service.Match = []v1beta1.HTTPMatchRequest{{URI: &v1beta1.StringMatch{Prefix: "/api"}}}
		cd.Spec.Service.TrafficPolicy = &v1beta1.TrafficPolicy{LoadBalancer: &v1beta1.LoadBalancerSettings{Simple: "LEAST_REQUEST"}}
		cd.Spec.Analysis.Mirror = true
		cd.Spec.Analysis.MirrorWeight = 50
		// Reconcile builds the unmirrored shape first, SetRoutes the mirrored one
		steps := []memoStep{reconcileStep(), setRoutesStep(90, 10, true), setRoutesStep(80, 20, false), setRoutesStep(70, 30, true)}
		run(cd, steps)
		Expect(written).NotTo(BeEmpty())

		// change, in place, every spec the memo router handed to its client
		for _, obj := range written {
			switch o := obj.(type) {
			case *istio.VirtualService:
				for i := range o.Spec.Hosts {
					o.Spec.Hosts[i] = "mutated"
				}
				for _, h := range o.Spec.Http {
					h.Retries.Attempts = 99
					h.Match[0].Uri = nil
					for _, d := range h.Route {
						d.Destination.Host = "mutated"
						d.Weight = 1
					}
				}
			case *istio.DestinationRule:
				o.Spec.Host = "mutated"
				o.Spec.TrafficPolicy.LoadBalancer = nil
			}
		}
		written = nil

		// the same inputs again, and on a fresh store (so that everything is written)
		run(cd, []memoStep{setRoutesStep(90, 10, true), setRoutesStep(80, 20, false), reconcileStep()})
		plain.Client, memo.Client = capturingClient(nil), capturingClient(&written)
		run(cd, steps)
		Expect(written).NotTo(BeEmpty())
		vs := getVS(memo.Client)
		Expect(vs.Spec.GetHttp()[0].GetRoute()[0].GetDestination().GetHost()).To(Equal("podinfo-primary"))
		Expect(vs.Spec.GetHttp()[0].GetRetries().GetAttempts()).To(Equal(int32(3)))
	})
})
