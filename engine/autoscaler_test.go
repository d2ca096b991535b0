package engine_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// Step 9 of docs/flagger-semantics.md#steps and #autoscaler: the primary's HPA.

// withHPA is newCanary with autoscalerRef naming the HPA "podinfo".
func withHPA() *v1beta1.Canary {
	cd := newCanary()
	cd.Spec.AutoscalerRef = &v1beta1.AutoscalerReference{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: "podinfo"}
	return cd
}

// targetHPA scales the target between 2 and 4 replicas on CPU.
func targetHPA() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			MinReplicas:    ptr(int32(2)),
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(99))}},
			}},
		},
	}
}

func (f *fixture) hpa(name string) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	ExpectWithOffset(1, f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: name}, h)).To(Succeed())
	return h
}

func (f *fixture) editHPA(edit func(h *autoscalingv2.HorizontalPodAutoscaler)) {
	h := f.hpa("podinfo")
	edit(h)
	ExpectWithOffset(1, f.c.Update(f.ctx, h)).To(Succeed())
}

var _ = Describe("autoscalerRef", func() {
	It("creates <name>-primary once the primary is ready, as Flagger writes it", func() {
		f := newFixture(withHPA())
		Expect(f.c.Create(f.ctx, targetHPA())).To(Succeed())
		f.tick()
		Expect(f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: "podinfo-primary"}, &autoscalingv2.HorizontalPodAutoscaler{})).NotTo(Succeed(),
			"step 8 waits for the primary first")
		f.markReady("podinfo-primary")
		f.tick()
		p := f.hpa("podinfo-primary")
		Expect(p.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo-primary"}))
		Expect(*p.Spec.MinReplicas).To(BeEquivalentTo(2))
		Expect(p.Spec.MaxReplicas).To(BeEquivalentTo(4))
		Expect(p.Spec.Metrics).To(Equal(targetHPA().Spec.Metrics))
		Expect(p.Labels).To(Equal(map[string]string{"team": "a"}))
		Expect(p.Annotations).To(BeEmpty())
		Expect(p.OwnerReferences).To(HaveLen(1))
		Expect(p.OwnerReferences[0].Kind).To(Equal("Canary"))
	})

	It("applies primaryScalerReplicas", func() {
		cd := withHPA()
		cd.Spec.AutoscalerRef.PrimaryScalerReplicas = &v1beta1.ScalerReplicas{MinReplicas: ptr(int32(3)), MaxReplicas: ptr(int32(9))}
		f := newFixture(cd)
		Expect(f.c.Create(f.ctx, targetHPA())).To(Succeed())
		f.initialize()
		p := f.hpa("podinfo-primary")
		Expect(*p.Spec.MinReplicas).To(BeEquivalentTo(3))
		Expect(p.Spec.MaxReplicas).To(BeEquivalentTo(9))
	})

	It("keeps the primary HPA as created until the promotion, then copies the target's", func() {
		f := newFixture(withHPA())
		Expect(f.c.Create(f.ctx, targetHPA())).To(Succeed())
		f.initialize()
		f.editHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 8 })
		f.setImage(imageV2)
		for f.canary().Status.Phase != v1beta1.CanaryPhasePromoting {
			rec := f.step()
			Expect(rec.Error).To(BeEmpty())
			Expect(f.hpa("podinfo-primary").Spec.MaxReplicas).To(BeEquivalentTo(4), "at %s only a missing primary HPA is written", rec.Phase)
		}
		f.step()
		Expect(f.hpa("podinfo-primary").Spec.MaxReplicas).To(BeEquivalentTo(8))
		Expect(f.hpa("podinfo-primary").Spec.ScaleTargetRef.Name).To(Equal("podinfo-primary"))
	})

	It("copies the target's HPA after a skipped analysis's promotion", func() {
		cd := withHPA()
		cd.Spec.SkipAnalysis = true
		f := newFixture(cd)
		Expect(f.c.Create(f.ctx, targetHPA())).To(Succeed())
		f.tick()
		f.editHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr(int32(3)) })
		f.setImage(imageV2)
		f.step()
		rec := f.step()
		Expect(rec.Phase).To(Equal("Succeeded"))
		Expect(*f.hpa("podinfo-primary").Spec.MinReplicas).To(BeEquivalentTo(3))
	})

	It("scales the target up from zero to the HPA's minReplicas", func() {
		f := newFixture(withHPA())
		Expect(f.c.Create(f.ctx, targetHPA())).To(Succeed())
		f.startRevision()
		Expect(f.replicas("podinfo")).To(BeEquivalentTo(2))
	})

	It("stops every tick with Flagger's warning while the HPA is missing", func() {
		f := newFixture(withHPA())
		f.tick() // creates the primary
		for range 2 {
			f.markReady("podinfo-primary")
			rec := f.tick()
			Expect(typed(rec)).To(ContainElement(HavePrefix(`Warning|HorizontalPodAutoscaler podinfo.test get query error: `)))
			Expect(rec.Phase).To(Equal("Initializing"))
			Expect(f.virtualServiceExists()).To(BeFalse(), "the tick ends before the routes")
		}
	})

	It("refuses a ScaledObject with the message the loader shows", func() {
		cd := withHPA()
		cd.Spec.AutoscalerRef.Kind = "ScaledObject"
		f := newFixture(cd)
		rec := f.tick()
		want := `autoscalerRef kind "ScaledObject" is not supported by aviary yet (supported: HorizontalPodAutoscaler)`
		Expect(typed(rec)).To(ContainElement("Warning|" + want))
		Expect((&engine.Engine{}).Unsupported(cd)).To(ContainElement(engine.Unsupported{Field: "spec.autoscalerRef.kind", Msg: want}))
	})
})
