package sim_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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
