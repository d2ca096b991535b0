package sim_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// The envtest figures of the README (printed by `make bench`): how long the API server
// takes to start, the median wall time of one scenario in envtest mode, and the whole
// scenario library in envtest mode with --parallel 2. They need the binaries of
// `make envtest-assets`.

// BenchmarkEnvtestStart starts and stops an API server (etcd + kube-apiserver + CRDs +
// warm-up) per op and reports the parts of the start.
func BenchmarkEnvtestStart(b *testing.B) {
	var parts cluster.StartupTimes
	n := 0
	for b.Loop() {
		env, err := cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		parts.APIServer += env.Startup.APIServer
		parts.CRDs += env.Startup.CRDs
		parts.WarmUp += env.Startup.WarmUp
		n++
		b.StopTimer()
		if err := env.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(parts.APIServer.Seconds()/float64(n), "apiserver-sec")
	b.ReportMetric(parts.CRDs.Seconds()/float64(n), "crds-sec")
	b.ReportMetric(parts.WarmUp.Seconds()/float64(n), "warmup-sec")
	b.ReportMetric(parts.Total().Seconds()/float64(n), "start-sec")
}

// libraryForBench loads scenarios/ and the shared API server.
func libraryForBench(b *testing.B) ([]*scenario.Loaded, *cluster.Envtest) {
	b.Helper()
	loaded, err := scenario.LoadPaths([]string{filepath.Join("..", "scenarios")})
	if err != nil {
		b.Fatal(err)
	}
	env, err := sharedEnvtest()
	if err != nil {
		b.Fatal(err)
	}
	return loaded, env
}

// BenchmarkEnvtestScenario runs every scenario of the library once per op, one after
// the other, each against the shared API server in its own namespace, and reports the
// median and the slowest wall time of one scenario (target: median <= 1.5 s).
func BenchmarkEnvtestScenario(b *testing.B) {
	loaded, env := libraryForBench(b)
	prom := promstore.NewEngine()
	var medians, maxima []float64
	for b.Loop() {
		times := make([]float64, 0, len(loaded))
		for _, l := range loaded {
			opts := sim.InEnvtest(env, l)
			opts.PromEngine = prom
			start := time.Now()
			if _, err := sim.Run(context.Background(), l, opts); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start).Seconds())
		}
		slices.Sort(times)
		medians = append(medians, times[len(times)/2])
		maxima = append(maxima, times[len(times)-1])
	}
	slices.Sort(medians)
	slices.Sort(maxima)
	b.ReportMetric(medians[len(medians)/2], "median-sec/scenario")
	b.ReportMetric(maxima[len(maxima)/2], "max-sec/scenario")
	b.ReportMetric(float64(len(loaded)), "scenarios")
}

// BenchmarkEnvtestSuiteParallel2 is `aviary test --cluster envtest --parallel 2
// scenarios/` without the API server's start: the whole library, two at a time.
func BenchmarkEnvtestSuiteParallel2(b *testing.B) {
	loaded, env := libraryForBench(b)
	for b.Loop() {
		_, errs := sim.RunSuite(context.Background(), loaded, 2, sim.InEnvtestSuite(env, loaded))
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(loaded)), "scenarios")
}
