package scenario_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/sim/scenario"
)

// objectsOf returns the loaded objects of one Go type, in order.
func objectsOf[T client.Object](ld *scenario.Loaded) []T {
	var out []T
	for _, o := range ld.Objects {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

var _ = Describe("the user's own manifests", func() {
	It("takes the target Deployment as the target, and every other object as written", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "manifests.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Target).NotTo(BeNil())
		Expect(ld.Target.Name).To(Equal("frontend"))
		Expect(ld.Target.Namespace).To(Equal("production"))
		Expect(ld.Target.Spec.MinReadySeconds).To(BeEquivalentTo(5))
		Expect(ld.Target.Spec.Template.Spec.Containers[0].ReadinessProbe.InitialDelaySeconds).To(BeEquivalentTo(5))
		Expect(ld.Target.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String()).To(Equal("100m"))
		t := ld.Scenario.Spec.Target
		Expect(t.Image).To(Equal("registry.example/frontend:1.0.0"), "spec.target.image is the Deployment's")
		Expect(*t.Replicas).To(BeEquivalentTo(3), "spec.target.replicas may repeat the Deployment's")
		Expect(ld.ReadinessFromProbes).To(BeTrue(), "no startupDelay written")

		Expect(ld.Objects).To(HaveLen(4))
		Expect(objectsOf[*appsv1.Deployment](ld)).To(BeEmpty(), "the target is not among the other objects")
		svc := objectsOf[*corev1.Service](ld)
		Expect(svc).To(HaveLen(1))
		Expect(svc[0].Spec.Selector).To(Equal(map[string]string{"app": "frontend"}))

		cm := objectsOf[*corev1.ConfigMap](ld)
		Expect(cm).To(HaveLen(1))
		Expect(cm[0].Data).To(Equal(map[string]string{"LOG_LEVEL": "info"}))
		sec := objectsOf[*corev1.Secret](ld)
		Expect(sec).To(HaveLen(1))
		Expect(sec[0].Data).To(Equal(map[string][]byte{"token": []byte("s3cr3t"), "extra": []byte("plain")}), "stringData merged as the API server does")
		Expect(sec[0].StringData).To(BeNil())
		Expect(sec[0].Type).To(Equal(corev1.SecretTypeOpaque))

		tl := ld.Scenario.Spec.Timeline
		Expect(tl[0].ConfigMap.Data).To(Equal(map[string]string{"LOG_LEVEL": "debug"}))
		Expect(tl[1].Secret.SecretData()).To(Equal(map[string][]byte{"token": []byte("new"), "extra": []byte("more")}))
	})

	It("converts an autoscaling/v2beta1 HPA as the API server did, and says so", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "manifests.yaml"))
		Expect(err).NotTo(HaveOccurred())
		hpas := objectsOf[*autoscalingv2.HorizontalPodAutoscaler](ld)
		Expect(hpas).To(HaveLen(1))
		h := hpas[0]
		Expect(h.Spec.ScaleTargetRef.Name).To(Equal("frontend"))
		Expect(*h.Spec.MinReplicas).To(BeEquivalentTo(2))
		Expect(h.Spec.Metrics).To(HaveLen(3))
		Expect(h.Spec.Metrics[0].Resource.Target).To(Equal(autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptrTo(int32(80))}))
		hundred, thirty := resource.MustParse("100"), resource.MustParse("30")
		Expect(h.Spec.Metrics[1].Pods.Metric.Name).To(Equal("requests_per_second"))
		Expect(h.Spec.Metrics[1].Pods.Target).To(Equal(autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &hundred}))
		Expect(h.Spec.Metrics[2].External.Metric.Name).To(Equal("queue_depth"))
		Expect(h.Spec.Metrics[2].External.Target).To(Equal(autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &thirty}))
		Expect(ld.Warnings).To(ConsistOf(And(
			HavePrefix(filepath.Join(loadData, "policies", "manifests.yaml")+":47: HorizontalPodAutoscaler frontend: apiVersion: autoscaling/v2beta1 is no longer served"),
			ContainSubstring("converted to autoscaling/v2"))))
	})

	It("reads autoscaling/v2beta2 and autoscaling/v1 HPAs as autoscaling/v2", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "convert.yaml"))
		Expect(err).NotTo(HaveOccurred())
		hpas := objectsOf[*autoscalingv2.HorizontalPodAutoscaler](ld)
		Expect(hpas).To(HaveLen(2))
		Expect(*hpas[0].Spec.Behavior.ScaleDown.StabilizationWindowSeconds).To(BeEquivalentTo(60))
		Expect(hpas[1].Spec.Metrics).To(Equal([]autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptrTo(int32(60))}}}}))
		Expect(ld.Warnings).To(ConsistOf(ContainSubstring("autoscaling/v2beta2 is no longer served")), "autoscaling/v1 is still served: no warning")
		Expect(ld.Target).To(BeNil())
		Expect(ld.Scenario.Spec.Target.Image).To(Equal(scenario.DefaultImage), "without a target Deployment, spec.target still describes it")
	})

	It("accepts templates and alert providers in other namespaces; objects without one are in the Canary's", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "namespaces.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.Canary.Namespace).To(Equal("profiles"))
		Expect(ld.Templates).To(HaveLen(2))
		Expect(ld.Templates[0].Namespace).To(Equal("flagger-system"))
		Expect(ld.Templates[1].Namespace).To(Equal("profiles"))
		Expect(ld.AlertProviders[0].Namespace).To(Equal("monitoring"))
		Expect(ld.Warnings).To(BeEmpty(), "both templateRefs resolve")
	})

	It("takes Namespace manifests as written, in no namespace, as the API server stores them", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "namespaces.yaml"))
		Expect(err).NotTo(HaveOccurred())
		ns := objectsOf[*corev1.Namespace](ld)
		Expect(ns).To(HaveLen(2))
		Expect(ns[0].Name).To(Equal("profiles"))
		Expect(ns[0].Namespace).To(BeEmpty(), "not put in the Canary's namespace")
		Expect(ns[0].Labels).To(Equal(map[string]string{"istio-injection": "enabled"}))
		Expect(ns[1].Name).To(Equal("flagger-system"))
		Expect(ns[1].Namespace).To(BeEmpty(), "a namespace written on a cluster-scoped object is dropped")
	})

	It("warns about what loads but would not run as meant", func() {
		ld, err := scenario.LoadFile(filepath.Join(loadData, "manifest-warnings.yaml"))
		Expect(err).NotTo(HaveOccurred())
		file := filepath.Join(loadData, "manifest-warnings.yaml")
		Expect(ld.Target).To(BeNil(), "a Deployment of the target's name in another namespace is not the target")
		Expect(ld.Objects).To(HaveLen(1))
		Expect(ld.Warnings).To(ConsistOf(
			HavePrefix(file+":27: spec.policy.objects[1] (Deployment web): metadata.namespace: Deployment web is in namespace staging, not in the Canary's (shop)"),
			HavePrefix(file+":24: spec.policy.objects[0] (Canary web): spec.canaryAnalysis: ignored"),
			HavePrefix(file+`:14: spec.policy.objects[0] (Canary web): spec.autoscalerRef: HorizontalPodAutoscaler web.shop is not among the policy objects`),
			And(HavePrefix(file+`:21: spec.policy.objects[0] (Canary web): spec.analysis.metrics[0]: metric "request-duration-p99" is neither a builtin metric`),
				HaveSuffix("Flagger would fail this check at run time")),
		))

		ld, err = scenario.LoadFile(filepath.Join(loadData, "target-labels.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ld.ReadinessFromProbes).To(BeFalse(), "startupDelay is written")
		Expect(ld.Warnings).To(ConsistOf(ContainSubstring("spec.selector.matchLabels: has none of [app name app.kubernetes.io/name]")))
	})
})

func ptrTo[T any](v T) *T { return &v }
