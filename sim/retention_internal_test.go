package sim

import (
	"context"
	"path/filepath"
	"slices"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/scenario"
)

// observerFunc is a TickObserver of a function.
type observerFunc func(engine.TickRecord)

func (f observerFunc) ObserveTick(r engine.TickRecord) { f(r) }

var _ = ginkgo.Describe("the store's retention", func() {
	ginkgo.It("is computed from every query a library run sends, baselines included", func() {
		loaded, err := scenario.LoadPaths([]string{filepath.Join("..", "scenarios")})
		Expect(err).NotTo(HaveOccurred())
		sent := 0
		for _, l := range loaded {
			p := &Profile{}
			res, err := Run(context.Background(), l, RunOptions{Baselines: true, Profile: p})
			Expect(err).NotTo(HaveOccurred())
			Expect(p.KeptAll).To(BeEmpty(), l.Scenario.Metadata.Name)
			Expect(p.Horizon).To(BeNumerically(">=", time.Minute), l.Scenario.Metadata.Name)
			known := runQueries(l, "", true)
			for t := range res.EachTick() {
				for _, m := range t.Metrics {
					if m.Query != "" {
						Expect(known).To(ContainElement(m.Query), "%s at %s", l.Scenario.Metadata.Name, t.At)
						sent++
					}
				}
			}
			for _, b := range res.Baselines {
				if b.Query != "" {
					Expect(known).To(ContainElement(b.Query), "%s: baseline at %s", l.Scenario.Metadata.Name, b.At)
					sent++
				}
			}
		}
		Expect(sent).To(BeNumerically(">", 500))
	})

	ginkgo.It("takes the Canary as each timeline patch leaves it", func() {
		l, err := scenario.LoadFile(filepath.Join("..", "scenarios", "podinfo-suspend-mid-run.yaml"))
		Expect(err).NotTo(HaveOccurred())
		versions := canaryVersions(l)
		Expect(len(versions)).To(BeNumerically(">", 1))
		Expect(versions[0].Spec.Suspend).To(BeFalse())
		Expect(slices.ContainsFunc(versions, func(cd *v1beta1.Canary) bool { return cd.Spec.Suspend })).To(BeTrue())
		Expect(versions[len(versions)-1].Spec.Analysis.Metrics).To(Equal(l.Canary.Spec.Analysis.Metrics), "a patch keeps what it does not name")
	})

	// runHeld runs the never-ready benchmark scenario for until, checking the store at
	// every tick; it returns the most samples the store held.
	runHeld := func(until time.Duration, opts RunOptions) (most int, horizon time.Duration) {
		l, err := scenario.LoadFile(filepath.Join("testdata", "bench", "never-ready.yaml"))
		Expect(err).NotTo(HaveOccurred())
		l.Scenario.Spec.Until.Duration = until
		opts.Profile = &Profile{}
		var r *run
		opts.Observer = observerFunc(func(engine.TickRecord) { most = max(most, r.store.Samples()) })
		r, err = newRun(l, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Setup(context.Background())).To(Succeed())
		Expect(r.loop(context.Background())).To(Succeed())
		return most, opts.Profile.Horizon
	}

	ginkgo.It("holds a window of samples however long the run, or every sample with KeepSeries", func() {
		short, horizon := runHeld(2*time.Hour, RunOptions{})
		Expect(horizon).To(Equal(2*time.Minute), "1m ranges and a minute's margin")
		long, _ := runHeld(12*time.Hour, RunOptions{})
		Expect(long).To(Equal(short), "the same window after 2 hours as after 12")
		// Up to ten minutes and a horizon of samples, against 2 hours of them.
		all, h := runHeld(2*time.Hour, RunOptions{KeepSeries: true})
		Expect(h).To(BeZero())
		Expect(all).To(BeNumerically(">", 10*short))
	})
})
