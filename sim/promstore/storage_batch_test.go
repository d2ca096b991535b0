package promstore_test

import (
	"errors"
	"math"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"

	"aviary.dev/aviary/sim/promstore"
)

var _ = Describe("Storage.AppendBatch", func() {
	var (
		one, batch *promstore.Storage // filled with Append one sample at a time, and with AppendBatch
		x, y       promstore.SeriesRef
	)
	staleNaN := math.Float64frombits(value.StaleNaN)

	BeforeEach(func() {
		one, batch = promstore.NewStorage(), promstore.NewStorage()
		for _, st := range []*promstore.Storage{one, batch} {
			x = st.Ref(labels.FromStrings("__name__", "req_total", "pod", "x"))
			y = st.Ref(labels.FromStrings("__name__", "req_total", "pod", "y"))
		}
	})

	// appendOneByOne appends each sample with Append and returns the refusals in order.
	appendOneByOne := func(samples []promstore.Sample) []error {
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
		samples := []promstore.Sample{
			{x, 0, 1}, {y, 0, 10},
			{x, 15_000, 2}, {y, 15_000, 11},
			{x, 10_000, 9},  // older than x's last: out of order
			{x, 15_000, 2},  // the same sample again: accepted, not stored twice
			{y, 15_000, 12}, // another value at y's last timestamp: a duplicate
			{promstore.SeriesRef(99), 30_000, 1},
			{x, 30_000, staleNaN}, {x, 30_000, staleNaN}, // a staleness marker, twice
			{y, 30_000, 13},
		}
		want := appendOneByOne(samples)
		Expect(want).To(HaveLen(3))

		err := batch.AppendBatch(samples)
		Expect(err).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(err).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(err).To(MatchError(promstore.ErrUnknownSeriesRef))
		Expect(err.Error()).To(Equal(errors.Join(want...).Error()))

		got := expectSameSeries()
		Expect(got[0]).To(HaveLen(3))
		Expect(got[0][:2]).To(Equal([]sample{{0, 1}, {15_000, 2}}))
		Expect(value.IsStaleNaN(got[0][2].V)).To(BeTrue())
		Expect(got[1]).To(Equal([]sample{{0, 10}, {15_000, 11}, {30_000, 13}}))
	})

	It("reports at most three refusals, the first ones, and appends every valid sample", func() {
		samples := []promstore.Sample{
			{x, 0, 1},
			{promstore.SeriesRef(0), 0, 1}, // refused 1
			{x, 15_000, 2},
			{x, 0, 5}, // refused 2
			{y, 0, 10},
			{y, 0, 11},                     // refused 3
			{x, 10_000, 9},                 // refused 4
			{promstore.SeriesRef(3), 0, 1}, // refused 5
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
		Expect(err).To(MatchError(promstore.ErrUnknownSeriesRef))
		Expect(err).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(err).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(err.Error()).To(Equal(errors.Join(want[:3]...).Error()))

		got := expectSameSeries()
		Expect(got).To(Equal([][]sample{{{0, 1}, {15_000, 2}, {30_000, 3}}, {{0, 10}, {15_000, 12}}}))
	})

	It("succeeds when nothing is refused, and on an empty batch", func() {
		Expect(batch.AppendBatch(nil)).To(Succeed())
		samples := []promstore.Sample{{x, 0, 1}, {y, 0, 10}, {x, 15_000, 2}, {x, 15_000, 2}, {y, 15_000, 11}}
		Expect(appendOneByOne(samples)).To(BeEmpty())
		Expect(batch.AppendBatch(samples)).To(Succeed())
		Expect(expectSameSeries()).To(Equal([][]sample{{{0, 1}, {15_000, 2}}, {{0, 10}, {15_000, 11}}}))

		// a later batch goes on from where the earlier left off
		more := []promstore.Sample{{x, 15_000, 3}, {x, 30_000, 3}}
		Expect(appendOneByOne(more)).To(HaveLen(1))
		Expect(batch.AppendBatch(more)).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		expectSameSeries()
	})
})

