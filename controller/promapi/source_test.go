package promapi_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/engine/analysis"
)

// prometheus is an httptest server that answers /api/v1/query as the Prometheus HTTP
// API does, with a fixed status and body, and remembers the requests it got.
type prometheus struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	status   int
	body     string
}

func newPrometheus(status int, body string) *prometheus {
	p := &prometheus{status: status, body: body}
	p.Server = httptest.NewServer(p)
	DeferCleanup(p.Close)
	return p
}

func (p *prometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests = append(p.requests, r.Clone(context.Background()))
	status, body := p.status, p.body
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// last is the last request the server got.
func (p *prometheus) last() *http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	Expect(p.requests).NotTo(BeEmpty())
	return p.requests[len(p.requests)-1]
}

// vector is a successful instant-vector answer with one series per value.
func vector(values ...string) string {
	series := make([]string, 0, len(values))
	for i, v := range values {
		series = append(series, `{"metric":{"pod":"p`+string(rune('0'+i))+`"},"value":[1700000000,"`+v+`"]}`)
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(series, ",") + `]}}`
}

func prom(address string) v1beta1.MetricTemplateProvider {
	return v1beta1.MetricTemplateProvider{Type: "prometheus", Address: address}
}

var ctx = context.Background()

var _ = Describe("the request", func() {
	DescribeTable("goes to <address path>/api/v1/query with the collapsed query, as Flagger joins them",
		func(suffix, wantPath string) {
			p := newPrometheus(200, vector("1"))
			_, err := promapi.New().Query(ctx, prom(p.URL+suffix), "sum(rate(x[1m]))\n\t / 2")
			Expect(err).NotTo(HaveOccurred())
			r := p.last()
			Expect(r.Method).To(Equal(http.MethodGet))
			Expect(r.URL.Path).To(Equal(wantPath))
			Expect(r.URL.RawQuery).To(Equal("query=" + url.QueryEscape("sum(rate(x[1m])) / 2")))
		},
		Entry("no path", "", "/api/v1/query"),
		Entry("a slash", "/", "/api/v1/query"),
		Entry("a prefix", "/prometheus", "/prometheus/api/v1/query"),
		Entry("a prefix with a slash", "/prometheus/", "/prometheus/api/v1/query"),
		Entry("the address's own query string is dropped", "/p?x=1", "/p/api/v1/query"),
	)

	DescribeTable("carries the template's headers and the Secret's credentials as Flagger 1.44 sets them",
		func(headers http.Header, withSecret bool, credentials map[string]string, want http.Header) {
			p := newPrometheus(200, vector("1"))
			provider := prom(p.URL)
			provider.Headers = headers
			before := headers.Clone()
			var data map[string][]byte
			if withSecret {
				provider.SecretRef = &corev1.LocalObjectReference{Name: "creds"}
				data = map[string][]byte{}
				for k, v := range credentials {
					data[k] = []byte(v)
				}
			}
			_, err := promapi.New().QueryWithCredentials(ctx, provider, data, "up")
			Expect(err).NotTo(HaveOccurred())
			got := p.last().Header
			for _, k := range []string{"Authorization", "X-Scope-Orgid"} {
				Expect(got.Values(k)).To(Equal(want.Values(k)), k)
			}
			Expect(provider.Headers).To(Equal(before), "the template's headers are not changed (Flagger's pile up)")
		},
		Entry("none", nil, false, nil, http.Header{}),
		Entry("basic auth", nil, true, map[string]string{"username": "u", "password": "p"},
			http.Header{"Authorization": {"Basic dTpw"}}),
		Entry("a bearer token", nil, true, map[string]string{"token": "t0k"},
			http.Header{"Authorization": {"Bearer t0k"}}),
		Entry("a token wins over username and password", nil, true, map[string]string{"token": "t0k", "username": "u", "password": "p"},
			http.Header{"Authorization": {"Bearer t0k"}}),
		Entry("an empty token: no auth, username and password are not read", nil, true, map[string]string{"token": "", "username": "u", "password": "p"},
			http.Header{}),
		Entry("an empty password: no auth", nil, true, map[string]string{"username": "u", "password": ""},
			http.Header{}),
		Entry("credentials without secretRef are not used", nil, false, map[string]string{"token": "t0k"},
			http.Header{}),
		Entry("the template's headers", http.Header{"X-Scope-Orgid": {"tenant"}}, false, nil,
			http.Header{"X-Scope-Orgid": {"tenant"}}),
		Entry("a token is added to the template's Authorization", http.Header{"Authorization": {"Custom x"}}, true, map[string]string{"token": "t0k"},
			http.Header{"Authorization": {"Custom x", "Bearer t0k"}}),
		Entry("basic auth replaces the template's Authorization", http.Header{"Authorization": {"Custom x"}}, true, map[string]string{"username": "u", "password": "p"},
			http.Header{"Authorization": {"Basic dTpw"}}),
	)

	DescribeTable("is not sent for a provider Flagger cannot build, with its error",
		func(provider v1beta1.MetricTemplateProvider, credentials map[string][]byte, want string) {
			_, err := promapi.New().QueryWithCredentials(ctx, provider, credentials, "up")
			Expect(err).To(MatchError(want))
		},
		Entry("no address", prom(""), nil, "prometheus address  is not a valid URL"),
		Entry("an address that does not parse", prom("http://[::1"), nil, "prometheus address http://[::1 is not a valid URL"),
		Entry("no username", v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://p", SecretRef: &corev1.LocalObjectReference{Name: "s"}},
			map[string][]byte{"password": []byte("p")}, "prometheus credentials does not contain a username"),
		Entry("no password", v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://p", SecretRef: &corev1.LocalObjectReference{Name: "s"}},
			map[string][]byte{"username": []byte("u")}, "prometheus credentials does not contain a password"),
		Entry("a provider type with a client of its own", v1beta1.MetricTemplateProvider{Type: "datadog", Address: "http://p"}, nil,
			`metric provider "datadog" is not supported by aviary (only prometheus)`),
	)

	It("goes to an unknown provider type as to Prometheus, as Flagger's factory does", func() {
		p := newPrometheus(200, vector("3"))
		v, err := promapi.New().Query(ctx, v1beta1.MetricTemplateProvider{Type: "victoriametrics", Address: p.URL}, "up")
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(3.0))
	})
})

