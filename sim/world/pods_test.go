package world_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/world"
)

// The world's tests take their pods from the cluster side's Deployment simulator,
// as a run does: the pods start, become ready and go away as in a cluster.

const testNS = "test"

var t0 = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// podsOf shows the world a Deployment simulator's pods, as the runner does.
type podsOf struct{ d *cluster.DeploymentSimulator }

func (s podsOf) AppendPods(buf []world.Pod, deployment string) ([]world.Pod, string, bool) {
	image, known := s.d.EachPod(deployment, func(p cluster.Pod) { buf = append(buf, world.Pod(p)) })
	return buf, image, known
}

// newClient is the fast mode's API holding objs.
func newClient(objs ...client.Object) client.Client {
	s, err := cluster.NewScheme()
	Expect(err).NotTo(HaveOccurred())
	c := cluster.NewFakeClient(s, nil)
	for _, o := range objs {
		Expect(c.Create(context.Background(), o)).To(Succeed())
	}
	return c
}

func newDeployment(name, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

// updateDeployment reads a Deployment, changes it and writes it back.
func updateDeployment(c client.Client, name string, change func(*appsv1.Deployment)) {
	d := &appsv1.Deployment{}
	Expect(c.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: name}, d)).To(Succeed())
	change(d)
	Expect(c.Update(context.Background(), d)).To(Succeed())
}

func setImage(c client.Client, name, image string) {
	updateDeployment(c, name, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image })
}

func setReplicas(c client.Client, name string, n int32) {
	updateDeployment(c, name, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(n) })
}
