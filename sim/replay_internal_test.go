package sim

import (
	"context"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/scenario"
)

var _ = ginkgo.Describe("repeating idle ticks", func() {
	// runBench runs the benchmark rollout (Succeeded from 15:00 to 30:00), letting
	// adjust change the run before its loop starts.
	runBench := func(adjust func(*run)) *Profile {
		l, err := scenario.LoadFile(filepath.Join("testdata", "bench", "rollout-30m.yaml"))
		Expect(err).NotTo(HaveOccurred())
		p := &Profile{}
		r, err := newRun(l, RunOptions{Profile: p})
		Expect(err).NotTo(HaveOccurred())
		adjust(r)
		Expect(r.Setup(context.Background())).To(Succeed())
		Expect(r.loop(context.Background())).To(Succeed())
		return p
	}

	ginkgo.It("repeats every Succeeded tick after the first, and nothing else", func() {
		p := runBench(func(*run) {})
		Expect(p.Ticks).To(Equal(31))
		Expect(p.Replayed).To(Equal(14), "16:00 runs; 17:00 to 30:00 repeat it")
	})

	ginkgo.It("runs a tick that read the clock more than once for its record", func() {
		p := runBench(func(r *run) { r.engine.Clock = twiceRead{r.engineClock} })
		Expect(p.Ticks).To(Equal(31))
		Expect(p.Replayed).To(BeZero())
	})

	ginkgo.DescribeTable("a record is quiet only without metrics, calls, routes, events, alerts, errors or a phase change",
		func(rec engine.TickRecord, want bool) { Expect(rec.Quiet()).To(Equal(want)) },
		ginkgo.Entry("bare", engine.TickRecord{PhaseBefore: "Succeeded", Phase: "Succeeded", Step: "should-advance"}, true),
		ginkgo.Entry("a phase change", engine.TickRecord{PhaseBefore: "Progressing", Phase: "Succeeded"}, false),
		ginkgo.Entry("a metric", engine.TickRecord{Metrics: []analysis.Result{{}}}, false),
		ginkgo.Entry("a webhook", engine.TickRecord{Hooks: []hooks.Call{{}}}, false),
		ginkgo.Entry("a route change", engine.TickRecord{Routes: []engine.RouteChange{{}}}, false),
		ginkgo.Entry("an event", engine.TickRecord{Events: []engine.Event{{}}}, false),
		ginkgo.Entry("an alert", engine.TickRecord{Alerts: []engine.Alert{{}}}, false),
		ginkgo.Entry("an error", engine.TickRecord{Error: "boom"}, false),
	)
})

// twiceRead reads its clock twice per Now, as a tick that depends on the time would.
type twiceRead struct{ c *countingClock }

func (t twiceRead) Now() time.Time                  { t.c.Now(); return t.c.Now() }
func (t twiceRead) Since(x time.Time) time.Duration { return t.Now().Sub(x) }
