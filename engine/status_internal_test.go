package engine

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/v1beta1"
)

// The status writers of Flagger's canary/status.go (docs/flagger-semantics.md#status-writers).
// This package cannot import sim (sim imports engine), so these specs use
// controller-runtime's fake client directly, with the Canary status subresource.

var (
	statusT0  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statusKey = types.NamespacedName{Namespace: "test", Name: "podinfo"}
)

func statusClient(objs ...client.Object) client.WithWatch {
	s := runtime.NewScheme()
	Expect(v1beta1.AddToScheme(s)).To(Succeed())
	return fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&v1beta1.Canary{}).WithObjects(objs...).Build()
}

// statusTick is a tick holding the stored canary, with a fake clock at statusT0.
func statusTick(c client.Client, clk *clocktesting.FakeClock) *tick {
	t := (&Engine{Client: c, Clock: clk}).newTick(statusKey)
	Expect(t.refresh(context.Background())).To(Succeed())
	return t
}

func statusCanary(st v1beta1.CanaryStatus, iterations int) *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: statusKey.Name, Namespace: statusKey.Namespace},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{Kind: "Deployment", Name: "podinfo"},
			Analysis:  &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, Iterations: iterations},
		},
		Status: st,
	}
}

var _ = DescribeTable("promotedCondition: status and message per phase (Flagger's MakeStatusConditions)",
	func(phase v1beta1.CanaryPhase, status corev1.ConditionStatus, message string) {
		s, m := promotedCondition("Deployment", phase)
		Expect(s).To(Equal(status))
		Expect(m).To(Equal(message))
	},
	Entry(nil, v1beta1.CanaryPhaseInitializing, corev1.ConditionUnknown, "New Deployment detected, starting initialization."),
	Entry(nil, v1beta1.CanaryPhaseInitialized, corev1.ConditionTrue, "Deployment initialization completed."),
	Entry(nil, v1beta1.CanaryPhaseWaiting, corev1.ConditionUnknown, "Waiting for approval."),
	Entry(nil, v1beta1.CanaryPhaseWaitingPromotion, corev1.ConditionUnknown, "Waiting for approval."),
	Entry(nil, v1beta1.CanaryPhaseProgressing, corev1.ConditionUnknown, "New revision detected, progressing canary analysis."),
	Entry(nil, v1beta1.CanaryPhasePromoting, corev1.ConditionUnknown, "Canary analysis completed, starting primary rolling update."),
	Entry(nil, v1beta1.CanaryPhaseFinalising, corev1.ConditionUnknown, "Canary analysis completed, routing all traffic to primary."),
	Entry(nil, v1beta1.CanaryPhaseSucceeded, corev1.ConditionTrue, "Canary analysis completed successfully, promotion finished."),
	Entry(nil, v1beta1.CanaryPhaseFailed, corev1.ConditionFalse, "Canary analysis failed, Deployment scaled to zero."),
	Entry("Terminating falls through to the Initializing message", v1beta1.CanaryPhaseTerminating, corev1.ConditionUnknown, "New Deployment detected, starting initialization."),
)

