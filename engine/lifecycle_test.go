package engine_test

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/cluster"
)

// Steps 1-14 and 18 of docs/flagger-semantics.md#steps: initialization, suspension, and what
// starts an analysis.

var _ = Describe("initialization", func() {
	var f *fixture
	BeforeEach(func() { f = newFixture(newCanary()) })

	It("waits for the primary on the first tick", func() {
		rec := f.tick()
		Expect(rec.PhaseBefore).To(Equal(""))
		Expect(rec.Phase).To(Equal("Initializing"))
		Expect(rec.Step).To(Equal("init-primary"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|all the metrics providers are available!",
			"Warning|podinfo-primary.test not ready: waiting for rollout to finish: observed deployment generation less than desired generation",
		}))
		Expect(f.metrics.queries).To(Equal([]string{"vector(1)", "vector(1)"}), "one availability probe per builtin metric")

		cd := f.canary()
		Expect(cd.Status.Phase).To(Equal(v1beta1.CanaryPhaseInitializing))
		Expect(cd.Status.Conditions).To(HaveLen(1))
		Expect(cd.Status.Conditions[0].Reason).To(Equal("Initializing"))
		Expect(cd.Status.LastAppliedSpec).To(BeEmpty())
		Expect(f.deployment("podinfo-primary").Spec.Template.Spec.Containers[0].Image).To(Equal(imageV1))
		Expect(f.replicas("podinfo")).To(Equal(int32(1)), "the target is not scaled down before the primary is ready")
		Expect(f.virtualServiceExists()).To(BeFalse(), "routing is taken over only after the primary is ready")
	})

	It("completes once the primary is ready", func() {
		f.tick()
		f.markReady("podinfo-primary")
		rec := f.tick()
		Expect(rec.PhaseBefore).To(Equal("Initializing"))
		Expect(rec.Phase).To(Equal("Initialized"))
		Expect(rec.Step).To(Equal("should-advance"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|all the metrics providers are available!",
			"Normal|Initialization done! podinfo.test",
		}))
		Expect(rec.Events[1].Phase).To(Equal("Initialized"))
		Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "info", Message: "New Deployment detected, initialization completed.", Global: true, Fields: testCanaryFields}}))
		Expect(rec.Routes).To(BeEmpty(), "the VirtualService is created at 100/0, not set")
		Expect([]int{rec.PrimaryWeight, rec.CanaryWeight}).To(Equal([]int{100, 0}))

		cd := f.canary()
		Expect(cd.Status.Phase).To(Equal(v1beta1.CanaryPhaseInitialized))
		Expect(cd.Status.LastAppliedSpec).NotTo(BeEmpty())
		Expect(cd.Status.LastPromotedSpec).To(Equal(cd.Status.LastAppliedSpec))
		// Flagger's SyncStatus always writes the tracked configs, empty when none are used.
		Expect(cd.Status.TrackedConfigs).NotTo(BeNil())
		Expect(*cd.Status.TrackedConfigs).To(BeEmpty())
		Expect(cd.Status.Conditions[0].Reason).To(Equal("Initialized"))
		Expect(f.replicas("podinfo")).To(Equal(int32(0)))
		p, c, m := f.routes()
		Expect([]any{p, c, m}).To(Equal([]any{100, 0, false}))
	})

	It("cannot roll back a primary stuck while initializing: there is no route yet (as Flagger with Istio)", func() {
		f.tick()
		f.markDeadlineExceeded("podinfo-primary")
		rec := f.tick()
		Expect(rec.Step).To(Equal("init-primary"))
		Expect(rec.Phase).To(Equal("Initializing"))
		Expect(typed(rec)).To(Equal([]string{
			"Normal|all the metrics providers are available!",
			`Warning|podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline`,
			`Warning|VirtualService podinfo.test get query error virtualservices.networking.istio.io "podinfo" not found`,
		}))
		Expect(f.replicas("podinfo")).To(Equal(int32(1)))
	})

	It("reports unavailable metric providers without blocking", func() {
		f.metrics.fail("vector(1)", errors.New("connection refused"))
		rec := f.tick()
		Expect(typed(rec)[0]).To(Equal("Warning|Error checking metric providers: prometheus not avaiable: running query failed: connection refused"))
		Expect(rec.Step).To(Equal("init-primary"))
	})

	It("does not check metric providers once initialized, nor when analysis is skipped", func() {
		f.initialize()
		f.reset()
		f.tick()
		Expect(f.metrics.queries).To(BeEmpty())

		g := newFixture(func() *v1beta1.Canary { cd := newCanary(); cd.Spec.SkipAnalysis = true; return cd }())
		rec := g.tick()
		Expect(g.metrics.queries).To(BeEmpty())
		Expect(rec.Phase).To(Equal("Initialized"), "skipAnalysis does not wait for the primary")
	})
})

