package sim

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	istioapi "istio.io/api/networking/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/world"
)

var _ = ginkgo.Describe("the traffic split of provider traefik", func() {
	ctx := context.Background()
	service := func(name, ns string, port intstr.IntOrString, weight *int) traefik.Service {
		return traefik.Service{LoadBalancerSpec: traefik.LoadBalancerSpec{Name: name, Namespace: ns, Port: port, Weight: weight}}
	}
	w := func(n int) *int { return &n }
	port80 := intstr.FromInt32(80)

	ginkgo.DescribeTable("is the TraefikService's weighted round robin, as Traefik applies it",
		func(spec traefik.TraefikServiceSpec, want world.Routing) {
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			c := cluster.NewFakeClient(s, nil)
			cd := &v1beta1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
				Spec: v1beta1.CanarySpec{Provider: "traefik", TargetRef: v1beta1.LocalObjectReference{Name: "podinfo"}}}
			r := &Stage{canary: cd, client: c, namespace: "test"}
			Expect(c.Create(ctx, &traefik.TraefikService{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}, Spec: spec})).To(Succeed())
			got, err := r.Routing(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		ginkgo.Entry("Flagger's primary and canary",
			traefik.TraefikServiceSpec{Weighted: &traefik.WeightedRoundRobin{Services: []traefik.Service{
				service("podinfo-primary", "test", port80, w(90)), service("podinfo-canary", "test", port80, w(10))}}},
			world.Routing{PrimaryWeight: 90, CanaryWeight: 10, WeightTotal: 100,
				TraefikPrimary: "test-podinfo-primary-80@kubernetescrd", TraefikCanary: "test-podinfo-canary-80@kubernetescrd"}),
		ginkgo.Entry("a service without a weight weighs 1 (Flagger's primary at 0)",
			traefik.TraefikServiceSpec{Weighted: &traefik.WeightedRoundRobin{Services: []traefik.Service{
				service("podinfo-primary", "test", port80, nil), service("podinfo-canary", "test", port80, w(100))}}},
			world.Routing{PrimaryWeight: 1, CanaryWeight: 100, WeightTotal: 101,
				TraefikPrimary: "test-podinfo-primary-80@kubernetescrd", TraefikCanary: "test-podinfo-canary-80@kubernetescrd"}),
		ginkgo.Entry("other services take their share; a TraefikService or another namespace's Service is not the canary's",
			traefik.TraefikServiceSpec{Weighted: &traefik.WeightedRoundRobin{Services: []traefik.Service{
				service("podinfo-primary", "", intstr.FromString("http"), w(50)),
				service("legacy", "test", port80, w(30)),
				{LoadBalancerSpec: traefik.LoadBalancerSpec{Name: "podinfo-canary", Kind: "TraefikService", Weight: w(10)}},
				service("podinfo-canary", "elsewhere", port80, w(10))}}},
			world.Routing{PrimaryWeight: 50, WeightTotal: 100, TraefikPrimary: "test-podinfo-primary-http@kubernetescrd"}),
		ginkgo.Entry("no weighted round robin: nothing routed",
			traefik.TraefikServiceSpec{Mirroring: &traefik.Mirroring{LoadBalancerSpec: traefik.LoadBalancerSpec{Name: "podinfo-primary"}}},
			world.Routing{}),
	)
})

var _ = ginkgo.Describe("the traffic split of provider istio", func() {
	ctx := context.Background()
	dest := func(host string, weight int32) *istioapi.HTTPRouteDestination {
		return &istioapi.HTTPRouteDestination{Destination: &istioapi.Destination{Host: host}, Weight: weight}
	}

	ginkgo.DescribeTable("is the VirtualService's, as Istio applies it",
		func(http []*istioapi.HTTPRoute, want world.Routing) {
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			c := cluster.NewFakeClient(s, nil)
			cd := &v1beta1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
				Spec: v1beta1.CanarySpec{TargetRef: v1beta1.LocalObjectReference{Name: "podinfo"}}}
			r := &Stage{canary: cd, client: c, namespace: "test"}
			vs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
			vs.Spec.Http = http
			Expect(c.Create(ctx, vs)).To(Succeed())
			got, err := r.Routing(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		ginkgo.Entry("weighted primary and canary",
			[]*istioapi.HTTPRoute{{Route: []*istioapi.HTTPRouteDestination{dest("podinfo-primary", 90), dest("podinfo-canary", 10)}}},
			world.Routing{PrimaryWeight: 90, CanaryWeight: 10}),
		ginkgo.Entry("Flagger's A/B routes: the default route's only destination takes all its traffic, though Flagger writes it at weight 0",
			[]*istioapi.HTTPRoute{
				{Match: []*istioapi.HTTPMatchRequest{{Name: "x"}},
					Route: []*istioapi.HTTPRouteDestination{dest("podinfo-primary", 0), dest("podinfo-canary", 100)}},
				{Route: []*istioapi.HTTPRouteDestination{dest("podinfo-primary", 0)}}},
			world.Routing{PrimaryWeight: 100, HasMatch: true, MatchCanaryWeight: 100}),
	)
})
