package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/sim/cluster"
)

// Scale of BenchmarkScale: canaries in namespaces of scalePerNamespace, of which
// scaleRolling start an analysis once all are initialized.
const (
	scaleCanaries     = 1000
	scalePerNamespace = 100
	scaleRolling      = 50
	scaleNamespaces   = scaleCanaries / scalePerNamespace
	// scaleSetupLimit bounds the wait for every canary to initialize.
	scaleSetupLimit = 15 * time.Minute
)

// timedTicker records each tick's wall time while recording is on.
type timedTicker struct {
	ticker
	recording atomic.Bool
	ended     atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
}

func (t *timedTicker) Tick(ctx context.Context, key types.NamespacedName) (time.Duration, error) {
	start := time.Now()
	next, err := t.ticker.Tick(ctx, key)
	if t.recording.Load() {
		d := time.Since(start)
		t.mu.Lock()
		t.latencies = append(t.latencies, d)
		t.mu.Unlock()
	}
	t.ended.Add(1)
	return next, err
}

// countingTransport counts the controller's requests to the API server.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// stubPrometheus answers every instant query with a passing value (1 for the
// provider check's vector(1), 100 otherwise).
func stubPrometheus() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := "100"
		if r.URL.Query().Get("query") == "vector(1)" {
			v = "1"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%s"]}]}}`, time.Now().Unix(), v)
	}))
}

// BenchmarkScale runs one controller over 1,000 Canaries on envtest's API server, in
// real time: all are initialized and idle at Flagger's default analysis interval (1m),
// but 50 at its shortest (10s) that then start an analysis against a stub Prometheus. Each iteration waits for
// 1,000 more ticks (one round of every canary) and the benchmark reports the ticks'
// wall-time latency (p50, p99), the process's resident memory and live heap, and the
// controller's API requests per tick. `make bench-scale` runs it (a few minutes); it
// is not part of `make test` or `make bench`.
func BenchmarkScale(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err := cluster.StartEnvtest(ctx, cluster.EnvtestOptions{APIGroup: v1beta1.FlaggerGroupVersion.Group})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	prom := stubPrometheus()
	defer prom.Close()

	namespaces := createScaleCanaries(ctx, b, env.Client())
	for _, ns := range namespaces {
		sim := cluster.NewDeploymentSimulator(env.Client(), ns, 0, nil)
		go func() {
			for ctx.Err() == nil {
				_, _ = sim.Sync(ctx, time.Now())
				time.Sleep(time.Second)
			}
		}()
	}

	requests := &atomic.Int64{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, n: requests} }
	log := zap.NewNop()
	if os.Getenv("AVIARY_BENCH_LOG") != "" {
		log, _ = NewLogger("info", os.Stderr)
	}
	c, err := New(Options{Config: cfg, Metrics: promapi.New(), MetricsServer: prom.URL, ControlLoopInterval: time.Second,
		Version: "bench", Log: log})
	if err != nil {
		b.Fatal(err)
	}
	timed := &timedTicker{ticker: c.sched.engine}
	c.sched.engine = timed
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	waitForPhase(ctx, b, env.Client(), v1beta1.CanaryPhaseInitialized, scaleCanaries)
	for i := range scaleRolling {
		ns := namespaces[i%scaleNamespaces]
		name := fmt.Sprintf("app-%03d", i/scaleNamespaces)
		d := &appsv1.Deployment{}
		if err := env.Client().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			b.Fatal(err)
		}
		d.Spec.Template.Spec.Containers[0].Image = "podinfo:2"
		if err := env.Client().Update(ctx, d); err != nil {
			b.Fatal(err)
		}
	}

	runtime.GC()
	timed.recording.Store(true)
	requestsBefore, ticksBefore := requests.Load(), timed.ended.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target := timed.ended.Load() + scaleCanaries
		for timed.ended.Load() < target {
			time.Sleep(100 * time.Millisecond)
		}
	}
	b.StopTimer()
	timed.recording.Store(false)
	ticks := timed.ended.Load() - ticksBefore

	timed.mu.Lock()
	lat := slices.Clone(timed.latencies)
	timed.mu.Unlock()
	slices.Sort(lat)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-tick-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-tick-ms")
	b.ReportMetric(float64(residentBytes(b))/(1<<20), "rss-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
	b.ReportMetric(float64(requests.Load()-requestsBefore)/float64(ticks), "requests/tick")
	b.ReportMetric(float64(ticks)/float64(b.N), "ticks/op")
}

// createScaleCanaries creates the namespaces, each with scalePerNamespace target
// Deployments and their Canaries.
func createScaleCanaries(ctx context.Context, b *testing.B, c client.Client) []string {
	b.Helper()
	var namespaces []string
	for n := range scaleNamespaces {
		ns := fmt.Sprintf("scale-%02d", n)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
		namespaces = append(namespaces, ns)
		for i := range scalePerNamespace {
			name := fmt.Sprintf("app-%03d", i)
			interval := "1m"                      // Flagger's default
			if i < scaleRolling/scaleNamespaces { // the canaries the benchmark rolls (app-000... in every namespace)
				interval = "10s" // Flagger's shortest: the canaries that will roll
			}
			labels := map[string]string{"app": name}
			if err := c.Create(ctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "podinfo:1",
							Ports: []corev1.ContainerPort{{ContainerPort: 9898}}}}}}},
			}); err != nil {
				b.Fatal(err)
			}
			if err := c.Create(ctx, &v1beta1.Canary{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: v1beta1.CanarySpec{
					TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
					Service:   v1beta1.CanaryService{Port: 9898},
					Analysis: &v1beta1.CanaryAnalysis{Interval: interval, Threshold: 5, MaxWeight: 50, StepWeight: 5,
						Metrics: []v1beta1.CanaryMetric{
							{Name: "request-success-rate", Interval: "1m", ThresholdRange: &v1beta1.CanaryThresholdRange{Min: ptr.To(99.0)}},
							{Name: "request-duration", Interval: "1m", ThresholdRange: &v1beta1.CanaryThresholdRange{Max: ptr.To(500.0)}},
						}},
				},
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return namespaces
}

// waitForPhase waits until n Canaries are in phase.
func waitForPhase(ctx context.Context, b *testing.B, c client.Client, phase v1beta1.CanaryPhase, n int) {
	b.Helper()
	deadline := time.Now().Add(scaleSetupLimit)
	for {
		var list v1beta1.CanaryList
		if err := c.List(ctx, &list); err != nil {
			b.Fatal(err)
		}
		in := 0
		phases := map[v1beta1.CanaryPhase]int{}
		for _, cd := range list.Items {
			phases[cd.Status.Phase]++
			if cd.Status.Phase == phase {
				in++
			}
		}
		if in >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d canaries %s after %s (phases: %v)", in, n, phase, scaleSetupLimit, phases)
		}
		time.Sleep(time.Second)
	}
}

// residentBytes is the process's resident set size (VmRSS).
func residentBytes(b *testing.B) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatalf("resident memory: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
