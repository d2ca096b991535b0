package promstore_test

import (
	"context"
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"aviary.dev/aviary/sim/promstore"
)

var _ = Describe("Storage.Truncate", func() {
	var (
		st          *promstore.Storage
		plain, gone promstore.SeriesRef
		group       promstore.GroupRef
		members     []promstore.SeriesRef
	)
	const step = 15_000 // ms between samples

	// 40 samples (0 .. 585 s) of a plain series and of a group of two; a series
	// whose pod went away after 10 samples.
	BeforeEach(func() {
		st = promstore.NewStorage()
		plain = st.Ref(labels.FromStrings("__name__", "plain"))
		gone = st.Ref(labels.FromStrings("__name__", "gone"))
		members = []promstore.SeriesRef{
			st.Ref(labels.FromStrings("__name__", "grouped", "n", "1")),
			st.Ref(labels.FromStrings("__name__", "grouped", "n", "2")),
		}
		var err error
		group, err = st.NewGroup(members)
		Expect(err).NotTo(HaveOccurred())
		for i := range int64(40) {
			Expect(st.Append(plain, i*step, float64(i))).To(Succeed())
			Expect(st.AppendRows([]promstore.Row{{Group: group, T: i * step, Values: []float64{float64(i), float64(100 + i)}}})).To(Succeed())
			if i < 10 {
				Expect(st.Append(gone, i*step, float64(i))).To(Succeed())
			}
		}
	})

	It("keeps every sample at mint or later, and a group's values with their timestamps", func() {
		st.Truncate(25 * step)
		_, samples := selectAll(st, 25*step, math.MaxInt64, false, matcher(labels.MatchRegexp, "__name__", "plain|grouped"))
		Expect(samples).To(HaveLen(3))
		for s, base := range []float64{0, 0, 100} {
			Expect(samples[s]).To(HaveLen(15))
			for i, x := range samples[s] {
				Expect(x).To(Equal(sample{int64(25+i) * step, base + float64(25+i)}))
			}
		}
		Expect(st.Append(plain, 40*step, 40)).To(Succeed())
		Expect(st.AppendRows([]promstore.Row{{Group: group, T: 40 * step, Values: []float64{40, 140}}})).To(Succeed())
		_, samples = selectAll(st, 39*step, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "grouped"))
		Expect(samples).To(Equal([][]sample{{{39 * step, 39}, {40 * step, 40}}, {{39 * step, 139}, {40 * step, 140}}}))
	})

	It("refuses a read from before the floor, even where the samples were not dropped yet", func() {
		st.Truncate(5 * step) // 5 older samples, 35 kept: nothing is copied yet
		for _, mint := range []int64{0, 5*step - 1} {
			q, err := st.Querier(mint, math.MaxInt64)
			Expect(err).NotTo(HaveOccurred())
			set := q.Select(context.Background(), false, nil, matcher(labels.MatchEqual, "__name__", "plain"))
			Expect(set.Next()).To(BeFalse())
			Expect(set.Err()).To(MatchError(promstore.ErrTruncated))
			Expect(set.Err().Error()).To(ContainSubstring("it reads from %s, the store holds samples from 1970-01-01T00:01:15Z on",
				time.UnixMilli(mint).UTC().Format(time.RFC3339Nano)))
			_, _, err = q.LabelValues(context.Background(), "__name__", nil)
			Expect(err).To(MatchError(promstore.ErrTruncated))
			_, _, err = q.LabelNames(context.Background(), nil)
			Expect(err).To(MatchError(promstore.ErrTruncated))
		}
		q, err := st.Querier(0, math.MaxInt64)
		Expect(err).NotTo(HaveOccurred())
		set := q.Select(context.Background(), false, &storage.SelectHints{Start: 5 * step, End: 40 * step}, matcher(labels.MatchEqual, "__name__", "plain"))
		Expect(set.Next()).To(BeTrue(), "a selector's own start (hints) counts, not the querier's")
		Expect(set.Err()).NotTo(HaveOccurred())

		st.Truncate(2 * step)
		_, samples := selectAll(st, 5*step, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "plain"))
		Expect(samples[0]).To(HaveLen(35), "an earlier mint later changes nothing")
	})

	It("fails a PromQL query that reads before the floor, and answers those that do not", func() {
		st.Truncate(30 * step)
		at := time.UnixMilli(39 * step)
		eval := func(q string) *promql.Result {
			qry, err := promstore.NewEngine().NewInstantQuery(context.Background(), st, nil, q, at)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(qry.Close)
			return qry.Exec(context.Background())
		}
		res := eval("sum(rate(plain[1m]))")
		Expect(res.Err).NotTo(HaveOccurred())
		Expect(res.Value.(promql.Vector)[0].F).To(BeNumerically("~", 1.0/15, 1e-9))
		res = eval("sum(rate(plain[5m]))")
		Expect(res.Err).To(MatchError(ContainSubstring(promstore.ErrTruncated.Error())))
	})

	It("leaves the views of queries made before it as they were", func() {
		q, err := st.Querier(0, math.MaxInt64)
		Expect(err).NotTo(HaveOccurred())
		set := q.Select(context.Background(), false, nil, matcher(labels.MatchRegexp, "__name__", "plain|grouped"))
		st.Truncate(30 * step)
		for i := range int64(40) {
			Expect(st.Append(plain, (40+i)*step, -1)).To(Succeed())
			Expect(st.AppendRows([]promstore.Row{{Group: group, T: (40 + i) * step, Values: []float64{-1, -1}}})).To(Succeed())
		}
		st.Truncate(70 * step)
		n := 0
		var it chunkenc.Iterator
		for set.Next() {
			n++
			it = set.At().Iterator(it)
			var got []float64
			for it.Next() == chunkenc.ValFloat {
				_, v := it.At()
				got = append(got, v)
			}
			Expect(got).To(HaveLen(40))
			Expect(got[0]).To(BeElementOf(0.0, 100.0))
			Expect(got[39]).To(BeElementOf(39.0, 139.0))
		}
		Expect(n).To(Equal(3))

		// Closed, it no longer holds Truncate back: what a new querier reads is right.
		Expect(q.Close()).To(Succeed())
		for i := range int64(40) {
			Expect(st.Append(plain, (80+i)*step, float64(80+i))).To(Succeed())
		}
		st.Truncate(100 * step)
		_, samples := selectAll(st, 100*step, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "plain"))
		Expect(samples[0]).To(HaveLen(20))
		Expect(samples[0][0]).To(Equal(sample{100 * step, 100}))
		Expect(samples[0][19]).To(Equal(sample{119 * step, 119}))
	})

	It("empties a series whose samples are all older, which may be appended again", func() {
		st.Truncate(30 * step)
		names, _ := selectAll(st, 30*step, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "gone"))
		Expect(names).To(BeEmpty())
		Expect(st.Ref(labels.FromStrings("__name__", "gone"))).To(Equal(gone), "its handle stays")
		Expect(st.Append(gone, 50*step, 7)).To(Succeed())
		_, samples := selectAll(st, 30*step, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "gone"))
		Expect(samples).To(Equal([][]sample{{{50 * step, 7}}}))
		again, err := st.NewGroup(members)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(group))
	})
})
