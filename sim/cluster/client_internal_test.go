package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
)

// The fast client (NewFakeClient) must behave like the fake client it stands in
// front of (newFakeClient): every spec below applies the same operations to both and
// compares what each returns, step by step, TypeMeta included (both clear it on
// typed objects).
//
// This file is in package sim (for newFakeClient and fastClient) and runs in the
// sim_test suite; ginkgo is not dot-imported because package sim has an Offset of its
// own.

var fcCtx = context.Background()

// fcPair is the fake client and a fast client, each with its own store.
type fcPair struct {
	plain client.Client
	fast  *fastClient
	// tracked are the objects whose stored state expectSameState compares.
	tracked []client.Object
}

func newFCPair() *fcPair {
	ginkgo.GinkgoHelper()
	s1, err := NewScheme()
	Expect(err).NotTo(HaveOccurred())
	s2, err := NewScheme()
	Expect(err).NotTo(HaveOccurred())
	plain, _, _ := newFakeClient(s1, nil)
	fast, ok := NewFakeClient(s2, nil).(*fastClient)
	Expect(ok).To(BeTrue(), "NewFakeClient returns the fast client")
	return &fcPair{plain: plain, fast: fast}
}

// do applies op to a copy of obj on each client and expects the same outcome: the
// same error (text and reason), or the same object left in the copy. What a failed
// write leaves in its object is not compared: the fake client has already copied the
// stored status (and its interceptor the next generation) into it, the fast client
// leaves it as it was (as a real client does).
func (p *fcPair) do(obj client.Object, op func(client.Client, client.Object) error) (plain, fast client.Object, err error) {
	ginkgo.GinkgoHelper()
	plain = obj.DeepCopyObject().(client.Object)
	fast = obj.DeepCopyObject().(client.Object)
	plainErr := op(p.plain, plain)
	fastErr := op(p.fast, fast)
	expectSameError(plainErr, fastErr)
	if plainErr == nil {
		expectSameObject(plain, fast)
	}
	return plain, fast, plainErr
}

// get reads key into a new object of obj's type from each client.
func (p *fcPair) get(obj client.Object) (plain, fast client.Object, err error) {
	ginkgo.GinkgoHelper()
	key := client.ObjectKeyFromObject(obj)
	empty := obj.DeepCopyObject().(client.Object)
	zeroObject(empty)
	return p.do(empty, func(c client.Client, o client.Object) error { return c.Get(fcCtx, key, o) })
}

// create creates obj in both and tracks it.
func (p *fcPair) create(obj client.Object) client.Object {
	ginkgo.GinkgoHelper()
	plain, _, err := p.do(obj, func(c client.Client, o client.Object) error { return c.Create(fcCtx, o) })
	Expect(err).NotTo(HaveOccurred())
	p.tracked = append(p.tracked, obj)
	return plain
}

func (p *fcPair) update(obj client.Object) (client.Object, error) {
	ginkgo.GinkgoHelper()
	plain, _, err := p.do(obj, func(c client.Client, o client.Object) error { return c.Update(fcCtx, o) })
	return plain, err
}

func (p *fcPair) updateStatus(obj client.Object) (client.Object, error) {
	ginkgo.GinkgoHelper()
	plain, _, err := p.do(obj, func(c client.Client, o client.Object) error { return c.Status().Update(fcCtx, o) })
	return plain, err
}

// expectSameState reads every tracked object back from both clients.
func (p *fcPair) expectSameState() {
	ginkgo.GinkgoHelper()
	for _, obj := range p.tracked {
		p.get(obj)
	}
}

// zeroObject sets obj to its type's zero value, keeping nothing.
func zeroObject(obj client.Object) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		*o = appsv1.Deployment{}
	case *corev1.Service:
		*o = corev1.Service{}
	case *v1beta1.Canary:
		*o = v1beta1.Canary{}
	case *istionet.VirtualService:
		*o = istionet.VirtualService{}
	case *traefik.TraefikService:
		*o = traefik.TraefikService{}
	default:
		ginkgo.Fail(fmt.Sprintf("zeroObject: unexpected %T", obj))
	}
}

func expectSameError(plain, fast error) {
	ginkgo.GinkgoHelper()
	if plain == nil {
		Expect(fast).NotTo(HaveOccurred(), "the fake client succeeded")
		return
	}
	Expect(fast).To(HaveOccurred(), "the fake client failed with %v", plain)
	Expect(fast.Error()).To(Equal(plain.Error()))
	Expect(apierrors.ReasonForError(fast)).To(Equal(apierrors.ReasonForError(plain)))
}

