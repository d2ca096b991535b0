package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

var _ = Describe("Unsupported", func() {
	e := &engine.Engine{}

	It("finds nothing in a canary the engine runs", func() {
		Expect(e.Unsupported(newCanary())).To(BeEmpty())
		cd := withHPA()
		cd.Spec.Provider = "kubernetes"
		Expect(e.Unsupported(cd)).To(BeEmpty())
		cd.Spec.Provider = "no-such-mesh"
		Expect(e.Unsupported(cd)).To(BeEmpty(), "a provider Flagger does not know falls back to Istio, as in Flagger")
	})

	DescribeTable("names the field and says what is supported, in the words of the tick's warning",
		func(edit func(cd *v1beta1.Canary), field, msg string) {
			cd := newCanary()
			edit(cd)
			Expect(e.Unsupported(cd)).To(ConsistOf(engine.Unsupported{Field: field, Msg: msg}))

			f := newFixture(cd)
			f.tick()
			if f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: "podinfo-primary"}, &appsv1.Deployment{}) == nil {
				f.markReady("podinfo-primary")
			}
			rec := f.tick()
			Expect(typed(rec)).To(ContainElement("Warning|"+msg), "a run stops on the same message")
			Expect(rec.Phase).To(Equal("Initializing"))
		},
		Entry("an unrouted provider", func(cd *v1beta1.Canary) { cd.Spec.Provider = "nginx" },
			"spec.provider", `provider "nginx" is not supported by aviary yet (supported: istio, kubernetes, traefik)`),
		Entry("a versioned unrouted provider", func(cd *v1beta1.Canary) { cd.Spec.Provider = "gatewayapi:v1" },
			"spec.provider", `provider "gatewayapi:v1" is not supported by aviary yet (supported: istio, kubernetes, traefik)`),
		Entry("session affinity with Istio", func(cd *v1beta1.Canary) {
			cd.Spec.Analysis.SessionAffinity = &v1beta1.SessionAffinity{CookieName: "flagger-cookie"}
		}, "spec.analysis.sessionAffinity",
			"canary podinfo.test: analysis.sessionAffinity is not supported by aviary yet (session affinity cookies are not routed)"),
	)

	It("names a DaemonSet target", func() {
		cd := newCanary()
		cd.Spec.TargetRef.Kind = "DaemonSet"
		Expect(e.Unsupported(cd)).To(ConsistOf(engine.Unsupported{Field: "spec.targetRef.kind",
			Msg: `target kind "DaemonSet" is not supported by aviary yet (supported: Deployment)`}))
	})

	It("lists every problem", func() {
		cd := withHPA()
		cd.Spec.Provider = "linkerd"
		cd.Spec.AutoscalerRef.Kind = "ScaledObject"
		cd.Spec.TargetRef.Kind = "Service"
		Expect(e.Unsupported(cd)).To(HaveLen(3))
	})
})
