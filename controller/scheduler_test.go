package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/api/v1beta1"
)

// tickLog is a ticker that records which canary ticked when.
type tickLog struct {
	clock *clocktesting.FakeClock
	err   error // every tick's error
	mu    sync.Mutex
	ticks map[string][]time.Duration // since the start, per canary name
	start time.Time
}

func (l *tickLog) Tick(_ context.Context, key types.NamespacedName) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ticks[key.Name] = append(l.ticks[key.Name], l.clock.Since(l.start))
	return time.Second, l.err
}

func (l *tickLog) of(name string) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.ticks[name]...)
}

func canaryWithInterval(name, interval string) v1beta1.Canary {
	return v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1beta1.CanarySpec{TargetRef: v1beta1.LocalObjectReference{Kind: "Deployment", Name: name + "-app"},
			Analysis: &v1beta1.CanaryAnalysis{Interval: interval}},
	}
}

var _ = Describe("the scheduler", func() {
	var (
		clk      *clocktesting.FakeClock
		log      *tickLog
		logs     *observer.ObservedLogs
		mu       sync.Mutex
		canaries []v1beta1.Canary
		cancel   context.CancelFunc
		done     chan struct{}
	)
	setCanaries := func(cs ...v1beta1.Canary) {
		mu.Lock()
		defer mu.Unlock()
		canaries = cs
	}
	// step advances the clock once every job and the control loop wait on their tickers.
	step := func(d time.Duration, waiters int) {
		GinkgoHelper()
		Eventually(clk.Waiters).Should(Equal(waiters))
		clk.Step(d)
	}

	BeforeEach(func() {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clk = clocktesting.NewFakeClock(start)
		log = &tickLog{clock: clk, ticks: map[string][]time.Duration{}, start: start}
		var core zapcore.Core
		core, logs = observer.New(zapcore.InfoLevel)
		rec, err := newRecorder(prometheus.NewRegistry(), clk)
		Expect(err).NotTo(HaveOccurred())
		s := &scheduler{
			list: func(context.Context) ([]v1beta1.Canary, error) {
				mu.Lock()
				defer mu.Unlock()
				return append([]v1beta1.Canary(nil), canaries...), nil
			},
			engine: log, clock: clk, interval: 10 * time.Second, log: zap.New(core), metrics: rec, jobs: map[string]*job{},
		}
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan struct{})
		go func() {
			defer close(done)
			_ = s.Start(ctx)
		}()
		DeferCleanup(func() {
			cancel()
			Eventually(done).Should(BeClosed())
		})
	})

	// The fake clock's tickers stay its waiters when stopped: waiters counts the
	// tickers ever made (the control loop's and one per job started).
	ticksOf := func(name string) func() []time.Duration { return func() []time.Duration { return log.of(name) } }
	const s10 = 10 * time.Second

	It("starts a job one control-loop interval after the start, which ticks at once and then every analysis interval", func() {
		setCanaries(canaryWithInterval("a", "30s"))
		step(5*time.Second, 1)
		Consistently(ticksOf("a"), "50ms").Should(BeEmpty())
		step(5*time.Second, 1) // t=10s: the control loop's first pass
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10}))
		for range 3 {
			step(s10, 2) // the loop and the job
		}
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10, 4 * s10}))
		for range 3 {
			step(s10, 2)
		}
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10, 4 * s10, 7 * s10}))
	})

	It("restarts a job whose analysis interval changed, with a tick at once", func() {
		setCanaries(canaryWithInterval("a", "30s"))
		step(s10, 1)
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10}))
		setCanaries(canaryWithInterval("a", "1m"))
		step(s10, 2) // t=20s: restarted
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10, 2 * s10}))
		for range 3 {
			step(s10, 3)
		}
		Consistently(ticksOf("a"), "50ms").Should(HaveLen(2), "the old 30s job is stopped")
		for range 3 {
			step(s10, 3)
		}
		Eventually(ticksOf("a")).Should(Equal([]time.Duration{s10, 2 * s10, 8 * s10}))
	})

	It("logs a tick's error and goes on ticking (an API server error is not fatal)", func() {
		log.mu.Lock()
		log.err = errors.New("canary a.ns: step get-canary: get canary: connection refused")
		log.mu.Unlock()
		setCanaries(canaryWithInterval("a", "10s"))
		step(s10, 1)
		Eventually(ticksOf("a")).Should(HaveLen(1))
		step(s10, 2)
		Eventually(ticksOf("a")).Should(HaveLen(2))
		Expect(logs.FilterMessage(log.err.Error()).Len()).To(Equal(2))
		Expect(logs.FilterMessage(log.err.Error()).All()[0].ContextMap()).To(HaveKeyWithValue("canary", "a.ns"))
	})

	It("stops the job of a deleted canary at the next pass, and keeps the others", func() {
		setCanaries(canaryWithInterval("a", "10s"), canaryWithInterval("b", "10s"))
		step(s10, 1)
		Eventually(ticksOf("a")).Should(HaveLen(1))
		Eventually(ticksOf("b")).Should(HaveLen(1))
		setCanaries(canaryWithInterval("b", "10s"))
		step(s10, 3) // a's job may tick once more at the instant the pass stops it
		Eventually(ticksOf("b")).Should(HaveLen(2))
		Consistently(ticksOf("a"), "50ms").Should(Or(HaveLen(1), HaveLen(2)))
		ticksOfA := len(log.of("a"))
		for n := 3; n <= 5; n++ {
			step(s10, 3)
			Eventually(ticksOf("b")).Should(HaveLen(n))
		}
		Expect(log.of("a")).To(HaveLen(ticksOfA))
	})
})
