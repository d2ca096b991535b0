package scale_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/e2e/scale"
	"aviary.dev/aviary/sim/cluster"
)

// The benchmark's shape. AVIARY_SCALE_CANARIES and AVIARY_SCALE_WINDOW change the
// number of Canaries and the measuring window (a quick try: 100 and 20s).
const (
	defaultCanaries = 1000
	namespaces      = 10
	// rollingEvery: every rollingEvery-th Canary gets a new revision once all are
	// initialized, and is in analysis during the window (1,000 / 20 = 50).
	rollingEvery = 20
	// The idle Canaries tick every minute (the interval Flagger's documentation
	// uses), the rolling set every 10 s, so that its analysis ticks are many in the
	// window: 950/60 s + 50/10 s, about 21 ticks a second in all.
	idleInterval, rollingInterval = "1m", "10s"
	// qps and burst are the controller's client-side limits (-kubeconfig-qps,
	// -kubeconfig-burst): above what the load needs, so that the figures are the
	// controller's and the API server's, not the rate limiter's; Flagger's defaults
	// (100, 250) are below it (README, Performance).
	qps, burst = 1000, 2000
	// The rolling set walks 5% steps to 50%: ten steps, 100 s at 10 s, longer than
	// the window, so that the set stays in analysis throughout.
	stepWeight, maxWeight = 5, 50
	defaultWindow         = 60 * time.Second
	// sampleEvery is how often the controller's memory is read.
	sampleEvery = 250 * time.Millisecond
)

// tickHistogram is the controller's histogram of every tick's wall time (aviary's
// controller.TickSecondsMetric, buckets 25% apart; read as a dashboard would, by
// name: Flagger's flagger_canary_duration_seconds observes only the ticks that
// analyse, in Prometheus' default buckets).
const tickHistogram = "aviary_controller_tick_seconds"

// BenchmarkScale: N Canaries (1,000) with their Deployments in ten namespaces on
// envtest's API server, one controller process, Deployments made ready by the
// Deployment simulator, metrics from a stub Prometheus whose every answer passes.
// Reported: the controller's peak (VmHWM) and steady (median VmRSS in the window)
// resident memory, its Go heap in use and goroutines at the window's end, p50/p99 of
// its ticks in the window, the time until every Canary was initialized, its
// CPU, the API server's requests per second in the window less the benchmark's own
// and their latency (p50/p99, the benchmark's included: it tells the API server's
// share of a tick), and the stub's queries per second.
func BenchmarkScale(b *testing.B) {
	n := envInt(b, "AVIARY_SCALE_CANARIES", defaultCanaries)
	window := defaultWindow
	if s := os.Getenv("AVIARY_SCALE_WINDOW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("AVIARY_SCALE_WINDOW=%q: %v", s, err)
		}
		window = d
	}
	bin := controllerBinary(b)
	for b.Loop() {
		r := runScale(b, bin, n, window)
		b.ReportMetric(mib(r.peak), "peak-rss-MiB")
		b.ReportMetric(mib(r.steady), "steady-rss-MiB")
		b.ReportMetric(mib(r.heap), "heap-inuse-MiB")
		b.ReportMetric(r.goroutines, "goroutines")
		b.ReportMetric(r.p50*1000, "tick-p50-ms")
		b.ReportMetric(r.p99*1000, "tick-p99-ms")
		b.ReportMetric(r.ticks/window.Seconds(), "ticks/s")
		b.ReportMetric(r.init.Seconds(), "init-sec")
		b.ReportMetric(r.apiRPS, "api-req/s")
		b.ReportMetric(r.apiP50*1000, "api-p50-ms")
		b.ReportMetric(r.apiP99*1000, "api-p99-ms")
		b.ReportMetric(r.cpu, "cpu-cores")
		b.ReportMetric(r.queriesPS, "queries/s")
	}
}

// scaleResult is one run's figures.
type scaleResult struct {
	peak, steady      uint64
	p50, p99, ticks   float64
	init              time.Duration
	apiRPS, queriesPS float64
	cpu               float64
	heap              uint64
	goroutines        float64
	apiP50, apiP99    float64
}

func mib(bytes uint64) float64 { return float64(bytes) / (1 << 20) }

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < rollingEvery {
		b.Fatalf("%s=%q: want a whole number >= %d", name, s, rollingEvery)
	}
	return v
}