var _ = Describe("Storage groups", func() {
	var (
		one, grouped *promstore.Storage // filled with Append one sample at a time, and with AppendRows
		refs         []promstore.SeriesRef
		g            promstore.GroupRef
	)
	staleNaN := math.Float64frombits(value.StaleNaN)
	names := []string{"a_total", "b_total", "c_total"}

	BeforeEach(func() {
		one, grouped = promstore.NewStorage(), promstore.NewStorage()
		refs = nil
		for _, n := range names {
			Expect(one.Ref(labels.FromStrings("__name__", n, "pod", "x"))).To(Equal(grouped.Ref(labels.FromStrings("__name__", n, "pod", "x"))))
			refs = append(refs, grouped.Ref(labels.FromStrings("__name__", n, "pod", "x")))
		}
		var err error
		g, err = grouped.NewGroup(refs)
		Expect(err).NotTo(HaveOccurred())
		Expect(g).NotTo(BeZero())
	})

	// appendOneByOne appends each row's values with Append and returns the first
	// refusal of each row.
	appendOneByOne := func(rows []promstore.Row) []error {
		var errs []error
		for _, r := range rows {
			var first error
			for i, v := range r.Values {
				if err := one.Append(refs[i], r.T, v); err != nil && first == nil {
					first = err
				}
			}
			if first != nil {
				errs = append(errs, first)
			}
		}
		return errs
	}
	expectSameSeries := func() [][]sample {
		GinkgoHelper()
		all := matcher(labels.MatchRegexp, "__name__", ".+")
		oneNames, oneSamples := selectAll(one, math.MinInt64, math.MaxInt64, false, all)
		gNames, gSamples := selectAll(grouped, math.MinInt64, math.MaxInt64, false, all)
		Expect(gNames).To(Equal(oneNames))
		Expect(gSamples).To(HaveLen(len(oneSamples)))
		for i := range oneSamples {
			Expect(gSamples[i]).To(HaveLen(len(oneSamples[i])))
			for j, s := range oneSamples[i] {
				Expect(gSamples[i][j].T).To(Equal(s.T))
				Expect(math.Float64bits(gSamples[i][j].V)).To(Equal(math.Float64bits(s.V)))
			}
		}
		// and a window of the middle, as a query's range reads it
		_, oneMid := selectAll(one, 10_000, 20_000, false, all)
		_, gMid := selectAll(grouped, 10_000, 20_000, false, all)
		Expect(gMid).To(Equal(oneMid))
		return gSamples
	}

	It("stores what Append stores one series at a time, and refuses what it refuses", func() {
		rows := []promstore.Row{
			{Group: g, T: 0, Values: []float64{1, 10, 100}},
			{Group: g, T: 15_000, Values: []float64{2, 20, 200}},
			{Group: g, T: 10_000, Values: []float64{9, 9, 9}},    // older: out of order
			{Group: g, T: 15_000, Values: []float64{2, 20, 200}}, // the same row again: accepted, not stored twice
			{Group: g, T: 15_000, Values: []float64{2, 21, 200}}, // another value at the last time: a duplicate
			{Group: g, T: 30_000, Values: []float64{3, 30, 300}},
			{Group: g, T: 45_000, Values: []float64{staleNaN, staleNaN, staleNaN}},
		}
		want := appendOneByOne(rows)
		Expect(want).To(HaveLen(2))
		err := grouped.AppendRows(rows)
		Expect(err).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(err).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(err.Error()).To(Equal(errors.Join(want...).Error()))

		got := expectSameSeries()
		Expect(got[1][:3]).To(Equal([]sample{{0, 10}, {15_000, 20}, {30_000, 30}}))
		Expect(value.IsStaleNaN(got[2][3].V)).To(BeTrue())
	})

	It("refuses rows it cannot append, and appends the others", func() {
		err := grouped.AppendRows([]promstore.Row{
			{Group: 0, T: 0, Values: []float64{1, 2, 3}},
			{Group: g + 1, T: 0, Values: []float64{1, 2, 3}},
			{Group: g, T: 0, Values: []float64{1, 2}},
			{Group: g, T: 0, Values: []float64{1, 2, 3}},
		})
		Expect(err).To(MatchError(promstore.ErrUnknownGroupRef))
		Expect(err).To(MatchError(ContainSubstring("group 1 has 3 series, a row of 2 values")))
		Expect(appendOneByOne([]promstore.Row{{Group: g, T: 0, Values: []float64{1, 2, 3}}})).To(BeEmpty())
		expectSameSeries()
	})

	It("appends a member with AppendRows only", func() {
		Expect(grouped.Append(refs[0], 0, 1)).To(MatchError(promstore.ErrGrouped))
		Expect(grouped.AppendBatch([]promstore.Sample{{Ref: refs[1], T: 0, V: 1}})).To(MatchError(promstore.ErrGrouped))
		_, samples := selectAll(grouped, math.MinInt64, math.MaxInt64, false, matcher(labels.MatchRegexp, "__name__", ".+"))
		Expect(samples).To(BeEmpty())
	})

	It("groups only new series, and the same group again", func() {
		Expect(grouped.NewGroup(refs)).To(Equal(g), "the same series in the same order: the same group")
		_, err := grouped.NewGroup([]promstore.SeriesRef{refs[1], refs[0], refs[2]})
		Expect(err).To(MatchError(promstore.ErrNotGroupable), "grouped already, in another order")
		_, err = grouped.NewGroup(refs[:2])
		Expect(err).To(MatchError(promstore.ErrNotGroupable), "grouped already, in part")

		used := grouped.Ref(labels.FromStrings("__name__", "d_total"))
		Expect(grouped.Append(used, 0, 1)).To(Succeed())
		fresh := grouped.Ref(labels.FromStrings("__name__", "e_total"))
		_, err = grouped.NewGroup([]promstore.SeriesRef{fresh, used})
		Expect(err).To(MatchError(promstore.ErrNotGroupable), "a series with samples")
		_, err = grouped.NewGroup([]promstore.SeriesRef{fresh, fresh})
		Expect(err).To(MatchError(promstore.ErrNotGroupable), "a series twice")
		_, err = grouped.NewGroup([]promstore.SeriesRef{fresh, 99})
		Expect(err).To(MatchError(promstore.ErrUnknownSeriesRef))
		Expect(grouped.Append(fresh, 0, 1)).To(Succeed(), "a refused group leaves its series as they were")
	})
})
