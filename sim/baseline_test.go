package sim_test

import (
	"context"
	"encoding/json"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("what a run records for reports", func() {
	load := func(path string) *scenario.Loaded {
		GinkgoHelper()
		l, err := scenario.LoadFile(path)
		Expect(err).NotTo(HaveOccurred())
		return l
	}
	run := func(l *scenario.Loaded, opts sim.RunOptions) *scenario.Result {
		GinkgoHelper()
		res, err := sim.Run(context.Background(), l, opts)
		Expect(err).NotTo(HaveOccurred())
		return res
	}
	recordJSON := func(res *scenario.Result) string {
		GinkgoHelper()
		j, err := json.Marshal(res)
		Expect(err).NotTo(HaveOccurred())
		return string(j)
	}
	library := func() []*scenario.Loaded {
		GinkgoHelper()
		loaded, err := scenario.LoadPaths([]string{filepath.Join("..", "scenarios")})
		Expect(err).NotTo(HaveOccurred())
		Expect(len(loaded)).To(BeNumerically(">=", 12))
		return loaded
	}
	baselineOf := func(res *scenario.Result, at, name string) scenario.Baseline {
		GinkgoHelper()
		for _, b := range res.Baselines {
			if b.Name == name && b.At.Sub(scenario.Epoch).String() == at {
				return b
			}
		}
		Fail("no baseline of " + name + " at " + at)
		return scenario.Baseline{}
	}

	It("evaluating baselines changes nothing else in any library run, and repeating idle ticks changes nothing with them", func() {
		with := 0
		for _, l := range library() {
			off := run(l, sim.RunOptions{})
			on := run(l, sim.RunOptions{Baselines: true})
			every := run(l, sim.RunOptions{Baselines: true, EveryTick: true})
			Expect(off.Baselines).To(BeNil())
			Expect(recordJSON(every)).To(Equal(recordJSON(on)), l.Scenario.Metadata.Name)
			checks := 0
			for t := range on.EachTick() {
				checks += len(t.Metrics)
			}
			Expect(on.Baselines).To(HaveLen(checks), "%s: one baseline per check", l.Scenario.Metadata.Name)
			with += len(on.Baselines)
			on.Baselines = nil
			Expect(recordJSON(on)).To(Equal(recordJSON(off)), l.Scenario.Metadata.Name)
		}
		Expect(with).To(BeNumerically(">", 100))
	})

	It("evaluates a builtin check against the primary at the check's time: a healthy primary next to a failing canary", func() {
		res := run(load(filepath.Join("..", "scenarios", "podinfo-500-burst.yaml")), sim.RunOptions{Baselines: true})
		b := baselineOf(res, "7m0s", "request-success-rate")
		Expect(b.Kind).To(Equal("request-success-rate"))
		Expect(b.Query).To(ContainSubstring(`destination_workload=~"podinfo-primary"`))
		Expect(b.Missing).To(BeEmpty())
		Expect(*b.Value).To(BeNumerically("~", 99.9, 0.001))
		var canary float64
		for t := range res.EachTick() {
			if t.At.Equal(b.At) {
				canary = *t.Metrics[0].Value
			}
		}
		Expect(canary).To(BeNumerically("~", 70, 0.001))
		d := baselineOf(res, "4m0s", "request-duration")
		Expect(*d.Value).To(Equal(94.0), "milliseconds, truncated as the check's")
	})

	It("points Flagger's Traefik queries, which name the canary's Service, at the primary's", func() {
		res := run(load(filepath.Join("..", "scenarios", "traefik-500-burst.yaml")), sim.RunOptions{Baselines: true})
		b := baselineOf(res, "3m40s", "request-success-rate")
		Expect(b.Query).To(ContainSubstring(`service=~"test-podinfo-primary-[0-9a-zA-Z-]+@kubernetescrd"`))
		Expect(b.Query).NotTo(ContainSubstring("canary"))
		Expect(b.Value).NotTo(BeNil(), b.Missing)
		Expect(*b.Value).To(BeNumerically(">", 99))
		t := baselineOf(res, "2m20s", "404s percentage")
		Expect(t.Kind).To(Equal("template"))
		Expect(t.Query).To(ContainSubstring("test-podinfo-primary-"))
	})

	It("says why a check has no baseline: a query that does not use target, a query that did not render", func() {
		res := run(load(filepath.Join("..", "scenarios", "podinfo-queue-backlog.yaml")), sim.RunOptions{Baselines: true})
		b := baselineOf(res, "7m0s", "queue-depth")
		Expect(b.Query).To(BeEmpty())
		Expect(b.Value).To(BeNil())
		Expect(b.Missing).To(ContainSubstring("does not change with {{ target }}"))
		res = run(load(filepath.Join("..", "scenarios", "template-undefined-function.yaml")), sim.RunOptions{Baselines: true})
		b = baselineOf(res, "4m0s", "error-rate-vs-primary")
		Expect(b.Missing).To(Equal("no query was sent for the canary"))
	})

	It("records for every tick the share of user requests that reached the canary, not the router's weight", func() {
		res := run(load(filepath.Join("testdata", "ab", "ab-testing.yaml")), sim.RunOptions{})
		Expect(res.Passed).To(BeTrue())
		Expect(res.Exposure).To(HaveLen(len(res.Ticks)))
		iterations := 0
		for i, t := range res.Ticks {
			e := res.Exposure[i]
			Expect(e.At).To(Equal(t.Last()))
			// The weights a tick sets hold until the next one: the exposure recorded at
			// tick i is what tick i-1's weights let through.
			if i > 0 && res.Ticks[i-1].CanaryWeight == 100 && res.Ticks[i-1].Iterations > 0 {
				iterations++
				Expect(e.CanaryShare).NotTo(BeNil())
				Expect(*e.CanaryShare).To(Equal(10.0), "at %s", t.At)
				Expect(e.CanaryRequests).To(Equal(600.0))
				Expect(e.PrimaryRequests).To(Equal(5400.0))
			}
		}
		Expect(iterations).To(Equal(6), "five iterations and the tick that starts the promotion")
		Expect(res.Exposure[0].CanaryShare).To(BeNil(), "no request before the first tick")

		res = run(load(filepath.Join("..", "scenarios", "podinfo-healthy-promotion.yaml")), sim.RunOptions{})
		shares := map[string]float64{}
		for _, e := range res.Exposure[1:] {
			shares[e.At.Sub(scenario.Epoch).String()] = *e.CanaryShare
		}
		Expect(shares).To(HaveKeyWithValue("4m0s", 10.0))
		Expect(shares).To(HaveKeyWithValue("8m0s", 50.0))
		Expect(shares).To(HaveKeyWithValue("10m0s", 0.0))
		Expect(shares).To(HaveKeyWithValue("15m0s", 0.0), "11m to 15m, idle after the promotion: one record, at its last tick")
		Expect(shares).NotTo(HaveKey("12m0s"))
	})
})
