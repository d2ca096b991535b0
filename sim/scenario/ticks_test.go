package scenario_test

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("compact tick records", func() {
	at := func(d time.Duration) time.Time { return scenario.Epoch.Add(d) }
	waiting := func(d time.Duration) engine.TickRecord {
		return engine.TickRecord{At: at(d), Canary: "podinfo.test", PhaseBefore: "Progressing", Phase: "Progressing", Step: "canary-ready",
			PrimaryWeight: 100, Events: []engine.Event{{Type: "Warning", Message: "canary deployment podinfo.test not ready"}}}
	}
	appendAll := func(recs ...engine.TickRecord) []scenario.Tick {
		var ticks []scenario.Tick
		for _, r := range recs {
			ticks, _ = scenario.AppendTick(ticks, r)
		}
		return ticks
	}

	It("repeats a record that is the same but for its time, evenly spaced, and expands it back", func() {
		recs := []engine.TickRecord{waiting(0), waiting(time.Minute), waiting(2 * time.Minute), waiting(3 * time.Minute)}
		ticks := appendAll(recs...)
		Expect(ticks).To(HaveLen(1))
		Expect(ticks[0].Repeat).To(Equal(3))
		Expect(ticks[0].Every).To(Equal(scenario.Offset(time.Minute)))
		Expect(ticks[0].Last()).To(Equal(at(3 * time.Minute)))
		r := &scenario.Result{Ticks: ticks}
		Expect(slices.Collect(r.EachTick())).To(Equal(recs))
	})

	It("starts a new record at another record, another spacing, or a value JSON tells apart", func() {
		changed := waiting(3 * time.Minute)
		changed.Events = append(changed.Events, engine.Event{Type: "Normal", Message: "more"})
		ticks := appendAll(waiting(0), waiting(time.Minute), waiting(2*time.Minute), waiting(4*time.Minute), changed)
		Expect(ticks).To(HaveLen(3))
		Expect([]int{ticks[0].Repeat, ticks[1].Repeat, ticks[2].Repeat}).To(Equal([]int{2, 0, 0}), "4m is two minutes after 2m, not one")

		metric := func(d time.Duration, v float64) engine.TickRecord {
			rec := waiting(d)
			rec.Metrics = []analysis.Result{{Name: "m", Kind: "query", Value: &v, Outcome: analysis.OutcomePass}}
			return rec
		}
		Expect(appendAll(metric(0, 1), metric(time.Minute, 1))).To(HaveLen(1), "the same value, in another pointer")
		Expect(appendAll(metric(0, 0), metric(time.Minute, math.Copysign(0, -1)))).To(HaveLen(2), "0 and -0 print apart")
		Expect(appendAll(metric(0, math.Inf(1)), metric(time.Minute, math.Inf(1)))).To(HaveLen(1))
		Expect(appendAll(waiting(time.Minute), waiting(time.Minute))).To(HaveLen(2), "a tick at the same time")
	})

	It("reads repeats by position as ticks of their own", func() {
		ticks := appendAll(waiting(0), waiting(time.Minute), waiting(2*time.Minute))
		done := engine.TickRecord{At: at(3 * time.Minute), PhaseBefore: "Progressing", Phase: "Failed"}
		ticks, repeated := scenario.AppendTick(ticks, done)
		Expect(repeated).To(BeFalse())
		ticks = appendAll(append(slices.Collect((&scenario.Result{Ticks: ticks}).EachTick()), waiting(5*time.Minute), waiting(6*time.Minute))...)
		l := scenario.NewTickList(ticks)
		Expect(l.Len()).To(Equal(6))
		all := slices.Collect(l.All())
		Expect(all).To(HaveLen(6))
		for i := range l.Len() {
			Expect(l.At(i)).To(Equal(all[i]))
		}
		Expect(all[3]).To(Equal(done))
		Expect(all[5].At).To(Equal(at(6 * time.Minute)))
		Expect(scenario.NewTickList(nil).Len()).To(BeZero())
	})

	It("writes the repeat count and spacing after the record's own fields, and reads them back", func() {
		ticks := appendAll(waiting(0), waiting(time.Minute), waiting(2*time.Minute))
		data, err := json.Marshal(ticks)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(HaveSuffix(`"events":[{"type":"Warning","message":"canary deployment podinfo.test not ready"}],"repeat":2,"every":"1m0s"}]`))
		var back []scenario.Tick
		Expect(json.Unmarshal(data, &back)).To(Succeed())
		Expect(back).To(Equal(ticks))
		one, err := json.Marshal(appendAll(waiting(0)))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(one)).NotTo(ContainSubstring("repeat"))
		Expect(string(one)).NotTo(ContainSubstring("every"))
	})

	It("counts every repeat in expectations: events, webhook calls and alerts", func() {
		rec := waiting(0)
		rec.Hooks = []hooks.Call{{Name: "gate", Type: "confirm-rollout"}}
		rec.Alerts = []engine.Alert{{Severity: "warn", Message: "waiting", Recipients: []engine.AlertRecipient{{Alert: "on-call", Provider: "slack.test"}}}}
		var recs []engine.TickRecord
		for i := range 5 {
			r := rec
			r.At = at(time.Duration(i) * time.Minute)
			recs = append(recs, r)
		}
		r := &scenario.Result{Ticks: appendAll(recs...)}
		Expect(r.Ticks).To(HaveLen(1))
		five := scenario.Count{Exact: expCount(5)}
		res := scenario.Check(&scenario.Expectations{
			HookCalls: map[string]scenario.Count{"confirm-rollout": five},
			Events:    []string{"re:not ready", "re:not ready", "re:not ready", "re:not ready", "re:not ready"},
			Alerts:    map[string]scenario.AlertExpectation{"on-call": {Count: &five}},
		}, r)
		for _, e := range res {
			Expect(e.OK).To(BeTrue(), "%s: %s", e.Name, e.Observed)
		}
		observed := map[string]string{}
		for _, e := range res {
			observed[e.Name] = e.Observed
		}
		Expect(observed).To(HaveKeyWithValue("hookCalls.confirm-rollout", "5 calls (5 failed)"))
		Expect(observed).To(HaveKeyWithValue("alerts.on-call.count", "5 alerts"))
		Expect(observed).To(HaveKeyWithValue("events[4]", `at 4m0s: "canary deployment podinfo.test not ready"`))
	})
})
