package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/e2e"
)

// faultFiles are the scenarios the faults are injected into.
func faultFiles() []string { return yamlFiles("faults") }

// faultSeed seeds where the kills fall: AVIARY_E2E_SEED, else 13.
func faultSeed() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("AVIARY_E2E_SEED"), 10, 64); err == nil {
		return s
	}
	return 13
}

// kills is how many times the controller is SIGKILLed.
const kills = 20

// interval is the fault scenarios' analysis interval.
const interval = 10 * time.Second

// kill is one SIGKILL of the controller.
type kill struct {
	at time.Time
	// steps are each canary's phase/weight (and failed checks) when it was killed.
	steps []string
	// down is how long the controller was dead before its restart.
	down    time.Duration
	restart time.Time
	// resumed is from the restart to the controller's next status write, when it
	// came before the next kill (0 otherwise): resumes sets it.
	resumed time.Duration
}

// resumes sets each kill's resume time from the recorded status writes.
func (f *faultFigures) resumes(l *live) {
	var ats []time.Time
	for _, p := range l.predictions {
		for _, st := range l.rec.States(canaryKey(p)) {
			ats = append(ats, st.At)
		}
	}
	slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
	for i := range f.kills {
		k := &f.kills[i]
		j, _ := slices.BinarySearchFunc(ats, k.restart, func(a, t time.Time) int { return a.Compare(t) })
		if j == len(ats) || i+1 < len(f.kills) && ats[j].After(f.kills[i+1].at) {
			continue
		}
		k.resumed = ats[j].Sub(k.restart)
	}
}

// window is when a fault lasted.
type window struct{ from, to time.Time }

// faultFigures are what the fault script did, for the checks and the closing note.
type faultFigures struct {
	seed       uint64
	kills      []kill
	prometheus window
	cut        window
	refused    int
	// touches are the writes to the Canary beside the controller's; touchErrs the
	// ones that met a conflict (the harness's own client retries them).
	touches, touchErrs int
}

