package workload_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/workload"
)

var _ = Describe("Deployments", func() {
	Describe("Initialize", func() {
		It("creates <target>-primary with the primary selector label, the template and the target's replicas", func() {
			c := newClient(newTarget(ptr(int32(3))))
			d := newDeployments(c)
			Expect(d.Initialize(ctx, newCanary())).To(Succeed())

			p := getDeployment(c, "podinfo-primary")
			Expect(p.Labels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(p.Annotations).To(Equal(map[string]string{"note": "x"}), "Flux ownership annotations are dropped")
			Expect(p.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(p.Spec.Template.Labels).To(Equal(map[string]string{"app": "podinfo-primary", "version": "v1"}))
			Expect(p.Spec.Template.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"))
			Expect(p.Spec.Template.Annotations).To(HaveKeyWithValue("flagger-id", MatchRegexp(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)))
			Expect(p.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:6.0.0"))
			Expect(*p.Spec.Replicas).To(Equal(int32(3)))
			Expect(*p.Spec.ProgressDeadlineSeconds).To(Equal(int32(120)))
			Expect(p.OwnerReferences).To(HaveLen(1))
			Expect(p.OwnerReferences[0].Kind).To(Equal("Canary"))
			Expect(p.OwnerReferences[0].Name).To(Equal("podinfo"))
			Expect(*p.OwnerReferences[0].Controller).To(BeTrue())
		})

		It("defaults the primary's replicas to 1 when the target has none or zero", func() {
			for _, replicas := range []*int32{nil, ptr(int32(0))} {
				c := newClient(newTarget(replicas))
				Expect(newDeployments(c).Initialize(ctx, newCanary())).To(Succeed())
				Expect(*getDeployment(c, "podinfo-primary").Spec.Replicas).To(Equal(int32(1)))
			}
		})

		It("uses the configured selector labels in order", func() {
			target := newTarget(nil)
			target.Spec.Selector.MatchLabels = map[string]string{"name": "pi", "app.kubernetes.io/name": "other"}
			c := newClient(target)
			d := newDeployments(c)
			d.SelectorLabels = []string{"app.kubernetes.io/name", "name"}
			Expect(d.Initialize(ctx, newCanary())).To(Succeed())
			Expect(getDeployment(c, "podinfo-primary").Spec.Selector.MatchLabels).To(Equal(map[string]string{"app.kubernetes.io/name": "other-primary"}))
		})

		It("leaves an existing primary alone", func() {
			c := newClient(newTarget(ptr(int32(2))))
			d := newDeployments(c)
			Expect(d.Initialize(ctx, newCanary())).To(Succeed())
			before := getDeployment(c, "podinfo-primary")

			target := getDeployment(c, "podinfo")
			target.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
			Expect(c.Update(ctx, target)).To(Succeed())
			Expect(d.Initialize(ctx, newCanary())).To(Succeed())

			after := getDeployment(c, "podinfo-primary")
			Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
			Expect(after.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:6.0.0"))
		})

		It("fails when the target has no selector label", func() {
			target := newTarget(nil)
			target.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
			err := newDeployments(newClient(target)).Initialize(ctx, newCanary())
			Expect(err).To(MatchError("createPrimaryDeployment failed: getSelectorLabel failed: deployment podinfo.test spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]"))
		})
	})

	Describe("Metadata", func() {
		It("returns the selector label and value, and no ports without port discovery", func() {
			key, value, ports, err := newDeployments(newClient(newTarget(nil))).Metadata(ctx, newCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(key).To(Equal("app"))
			Expect(value).To(Equal("podinfo"))
			Expect(ports).To(BeNil())
		})

		It("discovers the other container ports, skipping the service port and sidecars", func() {
			cd := newCanary()
			cd.Spec.Service.PortDiscovery = true
			_, _, ports, err := newDeployments(newClient(newTarget(nil))).Metadata(ctx, cd)
			Expect(err).NotTo(HaveOccurred())
			Expect(ports).To(Equal(map[string]int32{"http-metrics": 9797, "tcp-podinfod-2": 9999}))

			cd.Spec.Service.TargetPort = intstr.FromString("http-metrics")
			_, _, ports, err = newDeployments(newClient(newTarget(nil))).Metadata(ctx, cd)
			Expect(err).NotTo(HaveOccurred())
			Expect(ports).To(Equal(map[string]int32{"http": 9898, "tcp-podinfod-2": 9999}))
		})

		It("fails with Flagger's message when no selector label is found", func() {
			target := newTarget(nil)
			target.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
			_, _, _, err := newDeployments(newClient(target)).Metadata(ctx, newCanary())
			Expect(err).To(MatchError("getSelectorLabel failed: deployment podinfo.test spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]"))
		})
	})

	Describe("scaling", func() {
		It("scales the target to zero", func() {
			c := newClient(newTarget(ptr(int32(3))))
			Expect(newDeployments(c).ScaleToZero(ctx, newCanary())).To(Succeed())
			Expect(*getDeployment(c, "podinfo").Spec.Replicas).To(Equal(int32(0)))
		})

		DescribeTable("ScaleFromZero",
			func(targetReplicas, primaryReplicas *int32, want int32) {
				primary := newTarget(primaryReplicas)
				primary.Name = "podinfo-primary"
				c := newClient(newTarget(targetReplicas), primary)
				Expect(newDeployments(c).ScaleFromZero(ctx, newCanary())).To(Succeed())
				Expect(*getDeployment(c, "podinfo").Spec.Replicas).To(Equal(want))
			},
			Entry("takes the primary's replicas", ptr(int32(0)), ptr(int32(4)), int32(4)),
			Entry("keeps the target's own positive replicas", ptr(int32(2)), ptr(int32(4)), int32(2)),
			Entry("at least 1 when the primary has none", ptr(int32(0)), ptr(int32(0)), int32(1)),
			Entry("unset target replicas take the primary's", nil, ptr(int32(5)), int32(5)),
		)
	})

	Describe("Promote", func() {
		It("copies the target's template to the primary, keeping the primary's selector label", func() {
			c := newClient(newTarget(ptr(int32(2))))
			clk := clocktesting.NewFakeClock(t0)
			d := &workload.Deployments{Client: c, Clock: clk, ConfigTracking: true}
			cd := newCanary()
			Expect(d.Initialize(ctx, cd)).To(Succeed())
			idBefore := getDeployment(c, "podinfo-primary").Spec.Template.Annotations["flagger-id"]

			target := getDeployment(c, "podinfo")
			target.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
			target.Spec.Template.Labels["version"] = "v2"
			target.Spec.Replicas = ptr(int32(5))
			target.Spec.ProgressDeadlineSeconds = ptr(int32(300))
			Expect(c.Update(ctx, target)).To(Succeed())
			clk.Step(time.Minute)
			Expect(d.Promote(ctx, cd)).To(Succeed())

			p := getDeployment(c, "podinfo-primary")
			Expect(p.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:6.0.1"))
			Expect(p.Spec.Template.Labels).To(Equal(map[string]string{"app": "podinfo-primary", "version": "v2"}))
			Expect(p.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(p.Labels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(*p.Spec.Replicas).To(Equal(int32(5)), "without an autoscaler the primary takes the target's replicas")
			Expect(*p.Spec.ProgressDeadlineSeconds).To(Equal(int32(300)))
			Expect(p.Spec.Template.Annotations["flagger-id"]).NotTo(BeEmpty())
			Expect(p.Spec.Template.Annotations["flagger-id"]).NotTo(Equal(idBefore), "a new id forces a rolling update")
		})

		It("keeps the primary's replicas when an autoscaler is set", func() {
			c := newClient(newTarget(ptr(int32(2))))
			d := newDeployments(c)
			cd := newCanary()
			Expect(d.Initialize(ctx, cd)).To(Succeed())
			cd.Spec.AutoscalerRef = &v1beta1.AutoscalerRefernce{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: "podinfo"}
			Expect(d.ScaleToZero(ctx, cd)).To(Succeed())
			Expect(d.Promote(ctx, cd)).To(Succeed())
			Expect(*getDeployment(c, "podinfo-primary").Spec.Replicas).To(Equal(int32(2)))
		})

		It("renames selector values naming the target in anti-affinity and topology spread", func() {
			target := newTarget(nil)
			sel := func() *metav1.LabelSelector {
				return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo"}}
			}
			target.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel()}}
			target.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: "host", LabelSelector: sel()}},
			}}
			c := newClient(target)
			Expect(newDeployments(c).Initialize(ctx, newCanary())).To(Succeed())
			p := getDeployment(c, "podinfo-primary").Spec.Template.Spec
			Expect(p.TopologySpreadConstraints[0].LabelSelector.MatchLabels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(p.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels).To(Equal(map[string]string{"app": "podinfo-primary"}))
			Expect(getDeployment(c, "podinfo").Spec.Template.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels).To(Equal(map[string]string{"app": "podinfo"}), "the target is untouched")
		})
	})

	Describe("Hash", func() {
		It("is stable and changes when the image changes", func() {
			c := newClient(newTarget(ptr(int32(1))))
			d := newDeployments(c)
			h1, err := d.Hash(ctx, newCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(h1).To(Equal(mustTemplateHash(getDeployment(c, "podinfo"))))
			h2, err := d.Hash(ctx, newCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(h2).To(Equal(h1))

			target := getDeployment(c, "podinfo")
			target.Spec.Replicas = ptr(int32(7))
			Expect(c.Update(ctx, target)).To(Succeed())
			h3, err := d.Hash(ctx, newCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(h3).To(Equal(h1), "only the pod template is hashed")

			target = getDeployment(c, "podinfo")
			target.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
			Expect(c.Update(ctx, target)).To(Succeed())
			h4, err := d.Hash(ctx, newCanary())
			Expect(err).NotTo(HaveOccurred())
			Expect(h4).NotTo(Equal(h1))
		})
	})
})
