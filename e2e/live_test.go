package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/e2e"
)

// controllerName is the controller under test: AVIARY_E2E_CONTROLLER, aviary's by
// default; `make e2e-flagger` sets flagger.
func controllerName() string {
	if n := os.Getenv("AVIARY_E2E_CONTROLLER"); n != "" {
		return n
	}
	return "aviary"
}

// scenarioFiles are the real-time scenarios: AVIARY_E2E_SCENARIOS (a directory),
// else e2e/scenarios.
func scenarioFiles() []string {
	dir := os.Getenv("AVIARY_E2E_SCENARIOS")
	if dir == "" {
		dir = "scenarios"
	}
	return yamlFiles(dir)
}

// aviaryBinary is the aviary CLI: AVIARY_E2E_AVIARY, else built from this module
// into dir.
func aviaryBinary(dir string) (string, error) {
	if p := os.Getenv("AVIARY_E2E_AVIARY"); p != "" {
		return p, nil
	}
	root, err := e2e.ModuleRoot()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "aviary")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/aviary")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/aviary: %w\n%s", err, out)
	}
	return path, nil
}

// controllerUnderTest is the controller AVIARY_E2E_CONTROLLER names, logging at
// AVIARY_E2E_LOG_LEVEL (info by default); AVIARY_E2E_CONTROLLER_BIN is the aviary
// binary whose controller runs, when not the one sim serve runs from.
func controllerUnderTest(aviary string) e2e.Controller {
	GinkgoHelper()
	var c e2e.Controller
	switch n := controllerName(); n {
	case "aviary":
		if bin := os.Getenv("AVIARY_E2E_CONTROLLER_BIN"); bin != "" {
			aviary = bin // another build of aviary for the controller than for sim serve
		}
		c = e2e.AviaryController(aviary)
	case "flagger":
		c = e2e.FlaggerController(tool(e2e.FlaggerBinary, true))
	default:
		Fail(fmt.Sprintf("AVIARY_E2E_CONTROLLER=%q: want aviary or flagger", n))
	}
	c.LogLevel = os.Getenv("AVIARY_E2E_LOG_LEVEL")
	return c
}

var (
	mainOnce, faultsOnce sync.Once
	mainRun, faultsRun   *future
)

// mainLabels and faultLabels are the two live containers' labels.
var (
	mainLabels  = Label("e2e")
	faultLabels = Label("e2e", "faults")
)

// startRuns starts, the first time either container needs its run, every live run
// whose container is going to run: side by side they take the time of the longer.
func startRuns() {
	GinkgoHelper()
	if mainLabels.MatchesLabelFilter(GinkgoLabelFilter()) {
		startMain()
	}
	if faultLabels.MatchesLabelFilter(GinkgoLabelFilter()) {
		startFaults()
	}
	if rbacLabels.MatchesLabelFilter(GinkgoLabelFilter()) {
		startNamespaced()
	}
}

// startMain starts the live run of e2e/scenarios with the controller under test.
func startMain() *future {
	GinkgoHelper()
	s := theStack()
	ctl := controllerUnderTest(s.aviary)
	helm := chartHelm(ctl)
	mainOnce.Do(func() {
		o := liveOptions{stack: s, files: scenarioFiles(), ctl: ctl}
		if err := asChartServiceAccount(&o, helm, true); err != nil {
			mainRun = failedRun(err)
			return
		}
		mainRun = goLive(context.Background(), o)
	})
	return mainRun
}

// startFaults starts the fault run (e2e/faults) on an API server of its own, so that
// the faults (which hit the whole controller, Prometheus and API server) touch no
// other scenario.
func startFaults() *future {
	GinkgoHelper()
	main := theStack()
	ctl := controllerUnderTest(main.aviary)
	helm := chartHelm(ctl)
	faultsOnce.Do(func() {
		faults, err := newStack()
		Expect(err).NotTo(HaveOccurred())
		faults.aviary, faults.prometheus = main.aviary, main.prometheus
		u, err := url.Parse(faults.env.Config.Host)
		Expect(err).NotTo(HaveOccurred())
		cut, err := e2e.NewCutProxy(u.Host)
		Expect(err).NotTo(HaveOccurred())
		o := liveOptions{stack: faults, files: faultFiles(), ctl: ctl, cut: cut,
			during: func(ctx context.Context, l *live) error { return injectFaults(ctx, l, cut) }}
		// without leader election: a SIGKILLed leader keeps its Lease until it expires
		// (15 s), which would change the restart times the fault specs hold
		Expect(asChartServiceAccount(&o, helm, false)).To(Succeed())
		faultsRun = goLive(context.Background(), o)
	})
	return faultsRun
}

