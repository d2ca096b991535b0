package world_test

import (
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"aviary.dev/aviary/sim/world"
)

// The service labels of a canary's Services on port 80, as Traefik names them.
const (
	traefikPrimary = "test-podinfo-primary-80@kubernetescrd"
	traefikCanary  = "test-podinfo-canary-80@kubernetescrd"
)

// Flagger 1.44's Traefik queries (pkg/metrics/observers/traefik.go) for namespace
// test, target podinfo, interval 1m.
const (
	traefikSuccessRate = `sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd",code!~"5..",le="+Inf"}[1m])) / sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd",le="+Inf"}[1m])) * 100`
	traefikDuration    = `histogram_quantile(0.99, sum(rate(traefik_service_request_duration_seconds_bucket{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"}[1m])) by (le)) * 1000`
)

func traefikRouting(primary, canary int) world.Routing {
	r := world.Routing{PrimaryWeight: primary, CanaryWeight: canary, WeightTotal: primary + canary, TraefikPrimary: traefikPrimary}
	if canary > 0 {
		r.TraefikCanary = traefikCanary
	}
	return r
}

var _ = Describe("Traefik's service families", func() {
	It("names a Kubernetes Service as Traefik's CRD provider does", func() {
		Expect(world.TraefikServiceLabel("test", "podinfo-canary", "80")).To(Equal(traefikCanary))
		Expect(world.TraefikServiceLabel("test", "podinfo", "http")).To(Equal("test-podinfo-http@kubernetescrd"))
		Expect(world.TraefikServiceLabel("test", "podinfo", "")).To(Equal("test-podinfo@kubernetescrd"))
		Expect(world.TraefikServiceLabel("a.b", "x__y", "80")).To(Equal("a-b-x-y-80@kubernetescrd"))
	})

	It("writes Traefik's label set and buckets, per Service, following the weighted round robin", func() {
		h := newHarness(harnessOpts{
			spec:            world.Spec{RPS: ptr(100.0)},
			routing:         traefikRouting(60, 40),
			primaryReplicas: 2,
		})
		h.runTo(3 * time.Minute)
		v := h.query(`traefik_service_requests_total`, 3*time.Minute)
		Expect(v).To(HaveLen(2), "one series per Service, not per pod")
		for _, s := range v {
			Expect(s.Metric).To(Equal(labels.FromStrings(
				"__name__", "traefik_service_requests_total",
				"code", "200",
				"method", "GET",
				"protocol", "http",
				"service", s.Metric.Get("service"),
			)))
		}
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikPrimary+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 60, 1e-9))
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikCanary+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 40, 1e-9))
		var les []string
		for _, s := range h.query(`traefik_service_request_duration_seconds_bucket{service="`+traefikCanary+`"}`, 3*time.Minute) {
			les = append(les, s.Metric.Get("le"))
		}
		Expect(les).To(ConsistOf("0.1", "0.3", "1.2", "5", "+Inf"))
		count := h.scalar(`traefik_service_request_duration_seconds_count{service="`+traefikCanary+`"}`, 3*time.Minute)
		Expect(h.scalar(`traefik_service_request_duration_seconds_bucket{service="`+traefikCanary+`",le="+Inf"}`, 3*time.Minute)).To(Equal(count))
		Expect(count).To(BeNumerically("~", h.scalar(`sum(istio_requests_total{destination_workload="podinfo"})`, 3*time.Minute), 1e-6),
			"Traefik counts what the pods behind the Service served to users")
	})

	It("divides by the weights' sum: a primary left without a weight weighs 1 against the canary's 100", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(101.0)}, routing: traefikRouting(1, 100)})
		h.runTo(3 * time.Minute)
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikPrimary+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 1, 1e-9))
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikCanary+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 100, 1e-9))
	})

	It("answers Flagger's Traefik queries with the version's behaviour, its codes in the code label", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(100.0), Versions: map[string]world.Behavior{
				newImage: {Codes: map[string]float64{"404": 0.05, "500": 0.02}, Latency: &world.Latency{P50: dur(100 * time.Millisecond), P99: dur(800 * time.Millisecond)}},
			}},
			routing: traefikRouting(50, 50),
		})
		h.runTo(5 * time.Minute)
		Expect(h.scalar(traefikSuccessRate, 5*time.Minute)).To(BeNumerically("~", 98, 1e-9), "a 404 is a success")
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikCanary+`",code="404"}[1m]))`, 5*time.Minute)).To(BeNumerically("~", 2.5, 1e-9))

		// Traefik's buckets split Istio's cells at 300 ms and 1.2 s: the P99 of
		// 800 ms lies in (300 ms, 1.2 s], interpolated from the distribution's masses
		d := world.FitLogNormal(100*time.Millisecond, 800*time.Millisecond)
		want := 1000 * bucketInterpolation(d, 0.99, 300, 1200) / 1000
		Expect(h.scalar(traefikDuration, 5*time.Minute)).To(BeNumerically("~", want, want*1e-9))
		for _, le := range []float64{100, 300, 1200, 5000} {
			share := h.scalar(`sum(rate(traefik_service_request_duration_seconds_bucket{service="`+traefikCanary+`",le="`+world.FormatLe(le/1000)+`"}[1m])) / sum(rate(traefik_service_request_duration_seconds_count{service="`+traefikCanary+`"}[1m]))`, 5*time.Minute)
			Expect(share).To(BeNumerically("~", d.CDF(le), 1e-9), "le %v", le)
		}
		mean := h.scalar(`sum(rate(traefik_service_request_duration_seconds_sum{service="`+traefikCanary+`"}[1m])) / sum(rate(traefik_service_request_duration_seconds_count{service="`+traefikCanary+`"}[1m]))`, 5*time.Minute)
		Expect(mean * 1000).To(BeNumerically("~", d.Mean(), d.Mean()*1e-9))
	})

	It("writes nothing Traefik's without a TraefikService, and no Traefik series for direct load", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0), DirectRPS: 10}, routing: world.Routing{PrimaryWeight: 100}})
		h.runTo(2 * time.Minute)
		Expect(h.query(`{__name__=~"traefik_.+"}`, 2*time.Minute)).To(BeEmpty())

		h = newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0), DirectRPS: 10}, routing: traefikRouting(100, 0)})
		h.runTo(2 * time.Minute)
		Expect(h.query(`traefik_service_requests_total{service="`+traefikCanary+`"}`, 2*time.Minute)).To(BeEmpty())
		Expect(h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))`, 2*time.Minute)).To(BeNumerically("~", 10, 1e-9))
	})

	It("answers 503 itself when the Service has no ready pod", func() {
		h := newHarness(harnessOpts{
			spec:          world.Spec{RPS: ptr(100.0)},
			routing:       traefikRouting(80, 20),
			readyOverride: func(image string, _ time.Time) (bool, bool) { return false, image == newImage },
		})
		h.runTo(2 * time.Minute)
		Expect(h.scalar(`sum(rate(traefik_service_requests_total{service="`+traefikCanary+`",code="503"}[1m]))`, 2*time.Minute)).To(BeNumerically("~", 20, 1e-9))
		Expect(h.query(traefikSuccessRate, 2*time.Minute)).To(BeEmpty(), "no non-5xx series: Flagger's \"no values found\"")
		Expect(traffic(h.w, newImage).Failed).To(BeNumerically("~", 20*120.0, 1e-6))
	})

	It("deletes a Service's series once it left Traefik's configuration and was exported once more, and starts them from 0 when it comes back", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0)}, routing: traefikRouting(50, 50)})
		h.runTo(time.Minute)
		h.routing = traefikRouting(100, 0) // the canary taken out between 1m and 1m15s
		h.runTo(2 * time.Minute)
		h.routing = traefikRouting(50, 50)
		h.runTo(3 * time.Minute)
		ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "__name__", "traefik_service_requests_total"),
			labels.MustNewMatcher(labels.MatchEqual, "service", traefikCanary))
		m := func(d time.Duration) int64 { return d.Milliseconds() }
		Expect(ts).To(Equal([]int64{
			m(0), m(15 * time.Second), m(30 * time.Second), m(45 * time.Second), m(time.Minute), // routed
			m(75 * time.Second), // exported once more, then deleted
			m(90 * time.Second), // stale
			m(2 * time.Minute),  // back: from 0 at the scrape before its first request
			m(2*time.Minute + 15*time.Second), m(2*time.Minute + 30*time.Second), m(2*time.Minute + 45*time.Second), m(3 * time.Minute),
		}))
		Expect(vs[4]).To(BeNumerically("~", 50*60.0, 1e-9))
		Expect(vs[5]).To(Equal(vs[4]), "no request in the interval it was out")
		Expect(value.IsStaleNaN(vs[6])).To(BeTrue())
		Expect(vs[7]).To(Equal(0.0))
		Expect(vs[11]).To(BeNumerically("~", 50*60.0, 1e-9))
		Expect(h.scalar(`sum(increase(traefik_service_requests_total{service="`+traefikCanary+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 50*60.0, 1e-6))
		Expect(h.query(`traefik_service_requests_total{service="`+traefikCanary+`"}`, 105*time.Second)).To(BeEmpty(), "absent while stale")
	})

	It("starts a Service's series again after the sample at which Traefik deleted them, when it comes back at once", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0)}, routing: traefikRouting(50, 50)})
		h.runTo(time.Minute)
		h.routing = traefikRouting(100, 0)
		h.runTo(75 * time.Second)
		h.routing = traefikRouting(50, 50)
		h.runTo(2 * time.Minute)
		ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "__name__", "traefik_service_requests_total"),
			labels.MustNewMatcher(labels.MatchEqual, "service", traefikCanary))
		Expect(ts[4:8]).To(Equal([]int64{60_000, 75_000, 75_001, 90_000}))
		Expect(vs[5]).To(BeNumerically("~", 50*60.0, 1e-9))
		Expect(vs[6]).To(Equal(0.0))
		Expect(vs[7]).To(BeNumerically("~", 50*15.0, 1e-9))
		Expect(vs[len(vs)-1]).To(BeNumerically("~", 50*45.0, 1e-9), "counted from 0 since it came back")
	})

	It("draws under noise the same requests for Traefik as for the pods", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(100.0), Seed: 3, Noise: true, Versions: map[string]world.Behavior{
				newImage: {ErrorRate: ptr(0.1), Latency: &world.Latency{P50: dur(200 * time.Millisecond), P99: dur(2 * time.Second)}},
			}},
			routing: traefikRouting(50, 50),
		})
		h.runTo(5 * time.Minute)
		for _, code := range []string{"200", "500"} {
			traefik := h.scalar(`traefik_service_request_duration_seconds_bucket{service="`+traefikCanary+`",code="`+code+`",le="+Inf"}`, 5*time.Minute)
			Expect(traefik).To(Equal(math.Trunc(traefik)))
			Expect(traefik).To(Equal(h.scalar(`sum(istio_requests_total{destination_workload="podinfo",response_code="`+code+`"})`, 5*time.Minute)))
			Expect(h.scalar(`traefik_service_request_duration_seconds_bucket{service="`+traefikCanary+`",code="`+code+`",le="5"}`, 5*time.Minute)).
				To(Equal(h.scalar(`sum(istio_request_duration_milliseconds_bucket{destination_workload="podinfo",response_code="`+code+`",le="5000"})`, 5*time.Minute)),
					"a bound both histograms have")
		}
	})
})
