package scale_test

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/e2e/scale"
)

// exposition is a scrape with Flagger's duration histogram for two canaries (buckets
// 0.005, 0.01, 0.025, +Inf) and a counter with two label sets.
const exposition = `# HELP flagger_canary_duration_seconds Seconds spent performing canary analysis.
# TYPE flagger_canary_duration_seconds histogram
flagger_canary_duration_seconds_bucket{name="a",namespace="n",le="0.005"} 1
flagger_canary_duration_seconds_bucket{name="a",namespace="n",le="0.01"} 3
flagger_canary_duration_seconds_bucket{name="a",namespace="n",le="0.025"} 4
flagger_canary_duration_seconds_bucket{name="a",namespace="n",le="+Inf"} 4
flagger_canary_duration_seconds_sum{name="a",namespace="n"} 0.04
flagger_canary_duration_seconds_count{name="a",namespace="n"} 4
flagger_canary_duration_seconds_bucket{name="b",namespace="n",le="0.005"} 1
flagger_canary_duration_seconds_bucket{name="b",namespace="n",le="0.01"} 1
flagger_canary_duration_seconds_bucket{name="b",namespace="n",le="0.025"} 5
flagger_canary_duration_seconds_bucket{name="b",namespace="n",le="+Inf"} 6
flagger_canary_duration_seconds_sum{name="b",namespace="n"} 0.5
flagger_canary_duration_seconds_count{name="b",namespace="n"} 6
# TYPE apiserver_request_total counter
apiserver_request_total{verb="GET"} 10
apiserver_request_total{verb="PUT"} 2.5
`

var _ = Describe("reading an exposition", func() {
	parse := func(s string) scale.Exposition {
		e, err := scale.ParseExposition(strings.NewReader(s))
		Expect(err).NotTo(HaveOccurred())
		return e
	}

	It("sums a histogram and a counter over their label sets", func() {
		e := parse(exposition)
		h, err := e.Histogram("flagger_canary_duration_seconds")
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Bounds).To(Equal([]float64{0.005, 0.01, 0.025, math.Inf(1)}))
		Expect(h.Counts).To(Equal([]float64{2, 4, 9, 10}))
		Expect(h.Count()).To(Equal(10.0))
		Expect(h.Sum).To(BeNumerically("~", 0.54, 1e-12))
		Expect(e.Sum("apiserver_request_total")).To(Equal(12.5))
		Expect(e.Sum("absent_total")).To(BeZero())
		absent, err := e.Histogram("absent_seconds")
		Expect(err).NotTo(HaveOccurred())
		Expect(absent.Count()).To(BeZero())
		Expect(math.IsNaN(absent.Quantile(0.5))).To(BeTrue())
	})

	It("keeps the label sets asked for", func() {
		h, err := parse(exposition).HistogramOf("flagger_canary_duration_seconds", func(l map[string]string) bool { return l["name"] == "b" })
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Counts).To(Equal([]float64{1, 1, 5, 6}))
	})

	It("refuses a histogram that is not one, and buckets that differ", func() {
		_, err := parse(exposition).Histogram("apiserver_request_total")
		Expect(err).To(MatchError(ContainSubstring("not a histogram")))
		_, err = parse(`# TYPE h histogram
h_bucket{a="1",le="1"} 1
h_bucket{a="1",le="+Inf"} 1
h_bucket{a="2",le="2"} 1
h_bucket{a="2",le="+Inf"} 1
`).Histogram("h")
		Expect(err).To(MatchError(ContainSubstring("different buckets")))
	})

	It("subtracts an earlier scrape", func() {
		later, err := parse(exposition).Histogram("flagger_canary_duration_seconds")
		Expect(err).NotTo(HaveOccurred())
		earlier := scale.Histogram{Bounds: later.Bounds, Counts: []float64{1, 1, 1, 1}, Sum: 0.01}
		d, err := later.Since(earlier)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Counts).To(Equal([]float64{1, 3, 8, 9}))
		Expect(d.Sum).To(BeNumerically("~", 0.53, 1e-12))
		_, err = later.Since(scale.Histogram{Bounds: []float64{1, math.Inf(1)}, Counts: []float64{0, 0}})
		Expect(err).To(MatchError(ContainSubstring("buckets changed")))
		same, err := later.Since(scale.Histogram{})
		Expect(err).NotTo(HaveOccurred())
		Expect(same).To(Equal(later))
	})

	// Counts 2, 4, 9, 10 over bounds 0.005, 0.01, 0.025, +Inf: PromQL's
	// histogram_quantile gives the same values.
	DescribeTable("estimates a quantile as histogram_quantile does",
		func(q, want float64) {
			h, err := parse(exposition).Histogram("flagger_canary_duration_seconds")
			Expect(err).NotTo(HaveOccurred())
			Expect(h.Quantile(q)).To(BeNumerically("~", want, 1e-12))
		},
		Entry("in the first bucket, from 0", 0.1, 0.0025),
		Entry("at a bucket's upper count", 0.4, 0.01),
		Entry("inside a middle bucket", 0.5, 0.01+0.015*1.0/5),
		Entry("in the +Inf bucket: the highest finite bound", 0.99, 0.025),
	)
})

