package explore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/explore"
)

var _ = Describe("Handler", Ordered, func() {
	var (
		w   *explore.World
		srv *httptest.Server
		c   promv1.API
		ctx = context.Background()
	)
	BeforeAll(func() {
		w = play("podinfo-500-burst.yaml")
		srv = httptest.NewServer(w.Handler())
		DeferCleanup(srv.Close)
		client, err := api.NewClient(api.Config{Address: srv.URL})
		Expect(err).NotTo(HaveOccurred())
		c = promv1.NewAPI(client)
	})

	It("answers a check's query at its tick's Unix time with the record's value (Query)", func() {
		compared := 0
		for t := range w.Result.EachTick() {
			for _, m := range t.Metrics {
				if m.Kind != analysis.KindSuccessRate || m.Value == nil {
					continue
				}
				v, warnings, err := c.Query(ctx, m.Query, t.At)
				Expect(err).NotTo(HaveOccurred())
				Expect(warnings).To(BeEmpty())
				vec, ok := v.(model.Vector)
				Expect(ok).To(BeTrue(), "a vector, not %s", v.Type())
				Expect(vec).To(HaveLen(1))
				Expect(float64(vec[0].Value)).To(Equal(*m.Value))
				Expect(vec[0].Timestamp.Time()).To(BeTemporally("==", t.At))
				compared++
			}
		}
		Expect(compared).To(BeNumerically(">=", 5))
	})

	It("evaluates a range at every step (QueryRange)", func() {
		v, _, err := c.QueryRange(ctx, `sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))`,
			promv1.Range{Start: w.Start.Add(3 * time.Minute), End: w.Start.Add(6 * time.Minute), Step: time.Minute})
		Expect(err).NotTo(HaveOccurred())
		m := v.(model.Matrix)
		Expect(m).To(HaveLen(1))
		Expect(m[0].Values).To(HaveLen(4))
		Expect(float64(m[0].Values[3].Value)).To(BeNumerically("~", 30, 1e-9))
	})

	It("lists series, label names and a label's values (Series, LabelNames, LabelValues)", func() {
		series, _, err := c.Series(ctx, []string{`istio_requests_total{response_code="500"}`}, w.Start, w.End)
		Expect(err).NotTo(HaveOccurred())
		Expect(series).NotTo(BeEmpty())
		for _, s := range series {
			Expect(s).To(HaveKeyWithValue(model.LabelName("response_code"), model.LabelValue("500")))
			Expect(s).To(HaveKeyWithValue(model.LabelName("__name__"), model.LabelValue("istio_requests_total")))
		}
		names, _, err := c.LabelNames(ctx, nil, w.Start, w.End)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(ContainElements(model.LabelName("__name__"), model.LabelName("response_code"), model.LabelName("pod")))
		codes, _, err := c.LabelValues(ctx, "response_code", []string{"istio_requests_total"}, w.Start, w.End)
		Expect(err).NotTo(HaveOccurred())
		Expect(codes).To(ConsistOf(model.LabelValue("200"), model.LabelValue("500")))
		workloads, _, err := c.LabelValues(ctx, "destination_workload", nil, time.Time{}, time.Time{})
		Expect(err).NotTo(HaveOccurred())
		Expect(workloads).To(ContainElements(model.LabelValue("podinfo"), model.LabelValue("podinfo-primary")))
	})

	It("answers GET as it answers the client's POST, in Prometheus' envelope", func() {
		resp, err := http.Get(srv.URL + "/api/v1/label/response_code/values?match[]=istio_requests_total")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(body).To(MatchJSON(`{"status":"success","data":["200","500"]}`))

		resp, err = http.Get(srv.URL + "/api/v1/query?query=up&time=yesterday")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
		body, err = io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(body).To(MatchJSON(`{"status":"error","errorType":"bad_data","error":"invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"}`))
	})

	It("answers errors with Prometheus' error types", func() {
		_, _, err := c.Query(ctx, "sum(rate(x[1m])", w.End)
		apiErr, ok := err.(*promv1.Error)
		Expect(ok).To(BeTrue(), "a *v1.Error, not %T: %v", err, err)
		Expect(apiErr.Type).To(Equal(promv1.ErrBadData))
		Expect(apiErr.Msg).To(ContainSubstring("1:16: parse error"))

		_, _, err = c.Query(ctx, `sum(istio_requests_total) by (pod) + on() group_left sum(istio_requests_total) by (pod)`, w.End)
		apiErr, ok = err.(*promv1.Error)
		Expect(ok).To(BeTrue(), "a *v1.Error, not %T: %v", err, err)
		Expect(apiErr.Type).To(Equal(promv1.ErrExec))

		_, _, err = c.Series(ctx, []string{`{pod=""}`}, w.Start, w.End)
		apiErr, ok = err.(*promv1.Error)
		Expect(ok).To(BeTrue(), "a *v1.Error, not %T: %v", err, err)
		Expect(apiErr.Type).To(Equal(promv1.ErrBadData))
		Expect(apiErr.Msg).To(ContainSubstring("at least one non-empty matcher"))
	})
})
