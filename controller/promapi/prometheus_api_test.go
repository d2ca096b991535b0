package promapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/sim/promstore"
)

// promqlServer answers /api/v1/query by evaluating the query with the PromQL engine the
// simulator uses, at its now (Flagger sends no time: Prometheus' clock decides), and encoding the result
// with Prometheus' own JSON encoding of values (promql's MarshalJSON) in the API's
// envelope; a query PromQL cannot parse or evaluate is answered 400 or 422. Prometheus'
// web/api/v1 itself is not served: it would add about 45 modules to go.mod (OpenAPI,
// OpenTelemetry collector, Alertmanager); the e2e test runs a real Prometheus.
func promqlServer(store *promstore.Storage, now time.Time) *httptest.Server {
	engine := promstore.NewEngine()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Expect(r.URL.Path).To(Equal("/api/v1/query"))
		fail := func(status int, errorType string, err error) {
			body, _ := json.Marshal(struct {
				Status    string `json:"status"`
				ErrorType string `json:"errorType"`
				Error     string `json:"error"`
			}{"error", errorType, err.Error()})
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
		q, err := engine.NewInstantQuery(r.Context(), store, nil, r.URL.Query().Get("query"), now)
		if err != nil {
			fail(http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"query\": %w", err))
			return
		}
		defer q.Close()
		res := q.Exec(r.Context())
		if res.Err != nil {
			fail(http.StatusUnprocessableEntity, "execution", res.Err)
			return
		}
		type data struct {
			ResultType parser.ValueType `json:"resultType"`
			Result     parser.Value     `json:"result"`
		}
		body, err := json.Marshal(struct { // the API's field order
			Status string `json:"status"`
			Data   data   `json:"data"`
		}{"success", data{res.Value.Type(), res.Value}})
		Expect(err).NotTo(HaveOccurred())
		_, _ = w.Write(body)
	}))
	DeferCleanup(srv.Close)
	return srv
}

// The same store read through the simulator's source and over HTTP by this source:
// every query must end the same way, value or error text.
var _ = Describe("against PromQL's answers over HTTP", func() {
	It("reads every answer as the simulator's source does", func() {
		now := time.Now()
		store := promstore.NewStorage()
		series := []labels.Labels{
			labels.FromStrings("__name__", "requests_total", "pod", "a", "code", "200"),
			labels.FromStrings("__name__", "requests_total", "pod", "b", "code", "200"),
			labels.FromStrings("__name__", "requests_total", "pod", "b", "code", "500"),
			labels.FromStrings("__name__", "gauge", "pod", "a"),
		}
		for i := 12; i >= 1; i-- {
			t := now.Add(-time.Duration(i) * 5 * time.Second).UnixMilli()
			for j, s := range series {
				Expect(store.AppendLabels(s, t, float64((12-i)*(j+1)))).To(Succeed())
			}
		}
		srv := promqlServer(store, now)
		simulated := &promstore.Source{Engine: promstore.NewEngine(), Storage: store, Clock: clocktesting.NewFakeClock(now)}
		live := promapi.New()

		queries := []string{
			`sum(rate(requests_total{code!~"5.."}[5m])) / sum(rate(requests_total[5m])) * 100`,
			`sum(rate(requests_total{code="200"}[5m])) by (pod)`,
			`rate(requests_total{code="404"}[5m])`,
			`gauge / 0 * 0`,
			`requests_total[5m]`,
			`requests_total{pod="none"}[5m]`,
			`scalar(sum(gauge))`,
			`"a string"`,
			`vector(1)`,
			`sum(rate(requests_total[5m])`,
			`requests_total + on(pod) requests_total`,
			"sum(\n  rate(requests_total[5m])\n)",
		}
		for _, q := range queries {
			want, wantErr := simulated.Query(context.Background(), prom("http://embedded"), q)
			got, err := live.Query(context.Background(), prom(srv.URL), q)
			if wantErr != nil {
				Expect(err).To(MatchError(wantErr.Error()), q)
				continue
			}
			Expect(err).NotTo(HaveOccurred(), q)
			Expect(got).To(Equal(want), q)
		}
	})
})
