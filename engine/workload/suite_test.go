package workload_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/workload"
)

func TestWorkload(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "engine/workload")
}

const ns = "test"

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	return s
}

func newClient(objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(newScheme()).
		WithStatusSubresource(&appsv1.Deployment{}).WithObjects(objs...).Build()
}

func newCanary() *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, UID: "canary-uid"},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   v1beta1.CanaryService{Port: 9898},
			Analysis:  &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, StepWeight: 10},
		},
	}
}

// newTarget is the podinfo Deployment: selector app=podinfo, image podinfo:6.0.0.
func newTarget(replicas *int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "podinfo", Namespace: ns,
			Labels:      map[string]string{"app": "podinfo", "team": "a"},
			Annotations: map[string]string{"note": "x", "kustomize.toolkit.fluxcd.io/name": "apps"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas:                replicas,
			ProgressDeadlineSeconds: ptr(int32(120)),
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      map[string]string{"app": "podinfo", "version": "v1"},
					Annotations: map[string]string{"prometheus.io/scrape": "true"},
				},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "podinfod",
					Image: "podinfo:6.0.0",
					Ports: []corev1.ContainerPort{
						{Name: "http", ContainerPort: 9898},
						{Name: "http-metrics", ContainerPort: 9797},
						{ContainerPort: 9999},
					},
				}, {
					Name:  "istio-proxy",
					Image: "proxyv2",
					Ports: []corev1.ContainerPort{{Name: "http-envoy-prom", ContainerPort: 15090}},
				}}},
			},
		},
	}
}

func getDeployment(c client.Client, name string) *appsv1.Deployment {
	GinkgoHelper()
	dep := &appsv1.Deployment{}
	Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep)).To(Succeed())
	return dep
}

func newDeployments(c client.Client) *workload.Deployments {
	return &workload.Deployments{Client: c, Clock: clocktesting.NewFakeClock(t0), ConfigTracking: true}
}

func ptr[T any](v T) *T { return &v }
