package reports_test

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// tickByTick is r with every tick a record of its own, and without exposure (which a
// compact record holds summed and cannot give back tick by tick).
func tickByTick(r *scenario.Result) *scenario.Result {
	c := *r
	c.Ticks, c.Exposure = nil, nil
	for t := range r.EachTick() {
		c.Ticks = append(c.Ticks, scenario.Tick{TickRecord: t})
	}
	return &c
}

var _ = Describe("reports of compact run records", func() {
	// every renders each way a report reads a run record.
	every := func(r *scenario.Result) map[string]string {
		GinkgoHelper()
		out := map[string]string{}
		var buf bytes.Buffer
		Expect(reports.WriteSummary(&buf, []*scenario.Result{r}, reports.Style{})).To(Succeed())
		out["summary"] = buf.String()
		buf.Reset()
		Expect(reports.WriteRun(&buf, r, reports.Style{}, reports.RunView{})).To(Succeed())
		out["run"] = buf.String()
		buf.Reset()
		Expect(reports.WriteRun(&buf, r, reports.Style{}, reports.RunView{UntilDecided: true})).To(Succeed())
		out["until decided"] = buf.String()
		buf.Reset()
		Expect(reports.WriteJUnit(&buf, []*scenario.Result{r}, reports.JUnitOptions{})).To(Succeed())
		out["junit"] = buf.String()
		page, _ := renderHTML([]*scenario.Result{r}, reports.HTMLOptions{})
		out["html"] = string(page)
		return out
	}

	It("read the same as records of one tick each: explanations, tick lists, charts and tables", func() {
		repeated := 0
		for _, r := range suite() {
			compact := *r
			compact.Exposure = nil
			for _, t := range r.Ticks {
				repeated += t.Repeat
			}
			Expect(every(&compact)).To(Equal(every(tickByTick(r))), r.Scenario)
		}
		Expect(repeated).To(BeNumerically(">", 100), "the fixture has repeated ticks")
	})

	It("explain and draw a canary that waited for a week in two records", func() {
		at := func(d time.Duration) time.Time { return scenario.Epoch.Add(d) }
		waiting := engine.TickRecord{Canary: "podinfo.test", PhaseBefore: "Progressing", Phase: "Progressing", Step: "canary-ready", PrimaryWeight: 100,
			Events: []engine.Event{{Type: "Warning", Message: "canary deployment podinfo.test not ready: waiting for rollout to finish"}}}
		revision := engine.TickRecord{At: at(time.Minute), Canary: "podinfo.test", PhaseBefore: "Succeeded", Phase: "Progressing", Step: "canary-ready", PrimaryWeight: 100,
			Events: []engine.Event{{Type: "Normal", Message: "New revision detected! Scaling up podinfo.test"}}}
		week := 7 * 24 * time.Hour
		r := &scenario.Result{Scenario: "week", Mode: "fast", Phase: "Progressing", Until: scenario.Offset(week), Passed: true,
			Ticks: []scenario.Tick{{TickRecord: revision}, {TickRecord: waiting, Repeat: int(week/time.Minute) - 2, Every: scenario.Offset(time.Minute)}}}
		r.Ticks[1].At = at(2 * time.Minute)
		Expect(r.Ticks[1].Last()).To(Equal(at(week)))
		var buf bytes.Buffer
		Expect(reports.WriteSummary(&buf, []*scenario.Result{r}, reports.Style{})).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("no decision: canary not ready since 1m"))
		_, doc := renderHTML([]*scenario.Result{r}, reports.HTMLOptions{})
		events := findAll(doc, func(n *html.Node) bool {
			return n.Data == "tr" && n.Parent.Data == "tbody" && hasClass(n.Parent.Parent, "events")
		})
		Expect(events).To(HaveLen(int(week/time.Minute)), "one event a tick, the week through")
	})
})
