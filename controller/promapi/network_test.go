package promapi_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/engine/analysis"
)

var _ = Describe("over the network", func() {
	It("reaches a TLS server with a self-signed certificate only with insecureSkipVerify", func() {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(vector("42")))
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
		srv.StartTLS()
		DeferCleanup(srv.Close)
		source := promapi.New()

		_, err := source.Query(ctx, prom(srv.URL), "up")
		Expect(err).To(MatchError(`request failed: Get "` + srv.URL + `/api/v1/query?query=up": tls: failed to verify certificate: x509: certificate signed by unknown authority`))

		insecure := prom(srv.URL)
		insecure.InsecureSkipVerify = true
		v, err := source.Query(ctx, insecure, "up")
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(42.0))

		_, err = source.Query(ctx, prom(srv.URL), "up")
		Expect(err).To(HaveOccurred(), "insecureSkipVerify is per provider: the next template without it is verified again")
	})

	It("gives up after the timeout, as Flagger's 5s context does", func() {
		Expect(promapi.DefaultTimeout).To(Equal(5 * time.Second))
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		DeferCleanup(srv.Close)
		DeferCleanup(func() { close(release) })

		_, err := promapi.New(promapi.WithTimeout(20*time.Millisecond)).Query(ctx, prom(srv.URL), "up")
		Expect(err).To(MatchError(`request failed: Get "` + srv.URL + `/api/v1/query?query=up": context deadline exceeded`))
	})

	It("stops when the caller's context ends", func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(vector("1")))
		}))
		DeferCleanup(srv.Close)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := promapi.New().Query(cancelled, prom(srv.URL), "up")
		Expect(err).To(MatchError(`request failed: Get "` + srv.URL + `/api/v1/query?query=up": context canceled`))
	})

	It("reports a server that is not there", func() {
		srv := httptest.NewServer(http.NotFoundHandler())
		address := srv.URL
		srv.Close()
		_, err := promapi.New().Query(ctx, prom(address), "up")
		Expect(err).To(MatchError(HavePrefix(`request failed: Get "` + address + `/api/v1/query?query=up": dial tcp `)))
		Expect(err).To(MatchError(HaveSuffix("connect: connection refused")))
	})

	It("sends requests without insecureSkipVerify through the transport it is given", func() {
		p := newPrometheus(200, vector("5"))
		var through int
		rt := roundTripper(func(r *http.Request) (*http.Response, error) {
			through++
			return http.DefaultTransport.RoundTrip(r)
		})
		v, err := promapi.New(promapi.WithTransport(rt)).Query(ctx, prom(p.URL), "up")
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(5.0))
		Expect(through).To(Equal(1))
	})
})

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The engine's checker over this source: the events Flagger emits for the same answers.
var _ = Describe("the engine's checker over the HTTP API", func() {
	canary := func(metricsServer string) *v1beta1.Canary {
		min := 99.0
		return &v1beta1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
			Spec: v1beta1.CanarySpec{
				Provider:      "istio",
				MetricsServer: metricsServer,
				TargetRef:     v1beta1.LocalObjectReference{Kind: "Deployment", Name: "podinfo"},
				Analysis: &v1beta1.CanaryAnalysis{Metrics: []v1beta1.CanaryMetric{
					{Name: "request-success-rate", Interval: "1m", ThresholdRange: &v1beta1.CanaryThresholdRange{Min: &min}},
				}},
			},
		}
	}

	DescribeTable("a builtin metric's outcome and event",
		func(status int, body string, outcome analysis.Outcome, message string) {
			p := newPrometheus(status, body)
			checker := &analysis.Checker{Source: promapi.New()}
			results, _ := checker.Run(ctx, canary(p.URL))
			Expect(results).To(HaveLen(1))
			Expect(results[0].Outcome).To(Equal(outcome))
			Expect(results[0].Message).To(Equal(message))
		},
		Entry("a pass", 200, vector("99.5"), analysis.OutcomePass, ""),
		Entry("below the threshold", 200, vector("90"), analysis.OutcomeFail, "Halt podinfo.test advancement success rate 90.00% < 99%"),
		Entry("no traffic", 200, vector(), analysis.OutcomeNoData,
			"Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic: running query failed: no values found"),
		Entry("Prometheus failing", 503, "down", analysis.OutcomeError,
			"Prometheus query failed: running query failed: error response: Status 503 Service Unavailable: down"),
	)

	It("checks that the metrics server is online with Flagger's vector(1)", func() {
		p := newPrometheus(200, vector("1"))
		checker := &analysis.Checker{Source: promapi.New()}
		Expect(checker.CheckProviders(ctx, canary(p.URL))).To(Succeed())
		Expect(p.last().URL.Query().Get("query")).To(Equal("vector(1)"))

		p.mu.Lock()
		p.body = vector("0")
		p.mu.Unlock()
		Expect(checker.CheckProviders(ctx, canary(p.URL))).To(MatchError("prometheus not avaiable: value is not 1 for query: vector(1)"))

		p.mu.Lock()
		p.status, p.body = 500, "boom"
		p.mu.Unlock()
		Expect(checker.CheckProviders(ctx, canary(p.URL))).To(MatchError(
			"prometheus not avaiable: running query failed: error response: Status 500 Internal Server Error: boom"))
	})
})
