package reports

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"gonum.org/v1/plot/plotter"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("the exposure lines of the traffic chart", func() {
	tick := func(min int) engine.TickRecord {
		return engine.TickRecord{At: scenario.Epoch.Add(time.Duration(min) * time.Minute), CanaryWeight: 100}
	}
	exposure := func(min int, primary, canary, mirrored float64) scenario.TickExposure {
		e := scenario.TickExposure{At: tick(min).At, PrimaryRequests: primary, CanaryRequests: canary, MirroredRequests: mirrored}
		if primary+canary > 0 {
			share := 100 * canary / (primary + canary)
			e.CanaryShare = &share
		}
		return e
	}

	It("holds each tick's share from the previous tick to it, breaks where no user request was served, and shows mirrored copies apart", func() {
		served, mirrored := exposureLines([]scenario.TickExposure{
			exposure(0, 0, 0, 0), exposure(1, 900, 100, 0), exposure(2, 450, 50, 250), exposure(3, 0, 0, 0), exposure(4, 0, 1000, 0)})
		Expect(served).To(Equal([]plotter.XYs{
			{{X: 0, Y: 10}, {X: 1, Y: 10}, {X: 1, Y: 10}, {X: 2, Y: 10}},
			{{X: 3, Y: 100}, {X: 4, Y: 100}},
		}))
		Expect(mirrored).To(Equal([]plotter.XYs{
			{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 50}, {X: 2, Y: 50}},
			{{X: 3, Y: 0}, {X: 4, Y: 0}},
		}))
	})

	It("draws nothing for a record without exposure, or without mirrored copies", func() {
		served, mirrored := exposureLines(nil)
		Expect(served).To(BeNil())
		Expect(mirrored).To(BeNil())
		served, mirrored = exposureLines([]scenario.TickExposure{exposure(0, 0, 0, 0), exposure(1, 10, 10, 0)})
		Expect(served).To(HaveLen(1))
		Expect(mirrored).To(BeNil())
	})

	It("holds the share of a repeated record from the previous record's time to its last repeat", func() {
		served, _ := exposureLines([]scenario.TickExposure{exposure(0, 0, 0, 0), exposure(1, 900, 100, 0), exposure(9, 4000, 4000, 0)})
		Expect(served).To(Equal([]plotter.XYs{{{X: 0, Y: 10}, {X: 1, Y: 10}, {X: 1, Y: 50}, {X: 9, Y: 50}}}))
	})
})
