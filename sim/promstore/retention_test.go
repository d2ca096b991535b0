package promstore_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/sim/promstore"
)

// reachCases are queries with how far back they read: each selector's offset, its
// range or PromQL's 5m lookback, its subqueries' ranges and offsets; and whether
// that is exactly how far PromQL reads (a negative offset or @ start() reads less).
var reachCases = []TableEntry{
	Entry("an instant vector: the lookback", "x", 5*time.Minute, true),
	Entry("a range", "rate(x[1m])", time.Minute, true),
	Entry("the longest of several", "sum(rate(x[2m])) / sum(rate(y[10m])) + z", 10*time.Minute, true),
	Entry("an offset", "rate(x[1m] offset 1h)", time.Hour+time.Minute, true),
	Entry("a negative offset reads later samples", "rate(x[1m] offset -1h)", time.Minute, false),
	Entry("a subquery's range and offset", "max_over_time(rate(x[1m])[30m:1m] offset 2m)", 33*time.Minute, true),
	Entry("nested subqueries add up", "max_over_time(min_over_time(x[10m:])[20m:] offset 1m)", 36*time.Minute, true),
	Entry("@ start() is the evaluation time of an instant query", "rate(x[1m] offset 1m @ start())", 2*time.Minute, true),
	Entry("@ end() on a subquery drops what is outside it", "max_over_time(x[10m:1m] @ end())[5m:] offset 1h", 80*time.Minute, false),
	Entry("no selector", "vector(1)", time.Duration(0), true),
	Entry("Flagger's Istio success rate", `100 - sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo",response_code=~"5.*"}[1m])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[1m])) * 100`, time.Minute, true),
}

var _ = Describe("query retention", func() {
	DescribeTable("how far back a query reads", func(q string, want time.Duration, _ bool) {
		expr, err := parser.ParseExpr(q)
		Expect(err).NotTo(HaveOccurred())
		reach, unbounded := promstore.Reach(expr)
		Expect(unbounded).To(BeEmpty())
		Expect(reach).To(Equal(want))
	}, reachCases)

	DescribeTable("queries whose reach has no bound", func(q, why string) {
		expr, err := parser.ParseExpr(q)
		Expect(err).NotTo(HaveOccurred())
		reach, unbounded := promstore.Reach(expr)
		Expect(unbounded).To(Equal(why))
		Expect(reach).To(BeZero())
	},
		Entry("a selector at an absolute time", "x @ 1767225600", "pins a selector to an absolute time with @"),
		Entry("a range selector at an absolute time", "rate(x[1m] @ 1767225600)", "pins a selector to an absolute time with @"),
		Entry("a subquery at an absolute time", "max_over_time(x[5m:] @ 1767225600)", "pins a subquery to an absolute time with @"),
	)

	It("keeps the longest reach of a run's queries plus a minute, skipping queries that do not parse", func() {
		Expect(promstore.QueryRetention([]string{"rate(x[1m])", "sum(", "x offset 10m"})).To(Equal(promstore.Retention{Horizon: 16 * time.Minute}))
		Expect(promstore.QueryRetention([]string{"x[1h] @ 100"})).NotTo(Equal(promstore.Retention{}), "a range vector at the top is read too")
		Expect(promstore.QueryRetention(nil)).To(Equal(promstore.Retention{Horizon: time.Minute}))
		Expect(promstore.QueryRetention([]string{"rate(x[1m])", "x @ 100"})).To(Equal(promstore.Retention{
			KeepAll: `query "x @ 100" pins a selector to an absolute time with @`}))
	})

	// The reach is checked against PromQL itself: evaluated at the end of a day of
	// samples, each query gives the same answer from a store that dropped everything
	// older than the horizon as from one that kept everything — and fails, loudly,
	// (where the reach is exact) from a store that kept less than the reach: PromQL
	// leaves out a sample exactly the reach before (a range is left-open).
	DescribeTable("PromQL finds every sample it reads within the horizon", func(q string, _ time.Duration, exact bool) {
		const step = 15 * time.Second
		day := 24 * time.Hour
		fill := func() *promstore.Storage {
			st := promstore.NewStorage()
			for _, name := range []string{"x", "y", "z"} {
				ref := st.Ref(labels.FromStrings("__name__", name))
				for i := range int64(day / step) {
					Expect(st.Append(ref, epoch.Add(time.Duration(i)*step).UnixMilli(), float64(i*i%97))).To(Succeed())
				}
			}
			return st
		}
		now := epoch.Add(day - step)
		horizon := promstore.QueryRetention([]string{q}).Horizon
		eval := func(st *promstore.Storage) *promql.Result {
			qry, err := promstore.NewEngine().NewInstantQuery(context.Background(), st, nil, q, now)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(qry.Close)
			return qry.Exec(context.Background())
		}
		want := eval(fill())
		Expect(want.Err).NotTo(HaveOccurred())

		kept := fill()
		kept.Truncate(now.Add(-horizon).UnixMilli())
		got := eval(kept)
		Expect(got.Err).NotTo(HaveOccurred())
		Expect(got.Value.String()).To(Equal(want.Value.String()))

		if reach := horizon - time.Minute; exact && reach > 0 {
			short := fill()
			short.Truncate(now.Add(-reach).UnixMilli() + 1)
			Expect(eval(short).Err).NotTo(HaveOccurred(), "the sample exactly the reach before is not read")
			short.Truncate(now.Add(-reach).UnixMilli() + 2)
			Expect(eval(short).Err).To(MatchError(ContainSubstring(promstore.ErrTruncated.Error())), "a shorter horizon is noticed")
		}
	}, reachCases)
})
