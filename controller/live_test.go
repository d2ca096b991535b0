package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/version"
)

// constantSource answers every query with one value, and the provider check
// (vector(1)) with 1.
type constantSource float64

func (s constantSource) Query(_ context.Context, _ v1beta1.MetricTemplateProvider, query string) (float64, error) {
	if query == "vector(1)" {
		return 1, nil
	}
	return float64(s), nil
}

// countingTicker counts the ticks that ended.
type countingTicker struct {
	ticker
	n *atomic.Int64
}

func (c countingTicker) Tick(ctx context.Context, key types.NamespacedName) (time.Duration, error) {
	defer c.n.Add(1)
	return c.ticker.Tick(ctx, key)
}

// records keeps the tick records of every controller of a test.
type records struct {
	mu   sync.Mutex
	recs []engine.TickRecord
	next engine.TickObserver
}

func (r *records) ObserveTick(rec engine.TickRecord) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	r.next.ObserveTick(rec)
}

// String lists the records, for failure messages.
func (r *records) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.recs {
		line, _ := json.Marshal(rec)
		b.Write(append(line, '\n'))
	}
	return b.String()
}

func (r *records) routes() []engine.RouteChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.RouteChange
	for _, rec := range r.recs {
		out = append(out, rec.Routes...)
	}
	return out
}

func (r *records) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		for _, e := range rec.Events {
			out = append(out, e.Message)
		}
	}
	return out
}

