package cluster_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"aviary.dev/aviary/sim/cluster"
)

var _ = Describe("readiness from the user's manifest", func() {
	probe := func(initialDelay, period, success int32) *corev1.Probe {
		return &corev1.Probe{InitialDelaySeconds: initialDelay, PeriodSeconds: period, SuccessThreshold: success}
	}
	DescribeTable("ProbeReadyDelay: the kubelet's first passing readiness run",
		func(containers []corev1.Container, want time.Duration, found bool) {
			d, ok := cluster.ProbeReadyDelay(&corev1.PodSpec{Containers: containers})
			Expect(ok).To(Equal(found))
			Expect(d).To(Equal(want))
		},
		Entry("no probe", []corev1.Container{{Name: "a"}}, time.Duration(0), false),
		Entry("defaults: first run at once", []corev1.Container{{Name: "a", ReadinessProbe: probe(0, 0, 0)}}, time.Duration(0), true),
		Entry("initialDelaySeconds 5, default period 10: the run at 10s", []corev1.Container{{Name: "a", ReadinessProbe: probe(5, 0, 0)}}, 10*time.Second, true),
		Entry("initialDelaySeconds 10, period 5: the run at 10s", []corev1.Container{{Name: "a", ReadinessProbe: probe(10, 5, 0)}}, 10*time.Second, true),
		Entry("successThreshold 3, period 5: two more runs", []corev1.Container{{Name: "a", ReadinessProbe: probe(0, 5, 3)}}, 10*time.Second, true),
		Entry("the slowest container", []corev1.Container{
			{Name: "a", ReadinessProbe: probe(5, 5, 0)}, {Name: "b", ReadinessProbe: probe(20, 10, 0)}, {Name: "c"},
		}, 20*time.Second, true),
		Entry("a startup probe first: readiness results count once it passed", []corev1.Container{
			{Name: "a", StartupProbe: probe(15, 10, 0), ReadinessProbe: probe(0, 4, 0)},
		}, 20*time.Second, true),
	)

	It("makes pods of templates with probes ready as the probes say, and others after the startup delay", func() {
		withProbe := newDeployment("podinfo", "podinfo:1", 1)
		withProbe.Spec.Template.Spec.Containers[0].ReadinessProbe = probe(5, 10, 0)
		plain := newDeployment("other", "other:1", 1)
		c := newClient(nil, withProbe, plain)
		k := cluster.NewDeploymentSimulator(c, testNS, 3*time.Second, nil)
		k.UseReadinessProbes()
		ctx := context.Background()
		next, err := k.Sync(ctx, at(0))
		Expect(err).NotTo(HaveOccurred())
		Expect(next).To(Equal(at(3 * time.Second)))
		_, err = k.Sync(ctx, at(3*time.Second))
		Expect(err).NotTo(HaveOccurred())
		Expect(readyCount(k.Pods("other"))).To(Equal(1))
		Expect(readyCount(k.Pods("podinfo"))).To(Equal(0))
		_, err = k.Sync(ctx, at(10*time.Second))
		Expect(err).NotTo(HaveOccurred())
		Expect(readyCount(k.Pods("podinfo"))).To(Equal(1))
	})

	It("ignores probes unless asked", func() {
		withProbe := newDeployment("podinfo", "podinfo:1", 1)
		withProbe.Spec.Template.Spec.Containers[0].ReadinessProbe = probe(30, 10, 0)
		k := cluster.NewDeploymentSimulator(newClient(nil, withProbe), testNS, 3*time.Second, nil)
		next, err := k.Sync(context.Background(), at(0))
		Expect(err).NotTo(HaveOccurred())
		Expect(next).To(Equal(at(3 * time.Second)))
	})

	It("counts a ready pod as available minReadySeconds later, and wakes up then", func() {
		d := newDeployment("podinfo", "podinfo:1", 2)
		d.Spec.MinReadySeconds = 5
		c := newClient(nil, d)
		k := cluster.NewDeploymentSimulator(c, testNS, 10*time.Second, nil)
		ctx := context.Background()
		next, err := k.Sync(ctx, at(0))
		Expect(err).NotTo(HaveOccurred())
		Expect(next).To(Equal(at(10 * time.Second)))
		next, err = k.Sync(ctx, next)
		Expect(err).NotTo(HaveOccurred())
		Expect(statusCounts(getDeployment(c, "podinfo"))).To(Equal(counts{replicas: 2, updated: 2, ready: 2, available: 0, unavailable: 2}))
		Expect(next).To(Equal(at(15 * time.Second)))
		_, err = k.Sync(ctx, next)
		Expect(err).NotTo(HaveOccurred())
		Expect(statusCounts(getDeployment(c, "podinfo"))).To(Equal(counts{replicas: 2, updated: 2, ready: 2, available: 2}))
	})
})