var _ = DescribeTable("the answer is read as Flagger reads it",
	func(status int, body string, want float64, wantErr string) {
		p := newPrometheus(status, body)
		v, err := promapi.New().Query(ctx, prom(p.URL), "q")
		if wantErr != "" {
			Expect(err).To(MatchError(wantErr))
			Expect(errors.Is(err, analysis.ErrNoValuesFound)).To(Equal(wantErr == "no values found"),
				"the checker tells no data from an error by errors.Is")
			return
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(want))
	},
	Entry("one series", 200, vector("99.5"), 99.5, ""),
	Entry("several series: the last", 200, vector("1", "2", "3"), 3.0, ""),
	Entry("+Inf is a number", 200, vector("+Inf"), math.Inf(1), ""),
	Entry("an empty vector", 200, vector(), 0.0, "no values found"),
	Entry("NaN", 200, vector("NaN"), 0.0, "no values found"),
	Entry("a range vector", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`,
		0.0, "query returned multiple values"),
	Entry("a scalar", 200, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}`,
		0.0, `error unmarshaling result: json: cannot unmarshal number into Go struct field .Data.Result of type struct { Metric struct { Name string "json:\"name\"" }; Value []interface {} "json:\"value\""; Values []interface {} "json:\"values\"" }, '{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}'`),
	Entry("a value that is not a number", 200, vector("x"), 0.0, `strconv.ParseFloat: parsing "x": invalid syntax`),
	Entry("a query Prometheus refuses (400)", 400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: unexpected end of input"}`,
		0.0, `error response: Status 400 Bad Request: {"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: unexpected end of input"}`),
	Entry("an execution error (422)", 422, `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`,
		0.0, `error response: Status 422 Unprocessable Entity: {"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`),
	Entry("a proxy's 503", 503, "upstream connect error", 0.0, "error response: Status 503 Service Unavailable: upstream connect error"),
	Entry("a 302 without Location is read as a body", 302, vector("7"), 7.0, ""),
)
