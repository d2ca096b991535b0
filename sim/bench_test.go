package sim_test

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// BenchmarkRollout30m is the performance workload: a 30-minute virtual
// rollout (interval 1m, stepWeight 5 to 50, 15 s scrapes, rps 100, two builtin
// metrics and one template metric). It reports the share of wall time spent inside
// Prometheus' PromQL engine ("promql-%") next to ns/op and allocs/op, and where
// the rest went: the engine's own work ("engine-%"), the world model's scrapes and
// the Deployment simulator; what is left is setup and the event loop.
func BenchmarkRollout30m(b *testing.B) { benchRollout(b, sim.RunOptions{}) }

// BenchmarkRollout30mEveryTick is the same workload with every tick run in full,
// idle ones included (RunOptions.EveryTick): what repeating idle ticks saves.
func BenchmarkRollout30mEveryTick(b *testing.B) { benchRollout(b, sim.RunOptions{EveryTick: true}) }

// BenchmarkRollout30mBaselines is the same workload with each check's query also
// evaluated against the primary (RunOptions.Baselines, what aviary test --report
// and --json ask for): what baselines cost ("baselines-%").
func BenchmarkRollout30mBaselines(b *testing.B) { benchRollout(b, sim.RunOptions{Baselines: true}) }

func benchRollout(b *testing.B, opts sim.RunOptions) {
	l, err := scenario.LoadFile(filepath.Join("testdata", "bench", "rollout-30m.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	prom := promstore.NewEngine()
	scheme, err := cluster.NewScheme()
	if err != nil {
		b.Fatal(err)
	}
	// Shared as a suite's runs share them (sim.RunSuite): the PromQL engine, the
	// scheme and the fast client's memo of the API server checks' verdicts. One run
	// first: what a process builds once on first use (the API server's validators of
	// the CRDs a run writes, in sim/cluster) and what the suite's first run judges are
	// not a run's cost.
	verdicts := cluster.NewVerdicts()
	if _, err := sim.Run(context.Background(), l, sim.RunOptions{PromEngine: prom, Scheme: scheme, Verdicts: verdicts}); err != nil {
		b.Fatal(err)
	}
	var prof sim.Profile
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		opts.PromEngine, opts.Scheme, opts.Verdicts, opts.Profile = prom, scheme, verdicts, &prof
		res, err := sim.Run(context.Background(), l, opts)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Passed {
			b.Fatalf("benchmark scenario failed: %+v", res.Expectations)
		}
	}
	share := func(d time.Duration) float64 { return 100 * float64(d) / float64(prof.Total) }
	b.ReportMetric(share(prof.PromQL), "promql-%")
	b.ReportMetric(share(prof.Engine-prof.PromQL), "engine-%")
	b.ReportMetric(share(prof.Scrape), "scrape-%")
	b.ReportMetric(share(prof.Deployments), "deployments-%")
	if opts.Baselines {
		b.ReportMetric(share(prof.Baselines), "baselines-%")
	}
}

// BenchmarkScenarioSuite runs the whole scenario library (scenarios/) once per op,
// in parallel as `aviary test` does.
func BenchmarkScenarioSuite(b *testing.B) {
	loaded, err := scenario.LoadPaths([]string{filepath.Join("..", "scenarios")})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		_, errs := sim.RunSuite(context.Background(), loaded, 0, nil)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(loaded)), "scenarios")
}

// BenchmarkLongRun runs two workloads for 30 minutes, a day and 30 days of virtual
// time: the benchmark rollout, idle from its promotion at 15:00 on, and a canary that
// never decides (its pods never become ready: the engine runs every tick, each with
// the same event). Besides the time per run ("ms/virtual-hour") it reports the most
// heap the run held ("peak-heap-MiB") and how much that grows per virtual day over
// the 30-minute run's ("heap-MiB/virtual-day"): the store keeps only what queries
// can read and the record stores repeated ticks once, so neither grows with virtual
// time. The heap is measured in one more run, outside the timing: at 48 instants of
// virtual time (every tick for 30 minutes) a tick observer collects garbage and
// reads the live heap; the peak is the highest of them less the live heap before
// the run.
func BenchmarkLongRun(b *testing.B) {
	workloads := []struct{ name, file string }{
		{"idle-after-promotion", "rollout-30m.yaml"},
		{"never-decided", "never-ready.yaml"},
	}
	lengths := []struct {
		name  string
		until time.Duration
	}{{"30m", 30 * time.Minute}, {"24h", 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}
	for _, w := range workloads {
		for _, n := range lengths {
			b.Run(w.name+"/"+n.name, func(b *testing.B) {
				load := func(until time.Duration) *scenario.Loaded {
					l, err := scenario.LoadFile(filepath.Join("testdata", "bench", w.file))
					if err != nil {
						b.Fatal(err)
					}
					l.Scenario.Spec.Until.Duration = until
					return l
				}
				l := load(n.until)
				opts := sim.RunOptions{PromEngine: promstore.NewEngine(), Verdicts: cluster.NewVerdicts()}
				var err error
				if opts.Scheme, err = cluster.NewScheme(); err != nil {
					b.Fatal(err)
				}
				// A warm-up run first: what a process builds once on first use is
				// not a run's (benchRollout).
				peakHeap(b, load(30*time.Minute), opts)
				short := peakHeap(b, load(30*time.Minute), opts)
				peak := peakHeap(b, l, opts)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					res, err := sim.Run(context.Background(), l, opts)
					if err != nil {
						b.Fatal(err)
					}
					if !res.Passed {
						b.Fatalf("benchmark scenario failed: %+v", res.Expectations)
					}
				}
				b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N)/n.until.Hours(), "ms/virtual-hour")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				if days := (n.until - 30*time.Minute).Hours() / 24; days > 0 {
					b.ReportMetric(float64(peak-short)/(1<<20)/days, "heap-MiB/virtual-day")
				}
			})
		}
	}
}

// peakHeap runs l and returns the most live heap the run held beyond what was live
// before it, sampled at 48 instants of virtual time (BenchmarkLongRun).
func peakHeap(b *testing.B, l *scenario.Loaded, opts sim.RunOptions) int64 {
	b.Helper()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() int64 {
		runtime.GC()
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	every := max(l.Scenario.Spec.Until.Duration/48, time.Nanosecond)
	next := scenario.Epoch
	before := live()
	peak := before
	opts.Observer = tickFunc(func(rec engine.TickRecord) {
		if !rec.At.Before(next) {
			peak = max(peak, live())
			next = rec.At.Add(every)
		}
	})
	res, err := sim.Run(context.Background(), l, opts)
	if err != nil {
		b.Fatal(err)
	}
	if !res.Passed {
		b.Fatalf("benchmark scenario failed: %+v", res.Expectations)
	}
	return peak - before
}

// tickFunc is a TickObserver of a function.
type tickFunc func(engine.TickRecord)

func (f tickFunc) ObserveTick(r engine.TickRecord) { f(r) }
