package scenario_test

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/world"
)

var _ = Describe("NegativeControl", func() {
	load := func(file string) *scenario.Loaded {
		GinkgoHelper()
		ld, err := scenario.LoadFile(filepath.Join(loadData, file))
		Expect(err).NotTo(HaveOccurred())
		return ld
	}
	severe := func(image string) world.Fault {
		rate := 1.0
		return world.Fault{Image: image, ErrorRate: &rate,
			Latency: &world.Latency{P50: world.Duration{Duration: 30 * time.Second}, P99: world.Duration{Duration: 30 * time.Second}}}
	}

	It("undoes the faults and the simulated webhook endpoints of a scenario that expects Failed", func() {
		ld := load("full.yaml") // expect.phase Failed, 4 faults, 2 hooks
		ctl, ok, why := scenario.NegativeControl(ld, "Succeeded")
		Expect(ok).To(BeTrue())
		Expect(why).To(Equal("podinfo-500-burst without spec.world.faults (4 faults) and spec.hooks (2 endpoints) (expect.phase is Failed): " +
			"every version behaves as spec.world.versions says and every webhook answers 200"))
		Expect(ctl.Scenario.Spec.World.Faults).To(BeEmpty())
		Expect(ctl.Scenario.Spec.Hooks).To(BeEmpty())
		Expect(ctl.Scenario.Spec.World.Versions).To(Equal(ld.Scenario.Spec.World.Versions), "the rest of the world is the same")
		Expect(ctl.Scenario.Spec.Expect).To(Equal(ld.Scenario.Spec.Expect), "and so are the expectations")
		Expect(ctl.Canary).To(Equal(ld.Canary))

		Expect(ld.Scenario.Spec.World.Faults).To(HaveLen(4), "the original is not modified")
		Expect(ld.Scenario.Spec.Hooks).To(HaveLen(2))
	})

	It("breaks every new version of a scenario that expects Succeeded", func() {
		ld := load("good.yaml") // expect.phase Succeeded, target app:1.0.0
		ld.Scenario.Spec.Timeline = []scenario.Action{
			{At: world.Duration{Duration: time.Minute}, Image: "podinfo:6.0.1"},
			{At: world.Duration{Duration: 2 * time.Minute}, Patch: map[string]any{"spec": map[string]any{"suspend": true}}},
			{At: world.Duration{Duration: 3 * time.Minute}, Image: "podinfo:6.0.2"},
			{At: world.Duration{Duration: 4 * time.Minute}, Image: "podinfo:6.0.1"},
			{At: world.Duration{Duration: 5 * time.Minute}, Image: ld.Scenario.Spec.Target.Image},
		}
		ctl, ok, why := scenario.NegativeControl(ld, "Failed")
		Expect(ok).To(BeTrue())
		Expect(why).To(Equal("podinfo-good with podinfo:6.0.1, podinfo:6.0.2 failing hard from 0s, errorRate 1 and latency p50 = p99 = 30s (expect.phase is Succeeded)"))
		Expect(ctl.Scenario.Spec.World.Faults).To(Equal([]world.Fault{severe("podinfo:6.0.1"), severe("podinfo:6.0.2")}))
		Expect(scenario.SevereFault("x")).To(Equal(severe("x")))
		Expect(ctl.Scenario.Spec.World.Validate()).To(BeEmpty())
		Expect(ld.Scenario.Spec.World.Faults).To(BeEmpty(), "the original is not modified")
	})

	It("keeps a scenario's own faults when it adds the severe one", func() {
		ld := load("full.yaml")
		ld.Scenario.Spec.Expect.Phase = "Succeeded"
		ctl, ok, _ := scenario.NegativeControl(ld, "")
		Expect(ok).To(BeTrue())
		Expect(ctl.Scenario.Spec.World.Faults).To(HaveLen(5))
		Expect(ctl.Scenario.Spec.World.Faults[4]).To(Equal(severe("podinfo:6.0.1")), "added last, so it overrides the others")
		Expect(ctl.Scenario.Spec.Hooks).To(HaveLen(2))
	})

	It("uses the observed phase when the scenario states none", func() {
		ld := load("full.yaml")
		ld.Scenario.Spec.Expect.Phase = ""
		ctl, ok, why := scenario.NegativeControl(ld, "Failed")
		Expect(ok).To(BeTrue())
		Expect(why).To(ContainSubstring("(the run's final phase is Failed)"))
		Expect(ctl.Scenario.Spec.World.Faults).To(BeEmpty())

		ctl, ok, why = scenario.NegativeControl(ld, "Succeeded")
		Expect(ok).To(BeTrue())
		Expect(why).To(ContainSubstring("(the run's final phase is Succeeded)"))
		Expect(ctl.Scenario.Spec.World.Faults).To(HaveLen(5))
	})

	DescribeTable("derives no control, and says why",
		func(file, phase, observed string, mutate func(*scenario.Loaded), why string) {
			ld := load(file)
			ld.Scenario.Spec.Expect.Phase = phase
			if mutate != nil {
				mutate(ld)
			}
			ctl, ok, reason := scenario.NegativeControl(ld, observed)
			Expect(ok).To(BeFalse())
			Expect(ctl).To(BeNil())
			Expect(reason).To(Equal(why))
		},
		Entry("Failed without faults or hooks", "full.yaml", "Failed", "", func(ld *scenario.Loaded) {
			ld.Scenario.Spec.World.Faults, ld.Scenario.Spec.Hooks = nil, nil
		}, "expect.phase is Failed but the scenario has no spec.world.faults and no spec.hooks to remove: "+
			"its failure lies elsewhere (spec.world.versions, counters or series, or the policy)"),
		Entry("Succeeded without a new image", "good.yaml", "Succeeded", "", func(ld *scenario.Loaded) {
			ld.Scenario.Spec.Timeline = []scenario.Action{{Image: ld.Scenario.Spec.Target.Image}}
		}, "expect.phase is Succeeded but the timeline introduces no image other than spec.target.image app:1.0.0 to break"),
		Entry("another expected phase", "full.yaml", "WaitingPromotion", "Failed", nil,
			"expect.phase is WaitingPromotion: only Failed (undo the faults) and Succeeded (break the new versions) derive a control"),
		Entry("another observed phase", "full.yaml", "", "Progressing", nil,
			"the run's final phase is Progressing: only Failed (undo the faults) and Succeeded (break the new versions) derive a control"),
		Entry("no phase at all", "full.yaml", "", "", nil,
			"no expect.phase, and the run ended in no phase: only Failed and Succeeded derive a control"),
	)

	It("leaves the scenario as it was: the control has its own faults and hooks", func() {
		ld := load("full.yaml")
		faults, hooks := len(ld.Scenario.Spec.World.Faults), len(ld.Scenario.Spec.Hooks)
		Expect(faults).To(BeNumerically(">", 0))
		Expect(hooks).To(BeNumerically(">", 0))

		ld.Scenario.Spec.Expect.Phase = "Failed"
		ctl, ok, _ := scenario.NegativeControl(ld, "")
		Expect(ok).To(BeTrue())
		Expect(ctl.Scenario).NotTo(BeIdenticalTo(ld.Scenario))
		Expect(ctl.Scenario.Spec.World.Faults).To(BeEmpty())
		Expect(ld.Scenario.Spec.World.Faults).To(HaveLen(faults))
		Expect(ld.Scenario.Spec.Hooks).To(HaveLen(hooks))

		ld.Scenario.Spec.Expect.Phase = "Succeeded"
		ctl, ok, _ = scenario.NegativeControl(ld, "")
		Expect(ok).To(BeTrue())
		Expect(len(ctl.Scenario.Spec.World.Faults)).To(BeNumerically(">", faults))
		ctl.Scenario.Spec.World.Faults[0].Image = "changed"
		Expect(ld.Scenario.Spec.World.Faults).To(HaveLen(faults))
		Expect(ld.Scenario.Spec.World.Faults[0].Image).NotTo(Equal("changed"))
	})
})
