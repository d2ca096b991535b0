package world_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/world"
)

const (
	oldImage = "podinfo:1.0.0"
	newImage = "podinfo:2.0.0"
	step     = 15 * time.Second
)

// Flagger's builtin Istio and HTTP (kubernetes provider) selectors for the canary.
const (
	istioCanary = `reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"`
	httpCanary  = `kubernetes_namespace="test",kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`
)

type harness struct {
	ctx     context.Context
	c       client.Client
	k       *cluster.DeploymentSimulator
	store   *promstore.Storage
	w       *world.Model
	eng     *promql.Engine
	routing world.Routing
	next    time.Duration
}

type harnessOpts struct {
	spec            world.Spec
	primaryReplicas int32
	canaryReplicas  int32
	startupDelay    time.Duration
	readyOverride   func(string, time.Time) (bool, bool)
	routing         world.Routing
}

func newHarness(o harnessOpts) *harness {
	if o.primaryReplicas == 0 {
		o.primaryReplicas = 1
	}
	if o.canaryReplicas == 0 {
		o.canaryReplicas = 1
	}
	objs := []client.Object{newDeployment("podinfo", newImage, o.canaryReplicas), newDeployment("podinfo-primary", oldImage, o.primaryReplicas)}
	h := &harness{ctx: context.Background(), c: newClient(objs...), store: promstore.NewStorage(), routing: o.routing}
	h.k = cluster.NewDeploymentSimulator(h.c, testNS, o.startupDelay, o.readyOverride)
	w, err := world.New(world.Config{
		Spec:         o.spec,
		Namespace:    testNS,
		Target:       "podinfo",
		Service:      "podinfo",
		InitialImage: oldImage,
		Start:        t0,
		Store:        h.store,
		Pods:         podsOf{h.k},
		Routes:       func(context.Context) (world.Routing, error) { return h.routing, nil },
	})
	Expect(err).NotTo(HaveOccurred())
	h.w = w
	h.eng = promql.NewEngine(promql.EngineOpts{MaxSamples: 10_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	return h
}

// runTo syncs the Deployment simulator and scrapes every 15s up to and including until.
func (h *harness) runTo(until time.Duration) {
	for ; h.next <= until; h.next += step {
		_, err := h.k.Sync(h.ctx, at(h.next))
		Expect(err).NotTo(HaveOccurred())
		Expect(h.w.Scrape(h.ctx, at(h.next))).To(Succeed())
	}
}

func (h *harness) query(q string, t time.Duration) promql.Vector {
	GinkgoHelper()
	qry, err := h.eng.NewInstantQuery(h.ctx, h.store, nil, q, at(t))
	Expect(err).NotTo(HaveOccurred())
	res := qry.Exec(h.ctx)
	Expect(res.Err).NotTo(HaveOccurred(), q)
	v, err := res.Vector()
	Expect(err).NotTo(HaveOccurred(), q)
	return v
}

func (h *harness) scalar(q string, t time.Duration) float64 {
	GinkgoHelper()
	v := h.query(q, t)
	Expect(v).To(HaveLen(1), "query %s at %s", q, t)
	return v[0].F
}

func (h *harness) podOf(deployment string) string {
	GinkgoHelper()
	pods := h.k.Pods(deployment)
	Expect(pods).NotTo(BeEmpty())
	return pods[0].Name
}

// samples returns the raw samples (ms since t0, value) of the one series matching.
func (h *harness) samples(ms ...*labels.Matcher) (ts []int64, vs []float64) {
	GinkgoHelper()
	q, err := h.store.Querier(math.MinInt64, math.MaxInt64)
	Expect(err).NotTo(HaveOccurred())
	ss := q.Select(h.ctx, false, nil, ms...)
	Expect(ss.Next()).To(BeTrue(), "a series matches")
	it := ss.At().Iterator(nil)
	for it.Next() != chunkenc.ValNone {
		t, v := it.At()
		ts = append(ts, t-t0.UnixMilli())
		vs = append(vs, v)
	}
	Expect(ss.Next()).To(BeFalse(), "only one series matches")
	return ts, vs
}

func traffic(w *world.Model, image string) world.VersionTraffic {
	for _, vt := range w.Traffic() {
		if vt.Image == image {
			return vt
		}
	}
	return world.VersionTraffic{Image: image}
}

func behaviour(errorRate float64, p50, p99 time.Duration) world.Behavior {
	b := world.Behavior{ErrorRate: ptr(errorRate)}
	if p50 > 0 || p99 > 0 {
		b.Latency = &world.Latency{P50: world.Duration{Duration: p50}, P99: world.Duration{Duration: p99}}
	}
	return b
}

func dur(d time.Duration) world.Duration { return world.Duration{Duration: d} }

// bucketInterpolation is what histogram_quantile returns for q when it falls in the
// bucket (lo, hi] of a distribution d.
func bucketInterpolation(d world.LogNormal, q, lo, hi float64) float64 {
	clo, chi := d.CDF(lo), d.CDF(hi)
	return lo + (hi-lo)*(q-clo)/(chi-clo)
}

var _ = Describe("World model", func() {
	It("gives Flagger's success rate and p99 over both metric families", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(100.0), Versions: map[string]world.Behavior{
				newImage: behaviour(0.05, 20*time.Millisecond, 80*time.Millisecond),
			}},
			routing: world.Routing{PrimaryWeight: 50, CanaryWeight: 50},
		})
		h.runTo(5 * time.Minute)

		sr := h.scalar(`sum(rate(istio_requests_total{`+istioCanary+`,response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{`+istioCanary+`}[1m])) * 100`, 5*time.Minute)
		Expect(sr).To(BeNumerically("~", 95, 1e-9))
		srHTTP := h.scalar(`sum(rate(http_request_duration_seconds_count{`+httpCanary+`,status!~"5.*"}[1m])) / sum(rate(http_request_duration_seconds_count{`+httpCanary+`}[1m])) * 100`, 5*time.Minute)
		Expect(srHTTP).To(BeNumerically("~", 95, 1e-9))

		d := world.FitLogNormal(20*time.Millisecond, 80*time.Millisecond)
		want := bucketInterpolation(d, 0.99, 50, 100) // 80ms lies in Istio's (50, 100] bucket
		p99 := h.scalar(`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{`+istioCanary+`}[1m])) by (le))`, 5*time.Minute)
		Expect(p99).To(BeNumerically("~", want, want*1e-9))
		Expect(p99).To(And(BeNumerically(">", 50), BeNumerically("<=", 100)))
		p99s := h.scalar(`histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{`+httpCanary+`}[1m])) by (le))`, 5*time.Minute)
		Expect(p99s * 1000).To(BeNumerically("~", want, want*1e-9))
		p50 := h.scalar(`histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket{`+istioCanary+`}[1m])) by (le))`, 5*time.Minute)
		Expect(p50).To(BeNumerically("~", bucketInterpolation(d, 0.5, 10, 25), 1e-6))

		mean := h.scalar(`sum(rate(istio_request_duration_milliseconds_sum{`+istioCanary+`}[1m])) / sum(rate(istio_request_duration_milliseconds_count{`+istioCanary+`}[1m]))`, 5*time.Minute)
		Expect(mean).To(BeNumerically("~", d.Mean(), d.Mean()*1e-9))

		// The primary runs the default behaviour: no errors.
		srPrimary := h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo-primary",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{destination_workload="podinfo-primary"}[1m])) * 100`, 5*time.Minute)
		Expect(srPrimary).To(Equal(100.0))
	})

	It("writes Istio's label set", func() {
		h := newHarness(harnessOpts{routing: world.Routing{PrimaryWeight: 100}})
		h.runTo(time.Minute)
		v := h.query(`istio_requests_total{destination_workload="podinfo-primary"}`, time.Minute)
		Expect(v).To(HaveLen(1))
		Expect(v[0].Metric).To(Equal(labels.FromStrings(
			"__name__", "istio_requests_total",
			"connection_security_policy", "mutual_tls",
			"destination_app", "podinfo-primary",
			"destination_service", "podinfo.test.svc.cluster.local",
			"destination_service_name", "podinfo",
			"destination_service_namespace", "test",
			"destination_version", "1.0.0",
			"destination_workload", "podinfo-primary",
			"destination_workload_namespace", "test",
			"namespace", "test",
			"pod", h.podOf("podinfo-primary"),
			"reporter", "destination",
			"request_protocol", "http",
			"response_code", "200",
			"response_flags", "-",
			"source_workload", "istio-ingressgateway",
			"source_workload_namespace", "istio-system",
		)))
		les := h.query(`istio_request_duration_milliseconds_bucket{destination_workload="podinfo-primary"}`, time.Minute)
		var got []string
		for _, s := range les {
			got = append(got, s.Metric.Get("le"))
		}
		Expect(got).To(ConsistOf("0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000",
			"10000", "30000", "60000", "300000", "600000", "1.8e+06", "3.6e+06", "+Inf"))
	})

	DescribeTable("splits user traffic by the router's weights, evenly over ready pods",
		func(r world.Routing, spec world.Spec, primaryRps, canaryRps float64) {
			if spec.RPS == nil {
				spec.RPS = ptr(100.0)
			}
			h := newHarness(harnessOpts{spec: spec, routing: r, primaryReplicas: 2})
			h.runTo(3 * time.Minute)
			Expect(h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo-primary"}[1m]))`, 3*time.Minute)).
				To(BeNumerically("~", primaryRps, 1e-9))
			Expect(h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))`, 3*time.Minute)).
				To(BeNumerically("~", canaryRps, 1e-9))
			perPod := h.query(`rate(istio_requests_total{destination_workload="podinfo-primary"}[1m])`, 3*time.Minute)
			Expect(perPod).To(HaveLen(2))
			Expect(perPod[0].F).To(BeNumerically("~", primaryRps/2, 1e-9))
			Expect(perPod[1].F).To(BeNumerically("~", primaryRps/2, 1e-9))
		},
		Entry("90/10", world.Routing{PrimaryWeight: 90, CanaryWeight: 10}, world.Spec{}, 90.0, 10.0),
		Entry("0/100", world.Routing{CanaryWeight: 100}, world.Spec{}, 0.0, 100.0),
		Entry("default rps 10", world.Routing{PrimaryWeight: 60, CanaryWeight: 40}, world.Spec{RPS: ptr(10.0)}, 6.0, 4.0),
		Entry("A/B: the matching fraction follows the match route",
			world.Routing{PrimaryWeight: 100, HasMatch: true, MatchCanaryWeight: 100},
			world.Spec{MatchFraction: 0.1}, 90.0, 10.0),
		Entry("mirroring copies the default route to the canary",
			world.Routing{PrimaryWeight: 100, Mirrored: true, MirrorPercent: 100}, world.Spec{}, 100.0, 100.0),
		Entry("mirroring a percentage",
			world.Routing{PrimaryWeight: 100, Mirrored: true, MirrorPercent: 30}, world.Spec{}, 100.0, 30.0),
		Entry("directRps goes straight to the canary",
			world.Routing{PrimaryWeight: 80, CanaryWeight: 20}, world.Spec{DirectRPS: 5}, 80.0, 25.0),
	)

	It("applies fault windows, splitting a scrape interval at their edges", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(100.0), Faults: []world.Fault{
				{Image: newImage, From: dur(2*time.Minute + 5*time.Second), Until: dur(3*time.Minute + 40*time.Second), ErrorRate: ptr(0.3)},
				{Image: oldImage, From: dur(time.Minute), ErrorRate: ptr(1.0)}, // another version: not the canary's
			}},
			routing: world.Routing{PrimaryWeight: 50, CanaryWeight: 50},
		})
		h.runTo(6 * time.Minute)
		errorsAt := func(t time.Duration) promql.Vector {
			return h.query(`sum(istio_requests_total{destination_workload="podinfo",response_code="500"})`, t)
		}
		Expect(errorsAt(time.Minute+45*time.Second)).To(BeEmpty(), "no 500 series before the fault")
		// The 500 series appears at 0 at the scrape before its first error, so increase()
		// and rate() count every error.
		ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "__name__", "istio_requests_total"),
			labels.MustNewMatcher(labels.MatchEqual, "destination_workload", "podinfo"),
			labels.MustNewMatcher(labels.MatchEqual, "response_code", "500"))
		Expect(ts[:2]).To(Equal([]int64{(2 * time.Minute).Milliseconds(), (2*time.Minute + step).Milliseconds()}))
		Expect(vs[0]).To(Equal(0.0))
		Expect(vs[1]).To(BeNumerically("~", 50*0.3*10.0, 1e-9), "from 2m5s")
		Expect(h.scalar(`sum(increase(istio_requests_total{destination_workload="podinfo",response_code="500"}[5m]))`, 6*time.Minute)).
			To(BeNumerically("~", 50*0.3*95.0, 1e-6))
		want := 50 * 0.3 * 95.0 // 50 rps to the canary, 30% for 95s
		Expect(errorsAt(4 * time.Minute)[0].F).To(BeNumerically("~", want, 1e-6))
		Expect(errorsAt(6 * time.Minute)[0].F).To(BeNumerically("~", want, 1e-6), "none after the window")
		Expect(h.scalar(`sum(istio_requests_total{destination_workload="podinfo"})`, 6*time.Minute)).
			To(BeNumerically("~", 50*360.0, 1e-6))
		// The open-ended fault on the old version: every primary request fails from 1m.
		Expect(h.scalar(`sum(istio_requests_total{destination_workload="podinfo-primary",response_code="500"})`, 6*time.Minute)).
			To(BeNumerically("~", 50*300.0, 1e-6))
		Expect(traffic(h.w, oldImage).Failed).To(BeNumerically("~", 50*300.0, 1e-6))
		Expect(traffic(h.w, newImage).Failed).To(BeNumerically("~", want, 1e-6))
	})

	It("keeps the version's p50 under a latency fault that gives only p99", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(10.0),
				Versions: map[string]world.Behavior{newImage: behaviour(0, 20*time.Millisecond, 80*time.Millisecond)},
				Faults:   []world.Fault{{Image: newImage, From: dur(time.Minute), Latency: &world.Latency{P99: dur(1500 * time.Millisecond)}}},
			},
			routing: world.Routing{CanaryWeight: 100},
		})
		h.runTo(4 * time.Minute)
		meanQ := `sum(rate(istio_request_duration_milliseconds_sum{` + istioCanary + `}[1m])) / sum(rate(istio_request_duration_milliseconds_count{` + istioCanary + `}[1m]))`
		before := world.FitLogNormal(20*time.Millisecond, 80*time.Millisecond).Mean()
		during := world.FitLogNormal(20*time.Millisecond, 1500*time.Millisecond).Mean()
		Expect(h.scalar(meanQ, time.Minute)).To(BeNumerically("~", before, before*1e-9))
		Expect(h.scalar(meanQ, 4*time.Minute)).To(BeNumerically("~", during, during*1e-9))
		p99 := h.scalar(`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{`+istioCanary+`}[1m])) by (le))`, 4*time.Minute)
		Expect(p99).To(And(BeNumerically(">", 1000), BeNumerically("<=", 2500)))
	})

	DescribeTable("an rps fault replaces the version's routed share",
		func(faultRps float64, r world.Routing, direct, wantRate float64) {
			h := newHarness(harnessOpts{
				spec: world.Spec{RPS: ptr(100.0), DirectRPS: direct, Faults: []world.Fault{
					{Image: newImage, From: dur(time.Minute), RPS: ptr(faultRps)},
				}},
				routing: r,
			})
			h.runTo(4 * time.Minute)
			Expect(h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo"}[2m]))`, 4*time.Minute)).
				To(BeNumerically("~", wantRate, 1e-9))
			Expect(h.scalar(`sum(rate(istio_requests_total{destination_workload="podinfo-primary"}[2m]))`, 4*time.Minute)).
				To(BeNumerically("~", 50, 1e-9), "the primary keeps its share")
			Expect(h.query(`istio_requests_total{destination_workload="podinfo"}`, 4*time.Minute)).To(HaveLen(1), "the 200 series exists regardless")
		},
		Entry("no traffic reaches it", 0.0, world.Routing{PrimaryWeight: 50, CanaryWeight: 50}, 4.0, 0.0),
		Entry("7 rps in total, direct load included", 7.0, world.Routing{PrimaryWeight: 50, CanaryWeight: 50}, 4.0, 7.0),
		Entry("7 rps without any share", 7.0, world.Routing{PrimaryWeight: 50}, 0.0, 7.0),
	)

	It("creates a pod's series at 0 when the pod starts, counters included", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(10.0), Counters: []world.Counter{
				{Name: "user_profile_legacy_record_reads_total", PerRequest: map[string]float64{"*": 0.3, newImage: 0.05}},
				{Name: "other_total", PerRequest: map[string]float64{oldImage: 2}},
			}},
			routing: world.Routing{PrimaryWeight: 100},
		})
		h.runTo(0)
		canaryPod := h.podOf("podinfo")
		primaryPod := h.podOf("podinfo-primary")
		for _, pod := range []string{canaryPod, primaryPod} {
			for _, q := range []string{
				`user_profile_legacy_record_reads_total{namespace="test",pod="` + pod + `"}`,
				`other_total{namespace="test",pod="` + pod + `"}`,
				`istio_requests_total{pod="` + pod + `",response_code="200"}`,
				`istio_request_duration_milliseconds_count{pod="` + pod + `",response_code="200"}`,
				`http_request_duration_seconds_count{kubernetes_pod_name="` + pod + `",status="200"}`,
			} {
				Expect(h.scalar(q, 0)).To(Equal(0.0), q)
			}
			Expect(h.query(`istio_requests_total{pod="`+pod+`",response_code="500"}`, 0)).To(BeEmpty(), "no 500 without errors")
		}

		h.runTo(2 * time.Minute)
		Expect(h.scalar(`user_profile_legacy_record_reads_total{pod="`+canaryPod+`"}`, 2*time.Minute)).To(Equal(0.0), "no traffic, still there")
		Expect(h.scalar(`user_profile_legacy_record_reads_total{pod="`+primaryPod+`"}`, 2*time.Minute)).To(BeNumerically("~", 10*120*0.3, 1e-9))
		Expect(h.scalar(`other_total{pod="`+primaryPod+`"}`, 2*time.Minute)).To(BeNumerically("~", 10*120*2.0, 1e-9))

		h.routing = world.Routing{PrimaryWeight: 50, CanaryWeight: 50}
		h.runTo(4 * time.Minute)
		Expect(h.scalar(`user_profile_legacy_record_reads_total{pod="`+canaryPod+`"}`, 4*time.Minute)).To(BeNumerically("~", 5*120*0.05, 1e-9))
		Expect(h.scalar(`other_total{pod="`+canaryPod+`"}`, 4*time.Minute)).To(Equal(0.0), "no perRequest for this image and no \"*\"")

		// A pod started between two scrapes (after an engine tick): its series start at 0
		// at its start, even though it has served by its first scrape.
		setReplicas(h.c, "podinfo", 2)
		_, err := h.k.Sync(h.ctx, at(4*time.Minute+5*time.Second))
		Expect(err).NotTo(HaveOccurred())
		h.runTo(5 * time.Minute)
		pods := h.k.Pods("podinfo")
		Expect(pods).To(HaveLen(2))
		for _, name := range []string{"istio_requests_total", "http_request_duration_seconds_count", "user_profile_legacy_record_reads_total"} {
			ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "__name__", name),
				labels.MustNewMatcher(labels.MatchEqual, "pod", pods[1].Name))
			Expect(ts[0]).To(Equal((4*time.Minute + 5*time.Second).Milliseconds()), name)
			Expect(vs[0]).To(Equal(0.0), name)
			Expect(ts[1]).To(Equal((4*time.Minute + step).Milliseconds()), name)
			Expect(vs[1]).To(BeNumerically(">", 0), name)
		}
	})

	It("writes a gone pod's series stale", func() {
		h := newHarness(harnessOpts{routing: world.Routing{PrimaryWeight: 50, CanaryWeight: 50}})
		h.runTo(time.Minute)
		old := h.podOf("podinfo")
		setImage(h.c, "podinfo", "podinfo:3.0.0")
		h.runTo(2 * time.Minute)
		Expect(h.podOf("podinfo")).NotTo(Equal(old))
		Expect(h.query(`istio_requests_total{pod="`+old+`"}`, time.Minute)).To(HaveLen(1))
		Expect(h.query(`istio_requests_total{pod="`+old+`"}`, time.Minute+step)).To(BeEmpty(), "stale from the scrape after it went")
		ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "pod", old), labels.MustNewMatcher(labels.MatchEqual, "__name__", "istio_requests_total"))
		Expect(ts).To(HaveLen(6), "0s..1m and the staleness marker")
		Expect(ts[5]).To(Equal((time.Minute + step).Milliseconds()))
		Expect(value.IsStaleNaN(vs[5])).To(BeTrue())
		Expect(traffic(h.w, "podinfo:3.0.0").Requests).To(BeNumerically("~", 5*60.0, 1e-9), "default 10 rps, half of it")
		Expect(traffic(h.w, newImage).Requests).To(BeNumerically("~", 5*60.0, 1e-9))
	})

	It("continues the series of a pod whose name comes back, its Deployment deleted and created again", func() {
		h := newHarness(harnessOpts{routing: world.Routing{PrimaryWeight: 50, CanaryWeight: 50}})
		h.runTo(time.Minute)
		pod := h.podOf("podinfo")
		Expect(h.c.Delete(h.ctx, newDeployment("podinfo", newImage, 1))).To(Succeed())
		h.runTo(2 * time.Minute)
		Expect(h.query(`istio_requests_total{pod="`+pod+`"}`, 2*time.Minute)).To(BeEmpty(), "stale while the pod is gone")
		Expect(h.c.Create(h.ctx, newDeployment("podinfo", newImage, 1))).To(Succeed())
		h.runTo(3 * time.Minute)
		Expect(h.podOf("podinfo")).To(Equal(pod), "a new Deployment names its pods as the old one did")

		// every series of the pod, grouped or not, goes on from 0 after its staleness marker
		for _, m := range []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, "__name__", "istio_requests_total"),
			labels.MustNewMatcher(labels.MatchEqual, "__name__", "http_request_duration_seconds_count"),
		} {
			ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "pod", pod), m)
			Expect(ts).To(HaveLen(5+1+1+4), "0s..1m, the marker, the new start at 0, and 2m15s..3m")
			Expect(value.IsStaleNaN(vs[5])).To(BeTrue())
			Expect(vs[6]).To(Equal(0.0))
			Expect(vs[10]).To(BeNumerically("~", 5*60.0, 1e-9), "half of 10 rps for a minute")
		}
		Expect(h.scalar(`sum(rate(istio_requests_total{pod="`+pod+`"}[1m]))`, 3*time.Minute)).To(BeNumerically("~", 5.0, 1e-9))
	})

	It("places raw series' samples at their scrapes", func() {
		h := newHarness(harnessOpts{spec: world.Spec{Series: []world.RawSeries{
			{Series: `queue_depth{namespace="test"}`, Values: `1+1x2 _ 7`},
		}}})
		h.runTo(2 * time.Minute)
		Expect(h.query(`queue_depth`, 2*time.Minute)[0].Metric).To(Equal(labels.FromStrings("__name__", "queue_depth", "namespace", "test")))
		ts, vs := h.samples(labels.MustNewMatcher(labels.MatchEqual, "__name__", "queue_depth"))
		Expect(ts).To(Equal([]int64{0, 15_000, 30_000, 60_000}))
		Expect(vs).To(Equal([]float64{1, 2, 3, 7}))
	})

	It("is deterministic under noise for a seed, and draws around the expected values", func() {
		run := func(seed int64) (*harness, []world.VersionTraffic) {
			h := newHarness(harnessOpts{
				spec: world.Spec{RPS: ptr(100.0), Seed: seed, Noise: true, Versions: map[string]world.Behavior{
					newImage: behaviour(0.1, 20*time.Millisecond, 80*time.Millisecond),
				}},
				routing:         world.Routing{PrimaryWeight: 50, CanaryWeight: 50},
				primaryReplicas: 2,
			})
			h.runTo(10 * time.Minute)
			return h, h.w.Traffic()
		}
		h1, a := run(7)
		h2, b := run(7)
		_, c := run(8)
		Expect(a).To(Equal(b))
		Expect(a).NotTo(Equal(c))
		q := `sum by (pod, le) (istio_request_duration_milliseconds_bucket)`
		Expect(h1.query(q, 10*time.Minute)).To(Equal(h2.query(q, 10*time.Minute)))

		canary := traffic(h1.w, newImage)
		Expect(canary.Requests).To(Equal(math.Trunc(canary.Requests)), "drawn counts are whole")
		Expect(canary.Requests).To(BeNumerically("~", 50*600.0, 50*600*0.03))
		Expect(canary.Failed / canary.Requests).To(BeNumerically("~", 0.1, 0.01))
		exact := 50 * 600.0
		Expect(canary.Requests).NotTo(Equal(exact), "noise moves the count")
		p99 := h1.scalar(`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{`+istioCanary+`}[5m])) by (le))`, 10*time.Minute)
		Expect(p99).To(And(BeNumerically(">", 50), BeNumerically("<=", 100)))
		count := h1.scalar(`sum(istio_requests_total{destination_workload="podinfo"})`, 10*time.Minute)
		buckets := h1.scalar(`sum(istio_request_duration_milliseconds_bucket{destination_workload="podinfo",le="+Inf"})`, 10*time.Minute)
		Expect(buckets).To(Equal(count), "buckets add up to the count")
	})

	DescribeTable("counts the blast radius: failed user requests of new versions",
		func(o harnessOpts, wantCanary world.VersionTraffic, wantFailed int64) {
			o.spec.RPS = ptr(100.0)
			h := newHarness(o)
			h.runTo(5 * time.Minute)
			got := traffic(h.w, newImage)
			Expect(got.New).To(BeTrue())
			Expect(got.Requests).To(BeNumerically("~", wantCanary.Requests, 1e-6))
			Expect(got.Failed).To(BeNumerically("~", wantCanary.Failed, 1e-6))
			Expect(h.w.FailedUserRequests()).To(Equal(wantFailed))
			primary := traffic(h.w, oldImage)
			Expect(primary.New).To(BeFalse())
			images := []string{}
			for _, vt := range h.w.Traffic() {
				images = append(images, vt.Image)
			}
			Expect(images).To(Equal([]string{oldImage, newImage}), "sorted by image")
		},
		Entry("errors of the canary's share",
			harnessOpts{spec: world.Spec{Versions: map[string]world.Behavior{newImage: behaviour(0.1, 0, 0)}},
				routing: world.Routing{PrimaryWeight: 80, CanaryWeight: 20}},
			world.VersionTraffic{Requests: 20 * 300, Failed: 20 * 300 * 0.1}, int64(600)),
		Entry("no ready canary pod: its whole share fails",
			harnessOpts{readyOverride: func(image string, _ time.Time) (bool, bool) { return false, image == newImage },
				routing: world.Routing{PrimaryWeight: 80, CanaryWeight: 20}},
			world.VersionTraffic{Requests: 20 * 300, Failed: 20 * 300}, int64(6000)),
		Entry("mirrored copies and direct load are not user requests",
			harnessOpts{spec: world.Spec{DirectRPS: 10, Versions: map[string]world.Behavior{newImage: behaviour(1, 0, 0)}},
				routing: world.Routing{PrimaryWeight: 100, Mirrored: true, MirrorPercent: 100}},
			world.VersionTraffic{}, int64(0)),
		Entry("rounded to the nearest request",
			harnessOpts{spec: world.Spec{Versions: map[string]world.Behavior{newImage: behaviour(0.00123, 0, 0)}},
				routing: world.Routing{PrimaryWeight: 90, CanaryWeight: 10}},
			world.VersionTraffic{Requests: 10 * 300, Failed: 10 * 300 * 0.00123}, int64(4)),
	)

	It("rejects invalid input", func() {
		for _, spec := range []world.Spec{
			{RPS: ptr(-1.0)},
			{MatchFraction: 1.5},
			{Versions: map[string]world.Behavior{"*": {ErrorRate: ptr(2.0)}}},
			{Faults: []world.Fault{{From: dur(time.Minute), Until: dur(time.Minute)}}},
			{Counters: []world.Counter{{Name: "not a name"}}},
			{Series: []world.RawSeries{{Series: `x{`, Values: "1"}}},
			// beyond the world's limits (world.Limits)
			{ScrapeInterval: dur(time.Microsecond)},
			{ScrapeInterval: dur(time.Second + time.Microsecond)},
			{RPS: ptr(world.MaxRPS + 1)},
			{DirectRPS: world.MaxRPS + 1},
			{Faults: slices.Repeat([]world.Fault{{RPS: ptr(1.0)}}, world.MaxFaults+1)},
			{Counters: []world.Counter{{Name: "c"}, {Name: "c"}}},
			{Series: []world.RawSeries{{Series: "a", Values: "0x600000"}, {Series: "b", Values: "0x600000"}}},
			{Series: []world.RawSeries{{Series: "a", Values: "1"}, {Series: "a", Values: "2"}}},
		} {
			_, err := world.New(world.Config{Spec: spec, Namespace: testNS, Target: "podinfo",
				Start: t0, Store: promstore.NewStorage(), Pods: podsOf{cluster.NewDeploymentSimulator(newClient(), testNS, 0, nil)}})
			Expect(err).To(HaveOccurred(), "%+v", spec)
		}
	})
})

