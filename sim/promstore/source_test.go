package promstore_test

import (
	"context"
	"errors"
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/promstore"
)

var _ = Describe("Source", func() {
	var (
		st    *promstore.Storage
		clk   *clocktesting.FakePassiveClock
		src   *promstore.Source
		prom  = v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus.istio-system:9090"}
		query = func(q string) (float64, error) { return src.Query(context.Background(), prom, q) }
	)

	// Every 15 s for 5 minutes: counters in both orders of creation, a latency
	// histogram, an idle counter, and a series that goes stale at 4m.
	BeforeEach(func() {
		st = promstore.NewStorage()
		clk = clocktesting.NewFakePassiveClock(epoch)
		src = &promstore.Source{Engine: promstore.NewEngine(), Storage: st, Clock: clk}

		// Created 500 first: label order and storage order differ.
		errs := st.Ref(labels.FromStrings("__name__", "http_requests_total", "job", "app", "code", "500"))
		oks := st.Ref(labels.FromStrings("__name__", "http_requests_total", "job", "app", "code", "200"))
		idle := st.Ref(labels.FromStrings("__name__", "idle_total", "job", "app"))
		gone := st.Ref(labels.FromStrings("__name__", "gone", "job", "app"))
		buckets := map[string]float64{"0.1": 5, "0.25": 9, "0.5": 10, "+Inf": 10} // per second
		for i := 0; i <= 20; i++ {
			t := epoch.UnixMilli() + int64(i)*15_000
			Expect(st.Append(errs, t, float64(i)*15)).To(Succeed()) // 1/s
			Expect(st.Append(oks, t, float64(i)*150)).To(Succeed()) // 10/s
			Expect(st.Append(idle, t, 0)).To(Succeed())
			for le, perSecond := range buckets {
				Expect(st.AppendLabels(labels.FromStrings("__name__", "latency_seconds_bucket", "job", "app", "le", le), t, float64(i)*15*perSecond)).To(Succeed())
			}
			g := 42.0
			if i == 16 {
				g = math.Float64frombits(value.StaleNaN)
			}
			if i <= 16 {
				Expect(st.Append(gone, t, g)).To(Succeed())
			}
		}
		clk.SetTime(epoch.Add(5 * time.Minute))
	})

	It("evaluates rate over counters at the clock's now", func() {
		Expect(query(`rate(http_requests_total{code="200"}[1m])`)).To(BeNumerically("~", 10, 1e-9))
		Expect(query(`sum(rate(http_requests_total{code!~"5.*"}[1m])) / sum(rate(http_requests_total[1m])) * 100`)).
			To(BeNumerically("~", 100.0*10/11, 1e-9))
		clk.SetTime(epoch.Add(30 * time.Second))
		Expect(query(`increase(http_requests_total{code="200"}[10m])`)).To(BeNumerically("~", 300, 1e-9), "no extrapolation past the first sample, nothing from the future")
	})

	It("evaluates histogram_quantile over buckets", func() {
		// rank 9.9/s of 10/s falls in (0.25, 0.5] holding 1/s above 9/s: 0.25 + 0.25*0.9.
		Expect(query(`histogram_quantile(0.99, sum(rate(latency_seconds_bucket{job="app"}[1m])) by (le))`)).
			To(BeNumerically("~", 0.475, 1e-9))
		Expect(query(`histogram_quantile(0.5, sum(rate(latency_seconds_bucket[1m])) by (le))`)).
			To(BeNumerically("~", 0.1, 1e-9))
	})

	It("reports NaN (0/0) as no values found, marked as NaN", func() {
		_, err := query(`sum(rate(idle_total[1m])) / sum(rate(idle_total[1m]))`)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
		Expect(errors.Is(err, analysis.ErrNaN)).To(BeTrue())
		Expect(err.Error()).To(Equal("no values found"))
	})

	It("is not guarded against 0/0 by `or on() vector(0)`, but is by `/ (x > 0)`", func() {
		_, err := query(`sum(rate(idle_total[1m])) / sum(rate(idle_total[1m])) or on() vector(0)`)
		Expect(errors.Is(err, analysis.ErrNaN)).To(BeTrue())
		Expect(query(`sum(rate(idle_total[1m])) / (sum(rate(idle_total[1m])) > 0) or on() vector(0)`)).To(Equal(0.0))
	})

	It("reports an empty result as no values found", func() {
		_, err := query(`absent_metric`)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
		Expect(errors.Is(err, analysis.ErrNaN)).To(BeFalse())
	})

	It("returns the last series of a vector, in the order Prometheus returns them", func() {
		// Stored 500 then 200: the TSDB head returns them in that order, so Flagger gets
		// the 200 counter (3000), not the 500 one that label order would put last (300).
		Expect(query(`http_requests_total`)).To(Equal(3000.0))
		Expect(query(`sort_desc(http_requests_total)`)).To(Equal(300.0))
	})

	It("treats a staleness marker as the end of the series", func() {
		clk.SetTime(epoch.Add(3 * time.Minute))
		Expect(query(`gone`)).To(Equal(42.0))
		clk.SetTime(epoch.Add(4*time.Minute + 10*time.Second))
		_, err := query(`gone`)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
	})

	It("answers the availability check", func() {
		Expect(query(`vector(1)`)).To(Equal(1.0))
		Expect(src.Query(context.Background(), v1beta1.MetricTemplateProvider{}, "vector(1)")).To(Equal(1.0))
	})

	It("reports a range vector as multiple values, an empty one as no values", func() {
		_, err := query(`http_requests_total[1m]`)
		Expect(err).To(MatchError(analysis.ErrMultipleValuesReturned))
		_, err = query(`absent_metric[1m]`)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
	})

	It("fails a scalar or string result like Flagger decoding the HTTP API's answer", func() {
		_, err := query(`1`)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(HavePrefix("error unmarshaling result: json: cannot unmarshal number into Go struct field .Data.Result of type struct {"))
		Expect(err.Error()).To(HaveSuffix(`, '{"status":"success","data":{"resultType":"scalar","result":[1767225900,"1"]}}'`))

		clk.SetTime(epoch.Add(1500 * time.Millisecond))
		_, err = query(`"up"`)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(HaveSuffix(`, '{"status":"success","data":{"resultType":"string","result":[1767225601.5,"up"]}}'`))
	})

	It("reports a query Prometheus rejects with the HTTP API's error body", func() {
		_, err := query("sum(rate(http_requests_total[1m])")
		Expect(err).To(MatchError(`error response: Status 400 Bad Request: {"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:34: parse error: unclosed left parenthesis"}`))

		// Flagger collapses white space before sending: positions are those of the collapsed query.
		_, err = query("sum(\n    rate(http_requests_total[1m])\n")
		Expect(err).To(MatchError(`error response: Status 400 Bad Request: {"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:36: parse error: unclosed left parenthesis"}`))

		_, err = query(`http_requests_total + on() http_requests_total`)
		Expect(err).To(MatchError(`error response: Status 422 Unprocessable Entity: {"status":"error","errorType":"execution","error":"found duplicate series for the match group {} on the right hand-side of the operation: [{__name__=\"http_requests_total\", code=\"200\", job=\"app\"}, {__name__=\"http_requests_total\", code=\"500\", job=\"app\"}];many-to-many matching not allowed: matching labels must be unique on one side"}`))
	})

	It("accepts Prometheus under every provider type Flagger sends to Prometheus", func() {
		for _, typ := range []string{"", "prometheus", "Prometheus", "thanos"} {
			Expect(src.Query(context.Background(), v1beta1.MetricTemplateProvider{Type: typ}, "vector(2)")).To(Equal(2.0), typ)
		}
		_, err := src.Query(context.Background(), v1beta1.MetricTemplateProvider{Type: "datadog"}, "vector(2)")
		Expect(err).To(MatchError(`metric provider "datadog" is not supported by the simulator (only prometheus)`))
	})

	It("fails like a request when the context is done", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := src.Query(ctx, prom, "vector(1)")
		Expect(err).To(MatchError(context.Canceled))
		Expect(err.Error()).To(Equal("request failed: context canceled"))
	})
})
