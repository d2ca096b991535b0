package e2e_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/sim/cluster"
)

// The harness's parts with the real Flagger and a hand-made Canary, before any
// scenario: it shows what Flagger needs from the API server (the Istio CRDs, a
// Deployment whose status a simulator keeps) and that the recorder sees its steps.
var _ = Describe("real Flagger against the harness's API server and Prometheus", Label("flagger"), Ordered, func() {
	It("initializes a hand-made Canary and promotes a new revision without metrics", func(ctx SpecContext) {
		flagger := tool(e2e.FlaggerBinary, requireE2E || controllerName() == "flagger")
		theStack() // the binaries
		// An API server of its own: the live runs' controllers watch every namespace
		// of theirs.
		s, err := newStack()
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		const ns = "smoke-flagger"
		Expect(s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())

		// Deployments get their status from aviary's Deployment simulator: envtest runs
		// no controller-manager and no kubelet.
		sim := cluster.NewDeploymentSimulator(s.client, ns, 200*time.Millisecond, nil)
		simCtx, stopSim := context.WithCancel(context.Background())
		simDone := make(chan struct{})
		go func() {
			defer close(simDone)
			for simCtx.Err() == nil {
				_, _ = sim.Sync(simCtx, time.Now())
				select {
				case <-simCtx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		DeferCleanup(func() { stopSim(); <-simDone })

		labels := map[string]string{"app": "podinfo"}
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "podinfo", Image: "podinfo:6.0.0",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}}}}},
				},
			},
		}
		Expect(s.client.Create(ctx, dep)).To(Succeed())
		canary := &v1beta1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns},
			Spec: v1beta1.CanarySpec{
				TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
				Service:   v1beta1.CanaryService{Port: 9898},
				Analysis:  &v1beta1.CanaryAnalysis{Interval: "5s", Threshold: 1, MaxWeight: 50, StepWeight: 25},
			},
		}
		Expect(s.client.Create(ctx, canary)).To(Succeed())

		prom, err := e2e.StartPrometheus(ctx, e2e.PrometheusOptions{Binary: tool(e2e.PrometheusBinary, requireE2E), Dir: filepath.Join(dir)})
		Expect(err).NotTo(HaveOccurred())
		processes(prom.Proc)
		rec := e2e.Record(ctx, s.client, ns)
		ctl, err := e2e.FlaggerController(flagger).Start(e2e.ControllerOptions{Kubeconfig: s.kubeconfig, MetricsServer: prom.URL, LogDir: dir}, 0)
		Expect(err).NotTo(HaveOccurred())
		processes(ctl.Proc)
		Expect(ctl.WaitServing(ctx)).To(Succeed())

		key := ns + "/podinfo"
		phase := func() string {
			var c v1beta1.Canary
			if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, &c); err != nil {
				return err.Error()
			}
			return string(c.Status.Phase)
		}
		Eventually(phase).WithTimeout(60 * time.Second).Should(Equal("Initialized"))

		Expect(s.client.Get(ctx, client.ObjectKeyFromObject(dep), dep)).To(Succeed())
		dep.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
		Expect(s.client.Update(ctx, dep)).To(Succeed())
		Eventually(phase).WithTimeout(2 * time.Minute).Should(Equal("Succeeded"))

		GinkgoWriter.Printf("flagger steps: %v\nflagger events: %q\n", rec.Steps(key), rec.Messages(key))
		Expect(rec.Steps(key)).To(ContainElements(
			e2e.Step{Phase: "Initialized"}, e2e.Step{Phase: "Progressing", CanaryWeight: 25},
			e2e.Step{Phase: "Progressing", CanaryWeight: 50}, e2e.Step{Phase: "Succeeded"}))
		Expect(rec.Messages(key)).To(ContainElements(
			"New revision detected! Scaling up podinfo.smoke-flagger", "Advance podinfo.smoke-flagger canary weight 25",
			"Copying podinfo.smoke-flagger template spec to podinfo-primary.smoke-flagger"))
	}, SpecTimeout(4*time.Minute))
})
