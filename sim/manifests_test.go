package sim_test

import (
	"context"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// The user's own manifests in a run: what the objects look like at the end, in both
// cluster modes (the library's parity test compares the decisions; this the objects).
var _ = Describe("a run of the user's own manifests", func() {
	library := func(name string) *scenario.Loaded {
		GinkgoHelper()
		l, err := scenario.LoadFile(filepath.Join("..", "scenarios", name))
		Expect(err).NotTo(HaveOccurred())
		return l
	}
	// run runs l and returns a client onto the objects it left.
	run := func(l *scenario.Loaded, mode string) client.Client {
		GinkgoHelper()
		var opts sim.RunOptions
		if mode == sim.ModeEnvtest {
			opts = sim.InEnvtest(envtestOrFail(), l)
		} else {
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			opts = sim.RunOptions{Client: cluster.NewFakeClient(s, nil), Mode: sim.ModeFast}
		}
		res, err := sim.Run(context.Background(), l, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Passed).To(BeTrue())
		return opts.Client
	}
	get := func(c client.Client, ns, name string, obj client.Object) {
		GinkgoHelper()
		Expect(c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj)).To(Succeed())
	}

	for _, mode := range []string{sim.ModeFast, sim.ModeEnvtest} {
		It("keeps the primary's HPA as Flagger writes it ("+mode+")", func() {
			c := run(library("podinfo-2018-tutorial.yaml"), mode)
			hpa := &autoscalingv2.HorizontalPodAutoscaler{}
			get(c, "test", "podinfo-primary", hpa)
			Expect(hpa.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo-primary"}))
			Expect(*hpa.Spec.MinReplicas).To(BeEquivalentTo(2))
			Expect(hpa.Spec.MaxReplicas).To(BeEquivalentTo(4))
			Expect(hpa.Spec.Metrics).To(HaveLen(1))
			Expect(*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization).To(BeEquivalentTo(99), "converted from autoscaling/v2beta1")
			Expect(hpa.OwnerReferences).To(ConsistOf(HaveField("Kind", v1beta1.CanaryKind)))

			target := &appsv1.Deployment{}
			get(c, "test", "podinfo", target)
			Expect(target.Spec.Template.Spec.Containers[0].ReadinessProbe.Exec.Command).To(Equal([]string{"podcli", "check", "http", "localhost:9898/readyz"}),
				"the manifest as written")
			Expect(target.Spec.MinReadySeconds).To(BeEquivalentTo(5))

			ns := &corev1.Namespace{}
			get(c, "", "test", ns)
			Expect(ns.Labels).To(HaveKeyWithValue("istio-injection", "enabled"), "the article's namespace manifest, as written")
		})

		It("takes the Service over and copies the changed ConfigMap to the primary ("+mode+")", func() {
			c := run(library("frontend-config-change.yaml"), mode)
			svc := &corev1.Service{}
			get(c, "production", "frontend", svc)
			Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "frontend-primary"}))
			Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("Port", BeEquivalentTo(80)), HaveField("TargetPort", intstr.FromInt32(8080)))))
			Expect(svc.OwnerReferences).To(BeEmpty(), "not the Canary's: Flagger took it over")

			cm := &corev1.ConfigMap{}
			get(c, "production", "frontend-config-primary", cm)
			Expect(cm.Data).To(HaveKeyWithValue("CHECKOUT_FLOW", "one-page"), "promoted with the new revision")
			primary := &appsv1.Deployment{}
			get(c, "production", "frontend-primary", primary)
			Expect(primary.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name).To(Equal("frontend-config-primary"))
			Expect(*primary.Spec.Replicas).To(BeEquivalentTo(3))

			tmpl := &v1beta1.MetricTemplate{}
			get(c, "istio-system", "http-success-rate-no-4xx", tmpl)
		})

		It("leaves an untracked ConfigMap to the Deployments ("+mode+")", func() {
			c := run(library("frontend-config-untracked.yaml"), mode)
			err := c.Get(context.Background(), types.NamespacedName{Namespace: "production", Name: "frontend-config-primary"}, &corev1.ConfigMap{})
			Expect(err).To(HaveOccurred(), "no primary copy of an untracked config")
			primary := &appsv1.Deployment{}
			get(c, "production", "frontend-primary", primary)
			Expect(primary.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name).To(Equal("frontend-config"))
		})
	}
})