// inAnalysis reports whether any canary is between a new revision and its end.
func inAnalysis(l *live) bool {
	for _, p := range l.predictions {
		st := l.rec.States(canaryKey(p))
		if len(st) == 0 {
			continue
		}
		switch v1beta1.CanaryPhase(st[len(st)-1].Phase) {
		case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFinalising, v1beta1.CanaryPhaseWaiting:
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// injectFaults is the fault script: once a canary is in analysis, 20 SIGKILLs at
// seeded random points (each followed by a restart), the API server cut off from
// the controller for 8 s after the 7th, Prometheus stopped for 15 s after the 14th,
// and all along another client writing to one Canary.
func injectFaults(ctx context.Context, l *live, cut *e2e.CutProxy) error {
	f := &faultFigures{seed: faultSeed()}
	l.faults = f
	rng := rand.New(rand.NewPCG(f.seed, 0))
	if err := waitFor(ctx, 3*time.Minute, func() bool { return inAnalysis(l) }); err != nil {
		return fmt.Errorf("no canary reached its analysis: %w", err)
	}
	touchCtx, stopTouch := context.WithCancel(ctx)
	touched := make(chan struct{})
	go func() { defer close(touched); touch(touchCtx, l, f) }()
	defer func() { stopTouch(); <-touched }()

	ctl := l.run.Ctl
	for i := range kills {
		// Every other kill comes before the controller's first tick after its restart
		// (1–4 s after it), the others after that tick (in the first half of the
		// next interval): killed at various points, and the rollouts still move.
		gap := time.Second + time.Duration(rng.Int64N(int64(3*time.Second)))
		if i%2 == 1 {
			gap = interval + time.Second + time.Duration(rng.Int64N(int64(interval/2)))
		}
		if err := sleep(ctx, gap); err != nil {
			return err
		}
		if !inAnalysis(l) {
			return fmt.Errorf("kill %d: no canary is in its analysis any more (the analyses were shorter than the kills)", i+1)
		}
		k := kill{at: time.Now()}
		for _, p := range l.predictions {
			st := l.rec.States(canaryKey(p))
			if len(st) > 0 {
				last := st[len(st)-1]
				k.steps = append(k.steps, fmt.Sprintf("%s %s/%d failed %d", p.Loaded.Canary.Namespace, last.Phase, last.CanaryWeight, last.FailedChecks))
			}
		}
		sort.Strings(k.steps)
		if err := ctl.Proc.Kill(); err != nil {
			return err
		}
		k.down = time.Duration(rng.Int64N(int64(time.Second)))
		if err := sleep(ctx, k.down); err != nil {
			return err
		}
		restart := time.Now()
		if err := ctl.Proc.Start(); err != nil {
			return err
		}
		k.restart = restart
		f.kills = append(f.kills, k)
		switch i + 1 {
		case 7:
			f.cut.from = time.Now()
			cut.Cut()
			if err := sleep(ctx, 8*time.Second); err != nil {
				return err
			}
			cut.Restore()
			f.cut.to, f.refused = time.Now(), cut.Refused()
		case 14:
			f.prometheus.from = time.Now()
			if err := l.run.Prometheus.Stop(); err != nil {
				return err
			}
			if err := sleep(ctx, 15*time.Second); err != nil {
				return err
			}
			if err := l.run.Prometheus.Restart(ctx); err != nil {
				return err
			}
			f.prometheus.to = time.Now()
		}
	}
	return nil
}

// touch updates the fault-promote Canary's annotations every 2 s while it is in its
// analysis: writes the controller's own updates of the same object may conflict with.
func touch(ctx context.Context, l *live, f *faultFigures) {
	var p *e2e.Prediction
	for _, q := range l.predictions {
		if q.Loaded.Canary.Namespace == "fault-promote" {
			p = q
		}
	}
	if p == nil {
		return
	}
	key := client.ObjectKey{Namespace: p.Loaded.Canary.Namespace, Name: p.Loaded.Canary.Name}
	c := l.stack.client
	for n := 1; sleep(ctx, 2*time.Second) == nil; n++ {
		var cd v1beta1.Canary
		if err := c.Get(ctx, key, &cd); err != nil {
			continue
		}
		if cd.Annotations == nil {
			cd.Annotations = map[string]string{}
		}
		cd.Annotations["e2e.aviary.dev/touch"] = strconv.Itoa(n)
		if err := c.Update(ctx, &cd); err != nil {
			f.touchErrs++
			continue
		}
		f.touches++
	}
}

func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for !cond() {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// report prints the figures of the faults for the closing note.
func (f *faultFigures) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Faults (seed %d): %d SIGKILLs of the controller during analyses\n", f.seed, len(f.kills))
	var resumes []time.Duration
	for i, k := range f.kills {
		r := "before its next tick, killed again"
		if k.resumed > 0 {
			r = "resumed (next status write) " + k.resumed.Round(10*time.Millisecond).String() + " after the restart"
			resumes = append(resumes, k.resumed)
		}
		fmt.Fprintf(&b, "  kill %2d at %s, dead %v: %s; %s\n", i+1, k.at.Format("15:04:05.000"), k.down.Round(time.Millisecond), strings.Join(k.steps, ", "), r)
	}
	if len(resumes) > 0 {
		slices.Sort(resumes)
		fmt.Fprintf(&b, "  time to resume: median %v, max %v (%d of %d kills; Flagger's schedule: the first tick comes one interval after the start)\n",
			resumes[len(resumes)/2].Round(10*time.Millisecond), resumes[len(resumes)-1].Round(10*time.Millisecond), len(resumes), len(f.kills))
	}
	fmt.Fprintf(&b, "API server cut off from the controller for %v (%d connections refused meanwhile)\n", f.cut.to.Sub(f.cut.from).Round(10*time.Millisecond), f.refused)
	fmt.Fprintf(&b, "Prometheus stopped for %v\n", f.prometheus.to.Sub(f.prometheus.from).Round(10*time.Millisecond))
	fmt.Fprintf(&b, "Canary fault-promote written by another client %d times (%d writes met a conflict)\n", f.touches, f.touchErrs)
	return b.String()
}

var _ = Describe("faults", Ordered, faultLabels, func() {
	var l *live

	BeforeAll(func(ctx SpecContext) {
		startRuns()
		l = startFaults().wait(ctx)
		Expect(l.faults).NotTo(BeNil())
		l.faults.resumes(l)
		AddReportEntry("fault figures", l.faults.report())
		fmt.Fprintln(GinkgoWriter, l.faults.report())
	}, NodeTimeout(15*time.Minute))

	It("kills the controller 20 times during analyses", func() {
		Expect(l.faults.kills).To(HaveLen(kills))
	})

	It("resumes every canary at the step it was at: no step skipped or repeated, failed checks kept", func() {
		for _, p := range l.predictions {
			key := canaryKey(p)
			Expect(l.rec.Steps(key)).To(Equal(p.Steps()), "%s: phases and canary weights", key)
			var failed []int
			for _, st := range l.rec.States(key) {
				if st.Phase == string(v1beta1.CanaryPhaseProgressing) {
					failed = append(failed, st.FailedChecks)
				}
			}
			Expect(slices.IsSorted(failed)).To(BeTrue(), "%s: failed checks never go back during the analysis: %v", key, failed)
		}
	})

	It("never promotes twice and loses no rollback", func() {
		for _, p := range l.predictions {
			key := canaryKey(p)
			counts := map[string]int32{}
			for _, e := range l.rec.Events(key) {
				counts[strings.Fields(e.Message)[0]] += e.Count
			}
			Expect(l.rec.States(key)[len(l.rec.States(key))-1].Phase).To(Equal(p.Result.Phase), key)
			switch p.Result.Phase {
			case string(v1beta1.CanaryPhaseSucceeded):
				Expect(counts["Copying"]).To(BeEquivalentTo(1), "%s: one promotion", key)
			case string(v1beta1.CanaryPhaseFailed):
				Expect(counts["Rolling"]).To(BeEquivalentTo(1), "%s: one rollback", key)
			}
		}
	})

	It("fails the checks while Prometheus is away, without crashing, and goes on when it is back", func() {
		var during []string
		for _, p := range l.predictions {
			for _, e := range l.rec.Events(canaryKey(p)) {
				if strings.Contains(e.Message, "Prometheus query failed") {
					during = append(during, e.Message)
				}
			}
		}
		Expect(during).NotTo(BeEmpty(), "the checks during the outage failed, saying why")
		GinkgoWriter.Printf("while Prometheus was away: %q\n", during)
		Expect(l.run.Ctl.Proc.Log).To(BeAnExistingFile())
		Expect(l.faults.prometheus.to).NotTo(BeZero())
		Expect(statesAfter(l, l.faults.prometheus.to)).To(BeNumerically(">", 0), "a canary moved on after Prometheus came back")
	})

	It("survives the API server's absence and retries conflicting writes", func() {
		Expect(l.faults.cut.to).NotTo(BeZero())
		Expect(statesAfter(l, l.faults.cut.to)).To(BeNumerically(">", 0), "a canary moved on after the API server came back")
		Expect(l.faults.touches).To(BeNumerically(">", 0), "another client wrote the Canary while it progressed")
	})
})

// statesAfter counts the status writes seen after t, over every canary.
func statesAfter(l *live, t time.Time) int {
	n := 0
	for _, p := range l.predictions {
		for _, st := range l.rec.States(canaryKey(p)) {
			if st.At.After(t) {
				n++
			}
		}
	}
	return n
}