// BenchmarkWorld30m is the world model's share of a 30-minute run at 100 rps: 121
// scrapes over 2 + 2 ready pods with one application counter, exact and with noise.
func BenchmarkWorld30m(b *testing.B) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&appsv1.Deployment{}).
		WithObjects(newDeployment("podinfo", newImage, 2), newDeployment("podinfo-primary", oldImage, 2)).Build()
	k := cluster.NewDeploymentSimulator(c, testNS, 0, nil)
	if _, err := k.Sync(ctx, t0); err != nil {
		b.Fatal(err)
	}
	for _, noise := range []bool{false, true} {
		name := "exact"
		if noise {
			name = "noise"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				w, err := world.New(world.Config{
					Spec: world.Spec{RPS: ptr(100.0), Noise: noise, Seed: 1,
						Versions: map[string]world.Behavior{"*": behaviour(0.01, 0, 0)},
						Counters: []world.Counter{{Name: "reads_total", PerRequest: map[string]float64{"*": 1}}}},
					Namespace: testNS, Target: "podinfo", Service: "podinfo", InitialImage: oldImage, Start: t0,
					Store: promstore.NewStorage(), Pods: podsOf{k},
					Routes: func(context.Context) (world.Routing, error) {
						return world.Routing{PrimaryWeight: 80, CanaryWeight: 20}, nil
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				for t := time.Duration(0); t <= 30*time.Minute; t += step {
					if err := w.Scrape(ctx, at(t)); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
