package workload_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/workload"
)

var _ = Describe("HPA", func() {
	canary := func() *v1beta1.Canary {
		cd := newCanary()
		cd.Spec.AutoscalerRef = &v1beta1.AutoscalerReference{APIVersion: "autoscaling/v2", Kind: workload.HPAKind, Name: "podinfo-hpa"}
		return cd
	}
	target := func() *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo-hpa", Namespace: ns,
				Labels: map[string]string{"team": "a", "kustomize.toolkit.fluxcd.io/name": "apps"}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
				MaxReplicas:    4,
			},
		}
	}
	get := func(c client.Client, name string) *autoscalingv2.HorizontalPodAutoscaler {
		GinkgoHelper()
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, h)).To(Succeed())
		return h
	}

	It("does nothing without autoscalerRef", func() {
		c := newClient()
		Expect((&workload.HPA{Client: c}).ReconcilePrimary(ctx, newCanary(), true)).To(Succeed())
	})

	It("names the HPA it cannot read, as Flagger does", func() {
		err := (&workload.HPA{Client: newClient()}).ReconcilePrimary(ctx, canary(), true)
		Expect(err).To(MatchError(HavePrefix("HorizontalPodAutoscaler podinfo-hpa.test get query error: ")))
	})

	It("creates the primary HPA without Flux labels, and leaves it alone when init", func() {
		c := newClient(target())
		h := &workload.HPA{Client: c}
		Expect(h.ReconcilePrimary(ctx, canary(), true)).To(Succeed())
		p := get(c, "podinfo-hpa-primary")
		Expect(p.Labels).To(Equal(map[string]string{"team": "a"}))
		Expect(p.Spec.ScaleTargetRef.Name).To(Equal("podinfo-primary"))
		Expect(p.Spec.MinReplicas).To(BeNil(), "copied as written; the API server would default it to 1")

		t := get(c, "podinfo-hpa")
		t.Spec.MaxReplicas = 6
		Expect(c.Update(ctx, t)).To(Succeed())
		Expect(h.ReconcilePrimary(ctx, canary(), true)).To(Succeed())
		Expect(get(c, "podinfo-hpa-primary").Spec.MaxReplicas).To(BeEquivalentTo(4))
		Expect(h.ReconcilePrimary(ctx, canary(), false)).To(Succeed())
		Expect(get(c, "podinfo-hpa-primary").Spec.MaxReplicas).To(BeEquivalentTo(6))
	})

	It("counts a nil minReplicas as 1", func() {
		c := newClient(target())
		h := &workload.HPA{Client: c}
		Expect(h.ReconcilePrimary(ctx, canary(), true)).To(Succeed())
		p := get(c, "podinfo-hpa-primary")
		p.Spec.MinReplicas = ptr(int32(1))
		p.Labels = map[string]string{"team": "a", "kustomize.toolkit.fluxcd.io/name": "apps"}
		Expect(c.Update(ctx, p)).To(Succeed())
		before := get(c, "podinfo-hpa-primary").ResourceVersion
		Expect(h.ReconcilePrimary(ctx, canary(), false)).To(Succeed())
		Expect(get(c, "podinfo-hpa-primary").ResourceVersion).To(Equal(before), "nothing differs")
	})

	It("rewrites the spec but never the metadata when only labels or annotations differ (Flagger passes the metadata by value)", func() {
		tg := target()
		tg.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
		c := newClient(tg)
		h := &workload.HPA{Client: c}
		Expect(h.ReconcilePrimary(ctx, canary(), true)).To(Succeed())
		before := get(c, "podinfo-hpa-primary")
		Expect(h.ReconcilePrimary(ctx, canary(), false)).To(Succeed())
		after := get(c, "podinfo-hpa-primary")
		Expect(after.ResourceVersion).NotTo(Equal(before.ResourceVersion), "the annotations differ, so Flagger updates")
		Expect(after.Annotations).To(BeEmpty())
		Expect(after.Labels).To(Equal(map[string]string{"team": "a"}))
	})
})
