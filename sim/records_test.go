package sim_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// recorder is a TickObserver that keeps every record.
type recorder struct{ records []engine.TickRecord }

func (r *recorder) ObserveTick(rec engine.TickRecord) { r.records = append(r.records, rec) }

var _ = Describe("compact run records", func() {
	// runs are the library and the two benchmark workloads for a day: idle after its
	// promotion, and waiting for a canary that never becomes ready.
	runs := func() []*scenario.Loaded {
		GinkgoHelper()
		loaded, err := scenario.LoadPaths([]string{filepath.Join("..", "scenarios")})
		Expect(err).NotTo(HaveOccurred())
		for _, f := range []string{"rollout-30m.yaml", "never-ready.yaml"} {
			l, err := scenario.LoadFile(filepath.Join("testdata", "bench", f))
			Expect(err).NotTo(HaveOccurred())
			l.Scenario.Spec.Until.Duration = 24 * time.Hour
			loaded = append(loaded, l)
		}
		return loaded
	}
	// rest is the record without its ticks and exposure, in JSON.
	rest := func(res *scenario.Result) string {
		GinkgoHelper()
		c := *res
		c.Ticks, c.Exposure = nil, nil
		j, err := json.Marshal(c)
		Expect(err).NotTo(HaveOccurred())
		return string(j)
	}

	It("expand to every tick the run observed and to a tick-by-tick run's records, and record the same exposure", func() {
		compacted := 0
		for _, l := range runs() {
			name := l.Scenario.Metadata.Name
			seen := &recorder{}
			compact, err := sim.Run(context.Background(), l, sim.RunOptions{Observer: seen, Baselines: true})
			Expect(err).NotTo(HaveOccurred())
			byTick, err := sim.Run(context.Background(), l, sim.RunOptions{TickByTick: true, Baselines: true})
			Expect(err).NotTo(HaveOccurred())

			every := slices.Collect(compact.EachTick())
			Expect(every).To(Equal(seen.records), name)
			Expect(byTick.Ticks).To(HaveLen(len(every)), name)
			for i, t := range byTick.Ticks {
				Expect(t.Repeat).To(BeZero())
				Expect(t.TickRecord).To(Equal(every[i]), "%s: tick %d", name, i)
			}
			Expect(rest(compact)).To(Equal(rest(byTick)), "%s: all else is the same", name)
			compacted += len(every) - len(compact.Ticks)

			// A record's exposure is its ticks' together.
			Expect(compact.Exposure).To(HaveLen(len(compact.Ticks)))
			k := 0
			for i, t := range compact.Ticks {
				var primary, canary, mirrored float64
				for range t.Repeat + 1 {
					e := byTick.Exposure[k]
					primary, canary, mirrored = primary+e.PrimaryRequests, canary+e.CanaryRequests, mirrored+e.MirroredRequests
					k++
				}
				e := compact.Exposure[i]
				Expect(e.At).To(Equal(t.Last()))
				tolerance := 0.001 * float64(t.Repeat+1)
				Expect(e.PrimaryRequests).To(BeNumerically("~", primary, tolerance), "%s at %s", name, e.At)
				Expect(e.CanaryRequests).To(BeNumerically("~", canary, tolerance), "%s at %s", name, e.At)
				Expect(e.MirroredRequests).To(BeNumerically("~", mirrored, tolerance), "%s at %s", name, e.At)
				if e.PrimaryRequests+e.CanaryRequests > 0 {
					Expect(*e.CanaryShare).To(BeNumerically("~", 100*e.CanaryRequests/(e.PrimaryRequests+e.CanaryRequests), 1e-4))
				}
			}
		}
		Expect(compacted).To(BeNumerically(">", 2*1400), "the day-long runs are mostly repeats")
	})

	It("keep a day of a canary that never decides in a few records", func() {
		l, err := scenario.LoadFile(filepath.Join("testdata", "bench", "never-ready.yaml"))
		Expect(err).NotTo(HaveOccurred())
		l.Scenario.Spec.Until.Duration = 24 * time.Hour
		res, err := sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Passed).To(BeTrue())
		Expect(len(res.Ticks)).To(BeNumerically("<=", 5))
		last := res.Ticks[len(res.Ticks)-1]
		Expect(last.Events).To(HaveLen(1))
		Expect(last.Events[0].Message).To(HavePrefix("canary deployment podinfo.test not ready"))
		Expect(last.Every).To(Equal(scenario.Offset(time.Minute)))
		Expect(last.Last()).To(Equal(scenario.Epoch.Add(24 * time.Hour)))
	})
})