var _ = Describe("setCondition", func() {
	t1 := metav1.NewTime(statusT0.Add(-time.Hour))
	var (
		clk *clocktesting.FakeClock
		t   *tick
	)
	BeforeEach(func() {
		clk = clocktesting.NewFakeClock(statusT0)
		t = (&Engine{Clock: clk}).newTick(statusKey)
	})
	withCondition := func(status corev1.ConditionStatus, reason string) *v1beta1.Canary {
		cd := statusCanary(v1beta1.CanaryStatus{}, 0)
		cd.Spec.TargetRef.Kind = "Deployment"
		cd.Status.Conditions = []v1beta1.CanaryCondition{{
			Type: v1beta1.PromotedType, Status: status, Reason: reason, Message: "old",
			LastUpdateTime: t1, LastTransitionTime: t1,
		}}
		return cd
	}

	It("creates the single Promoted condition, both times now", func() {
		cd := statusCanary(v1beta1.CanaryStatus{}, 0)
		t.setCondition(cd, v1beta1.CanaryPhaseInitializing)
		Expect(cd.Status.Conditions).To(Equal([]v1beta1.CanaryCondition{{
			Type: v1beta1.PromotedType, Status: corev1.ConditionUnknown, Reason: "Initializing",
			Message:        "New Deployment detected, starting initialization.",
			LastUpdateTime: metav1.NewTime(statusT0), LastTransitionTime: metav1.NewTime(statusT0),
		}}))
	})
	It("leaves the condition alone when status and reason are unchanged", func() {
		cd := withCondition(corev1.ConditionUnknown, "Progressing")
		before := cd.Status.Conditions[0]
		t.setCondition(cd, v1beta1.CanaryPhaseProgressing)
		Expect(cd.Status.Conditions).To(Equal([]v1beta1.CanaryCondition{before}))
	})
	It("keeps lastTransitionTime when the status is unchanged but the reason moves", func() {
		cd := withCondition(corev1.ConditionUnknown, "Progressing")
		t.setCondition(cd, v1beta1.CanaryPhasePromoting)
		c := cd.Status.Conditions[0]
		Expect(c.Reason).To(Equal("Promoting"))
		Expect(c.Message).To(Equal("Canary analysis completed, starting primary rolling update."))
		Expect(c.LastTransitionTime).To(Equal(t1))
		Expect(c.LastUpdateTime).To(Equal(metav1.NewTime(statusT0)))
	})
	It("moves lastTransitionTime when the status changes", func() {
		cd := withCondition(corev1.ConditionUnknown, "Finalising")
		t.setCondition(cd, v1beta1.CanaryPhaseSucceeded)
		c := cd.Status.Conditions[0]
		Expect(c.Status).To(Equal(corev1.ConditionTrue))
		Expect(c.LastTransitionTime).To(Equal(metav1.NewTime(statusT0)))
		Expect(c.LastUpdateTime).To(Equal(metav1.NewTime(statusT0)))
	})
	It("replaces a stale condition list by the single Promoted condition", func() {
		cd := withCondition(corev1.ConditionTrue, "Initialized")
		cd.Status.Conditions = append(cd.Status.Conditions, v1beta1.CanaryCondition{Type: "Other", Status: corev1.ConditionTrue})
		t.setCondition(cd, v1beta1.CanaryPhaseFailed)
		Expect(cd.Status.Conditions).To(HaveLen(1))
		Expect(cd.Status.Conditions[0].Status).To(Equal(corev1.ConditionFalse))
		Expect(cd.Status.Conditions[0].Message).To(Equal("Canary analysis failed, Deployment scaled to zero."))
	})
})

// Flagger's setStatusPhase: weight and iterations are zeroed outside Progressing,
// Waiting and Promoting; WaitingPromotion re-arms iterations to N-1 (PR #1139);
// Initialized and Succeeded record the applied spec as promoted; failedChecks is kept.
var _ = DescribeTable("setStatusPhase",
	func(phase v1beta1.CanaryPhase, iterations int, want v1beta1.CanaryStatus) {
		before := v1beta1.CanaryStatus{
			Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 30, FailedChecks: 2, Iterations: 4,
			LastAppliedSpec: "applied", LastPromotedSpec: "promoted",
			LastTransitionTime: metav1.NewTime(statusT0.Add(-time.Hour)),
		}
		c := statusClient(statusCanary(before, iterations))
		clk := clocktesting.NewFakeClock(statusT0)
		t := statusTick(c, clk)
		Expect(t.setStatusPhase(context.Background(), phase)).To(Succeed())

		stored := &v1beta1.Canary{}
		Expect(c.Get(context.Background(), statusKey, stored)).To(Succeed())
		st := stored.Status
		Expect(st.Phase).To(Equal(phase))
		Expect([]int{st.CanaryWeight, st.FailedChecks, st.Iterations}).To(Equal([]int{want.CanaryWeight, want.FailedChecks, want.Iterations}))
		Expect(st.LastAppliedSpec).To(Equal("applied"))
		Expect(st.LastPromotedSpec).To(Equal(want.LastPromotedSpec))
		Expect(st.LastTransitionTime.Time).To(BeTemporally("==", statusT0))
		Expect(st.Conditions).To(HaveLen(1))
		Expect(st.Conditions[0].Reason).To(Equal(string(phase)))
		// the tick's copy is the stored canary
		Expect(*t.status).To(Equal(st))
	},
	Entry("Progressing keeps weight and iterations", v1beta1.CanaryPhaseProgressing, 0,
		v1beta1.CanaryStatus{CanaryWeight: 30, FailedChecks: 2, Iterations: 4, LastPromotedSpec: "promoted"}),
	Entry("Waiting keeps weight and iterations", v1beta1.CanaryPhaseWaiting, 0,
		v1beta1.CanaryStatus{CanaryWeight: 30, FailedChecks: 2, Iterations: 4, LastPromotedSpec: "promoted"}),
	Entry("Promoting keeps weight and iterations", v1beta1.CanaryPhasePromoting, 0,
		v1beta1.CanaryStatus{CanaryWeight: 30, FailedChecks: 2, Iterations: 4, LastPromotedSpec: "promoted"}),
	Entry("WaitingPromotion zeroes the weight, iterations = N-1", v1beta1.CanaryPhaseWaitingPromotion, 10,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: 9, LastPromotedSpec: "promoted"}),
	Entry("WaitingPromotion of a canary strategy: iterations -1 (Flagger quirk)", v1beta1.CanaryPhaseWaitingPromotion, 0,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: -1, LastPromotedSpec: "promoted"}),
	Entry("Finalising zeroes weight and iterations", v1beta1.CanaryPhaseFinalising, 10,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: 0, LastPromotedSpec: "promoted"}),
	Entry("Succeeded zeroes, keeps failedChecks, promotes the applied spec", v1beta1.CanaryPhaseSucceeded, 0,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: 0, LastPromotedSpec: "applied"}),
	Entry("Initialized promotes the applied spec", v1beta1.CanaryPhaseInitialized, 0,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: 0, LastPromotedSpec: "applied"}),
	Entry("Failed zeroes weight and iterations, keeps the promoted spec", v1beta1.CanaryPhaseFailed, 0,
		v1beta1.CanaryStatus{CanaryWeight: 0, FailedChecks: 2, Iterations: 0, LastPromotedSpec: "promoted"}),
)

