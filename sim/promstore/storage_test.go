package promstore_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"aviary.dev/aviary/sim/promstore"
)

// sample is one (t, v) read back from a querier.
type sample struct {
	T int64
	V float64
}

// selectAll runs one Select and returns every series' labels (as strings) and samples.
func selectAll(q storage.Queryable, mint, maxt int64, sortSeries bool, ms ...*labels.Matcher) (names []string, samples [][]sample) {
	GinkgoHelper()
	querier, err := q.Querier(mint, maxt)
	Expect(err).NotTo(HaveOccurred())
	defer func() { Expect(querier.Close()).To(Succeed()) }()
	set := querier.Select(context.Background(), sortSeries, nil, ms...)
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		names = append(names, s.Labels().String())
		it = s.Iterator(it)
		var ss []sample
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			ss = append(ss, sample{t, v})
		}
		Expect(it.Err()).NotTo(HaveOccurred())
		samples = append(samples, ss)
	}
	Expect(set.Err()).NotTo(HaveOccurred())
	return names, samples
}

func matcher(t labels.MatchType, name, value string) *labels.Matcher {
	return labels.MustNewMatcher(t, name, value)
}

var _ = Describe("Storage", func() {
	var st *promstore.Storage

	BeforeEach(func() {
		st = promstore.NewStorage()
		// Referenced in this order on purpose: not label order.
		for _, s := range []struct {
			lset labels.Labels
			base float64
		}{
			{labels.FromStrings("__name__", "req_total", "code", "500", "pod", "b"), 100},
			{labels.FromStrings("__name__", "req_total", "code", "200", "pod", "a"), 200},
			{labels.FromStrings("__name__", "other", "pod", "a"), 300},
			{labels.FromStrings("__name__", "req_total", "code", "200", "pod", "b"), 400},
			{labels.FromStrings("__name__", "req_total", "pod", "c"), 500},
		} {
			ref := st.Ref(s.lset)
			for i := int64(0); i < 5; i++ {
				Expect(st.Append(ref, i*15_000, s.base+float64(i))).To(Succeed())
			}
		}
	})

	It("interns a series once", func() {
		a := st.Ref(labels.FromStrings("__name__", "req_total", "code", "200", "pod", "a"))
		b := st.Ref(labels.FromStrings("pod", "a", "code", "200", "__name__", "req_total"))
		Expect(a).To(Equal(b))
		Expect(a).NotTo(BeZero())
		Expect(st.Ref(labels.FromStrings("__name__", "req_total", "code", "201", "pod", "a"))).NotTo(Equal(a))
	})

	DescribeTable("selects with every matcher type",
		func(ms []*labels.Matcher, want []string) {
			names, _ := selectAll(st, math.MinInt64, math.MaxInt64, true, ms...)
			Expect(names).To(Equal(want))
		},
		Entry("=", []*labels.Matcher{matcher(labels.MatchEqual, "__name__", "req_total"), matcher(labels.MatchEqual, "code", "200")},
			[]string{`{__name__="req_total", code="200", pod="a"}`, `{__name__="req_total", code="200", pod="b"}`}),
		Entry("!= (a missing label is the empty value)", []*labels.Matcher{matcher(labels.MatchEqual, "__name__", "req_total"), matcher(labels.MatchNotEqual, "code", "200")},
			[]string{`{__name__="req_total", code="500", pod="b"}`, `{__name__="req_total", pod="c"}`}),
		Entry("=~ (anchored)", []*labels.Matcher{matcher(labels.MatchEqual, "__name__", "req_total"), matcher(labels.MatchRegexp, "code", "5.*")},
			[]string{`{__name__="req_total", code="500", pod="b"}`}),
		Entry("!~", []*labels.Matcher{matcher(labels.MatchEqual, "__name__", "req_total"), matcher(labels.MatchNotRegexp, "code", "5..|")},
			[]string{`{__name__="req_total", code="200", pod="a"}`, `{__name__="req_total", code="200", pod="b"}`}),
		Entry("=~ on the metric name", []*labels.Matcher{matcher(labels.MatchRegexp, "__name__", "oth.*|nothing"), matcher(labels.MatchEqual, "pod", "a")},
			[]string{`{__name__="other", pod="a"}`}),
		Entry("!= on the metric name", []*labels.Matcher{matcher(labels.MatchNotEqual, "__name__", "req_total")},
			[]string{`{__name__="other", pod="a"}`}),
		Entry("no metric name", []*labels.Matcher{matcher(labels.MatchEqual, "pod", "a")},
			[]string{`{__name__="other", pod="a"}`, `{__name__="req_total", code="200", pod="a"}`}),
		Entry("nothing matches", []*labels.Matcher{matcher(labels.MatchEqual, "__name__", "absent")}, nil),
	)

	It("returns unsorted series in the order they were first referenced, like the TSDB head", func() {
		names, _ := selectAll(st, math.MinInt64, math.MaxInt64, false, matcher(labels.MatchRegexp, "__name__", "req_total|other"))
		Expect(names).To(Equal([]string{
			`{__name__="req_total", code="500", pod="b"}`,
			`{__name__="req_total", code="200", pod="a"}`,
			`{__name__="other", pod="a"}`,
			`{__name__="req_total", code="200", pod="b"}`,
			`{__name__="req_total", pod="c"}`,
		}))
	})

	It("returns only the samples within [mint, maxt] and skips series with none", func() {
		names, samples := selectAll(st, 15_000, 45_000, true, matcher(labels.MatchEqual, "pod", "a"))
		Expect(names).To(HaveLen(2))
		Expect(samples[0]).To(Equal([]sample{{15_000, 301}, {30_000, 302}, {45_000, 303}}))

		extra := st.Ref(labels.FromStrings("__name__", "late", "pod", "a"))
		Expect(st.Append(extra, 600_000, 1)).To(Succeed())
		names, _ = selectAll(st, 0, 60_000, true, matcher(labels.MatchEqual, "pod", "a"))
		Expect(names).NotTo(ContainElement(ContainSubstring("late")))
		names, samples = selectAll(st, 60_001, 600_000, true, matcher(labels.MatchEqual, "pod", "a"))
		Expect(names).To(Equal([]string{`{__name__="late", pod="a"}`}))
		Expect(samples[0]).To(Equal([]sample{{600_000, 1}}))
	})

	It("seeks like a chunk iterator", func() {
		q, err := st.Querier(math.MinInt64, math.MaxInt64)
		Expect(err).NotTo(HaveOccurred())
		set := q.Select(context.Background(), false, nil, matcher(labels.MatchEqual, "__name__", "other"))
		Expect(set.Next()).To(BeTrue())
		it := set.At().Iterator(nil)
		Expect(it.Seek(20_000)).To(Equal(chunkenc.ValFloat))
		Expect(it.AtT()).To(Equal(int64(30_000)))
		Expect(it.Seek(0)).To(Equal(chunkenc.ValFloat), "seeking backwards stays put")
		Expect(it.AtT()).To(Equal(int64(30_000)))
		Expect(it.Next()).To(Equal(chunkenc.ValFloat))
		t, v := it.At()
		Expect(t).To(Equal(int64(45_000)))
		Expect(v).To(Equal(303.0))
		Expect(it.Seek(61_000)).To(Equal(chunkenc.ValNone))
		Expect(it.Next()).To(Equal(chunkenc.ValNone))
		Expect(set.Next()).To(BeFalse())
	})

	It("rejects older and conflicting samples like the TSDB", func() {
		ref := st.Ref(labels.FromStrings("__name__", "other", "pod", "a"))
		Expect(st.Append(ref, 30_000, 1)).To(MatchError(storage.ErrOutOfOrderSample))
		Expect(st.Append(ref, 60_000, 304)).To(Succeed(), "the same sample again is fine")
		Expect(st.Append(ref, 60_000, 1)).To(MatchError(storage.ErrDuplicateSampleForTimestamp))
		Expect(st.Append(promstore.SeriesRef(0), 75_000, 1)).To(MatchError(promstore.ErrUnknownSeriesRef))
		Expect(st.Append(promstore.SeriesRef(999), 75_000, 1)).To(MatchError(promstore.ErrUnknownSeriesRef))
		_, samples := selectAll(st, math.MinInt64, math.MaxInt64, false, matcher(labels.MatchEqual, "__name__", "other"))
		Expect(samples[0]).To(HaveLen(5))
		Expect(samples[0][4]).To(Equal(sample{60_000, 304}))
	})

	It("keeps staleness markers as samples", func() {
		Expect(st.AppendLabels(labels.FromStrings("__name__", "other", "pod", "a"), 75_000, math.Float64frombits(value.StaleNaN))).To(Succeed())
		_, samples := selectAll(st, 75_000, 75_000, false, matcher(labels.MatchEqual, "__name__", "other"))
		Expect(samples).To(HaveLen(1))
		Expect(value.IsStaleNaN(samples[0][0].V)).To(BeTrue())
	})

	It("lists label names and values", func() {
		q, err := st.Querier(math.MinInt64, math.MaxInt64)
		Expect(err).NotTo(HaveOccurred())
		ctx := context.Background()
		vals, _, err := q.LabelValues(ctx, "pod", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(vals).To(Equal([]string{"a", "b", "c"}))
		vals, _, err = q.LabelValues(ctx, "code", nil, matcher(labels.MatchEqual, "pod", "b"))
		Expect(err).NotTo(HaveOccurred())
		Expect(vals).To(Equal([]string{"200", "500"}))
		vals, _, err = q.LabelValues(ctx, "__name__", &storage.LabelHints{Limit: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(vals).To(Equal([]string{"other"}))
		names, _, err := q.LabelNames(ctx, nil, matcher(labels.MatchEqual, "__name__", "other"))
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"__name__", "pod"}))
		names, _, err = q.LabelNames(ctx, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"__name__", "code", "pod"}))

		late, err := st.Querier(100_000, 200_000)
		Expect(err).NotTo(HaveOccurred())
		vals, _, err = late.LabelValues(ctx, "pod", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(vals).To(BeEmpty())
	})

	It("gives the same PromQL results as Prometheus' TSDB head, in the same order", func() {
		w := newRolloutWorld()
		own := newAviaryStore(w)
		head := newHeadStore(GinkgoTB(), w)
		DeferCleanup(head.close)
		for i := 0; i <= 40; i++ {
			own.scrape(i)
			head.scrape(i)
		}
		eng := promstore.NewEngine()
		at := epoch.Add(10 * time.Minute)
		queries := append(w.queries(), w.orderQueries()...)
		for _, q := range queries {
			Expect(evalString(eng, own.queryable(), q, at)).To(Equal(evalString(eng, head.queryable(), q, at)), q)
		}
		Expect(evalString(eng, own.queryable(), w.orderQueries()[0], at)).To(ContainSubstring("podinfo-primary"), "the comparison saw data")
	})
})