var _ = Describe("the live controller on an API server", Ordered, func() {
	var env *cluster.Envtest

	BeforeAll(func(ctx SpecContext) {
		var err error
		env, err = cluster.StartEnvtest(ctx, cluster.EnvtestOptions{APIGroup: v1beta1.FlaggerGroupVersion.Group})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
	})

	// run is one controller process: started on clk, ticks counted, records kept,
	// logs in a buffer; stop ends it as SIGTERM does.
	type run struct {
		c     *Controller
		ticks *atomic.Int64
		logs  *lockedWriter
		stop  func()
	}
	start := func(clk *clocktesting.FakeClock, recs *records) run {
		GinkgoHelper()
		logs := &lockedWriter{}
		log, err := NewLogger("info", logs)
		Expect(err).NotTo(HaveOccurred())
		c, err := New(Options{Config: env.Config, Metrics: constantSource(100), Clock: clk, ControlLoopInterval: time.Minute,
			Listen: "127.0.0.1:0", Log: log})
		Expect(err).NotTo(HaveOccurred())
		recs.next = c.Engine.Observer
		c.Engine.Observer = recs
		n := &atomic.Int64{}
		c.sched.engine = countingTicker{ticker: c.sched.engine, n: n}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		Eventually(func() int { return http200(c, "/readyz") }).Should(Equal(http.StatusOK))
		return run{c: c, ticks: n, logs: logs, stop: func() {
			cancel()
			Eventually(done, "10s").Should(Receive(BeNil()))
		}}
	}

	// setUp creates a namespace, the target Deployment and the Canary, and simulates
	// the namespace's pods in real time against the fake clock's now.
	setUp := func(ctx context.Context, clk *clocktesting.FakeClock, stepWeight int) string {
		GinkgoHelper()
		c := env.Client()
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "live-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		labels := map[string]string{"app": "podinfo"}
		Expect(c.Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "podinfo", Image: "podinfo:1",
						Ports: []corev1.ContainerPort{{ContainerPort: 9898}}}}}}},
		})).To(Succeed())
		Expect(c.Create(ctx, &v1beta1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
			Spec: v1beta1.CanarySpec{
				TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
				Service:   v1beta1.CanaryService{Port: 9898},
				Analysis: &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 2, MaxWeight: 50, StepWeight: stepWeight,
					Metrics: []v1beta1.CanaryMetric{{Name: "request-success-rate", Interval: "1m",
						ThresholdRange: &v1beta1.CanaryThresholdRange{Min: ptr.To(99.0)}}}},
			},
		})).To(Succeed())
		sim := cluster.NewDeploymentSimulator(c, ns.Name, 0, nil)
		simCtx, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		go func() {
			for simCtx.Err() == nil {
				_, _ = sim.Sync(simCtx, clk.Now())
				time.Sleep(5 * time.Millisecond)
			}
		}()
		return ns.Name
	}

	phase := func(ctx context.Context, ns string) v1beta1.CanaryPhase {
		cd := &v1beta1.Canary{}
		if err := env.Client().Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, cd); err != nil {
			return ""
		}
		return cd.Status.Phase
	}

	// tickOnce moves the clock by one interval (the control loop's and the canary's)
	// and waits for the tick it starts to end.
	tickOnce := func(clk *clocktesting.FakeClock, r run) {
		GinkgoHelper()
		before := r.ticks.Load()
		clk.Step(time.Minute)
		Eventually(r.ticks.Load, "10s").Should(BeNumerically(">", before))
	}
	// waitForTickers waits until the control loop and n jobs wait on the clock.
	waitForTickers := func(clk *clocktesting.FakeClock, n int) {
		GinkgoHelper()
		Eventually(clk.Waiters).Should(BeNumerically(">=", n))
	}

	newImage := func(ctx context.Context, ns string) {
		GinkgoHelper()
		d := &appsv1.Deployment{}
		Expect(env.Client().Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, d)).To(Succeed())
		d.Spec.Template.Spec.Containers[0].Image = "podinfo:2"
		Expect(env.Client().Update(ctx, d)).To(Succeed())
	}

	It("advances a flagger.app Canary to promotion on its analysis interval, with Flagger's events, logs and metrics", func(ctx SpecContext) {
		clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		ns := setUp(ctx, clk, 50)
		recs := &records{}
		r := start(clk, recs)
		defer r.stop()
		waitForTickers(clk, 1)
		for i := 0; i < 5 && phase(ctx, ns) != v1beta1.CanaryPhaseInitialized; i++ {
			tickOnce(clk, r)
			waitForTickers(clk, 2)
		}
		Expect(phase(ctx, ns)).To(Equal(v1beta1.CanaryPhaseInitialized))
		newImage(ctx, ns)
		for i := 0; i < 10 && phase(ctx, ns) != v1beta1.CanaryPhaseSucceeded; i++ {
			tickOnce(clk, r)
		}
		Expect(phase(ctx, ns)).To(Equal(v1beta1.CanaryPhaseSucceeded), recs.String)
		Expect(recs.routes()).To(Equal([]engine.RouteChange{{Primary: 50, Canary: 50}, {Primary: 100, Canary: 0}}))
		promoted := fmt.Sprintf("Promotion completed! Scaling down podinfo.%s", ns)
		Expect(recs.events()).To(ContainElement(promoted))

		By("owner references naming the Canary in flagger.app")
		primary := &appsv1.Deployment{}
		Expect(env.Client().Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo-primary"}, primary)).To(Succeed())
		Expect(primary.OwnerReferences).To(ConsistOf(HaveField("APIVersion", "flagger.app/v1beta1")))
		Expect(primary.OwnerReferences[0].Kind).To(Equal("Canary"))

		By("Kubernetes events from component flagger, reason Synced")
		Eventually(func() []corev1.Event {
			var list corev1.EventList
			Expect(env.Client().List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			return list.Items
		}, "10s").Should(ContainElement(And(
			HaveField("Message", promoted), HaveField("Reason", "Synced"), HaveField("Source.Component", "flagger"),
			HaveField("InvolvedObject.APIVersion", "flagger.app/v1beta1"), HaveField("InvolvedObject.Kind", "Canary"))))

		By("a JSON log line per event, msg as Flagger's")
		var line map[string]any
		for _, l := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(l, "Promotion completed") {
				Expect(json.Unmarshal([]byte(l), &line)).To(Succeed())
			}
		}
		Expect(line).To(HaveKeyWithValue("msg", promoted))
		Expect(line).To(HaveKeyWithValue("canary", "podinfo."+ns))
		Expect(line).To(HaveKeyWithValue("level", "info"))
		Expect(line).To(HaveKey("ts"))
		Expect(line).To(HaveKey("caller"))

		By("Flagger's metrics")
		body := get(r.c, "/metrics")
		for _, series := range []string{
			fmt.Sprintf(`flagger_canary_status{name="podinfo",namespace="%s"} 1`, ns),
			fmt.Sprintf(`flagger_canary_weight{namespace="%s",workload="podinfo-primary"} 100`, ns),
			fmt.Sprintf(`flagger_canary_weight{namespace="%s",workload="podinfo"} 0`, ns),
			fmt.Sprintf(`flagger_canary_total{namespace="%s"} 1`, ns),
			fmt.Sprintf(`flagger_canary_metric_analysis{metric="request-success-rate",name="podinfo",namespace="%s"} 100`, ns),
			fmt.Sprintf(`flagger_canary_successes_total{analysis_status="completed",deployment_strategy="canary",name="podinfo",namespace="%s"} 1`, ns),
			fmt.Sprintf(`flagger_canary_duration_seconds_count{name="podinfo",namespace="%s"} `, ns),
			`flagger_info{mesh_provider="istio",version="` + version.FlaggerVersion + `"} 1`,
			`aviary_info{commit="` + version.Revision() + `",flagger_version="` + version.FlaggerVersion + `",version="` + version.Version + `"} 1`,
			"# TYPE flagger_canary_duration_seconds histogram",
		} {
			Expect(body).To(ContainSubstring(series))
		}
		By("aviary's histogram of every tick's wall time")
		Expect(body).To(ContainSubstring("# TYPE " + TickSecondsMetric + " histogram"))
		Expect(body).To(MatchRegexp(`(?m)^`+TickSecondsMetric+`_count [1-9][0-9]*$`), "every tick observed")
		Expect(http200(r.c, "/healthz")).To(Equal(http.StatusOK))
	})

	It("resumes a canary after a restart at the step it was at: none skipped or repeated", func(ctx SpecContext) {
		clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		ns := setUp(ctx, clk, 10)
		recs := &records{}
		r := start(clk, recs)
		waitForTickers(clk, 1)
		for i := 0; i < 5 && phase(ctx, ns) != v1beta1.CanaryPhaseInitialized; i++ {
			tickOnce(clk, r)
			waitForTickers(clk, 2)
		}
		newImage(ctx, ns)
		for len(recs.routes()) < 2 {
			tickOnce(clk, r)
		}
		r.stop()
		Expect(recs.routes()).To(Equal([]engine.RouteChange{{Primary: 90, Canary: 10}, {Primary: 80, Canary: 20}}))

		waiters := clk.Waiters()
		r = start(clk, recs)
		defer r.stop()
		waitForTickers(clk, waiters+1)
		for i := 0; i < 20 && phase(ctx, ns) != v1beta1.CanaryPhaseSucceeded; i++ {
			tickOnce(clk, r)
		}
		Expect(phase(ctx, ns)).To(Equal(v1beta1.CanaryPhaseSucceeded))
		Expect(recs.routes()).To(Equal([]engine.RouteChange{{Primary: 90, Canary: 10}, {Primary: 80, Canary: 20},
			{Primary: 70, Canary: 30}, {Primary: 60, Canary: 40}, {Primary: 50, Canary: 50}, {Primary: 100, Canary: 0}}))
		promotions := 0
		for _, e := range recs.events() {
			if strings.HasPrefix(e, "Promotion completed!") {
				promotions++
			}
		}
		Expect(promotions).To(Equal(1))
	})
})

func get(c *Controller, path string) string {
	GinkgoHelper()
	resp, err := http.Get("http://" + c.Addr().String() + path)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return string(body)
}

func http200(c *Controller, path string) int {
	resp, err := http.Get("http://" + c.Addr().String() + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// lockedWriter is a buffer safe for a logger's concurrent writes.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
