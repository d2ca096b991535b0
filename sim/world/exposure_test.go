package world_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/world"
)

var _ = Describe("Exposure", func() {
	DescribeTable("counts the user requests each workload served, not the router's weights",
		func(r world.Routing, spec world.Spec, primary, canary, mirrored float64) {
			spec.RPS = ptr(100.0)
			h := newHarness(harnessOpts{spec: spec, routing: r})
			h.runTo(3 * time.Minute)
			e := h.w.Exposure()
			Expect(e.Primary).To(BeNumerically("~", primary, 1e-6))
			Expect(e.Canary).To(BeNumerically("~", canary, 1e-6))
			Expect(e.Mirrored).To(BeNumerically("~", mirrored, 1e-6))
		},
		// 180 s of 100 rps: 18,000 user requests.
		Entry("90/10", world.Routing{PrimaryWeight: 90, CanaryWeight: 10}, world.Spec{}, 16200.0, 1800.0, 0.0),
		Entry("A/B: the match route has weight 100, but only the matching 10% of users follow it",
			world.Routing{PrimaryWeight: 100, HasMatch: true, MatchCanaryWeight: 100},
			world.Spec{MatchFraction: 0.1}, 16200.0, 1800.0, 0.0),
		Entry("mirrored copies are not exposure",
			world.Routing{PrimaryWeight: 100, Mirrored: true, MirrorPercent: 30}, world.Spec{}, 18000.0, 0.0, 5400.0),
		Entry("mirrored copies are told apart from direct load",
			world.Routing{PrimaryWeight: 100, Mirrored: true, MirrorPercent: 100}, world.Spec{DirectRPS: 20}, 18000.0, 0.0, 18000.0),
		Entry("direct load is not exposure",
			world.Routing{PrimaryWeight: 80, CanaryWeight: 20}, world.Spec{DirectRPS: 5}, 14400.0, 3600.0, 0.0),
		Entry("an rps fault on the canary's version overrides its weight",
			world.Routing{PrimaryWeight: 50, CanaryWeight: 50},
			world.Spec{Faults: []world.Fault{{Image: newImage, RPS: ptr(0.0)}}}, 9000.0, 0.0, 0.0),
	)

	It("counts user requests to a canary without ready pods: they reach it and fail", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0)}, routing: world.Routing{PrimaryWeight: 90, CanaryWeight: 10},
			readyOverride: func(image string, _ time.Time) (bool, bool) { return image != newImage, image == newImage }})
		h.runTo(time.Minute)
		Expect(h.w.Exposure().Canary).To(BeNumerically("~", 600, 1e-6))
		Expect(traffic(h.w, newImage).Failed).To(BeNumerically("~", 600, 1e-6))
	})
})