func evalString(eng *promql.Engine, q storage.Queryable, query string, at time.Time) string {
	GinkgoHelper()
	qry, err := eng.NewInstantQuery(context.Background(), q, nil, query, at)
	Expect(err).NotTo(HaveOccurred())
	defer qry.Close()
	res := qry.Exec(context.Background())
	Expect(res.Err).NotTo(HaveOccurred())
	return res.Value.String()
}

// rolloutWorld is the data of a typical simulated rollout: an Istio mesh and an
// app-instrumented histogram for a primary and a canary with three pods each
// (312 series), scraped every 15 s, and the ~100 queries of a 30-minute analysis
// (three metric checks per 1-minute tick, plus availability checks).
type rolloutWorld struct {
	series []worldSeries
}

type worldSeries struct {
	lset      labels.Labels
	perSecond float64 // a counter's increase per second
}

const scrapeMillis = 15_000

func newRolloutWorld() *rolloutWorld {
	w := &rolloutWorld{}
	add := func(perSecond float64, kv ...string) {
		w.series = append(w.series, worldSeries{labels.FromStrings(kv...), perSecond})
	}
	istioLe := []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000, math.Inf(1)}
	appLe := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1)}
	le := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, workload := range []string{"podinfo-primary", "podinfo"} {
		for p := range 3 {
			pod := fmt.Sprintf("%s-7d9c8b%d-x%dq", workload, p, p)
			rps := 10.0 + float64(p)
			istio := []string{"reporter", "destination", "destination_workload_namespace", "test", "destination_workload", workload, "pod", pod, "namespace", "test"}
			add(rps*0.99, append([]string{"__name__", "istio_requests_total", "response_code", "200"}, istio...)...)
			add(rps*0.01, append([]string{"__name__", "istio_requests_total", "response_code", "503"}, istio...)...)
			for _, b := range istioLe {
				add(rps*math.Min(1, b/120), append([]string{"__name__", "istio_request_duration_milliseconds_bucket", "le", le(b)}, istio...)...)
			}
			add(rps*35, append([]string{"__name__", "istio_request_duration_milliseconds_sum"}, istio...)...)
			add(rps, append([]string{"__name__", "istio_request_duration_milliseconds_count"}, istio...)...)
			app := []string{"kubernetes_namespace", "test", "kubernetes_pod_name", pod}
			for _, status := range []string{"200", "500"} {
				r := rps * 0.98
				if status == "500" {
					r = rps * 0.02
				}
				for _, b := range appLe {
					add(r*math.Min(1, b/0.12), append([]string{"__name__", "http_request_duration_seconds_bucket", "status", status, "le", le(b)}, app...)...)
				}
				add(r*0.035, append([]string{"__name__", "http_request_duration_seconds_sum", "status", status}, app...)...)
				add(r, append([]string{"__name__", "http_request_duration_seconds_count", "status", status}, app...)...)
			}
		}
	}
	return w
}