var _ = Describe("new revision detection", func() {
	var f *fixture
	BeforeEach(func() {
		f = newFixture(newCanary())
		f.initialize()
		f.reset()
	})

	It("does nothing without a change", func() {
		before := f.canary()
		rec := f.tick()
		Expect(rec.Step).To(Equal("should-advance"))
		Expect(rec.Events).To(BeEmpty())
		Expect(rec.Hooks).To(BeEmpty())
		Expect(rec.Routes).To(BeEmpty())
		Expect(f.canary().ResourceVersion).To(Equal(before.ResourceVersion), "no status write")
		Expect(f.replicas("podinfo")).To(Equal(int32(0)))
	})

	DescribeTable("a new image starts Progressing, scaled up, counters reset",
		func(from v1beta1.CanaryPhase) {
			f.patchStatus(func(st *v1beta1.CanaryStatus) {
				st.Phase, st.FailedChecks, st.CanaryWeight, st.Iterations = from, 3, 20, 2
			})
			before := f.canary().Status
			f.setImage(imageV2)
			rec := f.tick()
			Expect(rec.PhaseBefore).To(Equal(string(from)))
			Expect(rec.Step).To(Equal("start-revision"))
			Expect(typed(rec)).To(Equal([]string{"Normal|New revision detected! Scaling up podinfo.test"}))
			Expect(rec.Events[0].Phase).To(Equal("Progressing"))
			Expect(rec.Alerts).To(Equal([]engine.Alert{{Severity: "info", Message: "New revision detected, progressing canary analysis.", Global: true, Fields: testCanaryFields}}))
			Expect(rec.Routes).To(BeEmpty())
			Expect(f.counters()).To(Equal(counters{Phase: v1beta1.CanaryPhaseProgressing}))
			st := f.canary().Status
			Expect(st.LastAppliedSpec).NotTo(Equal(before.LastAppliedSpec))
			Expect(st.LastPromotedSpec).To(Equal(before.LastPromotedSpec))
			Expect(st.Conditions[0].Reason).To(Equal("Progressing"))
			Expect(f.replicas("podinfo")).To(Equal(int32(1)), "scaled up from zero to the primary's replicas")
			Expect(f.metrics.queries).To(BeEmpty(), "the analysis starts on the next tick")
		},
		Entry("from Initialized", v1beta1.CanaryPhaseInitialized),
		Entry("from Succeeded", v1beta1.CanaryPhaseSucceeded),
		Entry("from Failed", v1beta1.CanaryPhaseFailed),
	)

	It("scales the target from zero to the primary's replica count", func() {
		p := f.deployment("podinfo-primary")
		p.Spec.Replicas = ptr(int32(3))
		Expect(f.c.Update(f.ctx, p)).To(Succeed())
		f.markReady("podinfo-primary")
		f.setImage(imageV2)
		f.tick()
		Expect(f.replicas("podinfo")).To(Equal(int32(3)))
	})

	It("ignores a change back to the last promoted spec (manual rollback)", func() {
		f.setImage(imageV2)
		f.setImage(imageV1)
		rec := f.tick()
		Expect(rec.Step).To(Equal("should-advance"))
		Expect(rec.Events).To(BeEmpty())
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseInitialized))
	})

	It("ignores a revert to the promoted spec after a failed analysis", func() {
		f.setImage(imageV2)
		f.tick()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		rec := f.step()
		Expect(rec.Phase).To(Equal("Failed"))
		st := f.canary().Status
		Expect(st.LastAppliedSpec).NotTo(Equal(st.LastPromotedSpec))

		f.setImage(imageV1)
		rec = f.tick()
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(rec.Events).To(BeEmpty())
		Expect(f.replicas("podinfo")).To(Equal(int32(0)))
	})

	It("analyses the same failed revision again only when it changes", func() {
		f.setImage(imageV2)
		f.tick()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.step()
		Expect(f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseFailed))
		rec := f.tick()
		Expect(rec.Events).To(BeEmpty())
		f.setImage(imageV3)
		rec = f.tick()
		Expect(rec.Phase).To(Equal("Progressing"))
	})

	It("starts an analysis when a tracked ConfigMap changes", func() {
		// a new canary whose target reads a ConfigMap
		g := newFixture(func() *v1beta1.Canary { cd := newCanary(); cd.Name = "cm"; cd.Spec.TargetRef.Name = "cm"; return cd }())
		cm := configMap("cm-env", "v1")
		Expect(g.c.Create(g.ctx, cm)).To(Succeed())
		d := g.deployment("cm")
		d.Spec.Template.Spec.Containers[0].EnvFrom = envFromConfigMap("cm-env")
		Expect(g.c.Update(g.ctx, d)).To(Succeed())
		g.initialize()
		Expect(*g.canary().Status.TrackedConfigs).To(HaveKey("configmap/cm-env"))

		rec := g.tick()
		Expect(rec.Events).To(BeEmpty())

		cm.Data["k"] = "v2"
		Expect(g.c.Update(g.ctx, cm)).To(Succeed())
		rec = g.tick()
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(messages(rec)).To(Equal([]string{"New revision detected! Scaling up cm.test"}))
	})
})

