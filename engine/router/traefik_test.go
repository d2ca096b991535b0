package router_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/router"
)

func getTS(c client.Client) *traefik.TraefikService {
	GinkgoHelper()
	ts := &traefik.TraefikService{}
	Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "podinfo"}, ts)).To(Succeed())
	return ts
}

// tsSpecJSON is the TraefikService's spec as it is sent to the API server.
func tsSpecJSON(ts *traefik.TraefikService) string {
	GinkgoHelper()
	b, err := json.Marshal(&ts.Spec)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// The cases of Flagger 1.44's pkg/router/traefik_test.go, the wire format of its
// types, and the quirks of its reconcile.
var _ = Describe("Traefik", func() {
	var (
		c  client.Client
		r  *router.Traefik
		cd *v1beta1.Canary
	)
	BeforeEach(func() {
		c = newClient()
		r = &router.Traefik{Client: c}
		cd = newCanary()
		cd.Spec.Provider = "traefik"
	})

	It("creates a TraefikService weighting the primary 100, with the apex metadata and the Flux opt-outs", func() {
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{
			Labels:      map[string]string{"test": "label"},
			Annotations: map[string]string{"test": "annotation"},
		}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		ts := getTS(c)
		Expect(tsSpecJSON(ts)).To(MatchJSON(`{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":100}]}}`))
		Expect(ts.Labels).To(Equal(map[string]string{"test": "label"}))
		Expect(ts.Annotations).To(Equal(map[string]string{
			"test":                                  "annotation",
			"kustomize.toolkit.fluxcd.io/reconcile": "disabled",
			"helm.toolkit.fluxcd.io/driftDetection": "disabled",
		}))
		Expect(ts.OwnerReferences).To(HaveLen(1))
		Expect(ts.OwnerReferences[0].Kind).To(Equal("Canary"))
		Expect(*ts.OwnerReferences[0].Controller).To(BeTrue())
		Expect(meshRoutes(r, cd)).To(Equal(routes(100, 0)))
	})

	DescribeTable("SetRoutes writes the primary, and the canary when its weight is positive (weight 0 left out)",
		func(primary, canary int, want string) {
			Expect(r.Reconcile(ctx, cd)).To(Succeed())
			Expect(r.SetRoutes(ctx, cd, primary, canary, false)).To(Succeed())
			Expect(tsSpecJSON(getTS(c))).To(MatchJSON(want))
			Expect(meshRoutes(r, cd)).To(Equal(routes(primary, canary)))
		},
		Entry("0%", 100, 0, `{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":100}]}}`),
		Entry("20%", 80, 20, `{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":80},{"name":"podinfo-canary","namespace":"test","port":9898,"weight":20}]}}`),
		Entry("60%", 40, 60, `{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":40},{"name":"podinfo-canary","namespace":"test","port":9898,"weight":60}]}}`),
		Entry("100%: the primary without a weight, which Traefik takes as 1", 0, 100,
			`{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898},{"name":"podinfo-canary","namespace":"test","port":9898,"weight":100}]}}`),
	)

	It("never mirrors: SetRoutes ignores mirrored and GetRoutes reports none", func() {
		Expect(r.CanMirror(cd)).To(BeFalse())
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 100, 0, true)).To(Succeed())
		Expect(tsSpecJSON(getTS(c))).NotTo(ContainSubstring("mirror"))
		Expect(meshRoutes(r, cd)).To(Equal(routes(100, 0)))
	})

	DescribeTable("Reconcile keeps the weights while the services, labels and annotations are as wanted",
		func(primary, canary, services int) {
			Expect(r.Reconcile(ctx, cd)).To(Succeed())
			Expect(r.SetRoutes(ctx, cd, primary, canary, false)).To(Succeed())
			before := getTS(c).ResourceVersion
			Expect(r.Reconcile(ctx, cd)).To(Succeed())
			ts := getTS(c)
			Expect(ts.ResourceVersion).To(Equal(before), "nothing written")
			Expect(ts.Spec.Weighted.Services).To(HaveLen(services))
			Expect(meshRoutes(r, cd)).To(Equal(routes(primary, canary)))
		},
		Entry("canary progressing", 60, 40, 2),
		Entry("canary not progressing", 100, 0, 1),
	)

	It("replaces spec and metadata when the apex labels change: weights reset to 100 and, with two services, 100", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 70, 30, false)).To(Succeed())
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"team": "a"}}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		ts := getTS(c)
		Expect(ts.Labels).To(Equal(map[string]string{"team": "a"}))
		Expect(tsSpecJSON(ts)).To(MatchJSON(`{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":100},{"name":"podinfo-canary","namespace":"test","port":9898,"weight":100}]}}`))
		// GetRoutes reads the primary's weight only: the engine sees 100/0, Traefik splits 1:1
		Expect(meshRoutes(r, cd)).To(Equal(routes(100, 0)))
	})

	It("replaces a spec whose services differ (a new port), and drops what Flagger's types do not know", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		ts := getTS(c)
		ts.Spec.Weighted.Sticky = &traefik.Sticky{Cookie: &traefik.Cookie{Name: "lb"}}
		ts.Spec.Weighted.Services[0].Kind = "Service"
		Expect(c.Update(ctx, ts)).To(Succeed())
		before := getTS(c).ResourceVersion
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getTS(c).ResourceVersion).To(Equal(before), "fields Flagger cannot see make no difference")

		cd.Spec.Service.Port = 80
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(tsSpecJSON(getTS(c))).To(MatchJSON(`{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":80,"weight":100}]}}`))
	})

	It("replaces a service list in another order, or a port by name", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(r.SetRoutes(ctx, cd, 60, 40, false)).To(Succeed())
		ts := getTS(c)
		s := ts.Spec.Weighted.Services
		s[0], s[1] = s[1], s[0]
		Expect(c.Update(ctx, ts)).To(Succeed())
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getTS(c).Spec.Weighted.Services[0].Name).To(Equal("podinfo-primary"))

		ts = getTS(c)
		ts.Spec.Weighted.Services = ts.Spec.Weighted.Services[:1]
		ts.Spec.Weighted.Services[0].Port = intstr.FromString("http")
		Expect(c.Update(ctx, ts)).To(Succeed())
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getTS(c).Spec.Weighted.Services[0].Port).To(Equal(intstr.FromInt32(9898)))
	})

	It("treats a TraefikService without weighted services as one to replace, where Flagger dereferences nil", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		ts := getTS(c)
		ts.Spec = traefik.TraefikServiceSpec{Mirroring: &traefik.Mirroring{LoadBalancerSpec: traefik.LoadBalancerSpec{Name: "podinfo-primary"}}}
		Expect(c.Update(ctx, ts)).To(Succeed())
		_, _, _, err := r.GetRoutes(ctx, cd)
		Expect(err).To(MatchError("TraefikService podinfo.test services not found"))
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(tsSpecJSON(getTS(c))).To(MatchJSON(`{"weighted":{"services":[{"name":"podinfo-primary","namespace":"test","port":9898,"weight":100}]}}`))
	})

	It("reports 0/0 without an error when no service is the primary, as Flagger", func() {
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		ts := getTS(c)
		ts.Spec.Weighted.Services[0].Name = "elsewhere"
		Expect(c.Update(ctx, ts)).To(Succeed())
		Expect(meshRoutes(r, cd)).To(Equal(routes(0, 0)))
	})

	It("fails with Flagger's messages", func() {
		_, _, _, err := r.GetRoutes(ctx, cd)
		Expect(err).To(MatchError(HavePrefix("TraefikService podinfo.test query error: ")))
		Expect(r.SetRoutes(ctx, cd, 90, 10, false)).To(MatchError(HavePrefix("TraefikService podinfo.test query error: ")))
		Expect(r.SetRoutes(ctx, cd, 0, 0, false)).To(MatchError("RoutingRule podinfo.test update failed: no valid weights"))
	})
})