// value is series s's sample at scrape i.
func (s worldSeries) value(i int) float64 { return s.perSecond * 15 * float64(i) }

func scrapeTime(i int) int64 { return epoch.UnixMilli() + int64(i)*scrapeMillis }

func (w *rolloutWorld) queries() []string {
	return []string{
		`sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo", response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo"}[1m])) * 100`,
		`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo"}[1m])) by (le))`,
		`sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*"}[1m])) / sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[1m]))`,
	}
}

// orderQueries return several series, in storage order.
func (w *rolloutWorld) orderQueries() []string {
	return []string{
		`istio_requests_total{response_code="200"}`,
		`{__name__=~"istio_requests_total|http_request_duration_seconds_count", pod!~".*-x1q"}`,
		`rate(http_request_duration_seconds_bucket{le=~"0.1|\\+Inf"}[2m])`,
		`sum by (destination_workload) (rate(istio_requests_total[1m]))`,
	}
}

// store abstracts the two storages the benchmark compares.
type store interface {
	queryable() storage.Queryable
	scrape(i int)
}

type aviaryStore struct {
	w    *rolloutWorld
	st   *promstore.Storage
	refs []promstore.SeriesRef
}

func newAviaryStore(w *rolloutWorld) *aviaryStore {
	return &aviaryStore{w: w, st: promstore.NewStorage()}
}

