package explore_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/promql"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/explore"
	"aviary.dev/aviary/sim/scenario"
)

// play loads and plays a scenario of the library.
func play(name string) *explore.World {
	GinkgoHelper()
	l, err := scenario.LoadFile(filepath.Join("../../scenarios", name))
	Expect(err).NotTo(HaveOccurred())
	w, err := explore.Play(context.Background(), l, sim.RunOptions{})
	Expect(err).NotTo(HaveOccurred())
	return w
}

// instant is the value a check reads from query's answer at t: the last series of
// the vector, as Flagger's Prometheus provider picks it.
func instant(w *explore.World, query string, t time.Time) float64 {
	GinkgoHelper()
	a, err := w.Query(context.Background(), query, t)
	Expect(err).NotTo(HaveOccurred())
	defer a.Close()
	v, ok := a.Value.(promql.Vector)
	Expect(ok).To(BeTrue(), "a vector, not %s", a.Value.Type())
	Expect(v).NotTo(BeEmpty())
	return v[len(v)-1].F
}

var _ = Describe("Play", func() {
	DescribeTable("answers a check's query at its tick with the value the tick record shows",
		func(name string, minChecks int) {
			w := play(name)
			compared := 0
			for t := range w.Result.EachTick() {
				for _, m := range t.Metrics {
					// request-duration's value is the query's, truncated to whole milliseconds
					if m.Value == nil || m.Kind == analysis.KindDuration {
						continue
					}
					Expect(instant(w, m.Query, t.At)).To(Equal(*m.Value), "%s at %s: %s", m.Name, t.At.Sub(w.Start), m.Query)
					compared++
				}
			}
			Expect(compared).To(BeNumerically(">=", minChecks))
		},
		Entry("a builtin success rate through a 5xx burst", "podinfo-500-burst.yaml", 5),
		Entry("a MetricTemplate's query", "podinfo-queue-backlog.yaml", 3),
	)

	It("keeps every sample, so that the run's first minutes answer at its end", func() {
		w := play("podinfo-500-burst.yaml")
		// a range of the whole run reads from the first scrape on, which a run's
		// retention (sim/retention.go) would have dropped
		until := w.End.Sub(w.Start)
		Expect(until).To(BeNumerically(">=", 20*time.Minute))
		q := "count_over_time(istio_requests_total[" + promDuration(until) + "])"
		a, err := w.Query(context.Background(), q, w.End)
		Expect(err).NotTo(HaveOccurred())
		defer a.Close()
		Expect(a.Value.(promql.Vector)).NotTo(BeEmpty())
	})

	It("says where a query does not parse, and the scenario's end for a time after it", func() {
		w := play("podinfo-500-burst.yaml")
		_, err := w.Query(context.Background(), "sum(rate(x[1m])", w.End)
		Expect(err).To(BeAssignableToTypeOf(&explore.QueryError{}))
		Expect(err.Error()).To(ContainSubstring("1:16"))
		_, err = w.At(w.End.Sub(w.Start) + time.Second)
		Expect(err).To(MatchError(ContainSubstring("after the scenario's end (spec.until: " + w.End.Sub(w.Start).String())))
		_, err = w.At(-time.Second)
		Expect(err).To(MatchError(ContainSubstring("before the scenario's start")))
	})

	It("evaluates a range query at every step", func() {
		w := play("podinfo-500-burst.yaml")
		a, err := w.QueryRange(context.Background(), "sum(istio_requests_total)", w.Start, w.Start.Add(10*time.Minute), time.Minute)
		Expect(err).NotTo(HaveOccurred())
		defer a.Close()
		m := a.Value.(promql.Matrix)
		Expect(m).To(HaveLen(1))
		Expect(m[0].Floats).To(HaveLen(11))
		_, err = w.QueryRange(context.Background(), "up", w.Start, w.End, 0)
		Expect(err).To(MatchError(ContainSubstring("must be positive")))
	})
})

// promDuration is a duration in PromQL's notation.
func promDuration(d time.Duration) string { return d.Truncate(time.Second).String() }
