package workload_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/engine/workload"
)

// rollout describes a Deployment's spec.replicas, generation and status.
type rollout struct {
	replicas            *int32
	generation          int64
	observed            int64
	updated, total, av  int32
	progressingReason   string
	unavailableSince    time.Duration // > 0: Available=False MinimumReplicasUnavailable updated this long before now
	noProgressCondition bool
}

func (r rollout) deployment(name string) *appsv1.Deployment {
	dep := newTarget(r.replicas)
	dep.Name = name
	dep.Generation = r.generation
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: r.observed,
		Replicas:           r.total,
		UpdatedReplicas:    r.updated,
		AvailableReplicas:  r.av,
	}
	if !r.noProgressCondition {
		reason := r.progressingReason
		if reason == "" {
			reason = "NewReplicaSetAvailable"
		}
		dep.Status.Conditions = append(dep.Status.Conditions, appsv1.DeploymentCondition{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: reason,
		})
	}
	if r.unavailableSince > 0 {
		dep.Status.Conditions = append(dep.Status.Conditions, appsv1.DeploymentCondition{
			Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
			LastUpdateTime: metav1.NewTime(t0.Add(-r.unavailableSince)),
		})
	}
	return dep
}

var _ = Describe("readiness", func() {
	ready := rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 3}

	DescribeTable("IsPrimaryReady and IsCanaryReady",
		func(r rollout, threshold *int, wantRetriable bool, wantMessage string) {
			cd := newCanary()
			cd.Spec.ProgressDeadlineSeconds = ptr(int32(60))
			cd.Spec.Analysis.PrimaryReadyThreshold = threshold
			cd.Spec.Analysis.CanaryReadyThreshold = threshold
			c := newClient(r.deployment("podinfo"), r.deployment("podinfo-primary"))
			d := newDeployments(c)

			retriable, err := d.IsPrimaryReady(ctx, cd)
			Expect(retriable).To(Equal(wantRetriable))
			if wantMessage == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError("podinfo-primary.test not ready: " + strings.ReplaceAll(wantMessage, "{name}", "podinfo-primary")))
			}

			retriable, err = d.IsCanaryReady(ctx, cd)
			Expect(retriable).To(Equal(wantRetriable))
			if wantMessage == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError("canary deployment podinfo.test not ready: " + strings.ReplaceAll(wantMessage, "{name}", "podinfo")))
			}
		},
		Entry("rolled out", ready, nil, true, ""),
		Entry("generation not observed yet",
			rollout{replicas: ptr(int32(3)), generation: 3, observed: 2, updated: 3, total: 3, av: 3}, nil,
			true, "waiting for rollout to finish: observed deployment generation less than desired generation"),
		Entry("progress deadline exceeded (Kubernetes' own)",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 3, progressingReason: "ProgressDeadlineExceeded"}, nil,
			false, `deployment "{name}" exceeded its progress deadline`),
		Entry("new replicas not all updated",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 2, total: 3, av: 2}, nil,
			true, "waiting for rollout to finish: 2 out of 3 new replicas have been updated"),
		Entry("old replicas pending termination",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 4, av: 3}, nil,
			true, "waiting for rollout to finish: 1 old replicas are pending termination"),
		Entry("updated replicas not available (default threshold 100%)",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 2}, nil,
			true, "waiting for rollout to finish: 2 of 3 (readyThreshold 100%) updated replicas are available"),
		Entry("readyThreshold 50%: 1 of 3 available is enough (int(1.5) = 1)",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 1}, ptr(50),
			true, ""),
		Entry("readyThreshold 50%: 0 of 3 available",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 0}, ptr(50),
			true, "waiting for rollout to finish: 0 of 1 (readyThreshold 50%) updated replicas are available"),
		Entry("readyThreshold 80% of 10: 7 available is not enough",
			rollout{replicas: ptr(int32(10)), generation: 2, observed: 2, updated: 10, total: 10, av: 7}, ptr(80),
			true, "waiting for rollout to finish: 7 of 8 (readyThreshold 80%) updated replicas are available"),
		Entry("minimum replicas unavailable past the canary's deadline",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 1, total: 3, av: 1, unavailableSince: 61 * time.Second}, nil,
			false, "waiting for rollout to finish: 1 out of 3 new replicas have been updated"),
		Entry("minimum replicas unavailable exactly at the deadline is still retriable",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 1, unavailableSince: 60 * time.Second}, nil,
			true, "waiting for rollout to finish: 1 of 3 (readyThreshold 100%) updated replicas are available"),
		Entry("minimum replicas unavailable without a Progressing condition is retriable",
			rollout{replicas: ptr(int32(3)), generation: 2, observed: 2, updated: 3, total: 3, av: 1, unavailableSince: time.Hour, noProgressCondition: true}, nil,
			true, "waiting for rollout to finish: 1 of 3 (readyThreshold 100%) updated replicas are available"),
		Entry("scaled to zero is ready (Flagger's scaled-to-zero check never fires)",
			rollout{replicas: ptr(int32(0)), generation: 2, observed: 2}, nil, true, ""),
	)

	It("uses primaryReadyThreshold for the primary and canaryReadyThreshold for the target", func() {
		half := rollout{replicas: ptr(int32(4)), generation: 1, observed: 1, updated: 4, total: 4, av: 2}
		cd := newCanary()
		cd.Spec.Analysis.PrimaryReadyThreshold = ptr(50)
		d := newDeployments(newClient(half.deployment("podinfo"), half.deployment("podinfo-primary")))

		_, err := d.IsPrimaryReady(ctx, cd)
		Expect(err).NotTo(HaveOccurred())
		_, err = d.IsCanaryReady(ctx, cd)
		Expect(err).To(MatchError("canary deployment podinfo.test not ready: waiting for rollout to finish: 2 of 4 (readyThreshold 100%) updated replicas are available"))
	})

	It("measures the deadline with its clock and canary.progressDeadlineSeconds (default 600s)", func() {
		stuck := rollout{replicas: ptr(int32(1)), generation: 1, observed: 1, updated: 1, total: 1, av: 0, unavailableSince: 10 * time.Minute}
		cd := newCanary()
		clk := clocktesting.NewFakeClock(t0)
		d := &workload.Deployments{Client: newClient(stuck.deployment("podinfo"), stuck.deployment("podinfo-primary")), Clock: clk}

		retriable, err := d.IsCanaryReady(ctx, cd)
		Expect(err).To(HaveOccurred())
		Expect(retriable).To(BeTrue(), "600s after the last update is not past the deadline")

		clk.Step(time.Second)
		retriable, err = d.IsCanaryReady(ctx, cd)
		Expect(err).To(HaveOccurred())
		Expect(retriable).To(BeFalse())
	})

	It("reports a missing Deployment as retriable", func() {
		d := newDeployments(newClient())
		retriable, err := d.IsPrimaryReady(ctx, newCanary())
		Expect(retriable).To(BeTrue())
		Expect(err).To(MatchError(ContainSubstring("deployment podinfo-primary.test get query error")))
	})

	It("rejects other target kinds", func() {
		cd := newCanary()
		cd.Spec.TargetRef.Kind = "DaemonSet"
		d := newDeployments(newClient())
		_, err := d.IsCanaryReady(ctx, cd)
		Expect(err).To(MatchError(`target kind "DaemonSet" is not supported by aviary yet (supported: Deployment)`))
		Expect(d.Initialize(ctx, cd)).To(MatchError(`target kind "DaemonSet" is not supported by aviary yet (supported: Deployment)`))
	})
})
