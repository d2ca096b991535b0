package cluster_test

import (
	"context"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/sim/cluster"
)

const testNS = "test"

var t0 = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

func newDeployment(name, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

// writes counts the client calls that could change a Deployment.
type writes struct {
	update, patch             int
	statusUpdate, statusPatch int
	conflictsToInject         int
}

func newClient(w *writes, objs ...client.Object) client.Client {
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	b := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&appsv1.Deployment{}).WithObjects(objs...)
	if w != nil {
		b = b.WithInterceptorFuncs(interceptor.Funcs{
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				w.update++
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				w.patch++
				return c.Patch(ctx, obj, p, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				Expect(sub).To(Equal("status"))
				if w.conflictsToInject > 0 {
					w.conflictsToInject--
					return apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, obj.GetName(), nil)
				}
				w.statusUpdate++
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				w.statusPatch++
				return c.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
		})
	}
	return b.Build()
}

func getDeployment(c client.Client, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	Expect(c.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: name}, d)).To(Succeed())
	return d
}

func cond(d *appsv1.Deployment, t appsv1.DeploymentConditionType) appsv1.DeploymentCondition {
	for _, c := range d.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	Fail("no " + string(t) + " condition on " + d.Name)
	return appsv1.DeploymentCondition{}
}

func setImage(c client.Client, name, image string) {
	d := getDeployment(c, name)
	d.Spec.Template.Spec.Containers[0].Image = image
	Expect(c.Update(context.Background(), d)).To(Succeed())
}

func setReplicas(c client.Client, name string, n int32) {
	d := getDeployment(c, name)
	d.Spec.Replicas = ptr(n)
	Expect(c.Update(context.Background(), d)).To(Succeed())
}

type counts struct{ replicas, updated, ready, available, unavailable int32 }

func statusCounts(d *appsv1.Deployment) counts {
	s := d.Status
	return counts{s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, s.UnavailableReplicas}
}

func podNames(pods []cluster.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func readyCount(pods []cluster.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Ready {
			n++
		}
	}
	return n
}

