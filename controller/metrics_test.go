package controller

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/version"
)

var _ = Describe("the metrics recorder", func() {
	var (
		reg *prometheus.Registry
		rec *recorder
		clk *clocktesting.FakeClock
	)
	BeforeEach(func() {
		clk = clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		reg = prometheus.NewRegistry()
		var err error
		rec, err = newRecorder(reg, clk)
		Expect(err).NotTo(HaveOccurred())
		rec.setCanary(&v1beta1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "cd", Namespace: "ns"},
			Spec: v1beta1.CanarySpec{TargetRef: v1beta1.LocalObjectReference{Kind: "Deployment", Name: "app"}}})
	})
	gather := func(names ...string) string {
		GinkgoHelper()
		var b strings.Builder
		mfs, err := reg.Gather()
		Expect(err).NotTo(HaveOccurred())
		for _, mf := range mfs {
			for _, n := range names {
				if mf.GetName() == n {
					b.WriteString(mf.String() + "\n")
				}
			}
		}
		return b.String()
	}

	DescribeTable("flagger_canary_status is Flagger's code for the phase the tick ended in",
		func(phase v1beta1.CanaryPhase, want float64) {
			rec.ObserveTick(engine.TickRecord{Canary: "cd.ns", PhaseBefore: string(phase), Phase: string(phase)})
			Expect(testutil.ToFloat64(rec.status.WithLabelValues("app", "ns"))).To(Equal(want))
		},
		Entry("Progressing: running", v1beta1.CanaryPhaseProgressing, 0.0),
		Entry("Failed", v1beta1.CanaryPhaseFailed, 2.0),
		Entry("Succeeded", v1beta1.CanaryPhaseSucceeded, 1.0),
		Entry("Initialized", v1beta1.CanaryPhaseInitialized, 1.0),
		Entry("Promoting", v1beta1.CanaryPhasePromoting, 1.0),
	)

	It("sets weights, metric values (request-duration in seconds) and the analysis duration of an analysing tick", func() {
		at := clk.Now()
		clk.Step(1500 * time.Millisecond)
		rec.ObserveTick(engine.TickRecord{At: at, Canary: "cd.ns", PhaseBefore: "Progressing", Phase: "Progressing", Step: "advance",
			PrimaryWeight: 70, CanaryWeight: 30, Metrics: []analysis.Result{
				{Name: "request-success-rate", Kind: analysis.MetricRequestSuccessRate, Value: ptr.To(99.5)},
				{Name: "request-duration", Kind: analysis.MetricRequestDuration, Value: ptr.To(250.0)},
				{Name: "no-data", Kind: "query"},
			}})
		Expect(testutil.ToFloat64(rec.weight.WithLabelValues("app-primary", "ns"))).To(Equal(70.0))
		Expect(testutil.ToFloat64(rec.weight.WithLabelValues("app", "ns"))).To(Equal(30.0))
		Expect(testutil.ToFloat64(rec.analysis.WithLabelValues("app", "ns", "request-success-rate"))).To(Equal(99.5))
		Expect(testutil.ToFloat64(rec.analysis.WithLabelValues("app", "ns", "request-duration"))).To(Equal(0.25))
		Expect(testutil.CollectAndCount(rec.analysis)).To(Equal(2), "no series for a metric without a value")
		Expect(gather("flagger_canary_duration_seconds")).To(And(ContainSubstring("sample_count:1"), ContainSubstring("sample_sum:1.5")))
	})

	It("observes no duration for a tick that ended before the analysis, and no weight when the routes were not read", func() {
		rec.ObserveTick(engine.TickRecord{Canary: "cd.ns", PhaseBefore: "Initializing", Phase: "Initializing", Step: "primary-ready"})
		Expect(testutil.CollectAndCount(rec.duration)).To(Equal(0))
		Expect(testutil.CollectAndCount(rec.weight)).To(Equal(0))
	})

	DescribeTable("counts successes and failures when the phase becomes Succeeded or Failed",
		func(rec2 engine.TickRecord, successes, failures string) {
			rec.ObserveTick(rec2)
			next := rec2
			next.PhaseBefore = rec2.Phase
			rec.ObserveTick(next) // the tick after, in the same phase: not counted again
			want := func(s string) float64 {
				if s == "" {
					return 0
				}
				return 1
			}
			if successes != "" {
				Expect(testutil.ToFloat64(rec.successes.WithLabelValues("app", "ns", "canary", successes))).To(Equal(1.0))
			}
			if failures != "" {
				Expect(testutil.ToFloat64(rec.failures.WithLabelValues("app", "ns", "canary", failures))).To(Equal(1.0))
			}
			Expect(float64(testutil.CollectAndCount(rec.successes))).To(Equal(want(successes)))
			Expect(float64(testutil.CollectAndCount(rec.failures))).To(Equal(want(failures)))
		},
		Entry("promoted", engine.TickRecord{Canary: "cd.ns", PhaseBefore: "Finalising", Phase: "Succeeded", Step: "finalise"}, "completed", ""),
		Entry("skipped analysis", engine.TickRecord{Canary: "cd.ns", PhaseBefore: "Progressing", Phase: "Succeeded", Step: "skip-analysis"}, "skipped", ""),
		Entry("rolled back", engine.TickRecord{Canary: "cd.ns", PhaseBefore: "Progressing", Phase: "Failed", Step: "threshold"}, "", "completed"),
		Entry("still running", engine.TickRecord{Canary: "cd.ns", PhaseBefore: "Progressing", Phase: "Progressing", Step: "advance"}, "", ""),
	)

	It("ignores the ticks of a canary it was not told about", func() {
		rec.ObserveTick(engine.TickRecord{Canary: "other.ns", Phase: "Progressing"})
		Expect(testutil.CollectAndCount(rec.status)).To(Equal(0))
	})

	It("labels flagger_info with the Flagger release it reproduces and aviary_info with aviary's version and commit", func() {
		rec.setInfo("traefik")
		Expect(testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP flagger_info Flagger version and mesh provider information
# TYPE flagger_info gauge
flagger_info{mesh_provider="traefik",version="1.44.0"} 1
# HELP aviary_info aviary version, commit and the Flagger version whose semantics it reproduces (aviary's; not a Flagger series).
# TYPE aviary_info gauge
aviary_info{commit="`+version.Revision()+`",flagger_version="1.44.0",version="`+version.Version+`"} 1
`), "flagger_info", "aviary_info")).To(Succeed())
		Expect(version.Revision()).NotTo(BeEmpty())
	})
})