// live is one live run of scenarios side by side, and their predictions.
type live struct {
	stack       *stack
	run         *e2e.Live
	rec         *e2e.Recorder
	stopRec     context.CancelFunc
	predictions map[string]*e2e.Prediction // by file
	started     time.Time
	ended       time.Time
	// faults is what the fault script did (fault runs only).
	faults *faultFigures
}

// liveOptions say what a live run plays and how.
type liveOptions struct {
	stack *stack
	files []string
	ctl   e2e.Controller
	// cut, when set, stands between the controller and the API server.
	cut *e2e.CutProxy
	// as, when set, is the user the controller's kubeconfig impersonates.
	as string
	// during runs while sim serve plays, from when the controller serves.
	during func(ctx context.Context, l *live) error
}

var (
	livesMu sync.Mutex
	lives   []*e2e.Live
)

// stopLives stops every live run's processes (AfterSuite: an interrupted or
// failed run leaves no process behind).
func stopLives() {
	livesMu.Lock()
	defer livesMu.Unlock()
	for _, l := range lives {
		_ = l.Stop()
	}
}

// runLive predicts every file, then plays them all live and waits until sim serve
// has passed every scenario's until. It returns errors rather than asserting: it
// runs in a goroutine beside other live runs.
func runLive(ctx context.Context, o liveOptions) (*live, error) {
	l := &live{stack: o.stack, predictions: map[string]*e2e.Prediction{}}
	var until time.Duration
	for _, f := range o.files {
		p, err := e2e.Predict(ctx, f)
		if err != nil {
			return l, err
		}
		l.predictions[f] = p
		until = max(until, p.Loaded.Scenario.Spec.Until.Duration)
	}
	dir, err := os.MkdirTemp(o.stack.dir, "live-")
	if err != nil {
		return l, err
	}
	recCtx, stopRec := context.WithCancel(context.Background())
	l.stopRec = func() { stopRec(); l.rec.Wait() }
	opts := e2e.RunOptions{Aviary: o.stack.aviary, Prometheus: o.stack.prometheus, Controller: o.ctl,
		Kubeconfig: o.stack.kubeconfig, Dir: dir, Scenarios: o.files}
	if o.cut != nil || o.as != "" {
		opts.ControllerKubeconfig = filepath.Join(dir, "kubeconfig-controller")
		hostPort := ""
		if o.cut != nil {
			hostPort = o.cut.Addr()
		}
		if err := e2e.WriteKubeconfigAs(o.stack.env.Config, hostPort, opts.ControllerKubeconfig, o.as); err != nil {
			return l, err
		}
	}
	l.started = time.Now()
	l.rec = e2e.Record(recCtx, o.stack.client) // no namespaces yet: Wait works on every path
	l.run, err = e2e.StartLive(ctx, opts, func(r e2e.ServeReady) {
		l.rec = e2e.Record(recCtx, o.stack.client, r.Namespaces()...)
	})
	if l.run != nil {
		livesMu.Lock()
		lives = append(lives, l.run)
		livesMu.Unlock()
	}
	if err != nil {
		return l, err
	}
	GinkgoWriter.Printf("e2e: %s controller, sim serve and Prometheus up %v after the start; scenarios %v run for %v\n",
		o.ctl.Name, time.Since(l.started).Round(time.Millisecond), l.run.Ready.Namespaces(), until)
	var duringErr error
	if o.during != nil {
		duringErr = o.during(ctx, l)
	}
	select {
	case <-l.run.Serve.Done():
	case <-ctx.Done():
		return l, ctx.Err()
	}
	l.ended = time.Now()
	if err := l.run.Serve.Err(); err != nil {
		return l, fmt.Errorf("sim serve ended with %v (it ends with status 0 once every scenario's until has passed); its log: %s", err, l.run.Serve.Log)
	}
	if !l.run.Ctl.Proc.Running() {
		return l, fmt.Errorf("the %s controller is no longer running (%v); its log: %s", o.ctl.Name, l.run.Ctl.Proc.Err(), l.run.Ctl.Proc.Log)
	}
	return l, duringErr
}

