package world_test

import (
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/world"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var _ = Describe("Latency model", func() {
	DescribeTable("a log-normal fitted to p50 and p99",
		func(p50, p99 time.Duration) {
			d := world.FitLogNormal(p50, p99)
			Expect(d.Degenerate()).To(BeFalse())
			Expect(d.CDF(ms(p50))).To(BeNumerically("~", 0.5, 1e-12))
			Expect(d.CDF(ms(p99))).To(BeNumerically("~", 0.99, 1e-9))
			Expect(d.CDF(ms(p50) * 0.99)).To(BeNumerically("<", 0.5))
			Expect(d.CDF(ms(p99) * 1.01)).To(BeNumerically(">", 0.99))
			Expect(d.Quantile(0.99)).To(BeNumerically("~", ms(p99), ms(p99)*1e-9))
			Expect(d.Quantile(0.5)).To(BeNumerically("~", ms(p50), ms(p50)*1e-12))
			Expect(d.CDF(0)).To(Equal(0.0))
			Expect(d.CDF(math.Inf(1))).To(Equal(1.0))
			// The mean of a log-normal: exp(mu + sigma²/2), above the median.
			Expect(d.Mean()).To(BeNumerically("~", math.Exp(d.Mu+d.Sigma*d.Sigma/2), 1e-9))
			Expect(d.Mean()).To(BeNumerically(">", ms(p50)))
		},
		Entry("default 10ms/50ms", 10*time.Millisecond, 50*time.Millisecond),
		Entry("20ms/80ms", 20*time.Millisecond, 80*time.Millisecond),
		Entry("a latency fault 20ms/1500ms", 20*time.Millisecond, 1500*time.Millisecond),
		Entry("sub-millisecond", 300*time.Microsecond, 900*time.Microsecond),
	)

	DescribeTable("is degenerate when p99 <= p50: every request takes p50",
		func(p50, p99 time.Duration) {
			d := world.FitLogNormal(p50, p99)
			Expect(d.Degenerate()).To(BeTrue())
			Expect(d.CDF(ms(p50) - 0.001)).To(Equal(0.0))
			Expect(d.CDF(ms(p50))).To(Equal(1.0))
			Expect(d.Quantile(0.99)).To(Equal(ms(p50)))
			Expect(d.Mean()).To(Equal(ms(p50)))
		},
		Entry("equal", 40*time.Millisecond, 40*time.Millisecond),
		Entry("p99 below p50", 40*time.Millisecond, 30*time.Millisecond),
		Entry("p99 not given", 40*time.Millisecond, time.Duration(0)),
	)

	It("uses Istio's and the Prometheus client's default buckets", func() {
		Expect(world.IstioDurationBucketsMs).To(Equal([]float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
			10000, 30000, 60000, 300000, 600000, 1800000, 3600000, math.Inf(1)}))
		Expect(world.HTTPDurationBucketsSeconds).To(Equal([]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1)}))
	})

	DescribeTable("formats le as the Prometheus client does",
		func(le float64, want string) { Expect(world.FormatLe(le)).To(Equal(want)) },
		Entry(nil, 0.5, "0.5"),
		Entry(nil, 1.0, "1"),
		Entry(nil, 0.005, "0.005"),
		Entry(nil, 2.5, "2.5"),
		Entry(nil, 300000.0, "300000"),
		Entry(nil, 1800000.0, "1.8e+06"),
		Entry(nil, math.Inf(1), "+Inf"),
	)
})
