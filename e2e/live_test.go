package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(files)
	return files
}

var (
	aviaryOnce sync.Once
	aviaryPath string
	aviaryErr  error
)

// aviaryBinary is the aviary CLI: AVIARY_E2E_AVIARY, else built once from this
// module into the stack's directory.
func aviaryBinary(s *stack) string {
	GinkgoHelper()
	if p := os.Getenv("AVIARY_E2E_AVIARY"); p != "" {
		return p
	}
	aviaryOnce.Do(func() {
		root, err := e2e.ModuleRoot()
		if err != nil {
			aviaryErr = err
			return
		}
		aviaryPath = filepath.Join(s.dir, "aviary")
		cmd := exec.Command("go", "build", "-o", aviaryPath, "./cmd/aviary")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			aviaryErr = fmt.Errorf("go build ./cmd/aviary: %w\n%s", err, out)
		}
	})
	Expect(aviaryErr).NotTo(HaveOccurred())
	return aviaryPath
}

// controllerUnderTest is the controller AVIARY_E2E_CONTROLLER names.
func controllerUnderTest(aviary string) e2e.Controller {
	GinkgoHelper()
	switch n := controllerName(); n {
	case "aviary":
		return e2e.AviaryController(aviary)
	case "flagger":
		return e2e.FlaggerController(tool(e2e.FlaggerBinary, true))
	default:
		Fail(fmt.Sprintf("AVIARY_E2E_CONTROLLER=%q: want aviary or flagger", n))
		return e2e.Controller{}
	}
}

// live is one live run of every scenario side by side, and its predictions.
type live struct {
	run         *e2e.Live
	rec         *e2e.Recorder
	predictions map[string]*e2e.Prediction // by file
	started     time.Time
	ended       time.Time
}

// startLive predicts every file, then plays them all live and waits until sim serve
// has passed every scenario's until.
func startLive(ctx context.Context, files []string, ctl func(aviary string) e2e.Controller) *live {
	GinkgoHelper()
	s := theStack()
	aviary := aviaryBinary(s)
	c := ctl(aviary)
	l := &live{predictions: map[string]*e2e.Prediction{}}
	var until time.Duration
	for _, f := range files {
		p, err := e2e.Predict(ctx, f)
		Expect(err).NotTo(HaveOccurred())
		l.predictions[f] = p
		until = max(until, p.Loaded.Scenario.Spec.Until.Duration)
	}
	dir, err := os.MkdirTemp(s.dir, "live-")
	Expect(err).NotTo(HaveOccurred())
	recCtx, stopRec := context.WithCancel(context.Background())
	l.started = time.Now()
	l.run, err = e2e.StartLive(ctx, e2e.RunOptions{Aviary: aviary, Prometheus: tool(e2e.PrometheusBinary, false), Controller: c,
		Kubeconfig: s.kubeconfig, Dir: dir, Scenarios: files}, func(r e2e.ServeReady) {
		l.rec = e2e.Record(recCtx, s.client, r.Namespaces()...)
	})
	if l.run != nil {
		processes(l.run.Processes()...)
	}
	DeferCleanup(func() { stopRec(); l.rec.Wait() })
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("e2e: %s controller and sim serve up %v after the start; scenarios run for %v\n", c.Name, time.Since(l.started).Round(time.Millisecond), until)
	select {
	case <-l.run.Serve.Done():
	case <-ctx.Done():
	}
	l.ended = time.Now()
	Expect(l.run.Serve.Err()).NotTo(HaveOccurred(), "sim serve ends with status 0 once every scenario's until has passed")
	Expect(l.run.Ctl.Proc.Running()).To(BeTrue(), "the controller still runs")
	return l
}

// canaryKey is namespace/name of the scenario's Canary.
func canaryKey(p *e2e.Prediction) string { return p.Loaded.Canary.Namespace + "/" + p.Loaded.Canary.Name }

var _ = Describe("live rollouts", Ordered, Label("e2e"), func() {
	files := scenarioFiles()
	var l *live
	rows := map[string]e2e.Diff{}

	BeforeAll(func(ctx SpecContext) {
		if len(files) == 0 {
			Fail("no real-time scenarios in e2e/scenarios (or AVIARY_E2E_SCENARIOS)")
		}
		l = startLive(ctx, files, controllerUnderTest)
	}, NodeTimeout(10*time.Minute))

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