// expectSameObject compares two objects without their TypeMeta: Istio's protobuf specs
// with proto.Equal, everything else with the API's semantic equality (instants, not
// time zones; nil and empty collections alike).
func expectSameObject(plain, fast runtime.Object) {
	ginkgo.GinkgoHelper()
	p, f := plain.DeepCopyObject(), fast.DeepCopyObject()
	Expect(f.GetObjectKind().GroupVersionKind()).To(Equal(p.GetObjectKind().GroupVersionKind()), "TypeMeta")
	if pvs, ok := p.(*istionet.VirtualService); ok {
		fvs, ok := f.(*istionet.VirtualService)
		Expect(ok).To(BeTrue(), "fast client returned a %T", f)
		Expect(equality.Semantic.DeepEqual(pvs.ObjectMeta, fvs.ObjectMeta)).To(BeTrue(), diff.Diff(pvs.ObjectMeta, fvs.ObjectMeta))
		Expect(proto.Equal(&fvs.Spec, &pvs.Spec)).To(BeTrue(), "spec: fake %v, fast %v", &pvs.Spec, &fvs.Spec)
		Expect(proto.Equal(&fvs.Status, &pvs.Status)).To(BeTrue(), "status: fake %v, fast %v", &pvs.Status, &fvs.Status)
		return
	}
	Expect(equality.Semantic.DeepEqual(p, f)).To(BeTrue(), "fake (-) and fast (+) differ:\n%s", diff.Diff(p, f))
}

func fcDeployment(ns, name string, labels map[string]string) *appsv1.Deployment {
	app := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: app},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: app},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "podinfo:1.0.0"}}},
			},
		},
	}
}

func fcService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "a"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "podinfo"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 9898, TargetPort: intstr.FromInt32(9898)}},
		},
	}
}

func fcCanary() *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "a"},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   v1beta1.CanaryService{Port: 9898},
			Analysis:  &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, StepWeight: 10, MaxWeight: 50},
		},
	}
}

func fcVirtualService() *istionet.VirtualService {
	vs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "a"}}
	vs.Spec.Hosts = []string{"podinfo"}
	vs.Spec.Gateways = []string{"mesh"}
	vs.Spec.Http = []*istioapi.HTTPRoute{{Route: []*istioapi.HTTPRouteDestination{
		{Destination: &istioapi.Destination{Host: "podinfo-primary"}, Weight: 100},
		{Destination: &istioapi.Destination{Host: "podinfo-canary"}},
	}}}
	return vs
}

func fcTraefikService() *traefik.TraefikService {
	weight := 100
	return &traefik.TraefikService{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "a"},
		Spec: traefik.TraefikServiceSpec{Weighted: &traefik.WeightedRoundRobin{Services: []traefik.Service{
			{LoadBalancerSpec: traefik.LoadBalancerSpec{Name: "podinfo-primary", Namespace: "a", Port: intstr.FromInt32(9898), Weight: &weight}},
		}}},
	}
}

// fcTime falls between seconds, as virtual time can: the API server stores whole
// seconds, and so do the fake client's JSON round trips and the fast client.
var fcTime = metav1.NewTime(time.Date(2026, time.January, 1, 0, 1, 30, 500_000_000, time.UTC))

