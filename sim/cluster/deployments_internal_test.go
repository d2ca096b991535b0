package cluster

import (
	"reflect"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var _ = ginkgo.Describe("sameDeploymentStatus", func() {
	t1 := metav1.NewTime(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC))
	t2 := metav1.NewTime(time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC))
	base := func() appsv1.DeploymentStatus {
		return appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			UnavailableReplicas: 1, TerminatingReplicas: new(int32(1)), CollisionCount: new(int32(0)),
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastUpdateTime: t1, LastTransitionTime: t1,
					Reason: ReasonMinimumReplicasAvailable, Message: "Deployment has minimum availability."},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, LastUpdateTime: t2, LastTransitionTime: t1,
					Reason: ReasonReplicaSetUpdated, Message: `ReplicaSet "x" is progressing.`},
			},
		}
	}

	ginkgo.It("compares every field of a status and of its conditions", func() {
		// a change of a field not listed here makes this fail: compare it, then list it
		Expect(reflect.TypeOf(appsv1.DeploymentStatus{}).NumField()).To(Equal(9))
		Expect(reflect.TypeOf(appsv1.DeploymentCondition{}).NumField()).To(Equal(6))
	})

	ginkgo.DescribeTable("decides as equality.Semantic.DeepEqual",
		func(change func(*appsv1.DeploymentStatus), want bool) {
			a, b := base(), base()
			change(&b)
			Expect(equality.Semantic.DeepEqual(a, b)).To(Equal(want), "the table's expectation")
			Expect(sameDeploymentStatus(&a, &b)).To(Equal(want))
			Expect(sameDeploymentStatus(&b, &a)).To(Equal(want))
		},
		ginkgo.Entry("equal", func(*appsv1.DeploymentStatus) {}, true),
		ginkgo.Entry("observedGeneration", func(s *appsv1.DeploymentStatus) { s.ObservedGeneration++ }, false),
		ginkgo.Entry("replicas", func(s *appsv1.DeploymentStatus) { s.Replicas++ }, false),
		ginkgo.Entry("updatedReplicas", func(s *appsv1.DeploymentStatus) { s.UpdatedReplicas++ }, false),
		ginkgo.Entry("readyReplicas", func(s *appsv1.DeploymentStatus) { s.ReadyReplicas++ }, false),
		ginkgo.Entry("availableReplicas", func(s *appsv1.DeploymentStatus) { s.AvailableReplicas++ }, false),
		ginkgo.Entry("unavailableReplicas", func(s *appsv1.DeploymentStatus) { s.UnavailableReplicas++ }, false),
		ginkgo.Entry("terminatingReplicas", func(s *appsv1.DeploymentStatus) { s.TerminatingReplicas = new(int32(2)) }, false),
		ginkgo.Entry("terminatingReplicas unset", func(s *appsv1.DeploymentStatus) { s.TerminatingReplicas = nil }, false),
		ginkgo.Entry("collisionCount", func(s *appsv1.DeploymentStatus) { s.CollisionCount = new(int32(1)) }, false),
		ginkgo.Entry("collisionCount unset", func(s *appsv1.DeploymentStatus) { s.CollisionCount = nil }, false),
		ginkgo.Entry("a condition fewer", func(s *appsv1.DeploymentStatus) { s.Conditions = s.Conditions[:1] }, false),
		ginkgo.Entry("no conditions, empty", func(s *appsv1.DeploymentStatus) { s.Conditions = []appsv1.DeploymentCondition{} }, false),
		ginkgo.Entry("conditions in another order", func(s *appsv1.DeploymentStatus) {
			s.Conditions[0], s.Conditions[1] = s.Conditions[1], s.Conditions[0]
		}, false),
		ginkgo.Entry("a condition's type", func(s *appsv1.DeploymentStatus) { s.Conditions[0].Type = appsv1.DeploymentReplicaFailure }, false),
		ginkgo.Entry("a condition's status", func(s *appsv1.DeploymentStatus) { s.Conditions[1].Status = corev1.ConditionFalse }, false),
		ginkgo.Entry("a condition's lastUpdateTime", func(s *appsv1.DeploymentStatus) { s.Conditions[1].LastUpdateTime = t1 }, false),
		ginkgo.Entry("a condition's lastTransitionTime", func(s *appsv1.DeploymentStatus) { s.Conditions[1].LastTransitionTime = t2 }, false),
		ginkgo.Entry("the same instant in another location", func(s *appsv1.DeploymentStatus) {
			s.Conditions[0].LastUpdateTime = metav1.NewTime(t1.In(time.FixedZone("CET", 3600)))
		}, true),
		ginkgo.Entry("a condition's reason", func(s *appsv1.DeploymentStatus) { s.Conditions[0].Reason = "other" }, false),
		ginkgo.Entry("a condition's message", func(s *appsv1.DeploymentStatus) { s.Conditions[0].Message = "other" }, false),
	)

	ginkgo.It("tells a status without conditions from one with none", func() {
		a, b := base(), base()
		a.Conditions, b.Conditions = nil, nil
		Expect(sameDeploymentStatus(&a, &b)).To(BeTrue())
	})
})

var _ = ginkgo.Describe("the pod model of a Deployment", func() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deployment := func(replicas int32, image string) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Generation: int64(replicas)},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}},
		}
	}
	names := func(st *deploymentPods) []string {
		var out []string
		for _, p := range st.pods {
			out = append(out, p.Name)
		}
		return out
	}

	ginkgo.It("names a thousand pods apart, keeps the oldest when scaling down, and knows the names of the pods it has", func() {
		st := &deploymentPods{name: "podinfo", nextIndex: map[string]int{}, names: map[string]bool{}, replicaSets: map[string]bool{}}
		st.reconcile(deployment(1000, "app:1"), t0, 0, nil)
		all := names(st)
		Expect(all).To(HaveLen(1000))
		Expect(st.names).To(HaveLen(1000))
		for _, n := range all {
			Expect(st.names).To(HaveKey(n))
		}

		st.reconcile(deployment(3, "app:1"), t0.Add(time.Second), 0, nil)
		Expect(names(st)).To(Equal(all[:3]), "a ReplicaSet removes the newest")
		Expect(st.names).To(HaveLen(3))

		// a new template: old pods go once the new ones are ready (no delay: at once)
		st.reconcile(deployment(2, "app:2"), t0.Add(2*time.Second), 0, nil)
		Expect(st.pods).To(HaveLen(2))
		Expect(st.names).To(HaveLen(2))
		for _, p := range st.pods {
			Expect(p.Image).To(Equal("app:2"))
			Expect(st.names).To(HaveKey(p.Name))
		}
	})
})