var _ = Describe("the counter writers", func() {
	var (
		c   client.WithWatch
		clk *clocktesting.FakeClock
		t   *tick
	)
	BeforeEach(func() {
		c = statusClient(statusCanary(v1beta1.CanaryStatus{
			Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 30, FailedChecks: 2, Iterations: 4,
		}, 0))
		clk = clocktesting.NewFakeClock(statusT0)
		t = statusTick(c, clk)
	})
	stored := func() v1beta1.CanaryStatus {
		cd := &v1beta1.Canary{}
		Expect(c.Get(context.Background(), statusKey, cd)).To(Succeed())
		return cd.Status
	}
	DescribeTable("write one counter, stamp lastTransitionTime, keep the phase",
		func(write func(context.Context) error, want [3]int) {
			Expect(write(context.Background())).To(Succeed())
			st := stored()
			Expect([3]int{st.CanaryWeight, st.FailedChecks, st.Iterations}).To(Equal(want))
			Expect(st.Phase).To(Equal(v1beta1.CanaryPhaseProgressing))
			Expect(st.LastTransitionTime.Time).To(BeTemporally("==", statusT0))
			Expect(*t.status).To(Equal(st))
		},
		Entry("setStatusWeight", func(ctx context.Context) error { return t.setStatusWeight(ctx, 40) }, [3]int{40, 2, 4}),
		Entry("setStatusFailedChecks", func(ctx context.Context) error { return t.setStatusFailedChecks(ctx, 3) }, [3]int{30, 3, 4}),
		Entry("setStatusIterations", func(ctx context.Context) error { return t.setStatusIterations(ctx, 5) }, [3]int{30, 2, 5}),
	)

	It("re-reads the canary and retries on a conflict", func() {
		// someone else writes the status after the tick read it
		other := &v1beta1.Canary{}
		Expect(c.Get(context.Background(), statusKey, other)).To(Succeed())
		other.Status.FailedChecks = 7
		Expect(c.Status().Update(context.Background(), other)).To(Succeed())

		Expect(t.setStatusWeight(context.Background(), 40)).To(Succeed())
		st := stored()
		Expect(st.CanaryWeight).To(Equal(40))
		Expect(st.FailedChecks).To(Equal(7), "the retry starts from the re-read canary")
	})

	It("wraps a write error with the writer's name", func() {
		boom := errors.New("boom")
		failing := interceptor.NewClient(c, interceptor.Funcs{
			SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
				return boom
			},
		})
		t.e.Client = failing
		err := t.setStatusFailedChecks(context.Background(), 3)
		Expect(err).To(MatchError(boom))
		Expect(err.Error()).To(Equal("SetStatusFailedChecks: boom"))
		Expect(stored().FailedChecks).To(Equal(2))
	})

	It("gives up on a conflict that persists", func() {
		conflict := apierrors.NewConflict(schema.GroupResource{Group: "aviary.dev", Resource: "canaries"}, "podinfo", errors.New("stale"))
		calls := 0
		t.e.Client = interceptor.NewClient(c, interceptor.Funcs{
			SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
				calls++
				return conflict
			},
		})
		err := t.setStatusPhase(context.Background(), v1beta1.CanaryPhaseSucceeded)
		Expect(apierrors.IsConflict(err)).To(BeTrue())
		Expect(calls).To(BeNumerically(">", 1))
	})
})