// runScale is one run, from an API server's start to its stop.
func runScale(b *testing.B, bin string, n int, window time.Duration) scaleResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err := cluster.StartEnvtest(ctx, cluster.EnvtestOptions{APIGroup: v1beta1.FlaggerGroupVersion.Group})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()

	// The benchmark's own client counts its requests, to tell them from the controller's.
	var own atomic.Int64
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt, &own} })
	c, err := client.New(cfg, client.Options{Scheme: env.Client().Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	nss := make([]string, namespaces)
	for i := range nss {
		nss[i] = fmt.Sprintf("scale-%d", i)
	}
	if err := createObjects(ctx, c, nss, n); err != nil {
		b.Fatal(err)
	}

	// Deployments become ready at once (startup delay 0) as the simulator writes their
	// status; it syncs every namespace each second.
	sims := make([]*cluster.DeploymentSimulator, len(nss))
	for i, ns := range nss {
		sims[i] = cluster.NewDeploymentSimulator(c, ns, 0, nil)
	}
	var simErr atomic.Value
	var simWG sync.WaitGroup
	simWG.Add(1)
	go func() {
		defer simWG.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			for _, s := range sims {
				if _, err := s.Sync(ctx, time.Now()); err != nil && ctx.Err() == nil {
					simErr.Store(err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer simWG.Wait()
	defer cancel()

	stub := &scale.StubPrometheus{Value: 100}
	prom := httptest.NewServer(stub)
	defer prom.Close()

	dir := b.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := e2e.WriteKubeconfig(env.Config, "", kubeconfig); err != nil {
		b.Fatal(err)
	}
	port, err := e2e.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	logPath := filepath.Join(dir, "controller.log")
	logf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	args := append([]string{"controller"},
		"-kubeconfig", kubeconfig, "-metrics-server", prom.URL, "-mesh-provider", "istio",
		"-port", strconv.Itoa(port), "-log-level", "info",
		"-kubeconfig-qps", strconv.Itoa(qps), "-kubeconfig-burst", strconv.Itoa(burst))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	fail := func(format string, a ...any) {
		b.Helper()
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		b.Fatalf(format+"\ncontroller log %s ends with:\n%s", append(a, logPath, tail)...)
	}
	mem := &memorySampler{pid: cmd.Process.Pid}
	go mem.run(ctx)

	// Every Canary initialized: the time from the controller's start.
	if err := waitPhases(ctx, c, exited, 5*time.Minute, func(p map[v1beta1.CanaryPhase]int) bool {
		return p[v1beta1.CanaryPhaseInitialized]+p[v1beta1.CanaryPhaseSucceeded] == n
	}); err != nil {
		fail("waiting for %d Canaries to be initialized: %v", n, err)
	}
	initTook := time.Since(started)

	// A new revision for the rolling set; the window starts once all of it is in analysis.
	rolling := 0
	for i := 0; i < n; i += rollingEvery {
		if err := newRevision(ctx, c, nss[i%namespaces], appName(i)); err != nil {
			b.Fatal(err)
		}
		rolling++
	}
	if err := waitPhases(ctx, c, exited, 3*time.Minute, func(p map[v1beta1.CanaryPhase]int) bool {
		return p[v1beta1.CanaryPhaseProgressing] == rolling
	}); err != nil {
		fail("waiting for %d Canaries in analysis: %v", rolling, err)
	}

	before, err := scrapeAll(ctx, env.Config, metricsURL)
	if err != nil {
		fail("%v", err)
	}
	ownBefore, queriesBefore := own.Load(), stub.Queries.Load()
	cpuBefore, err := scale.ReadCPU(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	mem.reset()
	select {
	case <-time.After(window):
	case err := <-exited:
		fail("controller exited during the window: %v", err)
	}
	after, err := scrapeAll(ctx, env.Config, metricsURL)
	if err != nil {
		fail("%v", err)
	}
	steady, peak := mem.result()
	cpuAfter, err := scale.ReadCPU(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	ownReqs, queries := own.Load()-ownBefore, stub.Queries.Load()-queriesBefore

	phases, err := countPhases(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	if phases[v1beta1.CanaryPhaseFailed] > 0 {
		fail("%d Canaries failed (phases %v): the stub's answers should pass every check", phases[v1beta1.CanaryPhaseFailed], phases)
	}
	if err, _ := simErr.Load().(error); err != nil {
		b.Fatalf("deployment simulator: %v", err)
	}
	ticks, err := after.ticks.Since(before.ticks)
	if err != nil {
		b.Fatal(err)
	}
	apiLatency, err := after.apiLatency.Since(before.apiLatency)
	if err != nil {
		b.Fatal(err)
	}
	if ticks.Count() == 0 {
		fail("no tick observed in %s in the window", tickHistogram)
	}
	b.Logf("phases at the end %v; %d ticks in %s; controller log %s", phases, int(ticks.Count()), window, logPath)
	secs := window.Seconds()
	return scaleResult{
		peak: peak, steady: steady,
		p50: ticks.Quantile(0.5), p99: ticks.Quantile(0.99), ticks: ticks.Count(),
		init: initTook,
		cpu:  (cpuAfter - cpuBefore).Seconds() / secs,
		heap: uint64(after.heap), goroutines: after.goroutines,
		apiP50: apiLatency.Quantile(0.5), apiP99: apiLatency.Quantile(0.99),
		apiRPS:    (after.apiRequests - before.apiRequests - float64(ownReqs)) / secs,
		queriesPS: float64(queries) / secs,
	}
}

func appName(i int) string { return fmt.Sprintf("app-%04d", i) }

// createObjects creates the namespaces, and per Canary its target Deployment and the
// Canary (Canary i in namespace i mod len(nss)).
func createObjects(ctx context.Context, c client.Client, nss []string, n int) error {
	for _, ns := range nss {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			ns, name := nss[i%len(nss)], appName(i)
			if err := c.Create(gctx, deployment(ns, name)); err != nil {
				return fmt.Errorf("deployment %s/%s: %w", ns, name, err)
			}
			every := idleInterval
			if i%rollingEvery == 0 {
				every = rollingInterval
			}
			if err := c.Create(gctx, canary(ns, name, every)); err != nil {
				return fmt.Errorf("canary %s/%s: %w", ns, name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "example.com/app:1.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				}}},
			},
		},
	}
}

func canary(ns, name, interval string) *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			Service:   v1beta1.CanaryService{Port: 80, TargetPort: intstr.FromInt32(8080)},
			Analysis: &v1beta1.CanaryAnalysis{
				Interval: interval, Threshold: 5, StepWeight: stepWeight, MaxWeight: maxWeight,
				Metrics: []v1beta1.CanaryMetric{{
					Name: "request-success-rate", Interval: "1m",
					ThresholdRange: &v1beta1.CanaryThresholdRange{Min: ptr(99.0)},
				}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// newRevision changes the Deployment's image: a new revision for its Canary.
func newRevision(ctx context.Context, c client.Client, ns, name string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = "example.com/app:2.0.0"
		return c.Update(ctx, &d)
	})
}

func countPhases(ctx context.Context, c client.Client) (map[v1beta1.CanaryPhase]int, error) {
	var list v1beta1.CanaryList
	if err := c.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list canaries: %w", err)
	}
	p := map[v1beta1.CanaryPhase]int{}
	for i := range list.Items {
		p[list.Items[i].Status.Phase]++
	}
	return p, nil
}

// waitPhases polls the Canaries' phases every second until done holds, the
// controller exits or timeout passes.
func waitPhases(ctx context.Context, c client.Client, exited <-chan error, timeout time.Duration, done func(map[v1beta1.CanaryPhase]int) bool) error {
	deadline := time.After(timeout)
	var last map[v1beta1.CanaryPhase]int
	for {
		p, err := countPhases(ctx, c)
		if err != nil {
			return err
		}
		if done(p) {
			return nil
		}
		last = p
		select {
		case err := <-exited:
			return fmt.Errorf("controller exited: %v (phases %v)", err, last)
		case <-deadline:
			return fmt.Errorf("not after %s (phases %v)", timeout, last)
		case <-time.After(time.Second):
		}
	}
}

// scrape is what the window's ends read: the controller's tick histogram and
// the API server's count of the requests it served.
type scrape struct {
	ticks       scale.Histogram
	apiRequests float64
	// apiLatency is the API server's request latency, long-running verbs aside.
	apiLatency scale.Histogram
	// heap and goroutines are the controller's Go heap in use and goroutines (Go
	// collector's gauges; 0 when it serves none).
	heap, goroutines float64
}

func scrapeAll(ctx context.Context, api *rest.Config, controllerMetrics string) (scrape, error) {
	var s scrape
	e, err := getExposition(ctx, http.DefaultClient, controllerMetrics)
	if err != nil {
		return s, fmt.Errorf("controller: %w", err)
	}
	if s.ticks, err = e.Histogram(tickHistogram); err != nil {
		return s, err
	}
	s.heap, s.goroutines = e.Sum("go_memstats_heap_inuse_bytes"), e.Sum("go_goroutines")
	hc, err := rest.HTTPClientFor(api)
	if err != nil {
		return s, err
	}
	e, err = getExposition(ctx, hc, strings.TrimSuffix(api.Host, "/")+"/metrics")
	if err != nil {
		return s, fmt.Errorf("API server: %w", err)
	}
	s.apiRequests = e.Sum("apiserver_request_total")
	s.apiLatency, err = e.HistogramOf("apiserver_request_duration_seconds", func(l map[string]string) bool {
		return l["verb"] != "WATCH" && l["verb"] != "CONNECT"
	})
	if err != nil {
		return s, err
	}
	return s, nil
}

func getExposition(ctx context.Context, hc *http.Client, url string) (scale.Exposition, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return scale.ParseExposition(resp.Body)
}

// memorySampler reads the controller's memory every sampleEvery.
type memorySampler struct {
	pid     int
	mu      sync.Mutex
	samples []uint64
	peak    uint64
}

func (m *memorySampler) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		if mem, err := scale.ReadMemory(m.pid); err == nil {
			m.mu.Lock()
			m.samples = append(m.samples, mem.RSS)
			m.peak = max(m.peak, mem.HWM)
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reset starts the steady samples anew (the peak stays).
func (m *memorySampler) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = m.samples[:0]
}

// result is the median RSS since reset and the peak since the start.
func (m *memorySampler) result() (steady, peak uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := slices.Clone(m.samples)
	slices.Sort(s)
	if len(s) > 0 {
		steady = s[len(s)/2]
	}
	return steady, m.peak
}

// countingTransport counts the requests it sends.
type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.rt.RoundTrip(r)
}