var _ = Describe("suspend", func() {
	It("only emits the skip event, whatever the state", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step() // weight 10
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.Suspend = true })
		f.setImage(imageV3)       // a change that would restart the analysis
		f.metrics.set("istio", 0) // metrics that would fail
		f.reset()
		before := f.canary()

		rec := f.step()
		Expect(rec.Step).To(Equal("suspend"))
		Expect(typed(rec)).To(Equal([]string{"Normal|skipping canary run as object is suspended"}))
		Expect(rec.Routes).To(BeEmpty())
		Expect(rec.Hooks).To(BeEmpty())
		Expect(rec.Metrics).To(BeEmpty())
		Expect(f.metrics.queries).To(BeEmpty())
		Expect(f.canary().Status).To(Equal(before.Status))
		Expect(f.canary().ResourceVersion).To(Equal(before.ResourceVersion))
		_, c, _ := f.routes()
		Expect(c).To(Equal(10))
	})

	It("does not even initialize a new canary", func() {
		cd := newCanary()
		cd.Spec.Suspend = true
		f := newFixture(cd)
		rec := f.tick()
		Expect(rec.Step).To(Equal("suspend"))
		Expect(rec.Phase).To(Equal("Initializing"), "Flagger's informer marks a new canary Initializing before any tick")
		Expect(f.canary().Status.Conditions).To(HaveLen(1))
		Expect(messages(rec)).To(Equal([]string{"skipping canary run as object is suspended"}))
		err := f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: "podinfo-primary"}, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no primary")
	})
})

