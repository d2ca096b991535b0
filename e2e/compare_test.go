package e2e_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/engine"
)

var _ = Describe("comparing a live run with its prediction", func() {
	DescribeTable("a halt message's measured value is masked, nothing else",
		func(in, want string) { Expect(e2e.Decision(in)).To(Equal(want)) },
		Entry("success rate", "Halt podinfo.ns advancement success rate 70.45% < 99%", "Halt podinfo.ns advancement success rate # < 99%"),
		Entry("request duration", "Halt podinfo.ns advancement request duration 512ms > 500ms", "Halt podinfo.ns advancement request duration # > 500ms"),
		Entry("a custom metric", "Halt podinfo.ns advancement error-rate 3.14 > 1", "Halt podinfo.ns advancement error-rate # > 1"),
		Entry("a weight", "Advance podinfo.ns canary weight 25", "Advance podinfo.ns canary weight 25"),
		Entry("a threshold", "Rolling back podinfo.ns failed checks threshold reached 2", "Rolling back podinfo.ns failed checks threshold reached 2"),
	)

	prediction := func(states []e2e.CanaryState, msgs ...string) *e2e.Prediction {
		p := &e2e.Prediction{States: states}
		for _, m := range msgs {
			p.Events = append(p.Events, engine.Event{Type: "Normal", Message: m})
		}
		return p
	}
	states := []e2e.CanaryState{{Phase: "Initialized"}, {Phase: "Progressing", CanaryWeight: 25}, {Phase: "Progressing", CanaryWeight: 25, FailedChecks: 1}, {Phase: "Failed"}}
	steps := []e2e.Step{{Phase: "Initialized"}, {Phase: "Progressing", CanaryWeight: 25}, {Phase: "Failed"}}

	It("finds the same decisions despite measured values, waiting messages and the recorder's combined prefix", func() {
		p := prediction(states, "Advance podinfo.ns canary weight 25", "Halt podinfo.ns advancement success rate 70.00% < 99%",
			"Halt podinfo.ns advancement success rate 70.00% < 99%", "Rolling back podinfo.ns failed checks threshold reached 2")
		live := []e2e.EventRecord{
			{Message: "podinfo-primary.ns not ready: waiting for rollout to finish", Count: 3},
			{Message: "Advance podinfo.ns canary weight 25", Count: 1},
			{Message: "Halt podinfo.ns advancement success rate 70.45% < 99%", Count: 1},
			{Message: "Halt podinfo.ns advancement success rate 70.50% < 99%", Count: 1},
			{Message: e2e.EventMessage("(combined from similar events): Rolling back podinfo.ns failed checks threshold reached 2"), Count: 1},
		}
		d := e2e.Compare(p, steps, live)
		Expect(d.Same()).To(BeTrue(), "%v %v %v", d.Steps, d.Messages, d.Counts)
	})

	It("reports a skipped step, a missing message and a count", func() {
		p := prediction(states, "Advance podinfo.ns canary weight 25", "Halt podinfo.ns advancement success rate 70.00% < 99%",
			"Halt podinfo.ns advancement success rate 70.00% < 99%")
		d := e2e.Compare(p, []e2e.Step{{Phase: "Initialized"}, {Phase: "Failed"}}, []e2e.EventRecord{
			{Message: "Halt podinfo.ns advancement success rate 70.45% < 99%", Count: 3}})
		Expect(d.Same()).To(BeFalse())
		Expect(d.Steps).To(ContainElement(HavePrefix("≠ Progressing/25")))
		Expect(d.Messages).To(ContainElement(HavePrefix("≠ Advance podinfo.ns canary weight 25")))
		Expect(d.Counts).To(ConsistOf(`"Halt podinfo.ns advancement success rate # < 99%": predicted 2, live 3`))
		table := e2e.Table("flagger", map[string]e2e.Diff{"s": d})
		Expect(table).To(ContainSubstring("DIFFER"))
		Expect(table).To(ContainSubstring("== s\n"))
	})

	DescribeTable("metrics are reported outside 5% (at least 1) of the prediction",
		func(predicted, live []float64, reported bool) {
			out := e2e.CompareMetrics(map[string][]float64{"m": predicted}, map[string][]float64{"m": live})
			if reported {
				Expect(out).To(HaveLen(1))
			} else {
				Expect(out).To(BeEmpty())
			}
		},
		Entry("equal", []float64{70}, []float64{70}, false),
		Entry("within 5%", []float64{70}, []float64{70.5, 72}, false),
		Entry("outside 5%", []float64{70}, []float64{80}, true),
		Entry("small values: within 1", []float64{0.1}, []float64{0.9}, false),
		Entry("no live value", []float64{70}, nil, true),
	)

	It("reads Flagger's request-duration gauge (seconds) in the check's milliseconds", func() {
		Expect(e2e.CheckValue("request-duration", 0.094)).To(BeNumerically("~", 94, 1e-9))
		Expect(e2e.CheckValue("request-success-rate", 99.5)).To(Equal(99.5))
	})
})