var _ = ginkgo.Describe("fast client", func() {
	var (
		p      *fcPair
		dep    *appsv1.Deployment
		svc    *corev1.Service
		cd     *v1beta1.Canary
		vs     *istionet.VirtualService
		writes uint64
	)

	ginkgo.BeforeEach(func() {
		p = newFCPair()
		dep = p.create(fcDeployment("a", "podinfo", map[string]string{"team": "x"})).(*appsv1.Deployment)
		svc = p.create(fcService()).(*corev1.Service)
		cd = p.create(fcCanary()).(*v1beta1.Canary)
		vs = p.create(fcVirtualService()).(*istionet.VirtualService)
		Expect(dep.Generation).To(Equal(int64(1)), "a created Deployment is at generation 1")
		Expect(dep.ResourceVersion).To(Equal("1"))
		p.expectSameState()

		// a stored Deployment status, for the updates below to keep or replace
		dep.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1}
		got, err := p.updateStatus(dep)
		Expect(err).NotTo(HaveOccurred())
		dep = got.(*appsv1.Deployment)
		Expect(dep.ResourceVersion).To(Equal("2"))
		p.expectSameState()
		writes = p.fast.Writes().All
		Expect(writes).To(Equal(uint64(5)))
	})

	ginkgo.It("creates and gets a Deployment, a Service, a Canary and a VirtualService alike", func() {
		for _, obj := range []client.Object{dep, svc, cd, vs} {
			plain, fast, err := p.get(obj)
			Expect(err).NotTo(HaveOccurred())
			Expect(plain.GetResourceVersion()).NotTo(BeEmpty())
			Expect(fast.GetName()).To(Equal("podinfo"))
		}
		_, fastVS, err := p.get(vs)
		Expect(err).NotTo(HaveOccurred())
		Expect(fastVS.(*istionet.VirtualService).Spec.GetHttp()[0].GetRoute()[0].GetWeight()).To(Equal(int32(100)))
		_, fastDep, err := p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		Expect(fastDep.(*appsv1.Deployment).Status.ReadyReplicas).To(Equal(int32(1)))
	})

	ginkgo.It("hands out copies: changing what Get or a write returned changes nothing stored", func() {
		_, fast, err := p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		d := fast.(*appsv1.Deployment)
		d.Spec.Template.Spec.Containers[0].Image = "changed"
		d.Labels["team"] = "changed"
		d.Status.ReadyReplicas = 42
		_, fast, err = p.get(vs)
		Expect(err).NotTo(HaveOccurred())
		fast.(*istionet.VirtualService).Spec.Http[0].Route[0].Weight = 1
		p.expectSameState()

		next := dep.DeepCopy()
		next.Spec.Template.Spec.Containers[0].Image = "podinfo:2.0.0"
		_, fast, err = p.do(next, func(c client.Client, o client.Object) error { return c.Update(fcCtx, o) })
		Expect(err).NotTo(HaveOccurred())
		fast.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "changed after the update"
		next = fast.(*appsv1.Deployment).DeepCopy()
		next.Status.ReadyReplicas = 0
		_, fast, err = p.do(next, func(c client.Client, o client.Object) error { return c.Status().Update(fcCtx, o) })
		Expect(err).NotTo(HaveOccurred())
		fast.(*appsv1.Deployment).Status.ReadyReplicas = 42
		p.expectSameState()

		_, fast, err = p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		d = fast.(*appsv1.Deployment)
		Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:2.0.0"))
		Expect(d.Labels).To(HaveKeyWithValue("team", "x"))
		Expect(d.Status.ReadyReplicas).To(BeZero())
	})

	ginkgo.It("keeps no part of a status it was given: changing it after Status().Update changes nothing stored", func() {
		_, fast, err := p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		d := fast.(*appsv1.Deployment)
		conds := []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}
		d.Status.Conditions = conds
		Expect(p.fast.Status().Update(fcCtx, d)).To(Succeed())
		conds[0].Reason = "changed by the caller"
		d.Status.Conditions[0].Reason = "changed in the written object"

		got := &appsv1.Deployment{}
		Expect(p.fast.Get(fcCtx, client.ObjectKeyFromObject(dep), got)).To(Succeed())
		Expect(got.Status.Conditions).To(HaveLen(1))
		Expect(got.Status.Conditions[0].Reason).To(Equal("MinimumReplicasAvailable"))
	})

	ginkgo.It("keeps the stored status on Update and moves the generation on spec changes only", func() {
		stored := dep.Status

		next := dep.DeepCopy()
		next.Spec.Replicas = new(int32(3))
		next.Status = appsv1.DeploymentStatus{ObservedGeneration: 9, Replicas: 7}
		got, err := p.update(next)
		Expect(err).NotTo(HaveOccurred())
		d := got.(*appsv1.Deployment)
		Expect(*d.Spec.Replicas).To(Equal(int32(3)))
		Expect(d.Generation).To(Equal(int64(2)))
		Expect(d.Status).To(Equal(stored))
		Expect(d.ResourceVersion).To(Equal("3"))
		p.expectSameState()

		next = d.DeepCopy()
		next.Labels["team"] = "y"
		next.Status.Replicas = 11
		got, err = p.update(next)
		Expect(err).NotTo(HaveOccurred())
		d = got.(*appsv1.Deployment)
		Expect(d.Labels).To(HaveKeyWithValue("team", "y"))
		Expect(d.Generation).To(Equal(int64(2)), "a metadata change is not a spec change")
		Expect(d.Status).To(Equal(stored))
		Expect(d.ResourceVersion).To(Equal("4"))
		p.expectSameState()

		got, err = p.update(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetGeneration()).To(Equal(int64(2)), "an unchanged spec")
		Expect(got.GetResourceVersion()).To(Equal("5"))
		p.expectSameState()

		_, fast, err := p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		Expect(fast.(*appsv1.Deployment).Status).To(Equal(stored))
		Expect(fast.GetGeneration()).To(Equal(int64(2)))
	})

	ginkgo.It("keeps a Service's stored status on Update", func() {
		next := svc.DeepCopy()
		next.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}
		got, err := p.updateStatus(next)
		Expect(err).NotTo(HaveOccurred())
		stored := got.(*corev1.Service).Status
		Expect(stored.LoadBalancer.Ingress).To(HaveLen(1))

		next = got.(*corev1.Service).DeepCopy()
		next.Spec.Ports[0].Port = 80
		next.Status = corev1.ServiceStatus{}
		got, err = p.update(next)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.(*corev1.Service).Spec.Ports[0].Port).To(Equal(int32(80)))
		Expect(got.(*corev1.Service).Status).To(Equal(stored))
		p.expectSameState()
	})

	ginkgo.It("writes only the status with Status().Update, keeping the spec, the metadata and the generation", func() {
		next := dep.DeepCopy()
		next.Spec.Replicas = new(int32(5))
		next.Labels["team"] = "z"
		next.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 1, UnavailableReplicas: 1}
		got, err := p.updateStatus(next)
		Expect(err).NotTo(HaveOccurred())
		d := got.(*appsv1.Deployment)
		Expect(d.Status).To(Equal(next.Status))
		Expect(*d.Spec.Replicas).To(Equal(int32(1)), "the stored spec")
		Expect(d.Labels).To(HaveKeyWithValue("team", "x"))
		Expect(d.Generation).To(Equal(int64(1)))
		Expect(d.ResourceVersion).To(Equal("3"))
		p.expectSameState()
	})

	ginkgo.It("writes a Canary's status with Status().Update and keeps it on Update", func() {
		next := cd.DeepCopy()
		next.Spec.Analysis.Interval = "2m"
		next.Status = v1beta1.CanaryStatus{
			Phase:              v1beta1.CanaryPhaseProgressing,
			CanaryWeight:       10,
			FailedChecks:       1,
			LastAppliedSpec:    "abc",
			TrackedConfigs:     &map[string]string{"configmap/podinfo": "1234"},
			LastTransitionTime: fcTime,
			Conditions: []v1beta1.CanaryCondition{{
				Type: v1beta1.PromotedType, Status: corev1.ConditionUnknown,
				LastUpdateTime: fcTime, LastTransitionTime: fcTime,
				Reason: "Progressing", Message: "New revision detected, progressing canary analysis.",
			}},
		}
		got, err := p.updateStatus(next)
		Expect(err).NotTo(HaveOccurred())
		c := got.(*v1beta1.Canary)
		Expect(c.Spec.Analysis.Interval).To(Equal("1m"), "the stored spec")
		Expect(c.Status.LastTransitionTime.Time).To(Equal(time.Unix(fcTime.Unix(), 0)), "whole seconds, in local time")
		Expect(c.Status.Conditions[0].LastUpdateTime.Time).To(Equal(time.Unix(fcTime.Unix(), 0)))
		next.Status.LastTransitionTime = c.Status.LastTransitionTime
		next.Status.Conditions[0].LastUpdateTime = c.Status.Conditions[0].LastUpdateTime
		next.Status.Conditions[0].LastTransitionTime = c.Status.Conditions[0].LastTransitionTime
		Expect(equality.Semantic.DeepEqual(c.Status, next.Status)).To(BeTrue(), diff.Diff(next.Status, c.Status))
		Expect(c.Generation).To(Equal(cd.Generation))
		Expect(c.ResourceVersion).To(Equal("2"))
		p.expectSameState()

		written := c.Status
		next = c.DeepCopy()
		next.Spec.Analysis.Interval = "2m"
		next.Status = v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseFailed}
		got, err = p.update(next)
		Expect(err).NotTo(HaveOccurred())
		c = got.(*v1beta1.Canary)
		Expect(c.Spec.Analysis.Interval).To(Equal("2m"))
		Expect(equality.Semantic.DeepEqual(c.Status, written)).To(BeTrue(), diff.Diff(written, c.Status))
		Expect(c.ResourceVersion).To(Equal("3"))
		Expect(c.Generation).To(Equal(int64(2)), "a spec change moves a Canary's generation")
		p.expectSameState()
	})

	ginkgo.It("moves a Canary's generation on spec changes only, through Update and merge patches", func() {
		Expect(cd.Generation).To(Equal(int64(1)), "a created Canary is at generation 1")
		patch := func(body string) *v1beta1.Canary {
			ginkgo.GinkgoHelper()
			got, _, err := p.do(cd, func(c client.Client, o client.Object) error {
				return c.Patch(fcCtx, o, client.RawPatch(types.MergePatchType, []byte(body)))
			})
			Expect(err).NotTo(HaveOccurred())
			return got.(*v1beta1.Canary)
		}
		c := patch(`{"spec":{"suspend":true}}`)
		Expect(c.Spec.Suspend).To(BeTrue())
		Expect(c.Generation).To(Equal(int64(2)))
		p.expectSameState()

		c = patch(`{"metadata":{"labels":{"team":"y"}}}`)
		Expect(c.Labels).To(HaveKeyWithValue("team", "y"))
		Expect(c.Generation).To(Equal(int64(2)), "a metadata change is not a spec change")
		p.expectSameState()

		next := c.DeepCopy()
		next.Labels["team"] = "z"
		got, err := p.update(next)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetGeneration()).To(Equal(int64(2)))
		next = got.(*v1beta1.Canary).DeepCopy()
		next.Spec.Suspend = false
		got, err = p.update(next)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetGeneration()).To(Equal(int64(3)))
		p.expectSameState()
	})

	ginkgo.It("updates a VirtualService's spec", func() {
		next := vs.DeepCopy()
		next.Spec.Hosts = append(next.Spec.Hosts, "app.example.com")
		next.Spec.Http[0].Route[0].Weight = 90
		next.Spec.Http[0].Route[1].Weight = 10
		next.Spec.Http[0].Mirror = &istioapi.Destination{Host: "podinfo-canary"}
		got, err := p.update(next)
		Expect(err).NotTo(HaveOccurred())
		v := got.(*istionet.VirtualService)
		Expect(v.Spec.GetHosts()).To(Equal([]string{"podinfo", "app.example.com"}))
		Expect(v.Spec.GetHttp()[0].GetRoute()[1].GetWeight()).To(Equal(int32(10)))
		Expect(v.ResourceVersion).To(Equal("2"))
		p.expectSameState()

		next = v.DeepCopy()
		next.Spec.Http[0].Route[0].Weight = 0
		next.Spec.Http[0].Route[1].Weight = 100
		next.Spec.Http[0].Mirror = nil
		got, err = p.update(next)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetResourceVersion()).To(Equal("3"))
		p.expectSameState()
		_, fast, err := p.get(vs)
		Expect(err).NotTo(HaveOccurred())
		Expect(fast.(*istionet.VirtualService).Spec.GetHttp()[0].GetRoute()[0].GetWeight()).To(BeZero())
		Expect(fast.(*istionet.VirtualService).Spec.GetHttp()[0].GetMirror()).To(BeNil())
	})

	ginkgo.It("creates, updates and refuses stale or missing updates of a TraefikService alike, counting them as route writes", func() {
		routesAt := p.fast.Writes().Routes
		ts := p.create(fcTraefikService()).(*traefik.TraefikService)
		Expect(p.fast.Writes().Routes).To(Equal(routesAt + 1))
		p.expectSameState()

		next := ts.DeepCopy()
		canary, primary := 10, 90
		next.Spec.Weighted.Services[0].Weight = &primary
		next.Spec.Weighted.Services = append(next.Spec.Weighted.Services, traefik.Service{LoadBalancerSpec: traefik.LoadBalancerSpec{
			Name: "podinfo-canary", Namespace: "a", Port: intstr.FromInt32(9898), Weight: &canary}})
		next.Labels = map[string]string{"team": "x"}
		got, err := p.update(next)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetResourceVersion()).To(Equal("2"))
		Expect(p.fast.Writes().Routes).To(Equal(routesAt + 2))
		p.expectSameState()
		_, fast, err := p.get(ts)
		Expect(err).NotTo(HaveOccurred())
		Expect(*fast.(*traefik.TraefikService).Spec.Weighted.Services[1].Weight).To(Equal(10))

		// what a Get returned is a copy
		fast.(*traefik.TraefikService).Spec.Weighted.Services[1].Name = "changed"
		p.expectSameState()

		_, err = p.update(ts) // at resourceVersion 1
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "got %v", err)
		missing := got.DeepCopyObject().(*traefik.TraefikService)
		missing.Name = "missing"
		_, err = p.update(missing)
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
		Expect(p.fast.Writes().Routes).To(Equal(routesAt+2), "refused writes are not counted")
		p.expectSameState()
	})

	ginkgo.DescribeTable("refuses a stale resourceVersion with a Conflict in both",
		func(current func() client.Object, status bool) {
			write := p.update
			if status {
				write = p.updateStatus
			}
			stale := current()
			fresh := stale.DeepCopyObject().(client.Object)
			fresh.SetAnnotations(map[string]string{"step": "1"})
			got, err := write(fresh)
			Expect(err).NotTo(HaveOccurred())
			rv := got.GetResourceVersion()
			Expect(p.fast.Writes().All).To(Equal(writes + 1))

			stale.SetAnnotations(map[string]string{"step": "stale"})
			_, err = write(stale)
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "got %v", err)
			Expect(p.fast.Writes().All).To(Equal(writes+1), "a refused write is not counted")
			p.expectSameState()
			_, fast, err := p.get(stale)
			Expect(err).NotTo(HaveOccurred())
			Expect(fast.GetResourceVersion()).To(Equal(rv))
		},
		ginkgo.Entry("Update of a Deployment", func() client.Object { return dep }, false),
		ginkgo.Entry("Status().Update of a Deployment", func() client.Object { return dep }, true),
		ginkgo.Entry("Update of a Service", func() client.Object { return svc }, false),
		ginkgo.Entry("Update of a Canary", func() client.Object { return cd }, false),
		ginkgo.Entry("Status().Update of a Canary", func() client.Object { return cd }, true),
		ginkgo.Entry("Update of a VirtualService", func() client.Object { return vs }, false),
	)

	ginkgo.DescribeTable("refuses to update what is not there with NotFound in both",
		func(current func() client.Object, name, resourceVersion string, status bool) {
			write := p.update
			if status {
				write = p.updateStatus
			}
			obj := current().DeepCopyObject().(client.Object)
			obj.SetName(name)
			obj.SetResourceVersion(resourceVersion)
			_, err := write(obj)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
			Expect(p.fast.Writes().All).To(Equal(writes), "a refused write is not counted")
			_, _, err = p.get(obj)
			if name == "missing" {
				Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
			}
			p.expectSameState()
		},
		ginkgo.Entry("Update of a Deployment", func() client.Object { return dep }, "missing", "2", false),
		ginkgo.Entry("unconditional Update of a Deployment", func() client.Object { return dep }, "missing", "", false),
		ginkgo.Entry("Status().Update of a Deployment", func() client.Object { return dep }, "missing", "2", true),
		ginkgo.Entry("Update of a Canary", func() client.Object { return cd }, "missing", "1", false),
		ginkgo.Entry("Status().Update of a Canary", func() client.Object { return cd }, "missing", "1", true),
		ginkgo.Entry("Update of a VirtualService", func() client.Object { return vs }, "missing", "1", false),
		ginkgo.Entry("Status().Update of a kind without a status subresource (VirtualService)", func() client.Object { return vs }, "podinfo", "1", true),
	)

	ginkgo.It("refuses alike, with the API server's error, the writes the CRDs and the Service rules do not admit", func() {
		next := cd.DeepCopy()
		next.Spec.Analysis.Interval = "5x"
		_, err := p.update(next)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring(`spec.analysis.interval: Invalid value: "5x"`)))

		next = cd.DeepCopy()
		next.Status.Phase = "Bogus"
		_, err = p.updateStatus(next)
		Expect(err).To(MatchError(ContainSubstring(`status.phase: Unsupported value: "Bogus"`)))

		nvs := vs.DeepCopy()
		nvs.Spec.Http[0].Timeout = durationpb.New(0)
		_, err = p.update(nvs)
		Expect(err).To(MatchError(ContainSubstring(`spec.http[0].timeout: Invalid value: "0s": must be a valid duration greater than 1ms`)))

		nsvc := svc.DeepCopy()
		nsvc.Spec.Ports[0].Port = 70000
		_, err = p.update(nsvc)
		Expect(err).To(MatchError(ContainSubstring(`spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`)))
		p.expectSameState()

		// and admit alike what they do admit, spared a full check or not
		next = cd.DeepCopy()
		next.Status.Phase, next.Status.CanaryWeight = v1beta1.CanaryPhaseProgressing, 10
		_, err = p.updateStatus(next)
		Expect(err).NotTo(HaveOccurred())
		nvs = vs.DeepCopy()
		nvs.Spec.Http[0].Route[0].Weight, nvs.Spec.Http[0].Route[1].Weight = 90, 10
		_, err = p.update(nvs)
		Expect(err).NotTo(HaveOccurred())
		p.expectSameState()
	})

	ginkgo.It("answers an Update of a missing Service as the fake client does (Services may be created on update)", func() {
		missing := fcService()
		missing.Name = "missing"
		missing.ResourceVersion = "1"
		_, err := p.update(missing)
		Expect(apierrors.IsBadRequest(err)).To(BeTrue(), "got %v", err)
		missing.ResourceVersion = ""
		_, err = p.update(missing)
		Expect(err).NotTo(HaveOccurred())
		p.tracked = append(p.tracked, missing)
		p.expectSameState()
	})

	ginkgo.It("lists Deployments in a namespace, with and without a label selector", func() {
		for _, d := range []*appsv1.Deployment{
			fcDeployment("a", "web", map[string]string{"tier": "front", "env": "prod"}),
			fcDeployment("a", "api", map[string]string{"tier": "back", "env": "prod"}),
			fcDeployment("b", "web", map[string]string{"tier": "front", "env": "prod"}),
			fcDeployment("b", "db", map[string]string{"tier": "back", "env": "test"}),
		} {
			p.create(d)
		}
		list := func(opts ...client.ListOption) []string {
			ginkgo.GinkgoHelper()
			plain, fast := &appsv1.DeploymentList{}, &appsv1.DeploymentList{}
			expectSameError(p.plain.List(fcCtx, plain, opts...), p.fast.List(fcCtx, fast, opts...))
			Expect(fast.Items).To(HaveLen(len(plain.Items)))
			var names []string
			for i := range plain.Items {
				expectSameObject(&plain.Items[i], &fast.Items[i])
				names = append(names, plain.Items[i].Namespace+"/"+plain.Items[i].Name)
			}
			return names
		}
		Expect(list(client.InNamespace("a"))).To(Equal([]string{"a/api", "a/podinfo", "a/web"}))
		Expect(list(client.InNamespace("b"))).To(Equal([]string{"b/db", "b/web"}))
		Expect(list()).To(HaveLen(5))
		Expect(list(client.InNamespace("a"), client.MatchingLabels{"tier": "front"})).To(Equal([]string{"a/web"}))
		Expect(list(client.InNamespace("b"), client.MatchingLabels{"tier": "back"})).To(Equal([]string{"b/db"}))
		Expect(list(client.MatchingLabels{"tier": "front"})).To(Equal([]string{"a/web", "b/web"}))
		Expect(list(client.MatchingLabels{"tier": "front", "env": "test"})).To(BeEmpty())
		Expect(list(client.InNamespace("c"))).To(BeEmpty())

		// a List sees the latest writes, of either kind
		web := &appsv1.Deployment{}
		Expect(p.plain.Get(fcCtx, client.ObjectKey{Namespace: "a", Name: "web"}, web)).To(Succeed())
		web.Labels["tier"] = "back"
		web.Spec.Replicas = new(int32(2))
		_, err := p.update(web)
		Expect(err).NotTo(HaveOccurred())
		Expect(list(client.InNamespace("a"), client.MatchingLabels{"tier": "back"})).To(Equal([]string{"a/api", "a/web"}))
		web.ResourceVersion = "2"
		web.Status.Replicas = 2
		_, err = p.updateStatus(web)
		Expect(err).NotTo(HaveOccurred())
		fast := &appsv1.DeploymentList{}
		Expect(p.fast.List(fcCtx, fast, client.InNamespace("a"), client.MatchingLabels{"tier": "back"})).To(Succeed())
		Expect(fast.Items[1].Status.Replicas).To(Equal(int32(2)))
		Expect(fast.Items[1].Generation).To(Equal(int64(2)))
		Expect(list(client.InNamespace("a"))).To(HaveLen(3))
	})

	ginkgo.It("deletes: a Get after a Delete is NotFound in both, and a new object can take the name", func() {
		for _, obj := range []client.Object{dep, svc, cd, vs} {
			_, _, err := p.do(obj, func(c client.Client, o client.Object) error { return c.Delete(fcCtx, o) })
			Expect(err).NotTo(HaveOccurred())
			_, _, err = p.get(obj)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
		}
		Expect(p.fast.Writes().All).To(Equal(writes + 4))
		plain, fast := &appsv1.DeploymentList{}, &appsv1.DeploymentList{}
		Expect(p.plain.List(fcCtx, plain, client.InNamespace("a"))).To(Succeed())
		Expect(p.fast.List(fcCtx, fast, client.InNamespace("a"))).To(Succeed())
		Expect(plain.Items).To(BeEmpty())
		Expect(fast.Items).To(BeEmpty())

		again := p.create(fcDeployment("a", "podinfo", nil))
		Expect(again.GetResourceVersion()).To(Equal("1"))
		_, got, err := p.get(dep)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetLabels()).To(BeEmpty())
		Expect(got.(*appsv1.Deployment).Status).To(Equal(appsv1.DeploymentStatus{}))
		p.expectSameState()
	})

	ginkgo.It("counts successful writes only", func() {
		Expect(p.fast.Get(fcCtx, client.ObjectKeyFromObject(dep), &appsv1.Deployment{})).To(Succeed())
		Expect(p.fast.List(fcCtx, &appsv1.DeploymentList{}, client.InNamespace("a"))).To(Succeed())
		Expect(p.fast.Writes().All).To(Equal(writes), "reads are not writes")

		next := dep.DeepCopy()
		next.Spec.Replicas = new(int32(2))
		Expect(p.fast.Update(fcCtx, next)).To(Succeed())
		Expect(p.fast.Writes().All).To(Equal(writes + 1))
		next.Status.Replicas = 2
		Expect(p.fast.Status().Update(fcCtx, next)).To(Succeed())
		Expect(p.fast.Writes().All).To(Equal(writes + 2))

		Expect(p.fast.Update(fcCtx, dep.DeepCopy())).To(Satisfy(apierrors.IsConflict))
		Expect(p.fast.Status().Update(fcCtx, dep.DeepCopy())).To(Satisfy(apierrors.IsConflict))
		missing := fcDeployment("a", "missing", nil)
		missing.ResourceVersion = "1"
		Expect(p.fast.Update(fcCtx, missing)).To(Satisfy(apierrors.IsNotFound))
		Expect(p.fast.Create(fcCtx, fcService())).To(Satisfy(apierrors.IsAlreadyExists))
		Expect(p.fast.Writes().All).To(Equal(writes+2), "refused writes are not counted")

		Expect(p.fast.Create(fcCtx, fcDeployment("a", "other", nil))).To(Succeed())
		Expect(p.fast.Delete(fcCtx, cd.DeepCopy())).To(Succeed())
		Expect(p.fast.Writes().All).To(Equal(writes + 4))
		Expect(p.fast.Delete(fcCtx, cd.DeepCopy())).To(Satisfy(apierrors.IsNotFound))
		Expect(p.fast.Writes().All).To(Equal(writes+4), "a refused delete is not counted")
	})

	ginkgo.It("counts apart the writes that may change a Deployment (the Deployment simulator's only input) or the traffic split", func() {
		deployments, routesAt := p.fast.Writes().Deployments, p.fast.Writes().Routes
		Expect(deployments).To(Equal(uint64(2)), "the Deployment's create and status update")
		Expect(routesAt).To(Equal(uint64(2)), "the Deployment's and the VirtualService's creates")

		canary := cd.DeepCopy()
		canary.Status.Phase = v1beta1.CanaryPhaseProgressing
		Expect(p.fast.Status().Update(fcCtx, canary)).To(Succeed())
		Expect(p.fast.Delete(fcCtx, svc.DeepCopy())).To(Succeed())
		Expect(p.fast.Writes().Routes).To(Equal(routesAt), "Canary and Service writes")
		routes := vs.DeepCopy()
		routes.Labels = map[string]string{"x": "y"}
		Expect(p.fast.Update(fcCtx, routes)).To(Succeed())
		Expect(p.fast.Writes().Routes).To(Equal(routesAt + 1))
		Expect(p.fast.Writes().All).To(Equal(writes + 3))
		Expect(p.fast.Writes().Deployments).To(Equal(deployments), "Canary, VirtualService and Service writes")

		next := dep.DeepCopy()
		next.Spec.Replicas = new(int32(3))
		Expect(p.fast.Update(fcCtx, next)).To(Succeed())
		Expect(p.fast.Writes().Deployments).To(Equal(deployments + 1))
		Expect(p.fast.Writes().Routes).To(Equal(routesAt+1), "an existing Deployment changed, none created or deleted")
		Expect(p.fast.Update(fcCtx, dep.DeepCopy())).To(Satisfy(apierrors.IsConflict))
		Expect(p.fast.Writes().Deployments).To(Equal(deployments+1), "a refused write is not counted")
		other := fcDeployment("b", "other", nil)
		Expect(p.fast.Create(fcCtx, other)).To(Succeed())
		Expect(p.fast.Writes().Deployments).To(Equal(deployments + 2))
		Expect(p.fast.Writes().Routes).To(Equal(routesAt+2), "a Deployment created")
		Expect(p.fast.Create(fcCtx, fcDeployment("b", "other", nil))).To(Satisfy(apierrors.IsAlreadyExists))
		Expect(p.fast.Writes().Routes).To(Equal(routesAt + 2))
		Expect(p.fast.Delete(fcCtx, other)).To(Succeed())
		Expect(p.fast.Writes().Routes).To(Equal(routesAt+3), "and deleted")
		deployments, routesAt = p.fast.Writes().Deployments, p.fast.Writes().Routes

		// an object whose Go type does not tell its kind may be a Deployment
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
		u.SetNamespace("a")
		u.SetName("podinfo")
		Expect(p.fast.Delete(fcCtx, u)).To(Succeed())
		Expect(p.fast.Writes().Deployments).To(Equal(deployments + 1))
		Expect(p.fast.Writes().Routes).To(Equal(routesAt + 1))
	})
})