func (s *aviaryStore) queryable() storage.Queryable { return s.st }

func (s *aviaryStore) scrape(i int) {
	if s.refs == nil {
		for _, ws := range s.w.series {
			s.refs = append(s.refs, s.st.Ref(ws.lset))
		}
	}
	t := scrapeTime(i)
	for k, ws := range s.w.series {
		if err := s.st.Append(s.refs[k], t, ws.value(i)); err != nil {
			panic(err)
		}
	}
}

type headStore struct {
	w    *rolloutWorld
	head *tsdb.Head
	refs []storage.SeriesRef
}

// newHeadStore is Prometheus' TSDB head with in-memory options (no WAL).
func newHeadStore(tb testing.TB, w *rolloutWorld) *headStore {
	opts := tsdb.DefaultHeadOptions()
	opts.ChunkDirRoot = tb.TempDir()
	h, err := tsdb.NewHead(nil, nil, nil, nil, opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.Init(math.MinInt64); err != nil {
		tb.Fatal(err)
	}
	return &headStore{w: w, head: h, refs: make([]storage.SeriesRef, len(w.series))}
}

func (s *headStore) close() { _ = s.head.Close() }

func (s *headStore) queryable() storage.Queryable {
	return storage.QueryableFunc(func(mint, maxt int64) (storage.Querier, error) {
		return tsdb.NewBlockQuerier(tsdb.NewRangeHead(s.head, mint, maxt), mint, maxt)
	})
}

func (s *headStore) scrape(i int) {
	app := s.head.Appender(context.Background())
	t := scrapeTime(i)
	for k, ws := range s.w.series {
		ref, err := app.Append(s.refs[k], ws.lset, t, ws.value(i))
		if err != nil {
			panic(err)
		}
		s.refs[k] = ref
	}
	if err := app.Commit(); err != nil {
		panic(err)
	}
}

// runAnalysis evaluates the queries of a 30-minute analysis at 1-minute ticks against a
// store that holds (at least) the samples up to each tick. scrapeUpTo, when not nil, is
// called before each tick to append the samples up to it.
func runAnalysis(eng *promql.Engine, st store, w *rolloutWorld, scrapeUpTo func(i int)) int {
	queries := 0
	ctx := context.Background()
	for minute := 1; minute <= 30; minute++ {
		if scrapeUpTo != nil {
			scrapeUpTo(minute * 4)
		}
		at := epoch.Add(time.Duration(minute) * time.Minute)
		batch := w.queries()
		if minute%3 == 0 {
			batch = append(batch, "vector(1)")
		}
		for _, q := range batch {
			qry, err := eng.NewInstantQuery(ctx, st.queryable(), nil, q, at)
			if err != nil {
				panic(err)
			}
			res := qry.Exec(ctx)
			if res.Err != nil {
				panic(res.Err)
			}
			if v, ok := res.Value.(promql.Vector); !ok || len(v) != 1 {
				panic(fmt.Sprintf("query %s at minute %d returned %v", q, minute, res.Value))
			}
			qry.Close()
			queries++
		}
	}
	return queries
}

// BenchmarkStorageQuery compares the simulator's store with Prometheus' TSDB head
// (the store was chosen by this benchmark) on the data of a 30-minute rollout: 312 series
// scraped every 15 s. "queries" runs the rollout's 100 PromQL queries over a loaded
// store (ns/op = all 100); "scrapes" only builds the store (121 scrapes); "rollout"
// builds the store scrape by scrape and runs the queries as the analysis ticks come
// (ns/op = a whole simulated rollout's storage and PromQL cost).
func BenchmarkStorageQuery(b *testing.B) {
	w := newRolloutWorld()
	eng := promstore.NewEngine()
	stores := []struct {
		name string
		new  func(b *testing.B) (store, func())
	}{
		{"aviary", func(*testing.B) (store, func()) { return newAviaryStore(w), func() {} }},
		{"tsdb-head", func(b *testing.B) (store, func()) { h := newHeadStore(b, w); return h, h.close }},
	}
	for _, s := range stores {
		b.Run("queries/"+s.name, func(b *testing.B) {
			st, done := s.new(b)
			defer done()
			for i := 0; i <= 120; i++ {
				st.scrape(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				n = runAnalysis(eng, st, w, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/query")
			b.ReportMetric(float64(len(w.series)), "series")
		})
		b.Run("scrapes/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, done := s.new(b)
				for i := 0; i <= 120; i++ {
					st.scrape(i)
				}
				done()
			}
			b.ReportMetric(float64(len(w.series)*121), "samples")
		})
		b.Run("rollout/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, done := s.new(b)
				next := 0
				runAnalysis(eng, st, w, func(upTo int) {
					for ; next <= upTo; next++ {
						st.scrape(next)
					}
				})
				done()
			}
			b.ReportMetric(float64(len(w.series)*121), "samples")
		})
	}
}
