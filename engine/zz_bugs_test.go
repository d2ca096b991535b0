package engine_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
)

var _ = Describe("BUGS", func() {
	phaseOf := func(f *fixture, message string) []string {
		got := []string{}
		for _, m := range f.hooks.eventMessages() {
			parts := strings.SplitN(m, "|", 3)
			if parts[2] == message {
				got = append(got, parts[0])
			}
		}
		return got
	}
	It("BUG1 confirm-rollout halt event phase", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev"), hook(v1beta1.ConfirmRolloutHook, "gate")))
		f.hooks.answer("gate", errRefused)
		f.initialize()
		f.setImage(imageV2)
		f.step()
		Expect(phaseOf(f, "Halt podinfo.test advancement waiting for approval gate")).To(Equal([]string{"Initialized"}))
	})
	It("BUG2 confirm-promotion halt event phase", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev"), hook(v1beta1.ConfirmPromotionHook, "gate")))
		f.hooks.answer("gate", errRefused)
		f.startRevision()
		for range 6 { f.step() }
		Expect(phaseOf(f, "Halt podinfo.test advancement waiting for promotion approval gate")).To(Equal([]string{"Progressing"}))
	})
	It("BUG3 post-rollout event phase after rollback", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev"), hook(v1beta1.PostRolloutHook, "post")))
		f.startRevision()
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		f.step()
		Expect(phaseOf(f, "Post-rollout check post passed")).To(Equal([]string{"Progressing"}))
	})
	It("BUG4 post-rollout event phase after failed promotion", func() {
		f := newFixture(canaryWithHooks(hook(v1beta1.EventHook, "ev"), hook(v1beta1.PostRolloutHook, "post")))
		f.startRevision()
		for range 6 { f.step() }
		f.markReady("podinfo")
		f.markDeadlineExceeded("podinfo-primary")
		f.tick()
		Expect(phaseOf(f, "Post-rollout check post passed")).To(Equal([]string{"Promoting"}))
	})
	It("BUG5 config no longer tracked", func() {
		cd := newCanary()
		f := newFixture(cd)
		a, b := configMap("a", "1"), configMap("b", "1")
		Expect(f.c.Create(f.ctx, a)).To(Succeed())
		Expect(f.c.Create(f.ctx, b)).To(Succeed())
		d := f.deployment("podinfo")
		d.Spec.Template.Spec.Containers[0].EnvFrom = append(envFromConfigMap("a"), envFromConfigMap("b")...)
		Expect(f.c.Update(f.ctx, d)).To(Succeed())
		f.initialize()
		Expect(*f.canary().Status.TrackedConfigs).To(HaveLen(2))
		b.Annotations = map[string]string{"flagger.app/config-tracking": "disabled"}
		Expect(f.c.Update(f.ctx, b)).To(Succeed())
		rec := f.tick()
		Expect(rec.Phase).To(Equal("Progressing"))
	})
	It("BUG6 trackedConfigs cleared", func() {
		cd := newCanary()
		f := newFixture(cd)
		a := configMap("a", "1")
		Expect(f.c.Create(f.ctx, a)).To(Succeed())
		d := f.deployment("podinfo")
		d.Spec.Template.Spec.Containers[0].EnvFrom = envFromConfigMap("a")
		Expect(f.c.Update(f.ctx, d)).To(Succeed())
		f.initialize()
		d = f.deployment("podinfo")
		d.Spec.Template.Spec.Containers[0].EnvFrom = nil
		Expect(f.c.Update(f.ctx, d)).To(Succeed())
		f.tick()
		Expect(f.canary().Status.TrackedConfigs).NotTo(BeNil())
		Expect(*f.canary().Status.TrackedConfigs).To(BeEmpty())
	})
})