var _ = Describe("Tick", func() {
	It("returns the analysis interval, floored at 10s", func() {
		cd := newCanary()
		cd.Spec.Analysis.Interval = "5s"
		f := newFixture(cd)
		next, err := f.engine.Tick(f.ctx, f.key)
		Expect(err).NotTo(HaveOccurred())
		Expect(next.Seconds()).To(Equal(10.0))
		f.updateCanary(func(cd *v1beta1.Canary) { cd.Spec.Analysis.Interval = "2m" })
		next, _ = f.engine.Tick(f.ctx, f.key)
		Expect(next.Minutes()).To(Equal(2.0))
	})

	It("returns 0 and an empty record for a canary that does not exist", func() {
		f := newFixture(newCanary())
		next, err := f.engine.Tick(f.ctx, types.NamespacedName{Namespace: ns, Name: "gone"})
		Expect(err).NotTo(HaveOccurred())
		Expect(next).To(BeZero())
		rec := f.log.records[0]
		Expect(rec.Canary).To(Equal("gone.test"))
		Expect(rec.Step).To(Equal("get-canary"))
		Expect(rec.Phase).To(BeEmpty())
		Expect(rec.Events).To(BeEmpty())
	})

	It("records the tick's time, canary, phases, step, weights and counters", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()                            // weight 10
		f.metrics.set(successRateQuery, 95) // fails
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 1 })
		at := f.clock.Now()
		rec := f.step()
		Expect(rec.At).To(Equal(at))
		Expect(rec.Canary).To(Equal("podinfo.test"))
		Expect(rec.PhaseBefore).To(Equal("Progressing"))
		Expect(rec.Phase).To(Equal("Progressing"))
		Expect(rec.Step).To(Equal("analysis"))
		Expect([]int{rec.PrimaryWeight, rec.CanaryWeight}).To(Equal([]int{90, 10}))
		Expect(rec.Mirrored).To(BeFalse())
		Expect(rec.FailedChecks).To(Equal(2))
		Expect(rec.Iterations).To(Equal(0))
		Expect(rec.Routes).To(BeEmpty())
		Expect(rec.Error).To(BeEmpty())
		Expect(rec.Metrics).To(HaveLen(1), "the first failure stops the checks")
		m := rec.Metrics[0]
		Expect(m.Name).To(Equal("request-success-rate"))
		Expect(m.Outcome).To(BeEquivalentTo("fail"))
		Expect(*m.Value).To(Equal(95.0))
		Expect(*m.Min).To(Equal(99.0))
		Expect(m.Query).To(ContainSubstring(successRateQuery))
		Expect(typed(rec)).To(Equal([]string{"Warning|Halt podinfo.test advancement success rate 95.00% < 99%"}))
	})

	It("records weights at the end of a tick that stopped before reading them", func() {
		f := newFixture(newCanary())
		f.startRevision()
		f.step()
		f.step() // 80/20
		p := f.deployment("podinfo-primary")
		p.Spec.Replicas = ptr(int32(2)) // primary rolling: not ready, retriable
		Expect(f.c.Update(f.ctx, p)).To(Succeed())
		rec := f.tick()
		Expect(rec.Step).To(Equal("primary-ready"))
		Expect(rec.Routes).To(BeEmpty())
		Expect([]int{rec.PrimaryWeight, rec.CanaryWeight}).To(Equal([]int{80, 20}), "read from the router at the end")
	})

	DescribeTable("wraps errors with the canary and the step",
		func(failOn func(f *fixture) client.Client, prepare func(f *fixture), step, want string) {
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			base := cluster.NewFakeClient(s, nil)
			f := newFixtureWithClient(newCanary(), base)
			prepare(f)
			f.engine.Client = failOn(f)
			rec, err := f.tickErr()
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(Equal(want))
			Expect(rec.Error).To(Equal(want))
			Expect(rec.Step).To(Equal(step))
		},
		Entry("a failing canary read", func(f *fixture) client.Client {
			return failingGet{Client: f.c, err: errors.New("etcd down")}
		}, func(*fixture) {}, "get-canary",
			"canary podinfo.test: step get-canary: get canary: etcd down"),
		Entry("a failing status write while starting a revision", func(f *fixture) client.Client {
			return failingStatus{Client: f.c, err: errors.New("admission denied")}
		}, func(f *fixture) { f.initialize(); f.setImage(imageV2) }, "start-revision",
			"canary podinfo.test: step start-revision: SyncStatus: admission denied"),
		Entry("a failing status write while counting a failed check", func(f *fixture) client.Client {
			return failingStatus{Client: f.c, err: errors.New("admission denied")}
		}, func(f *fixture) {
			f.startRevision()
			f.step()
			f.metrics.set(successRateQuery, 50)
			f.markReady("podinfo")
		}, "analysis",
			"canary podinfo.test: step analysis: SetStatusFailedChecks: admission denied"),
	)
})

// failingGet fails every Get of a Canary.
type failingGet struct {
	client.Client
	err error
}

func (c failingGet) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*v1beta1.Canary); ok {
		return c.err
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// failingStatus fails every status write.
type failingStatus struct {
	client.Client
	err error
}

func (c failingStatus) Status() client.SubResourceWriter {
	return failingWriter{c.Client.Status(), c.err}
}

type failingWriter struct {
	client.SubResourceWriter
	err error
}

func (w failingWriter) Update(context.Context, client.Object, ...client.SubResourceUpdateOption) error {
	return w.err
}

// testCanaryFields are the fields of the alerts Flagger sends with metadata about
// newCanary's canary (alertMetadata): the progress deadline is the default 600s.
var testCanaryFields = []engine.AlertField{
	{Name: "Target", Value: "Deployment/podinfo.test"},
	{Name: "Failed checks threshold", Value: "5"},
	{Name: "Progress deadline", Value: "600s"},
	{Name: "Traffic routing", Value: "Weight step: 10 max: 50"},
}