var podNameRE = regexp.MustCompile(`^podinfo-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)

var _ = Describe("DeploymentSimulator", func() {
	var ctx context.Context
	BeforeEach(func() { ctx = context.Background() })

	sync := func(k *cluster.DeploymentSimulator, d time.Duration) time.Time {
		next, err := k.Sync(ctx, at(d))
		Expect(err).NotTo(HaveOccurred())
		return next
	}

	DescribeTable("readiness timeline of a new Deployment",
		func(replicas int32, delay time.Duration) {
			c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", replicas))
			k := cluster.NewDeploymentSimulator(c, testNS, delay, nil)

			next := sync(k, 0)
			pods := k.Pods("podinfo")
			Expect(pods).To(HaveLen(int(replicas)))
			for _, p := range pods {
				Expect(p.Name).To(MatchRegexp(podNameRE.String()))
				Expect(p.Image).To(Equal("podinfo:1.0.0"))
				Expect(p.Deployment).To(Equal("podinfo"))
				Expect(p.Started).To(Equal(t0))
				Expect(p.Ready).To(BeFalse())
			}
			Expect(next).To(Equal(at(delay)))
			d := getDeployment(c, "podinfo")
			Expect(statusCounts(d)).To(Equal(counts{replicas, replicas, 0, 0, replicas}))
			Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
			avail := cond(d, appsv1.DeploymentAvailable)
			Expect(avail.Status).To(Equal(corev1.ConditionFalse))
			Expect(avail.Reason).To(Equal(cluster.ReasonMinimumReplicasUnavailable))
			Expect(avail.LastUpdateTime.Time).To(BeTemporally("==", t0))
			prog := cond(d, appsv1.DeploymentProgressing)
			Expect(prog.Status).To(Equal(corev1.ConditionTrue))
			Expect(prog.Reason).To(Equal(cluster.ReasonReplicaSetUpdated))

			// Just before the delay: nothing changes.
			next = sync(k, delay-time.Second)
			Expect(next).To(Equal(at(delay)))
			Expect(readyCount(k.Pods("podinfo"))).To(Equal(0))

			next = sync(k, delay)
			Expect(next.IsZero()).To(BeTrue(), "nothing pending once ready, got %v", next)
			Expect(readyCount(k.Pods("podinfo"))).To(Equal(int(replicas)))
			d = getDeployment(c, "podinfo")
			Expect(statusCounts(d)).To(Equal(counts{replicas, replicas, replicas, replicas, 0}))
			avail = cond(d, appsv1.DeploymentAvailable)
			Expect(avail.Status).To(Equal(corev1.ConditionTrue))
			Expect(avail.Reason).To(Equal(cluster.ReasonMinimumReplicasAvailable))
			Expect(avail.LastTransitionTime.Time).To(BeTemporally("==", at(delay)))
			prog = cond(d, appsv1.DeploymentProgressing)
			Expect(prog.Reason).To(Equal(cluster.ReasonNewReplicaSetAvailable))
			Expect(prog.Message).To(MatchRegexp(`^ReplicaSet "podinfo-[a-z0-9]{10}" has successfully progressed\.$`))
			Expect(prog.LastTransitionTime.Time).To(BeTemporally("==", t0), "the status stayed True")
			Expect(prog.LastUpdateTime.Time).To(BeTemporally("==", at(delay)))
		},
		Entry("1 replica, 5s", int32(1), 5*time.Second),
		Entry("3 replicas, 10s", int32(3), 10*time.Second),
	)

	It("with replicas at 25% unavailable, Available is True before every pod is ready", func() {
		// 4 replicas: maxUnavailable 25% = 1, so 3 available pods are enough.
		c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 4))
		n := 0
		k := cluster.NewDeploymentSimulator(c, testNS, 0, func(image string, now time.Time) (bool, bool) {
			n++
			return n%4 != 0, true // every fourth pod evaluated is not ready
		})
		sync(k, 0)
		d := getDeployment(c, "podinfo")
		Expect(d.Status.AvailableReplicas).To(Equal(int32(3)))
		Expect(cond(d, appsv1.DeploymentAvailable).Status).To(Equal(corev1.ConditionTrue))
	})

	It("surges a rollout: old pods serve until every new pod is ready", func() {
		c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 2))
		k := cluster.NewDeploymentSimulator(c, testNS, 10*time.Second, nil)
		sync(k, 0)
		sync(k, 10*time.Second)
		old := podNames(k.Pods("podinfo"))
		Expect(old).To(HaveLen(2))
		before := getDeployment(c, "podinfo")

		setImage(c, "podinfo", "podinfo:2.0.0")
		next := sync(k, time.Minute)
		Expect(next).To(Equal(at(time.Minute + 10*time.Second)))
		pods := k.Pods("podinfo")
		Expect(pods).To(HaveLen(4))
		Expect(podNames(pods[:2])).To(Equal(old), "old pods first, unchanged")
		for _, p := range pods[2:] {
			Expect(p.Image).To(Equal("podinfo:2.0.0"))
			Expect(p.Ready).To(BeFalse())
			Expect(p.Name[:len("podinfo-")+10]).NotTo(Equal(old[0][:len("podinfo-")+10]), "a new template hash")
		}
		d := getDeployment(c, "podinfo")
		Expect(statusCounts(d)).To(Equal(counts{4, 2, 2, 2, 2}))
		prog := cond(d, appsv1.DeploymentProgressing)
		Expect(prog.Reason).To(Equal(cluster.ReasonReplicaSetUpdated))
		Expect(prog.LastUpdateTime.Time).To(BeTemporally("==", at(time.Minute)))
		Expect(prog.LastTransitionTime.Time).To(BeTemporally("==", cond(before, appsv1.DeploymentProgressing).LastTransitionTime.Time))
		Expect(cond(d, appsv1.DeploymentAvailable).Status).To(Equal(corev1.ConditionTrue), "old pods keep it available")

		sync(k, time.Minute+10*time.Second)
		pods = k.Pods("podinfo")
		Expect(pods).To(HaveLen(2))
		Expect(podNames(pods)).NotTo(ContainElement(old[0]))
		Expect(readyCount(pods)).To(Equal(2))
		d = getDeployment(c, "podinfo")
		Expect(statusCounts(d)).To(Equal(counts{2, 2, 2, 2, 0}))
		Expect(cond(d, appsv1.DeploymentProgressing).Reason).To(Equal(cluster.ReasonNewReplicaSetAvailable))
		Expect(cond(d, appsv1.DeploymentProgressing).Message).To(ContainSubstring(pods[0].Name[:len("podinfo-")+10]))
	})

	It("stops pods being ready under a ready:false fault", func() {
		c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 2))
		k := cluster.NewDeploymentSimulator(c, testNS, 5*time.Second, func(image string, now time.Time) (bool, bool) {
			if image == "podinfo:1.0.0" && !now.Before(at(2*time.Minute)) && now.Before(at(4*time.Minute)) {
				return false, true
			}
			return false, false
		})
		sync(k, 0)
		sync(k, 5*time.Second)
		Expect(readyCount(k.Pods("podinfo"))).To(Equal(2))

		sync(k, 2*time.Minute)
		Expect(readyCount(k.Pods("podinfo"))).To(Equal(0))
		d := getDeployment(c, "podinfo")
		Expect(statusCounts(d)).To(Equal(counts{2, 2, 0, 0, 2}))
		avail := cond(d, appsv1.DeploymentAvailable)
		Expect(avail.Status).To(Equal(corev1.ConditionFalse))
		Expect(avail.Reason).To(Equal(cluster.ReasonMinimumReplicasUnavailable))
		Expect(avail.LastUpdateTime.Time).To(BeTemporally("==", at(2*time.Minute)))
		Expect(cond(d, appsv1.DeploymentProgressing).Reason).To(Equal(cluster.ReasonNewReplicaSetAvailable),
			"a finished rollout does not report progress again")

		sync(k, 4*time.Minute)
		Expect(readyCount(k.Pods("podinfo"))).To(Equal(2))
		Expect(cond(getDeployment(c, "podinfo"), appsv1.DeploymentAvailable).Status).To(Equal(corev1.ConditionTrue))
	})

	DescribeTable("reports ProgressDeadlineExceeded when a rollout makes no progress",
		func(deadline *int32, want time.Duration) {
			dep := newDeployment("podinfo", "podinfo:1.0.0", 1)
			dep.Spec.ProgressDeadlineSeconds = deadline
			c := newClient(nil, dep)
			k := cluster.NewDeploymentSimulator(c, testNS, 5*time.Second, func(image string, _ time.Time) (bool, bool) {
				return false, image == "podinfo:2.0.0" // the new version never becomes ready
			})
			sync(k, 0)
			sync(k, 5*time.Second)
			setImage(c, "podinfo", "podinfo:2.0.0")

			rollout := time.Minute
			next := sync(k, rollout)
			Expect(next).To(Equal(at(rollout + 5*time.Second)))
			next = sync(k, rollout+5*time.Second)
			Expect(next).To(Equal(at(rollout+want+time.Second)), "the controller's progress check")
			sync(k, rollout+want)
			d := getDeployment(c, "podinfo")
			Expect(cond(d, appsv1.DeploymentProgressing).Reason).To(Equal(cluster.ReasonReplicaSetUpdated), "not yet at the deadline")
			Expect(statusCounts(d)).To(Equal(counts{2, 1, 1, 1, 1}), "the old pod keeps serving")

			next = sync(k, rollout+want+time.Second)
			Expect(next.IsZero()).To(BeTrue())
			d = getDeployment(c, "podinfo")
			prog := cond(d, appsv1.DeploymentProgressing)
			Expect(prog.Status).To(Equal(corev1.ConditionFalse))
			Expect(prog.Reason).To(Equal(cluster.ReasonProgressDeadlineExceeded))
			Expect(prog.Message).To(MatchRegexp(`^ReplicaSet "podinfo-[a-z0-9]{10}" has timed out progressing\.$`))
			Expect(prog.LastTransitionTime.Time).To(BeTemporally("==", at(rollout+want+time.Second)))
			Expect(k.Pods("podinfo")).To(HaveLen(2))
		},
		Entry("default 600s", nil, 600*time.Second),
		Entry("60s", ptr(int32(60)), 60*time.Second),
	)

	It("writes status only through the status subresource, and only when it changes", func() {
		w := &writes{}
		c := newClient(w, newDeployment("podinfo", "podinfo:1.0.0", 1))
		k := cluster.NewDeploymentSimulator(c, testNS, 5*time.Second, nil)
		sync(k, 0)
		Expect(w.statusUpdate).To(Equal(1))
		sync(k, time.Second)
		sync(k, 2*time.Second)
		Expect(w.statusUpdate).To(Equal(1), "no change, no write")
		sync(k, 5*time.Second)
		Expect(w.statusUpdate).To(Equal(2))
		sync(k, time.Minute)
		Expect(w.statusUpdate).To(Equal(2))
		Expect(w.update + w.patch + w.statusPatch).To(Equal(0))
		Expect(getDeployment(c, "podinfo").Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:1.0.0"))
	})

	It("retries a status write that conflicts", func() {
		w := &writes{conflictsToInject: 2}
		c := newClient(w, newDeployment("podinfo", "podinfo:1.0.0", 1))
		k := cluster.NewDeploymentSimulator(c, testNS, 0, nil)
		sync(k, 0)
		Expect(w.conflictsToInject).To(Equal(0))
		Expect(w.statusUpdate).To(Equal(1))
		d := getDeployment(c, "podinfo")
		Expect(d.Status.ReadyReplicas).To(Equal(int32(1)))
		Expect(cond(d, appsv1.DeploymentProgressing).Reason).To(Equal(cluster.ReasonNewReplicaSetAvailable))
	})

	It("removes every pod when scaled to 0 and creates new ones when scaled up", func() {
		c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 2))
		k := cluster.NewDeploymentSimulator(c, testNS, 5*time.Second, nil)
		sync(k, 0)
		sync(k, 5*time.Second)
		first := podNames(k.Pods("podinfo"))
		setReplicas(c, "podinfo", 0)
		sync(k, time.Minute)
		Expect(k.Pods("podinfo")).To(BeEmpty())
		d := getDeployment(c, "podinfo")
		Expect(statusCounts(d)).To(Equal(counts{0, 0, 0, 0, 0}))
		Expect(cond(d, appsv1.DeploymentAvailable).Status).To(Equal(corev1.ConditionTrue))

		setReplicas(c, "podinfo", 1)
		next := sync(k, 2*time.Minute)
		Expect(next).To(Equal(at(2*time.Minute + 5*time.Second)))
		pods := k.Pods("podinfo")
		Expect(pods).To(HaveLen(1))
		Expect(first).NotTo(ContainElement(pods[0].Name), "a new pod, a new name")
		Expect(pods[0].Started).To(Equal(at(2 * time.Minute)))
		Expect(cond(getDeployment(c, "podinfo"), appsv1.DeploymentAvailable).Status).To(Equal(corev1.ConditionFalse))
	})

	It("names pods deterministically", func() {
		run := func() []string {
			c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 3))
			k := cluster.NewDeploymentSimulator(c, testNS, 0, nil)
			sync(k, 0)
			setImage(c, "podinfo", "podinfo:2.0.0")
			sync(k, time.Minute)
			return podNames(k.Pods("podinfo"))
		}
		a, b := run(), run()
		Expect(a).To(HaveLen(3))
		Expect(a).To(Equal(b))
		for _, n := range a {
			Expect(n).To(MatchRegexp(podNameRE.String()))
		}
		Expect(a[0]).NotTo(Equal(a[1]))
	})

	It("hashes a template alike with or without the API server's defaults", func() {
		bare := newDeployment("podinfo", "podinfo:1.0.0", 1).Spec.Template
		bare.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9898}}
		defaulted := *bare.DeepCopy()
		defaulted.Spec.RestartPolicy = corev1.RestartPolicyAlways
		defaulted.Spec.DNSPolicy = corev1.DNSClusterFirst
		defaulted.Spec.SchedulerName = corev1.DefaultSchedulerName
		defaulted.Spec.SecurityContext = &corev1.PodSecurityContext{}
		defaulted.Spec.TerminationGracePeriodSeconds = ptr(int64(30))
		defaulted.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
		defaulted.Spec.Containers[0].TerminationMessagePath = corev1.TerminationMessagePathDefault
		defaulted.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageReadFile
		defaulted.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolTCP
		Expect(cluster.PodTemplateHash(&bare)).To(Equal(cluster.PodTemplateHash(&defaulted)))
		Expect(cluster.PodTemplateHash(&bare)).To(HaveLen(10))

		other := *bare.DeepCopy()
		other.Spec.Containers[0].Image = "podinfo:1.0.1"
		Expect(cluster.PodTemplateHash(&other)).NotTo(Equal(cluster.PodTemplateHash(&bare)))
		pulled := *bare.DeepCopy()
		pulled.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		Expect(cluster.PodTemplateHash(&pulled)).NotTo(Equal(cluster.PodTemplateHash(&bare)), "a non-default value is part of the template")
	})

	It("forgets a deleted Deployment", func() {
		c := newClient(nil, newDeployment("podinfo", "podinfo:1.0.0", 1), newDeployment("other", "other:1", 1))
		k := cluster.NewDeploymentSimulator(c, testNS, 0, nil)
		sync(k, 0)
		Expect(k.Pods("podinfo")).To(HaveLen(1))
		img, ok := k.EachPod("podinfo", func(cluster.Pod) {})
		Expect(ok).To(BeTrue())
		Expect(img).To(Equal("podinfo:1.0.0"))
		Expect(c.Delete(ctx, getDeployment(c, "podinfo"))).To(Succeed())
		sync(k, time.Second)
		Expect(k.Pods("podinfo")).To(BeEmpty())
		_, ok = k.EachPod("podinfo", func(cluster.Pod) {})
		Expect(ok).To(BeFalse())
		Expect(k.Pods("other")).To(HaveLen(1))
	})
})