var _ = Describe("reading a process's memory and CPU time", func() {
	DescribeTable("from /proc/PID/status",
		func(status string, want scale.Memory, wantErr string) {
			m, err := scale.ParseStatus(strings.NewReader(status))
			if wantErr != "" {
				Expect(err).To(MatchError(ContainSubstring(wantErr)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(m).To(Equal(want))
		},
		Entry("both", "Name:\taviary\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n", scale.Memory{RSS: 100 << 20, HWM: 200 << 20}, ""),
		Entry("no VmRSS (a kernel thread)", "Name:\tkthreadd\nThreads:\t1\n", scale.Memory{}, "not both found"),
		Entry("another unit", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", scale.Memory{}, `want "<n> kB"`),
		Entry("not a number", "VmHWM:\tx kB\nVmRSS:\t1 kB\n", scale.Memory{}, "VmHWM"),
	)

	DescribeTable("from /proc/PID/stat",
		func(stat string, want time.Duration, wantErr string) {
			d, err := scale.ParseStat(stat)
			if wantErr != "" {
				Expect(err).To(MatchError(ContainSubstring(wantErr)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(Equal(want))
		},
		Entry("user 150 + system 50 ticks", "42 (aviary) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 100 0 0", 2*time.Second, ""),
		Entry("a command name with spaces and parentheses", "42 (a (b) c) S 1 42 42 0 -1 0 0 0 0 0 1 2 0 0 20 0 9 0 100 0 0", 30*time.Millisecond, ""),
		Entry("cut short", "42 (aviary) S 1 42", time.Duration(0), "fields after the command name"),
		Entry("no command name", "42 aviary S", time.Duration(0), "no command name"),
	)

	It("reads this process", func() {
		m, err := scale.ReadMemory(os.Getpid())
		Expect(err).NotTo(HaveOccurred())
		Expect(m.RSS).To(BeNumerically(">", 1<<20))
		Expect(m.HWM).To(BeNumerically(">=", m.RSS))
		cpu, err := scale.ReadCPU(os.Getpid())
		Expect(err).NotTo(HaveOccurred())
		Expect(cpu).To(BeNumerically(">=", 0))
		_, err = scale.ReadMemory(-1)
		Expect(err).To(HaveOccurred())
	})
})

var _ = Describe("the stub Prometheus", func() {
	It("answers every instant query with its value and counts them", func() {
		stub := &scale.StubPrometheus{Value: 99.5}
		srv := httptest.NewServer(stub)
		defer srv.Close()
		get := func(path string) (int, string) {
			resp, err := http.Get(srv.URL + path)
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			Expect(err).NotTo(HaveOccurred())
			return resp.StatusCode, string(body)
		}
		code, body := get("/api/v1/query?query=" + url.QueryEscape(`sum(rate(x[1m]))`))
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(MatchRegexp(`^\{"status":"success","data":\{"resultType":"vector","result":\[\{"metric":\{\},"value":\[\d+\.\d{3},"99.5"\]\}\]\}\}$`))
		resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{"query": {"up"}})
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(stub.Queries.Load()).To(Equal(int64(2)))
		code, body = get("/api/v1/query?query=" + url.QueryEscape(" vector(1) "))
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(HaveSuffix(`,"1"]}]}}`), "a constant vector is answered its value")
		Expect(stub.Queries.Load()).To(Equal(int64(3)))
		code, _ = get("/api/v1/query")
		Expect(code).To(Equal(http.StatusBadRequest))
		code, _ = get("/api/v1/query_range?query=up")
		Expect(code).To(Equal(http.StatusNotFound))
		Expect(stub.Queries.Load()).To(Equal(int64(3)))
	})
})
