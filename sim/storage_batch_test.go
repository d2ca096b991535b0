package sim_test

import (
	"errors"
	"math"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"aviary.dev/aviary/sim"
)

var _ = Describe("Storage.AppendBatch", func() {
	var (
		one, batch *sim.Storage // filled with Append one sample at a time, and with AppendBatch
		x, y       sim.SeriesRef
	)
	staleNaN := math.Float64frombits(value.StaleNaN)

	BeforeEach(func() {
		one, batch = sim.NewStorage(), sim.NewStorage()
		for _, st := range []*sim.Storage{one, batch} {
			x = st.Ref(labels.FromStrings("__name__", "req_total", "pod", "x"))
			y = st.Ref(labels.FromStrings("__name__", "req_total", "pod", "y"))
		}
	})

	// appendOneByOne appends each sample with Append and returns the refusals in order.
	appendOneByOne := func(samples []sim.Sample) []error {
		var errs []error
		for _, s := range samples {
			if err := one.Append(s.Ref, s.T, s.V); err != nil {
				errs = append(errs, err)
			}
		}
		return errs
	}

	// expectSameSeries reads every series back from both stores.
	expectSameSeries := func() [][]sample {
		GinkgoHelper()
		all := matcher(labels.MatchRegexp, "__name__", ".+")
		oneNames, oneSamples := selectAll(one, math.MinInt64, math.MaxInt64, false, all)
		batchNames, batchSamples := selectAll(batch, math.MinInt64, math.MaxInt64, false, all)
		Expect(batchNames).To(Equal(oneNames))
		Expect(batchNames).To(Equal([]string{`{__name__="req_total", pod="x"}`, `{__name__="req_total", pod="y"}`}))
		Expect(batchSamples).To(HaveLen(len(oneSamples)))
		for i := range oneSamples {
			Expect(batchSamples[i]).To(HaveLen(len(oneSamples[i])))
			for j, s := range oneSamples[i] {
				Expect(batchSamples[i][j].T).To(Equal(s.T))
				Expect(math.Float64bits(batchSamples[i][j].V)).To(Equal(math.Float64bits(s.V)), "series %d sample %d: %v, %v", i, j, batchSamples[i][j].V, s.V)
			}
		}
		return batchSamples
	}

	It("stores what Append stores and refuses what Append refuses", func() {
		samples := []sim.Sample{
			{x, 0, 1}, {y, 0, 10},
			{x, 15_000, 2}, {y, 15_000, 11},
			{x, 10_000, 9},  // older than x's last: out of order
			{x, 15_000, 2},  // the same sample again: accepted, not stored twice
			{y, 15_000, 12}, // another value at y's last timestamp: a duplicate
			{sim.SeriesRef(99), 30_000, 1},
			{x, 30_000, staleNaN}, {x, 30_000, staleNaN}, // a staleness marker, twice
			{y, 30_000, 13},
		}
		want := appendOneByOne(samples)
		Expect(want).To(HaveLen(3))

		err := batch.AppendBatch(samples)
		Expect(err).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(err).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(err).To(MatchError(sim.ErrUnknownSeriesRef))
		Expect(err.Error()).To(Equal(errors.Join(want...).Error()))

		got := expectSameSeries()
		Expect(got[0]).To(HaveLen(3))
		Expect(got[0][:2]).To(Equal([]sample{{0, 1}, {15_000, 2}}))
		Expect(value.IsStaleNaN(got[0][2].V)).To(BeTrue())
		Expect(got[1]).To(Equal([]sample{{0, 10}, {15_000, 11}, {30_000, 13}}))
	})

	It("reports at most three refusals, the first ones, and appends every valid sample", func() {
		samples := []sim.Sample{
			{x, 0, 1},
			{sim.SeriesRef(0), 0, 1}, // refused 1
			{x, 15_000, 2},
			{x, 0, 5}, // refused 2
			{y, 0, 10},
			{y, 0, 11},               // refused 3
			{x, 10_000, 9},           // refused 4
			{sim.SeriesRef(3), 0, 1}, // refused 5
			{y, 15_000, 12},
			{x, 30_000, 3},
		}
		want := appendOneByOne(samples)
		Expect(want).To(HaveLen(5))

		err := batch.AppendBatch(samples)
		Expect(err).To(HaveOccurred())
		joined, ok := err.(interface{ Unwrap() []error })
		Expect(ok).To(BeTrue(), "the refusals are joined: %T", err)
		Expect(joined.Unwrap()).To(HaveLen(3))
		for i, e := range joined.Unwrap() {
			Expect(e.Error()).To(Equal(want[i].Error()))
		}
		Expect(err).To(MatchError(sim.ErrUnknownSeriesRef))
		Expect(err).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(err).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(err.Error()).To(Equal(errors.Join(want[:3]...).Error()))

		got := expectSameSeries()
		Expect(got).To(Equal([][]sample{{{0, 1}, {15_000, 2}, {30_000, 3}}, {{0, 10}, {15_000, 12}}}))
	})

	It("succeeds when nothing is refused, and on an empty batch", func() {
		Expect(batch.AppendBatch(nil)).To(Succeed())
		samples := []sim.Sample{{x, 0, 1}, {y, 0, 10}, {x, 15_000, 2}, {x, 15_000, 2}, {y, 15_000, 11}}
		Expect(appendOneByOne(samples)).To(BeEmpty())
		Expect(batch.AppendBatch(samples)).To(Succeed())
		Expect(expectSameSeries()).To(Equal([][]sample{{{0, 1}, {15_000, 2}}, {{0, 10}, {15_000, 11}}}))

		// a later batch goes on from where the earlier left off
		more := []sim.Sample{{x, 15_000, 3}, {x, 30_000, 3}}
		Expect(appendOneByOne(more)).To(HaveLen(1))
		Expect(batch.AppendBatch(more)).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		expectSameSeries()
	})
})