// future is a live run going on in the background.
type future struct {
	done chan struct{}
	l    *live
	err  error
}

// failedRun is a run that could not start.
func failedRun(err error) *future {
	f := &future{done: make(chan struct{}), err: err}
	close(f.done)
	return f
}

func goLive(ctx context.Context, o liveOptions) *future {
	f := &future{done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(f.done)
		f.l, f.err = runLive(ctx, o)
	}()
	return f
}

// wait waits for the run and registers its processes for the failure report.
func (f *future) wait(ctx context.Context) *live {
	GinkgoHelper()
	select {
	case <-f.done:
	case <-ctx.Done():
		Fail("interrupted while waiting for a live run")
	}
	if f.l != nil && f.l.run != nil {
		processes(f.l.run.Processes()...)
	}
	if f.l != nil && f.l.stopRec != nil {
		DeferCleanup(f.l.stopRec)
	}
	Expect(f.err).NotTo(HaveOccurred())
	return f.l
}

// canaryKey is namespace/name of the scenario's Canary.
func canaryKey(p *e2e.Prediction) string {
	return p.Loaded.Canary.Namespace + "/" + p.Loaded.Canary.Name
}

var _ = Describe("live rollouts", Ordered, mainLabels, func() {
	files := scenarioFiles()
	var l *live
	rows := map[string]e2e.Diff{}

	BeforeAll(func(ctx SpecContext) {
		if len(files) == 0 {
			Fail("no real-time scenarios in e2e/scenarios (or AVIARY_E2E_SCENARIOS)")
		}
		startRuns()
		l = startMain().wait(ctx)
	}, NodeTimeout(15*time.Minute))

	for _, f := range files {
		It("decide what the simulator predicted for "+filepath.Base(f), func(ctx SpecContext) {
			p := l.predictions[f]
			key := canaryKey(p)
			d := e2e.Compare(p, l.rec.Steps(key), l.rec.Events(key))
			d.Metrics = e2e.CompareMetrics(p.Metrics, liveMetrics(ctx, l, p))
			rows[p.Loaded.Scenario.Metadata.Name] = d
			GinkgoWriter.Printf("%s: live steps %v\n  live events %q\n", key, d.LiveSteps, d.LiveMessages)
			if controllerName() != "aviary" {
				return // another controller's differences are a report (AfterAll), not a failure
			}
			Expect(d.Steps).To(BeEmpty(), "phases and canary weights (predicted | live)")
			Expect(d.Messages).To(BeEmpty(), "event messages (predicted | live)")
			Expect(d.Counts).To(BeEmpty(), "event counts")
		}, NodeTimeout(time.Minute)) // not SpecTimeout: the first spec's would hold BeforeAll too
	}

	AfterAll(func() {
		if len(rows) == 0 {
			return
		}
		table := e2e.Table(controllerName(), rows)
		AddReportEntry("live vs simulated", table)
		fmt.Fprintln(GinkgoWriter, table)
		if out := os.Getenv("AVIARY_E2E_REPORT"); out != "" {
			Expect(os.WriteFile(out, []byte(table), 0o644)).To(Succeed())
		}
	})
})

// liveMetrics are the values of the controller's flagger_canary_metric_analysis for
// the scenario's Canary over the run, by metric, consecutive repeats collapsed
// (the gauge holds the last check's value between checks).
func liveMetrics(ctx context.Context, l *live, p *e2e.Prediction) map[string][]float64 {
	GinkgoHelper()
	q := fmt.Sprintf(`flagger_canary_metric_analysis{namespace=%q,name=%q}`, p.Loaded.Canary.Namespace, p.Loaded.Canary.Name)
	series, err := l.run.Prometheus.QueryRange(ctx, q, l.started, l.ended, time.Second)
	Expect(err).NotTo(HaveOccurred())
	out := map[string][]float64{}
	for _, s := range series {
		var vals []float64
		for _, v := range s.Values {
			v = e2e.CheckValue(p.Kinds[s.Labels["metric"]], v)
			if n := len(vals); n == 0 || vals[n-1] != v {
				vals = append(vals, v)
			}
		}
		out[s.Labels["metric"]] = append(out[s.Labels["metric"]], vals...)
	}
	return out
}
