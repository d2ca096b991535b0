package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/types/known/durationpb"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"aviary.dev/aviary/api/v1beta1"
)

// A spared write (validation_ratchet.go) is one the full check would admit and store
// as given: each case below is judged both ways, and where the write is spared the
// full check must agree; where it is not, the full check's verdict is the case's.
var _ = ginkgo.Describe("sparing a write the full check", func() {
	stored := func(obj client.Object) client.Object {
		obj.SetResourceVersion("7")
		obj.SetGeneration(1)
		return obj
	}
	progressing := func() client.Object {
		cd := fcCanary()
		cd.Status = v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1,
			LastTransitionTime: metav1.NewTime(fcTime.Truncate(1e9)), LastAppliedSpec: "abc",
			Conditions: []v1beta1.CanaryCondition{{Type: v1beta1.PromotedType, Status: "Unknown", Reason: "Progressing"}}}
		return stored(cd)
	}
	weighted := func() client.Object {
		vs := fcVirtualService()
		vs.Spec.Http[0].Route[0].Weight, vs.Spec.Http[0].Route[1].Weight = 90, 10
		return stored(vs)
	}
	canary := func(o client.Object) *v1beta1.Canary { return o.(*v1beta1.Canary) }
	route := func(o client.Object) []*istioapi.HTTPRouteDestination {
		return o.(*istionet.VirtualService).Spec.Http[0].Route
	}

	ginkgo.DescribeTable("would admit, or decides as the full check",
		func(old client.Object, status bool, change func(client.Object), spared bool, rejected string) {
			s, err := NewScheme()
			Expect(err).NotTo(HaveOccurred())
			gvk, err := apiutil.GVKForObject(old, s)
			Expect(err).NotTo(HaveOccurred())
			sc := newServerChecks(nil)
			v := sc.crds[gvk]
			c, err := v.validators()
			Expect(err).NotTo(HaveOccurred())

			obj := old.DeepCopyObject().(client.Object)
			change(obj)
			written, _ := json.Marshal(obj)
			got, metaErrs := sc.spare(context.Background(), v, c, obj, old, status)
			Expect(got).To(Equal(spared), "spared")
			full := obj.DeepCopyObject().(client.Object)
			err = sc.fullUpdate(context.Background(), gvk, v, c, full, old, status)
			if spared {
				Expect(fmt.Sprint(err)).To(Equal(fmt.Sprint(invalid(v.gk, obj.GetName(), metaErrs))), "the full check's verdict")
				after, _ := json.Marshal(full)
				Expect(string(after)).To(Equal(string(written)), "the full check stores the write as given")
			}
			if rejected == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(ContainSubstring(rejected)))
			}
		},
		ginkgo.Entry("a Canary's weight and failed checks", progressing(), true, func(o client.Object) {
			canary(o).Status.CanaryWeight, canary(o).Status.FailedChecks = 20, 2
		}, true, ""),
		ginkgo.Entry("a Canary's failed checks back to 0", progressing(), true, func(o client.Object) {
			canary(o).Status.FailedChecks = 0
		}, true, ""),
		ginkgo.Entry("a Canary's phase to another of the enum's", progressing(), true, func(o client.Object) {
			canary(o).Status.Phase = v1beta1.CanaryPhasePromoting
		}, true, ""),
		ginkgo.Entry("a Canary's phase to one the enum lacks", progressing(), true, func(o client.Object) {
			canary(o).Status.Phase = "Bogus"
		}, false, `status.phase: Unsupported value: "Bogus"`),
		ginkgo.Entry("a Canary's condition timestamps and message", progressing(), true, func(o client.Object) {
			canary(o).Status.Conditions[0].LastUpdateTime = metav1.NewTime(fcTime.Truncate(1e9))
			canary(o).Status.Conditions[0].Message = "New revision detected"
		}, true, ""),
		ginkgo.Entry("a Canary's second condition (a list grows)", progressing(), true, func(o client.Object) {
			canary(o).Status.Conditions = append(canary(o).Status.Conditions, v1beta1.CanaryCondition{Type: "Other", Status: "True"})
		}, false, ""),
		ginkgo.Entry("a Canary's spec through its status (kept as stored)", progressing(), true, func(o client.Object) {
			canary(o).Spec.Analysis.Interval = "5x"
		}, true, ""),
		ginkgo.Entry("a Canary's suspend (a plain boolean appears)", progressing(), false, func(o client.Object) {
			canary(o).Spec.Suspend = true
		}, true, ""),
		ginkgo.Entry("a Canary's stepWeight (under a CEL rule)", progressing(), false, func(o client.Object) {
			canary(o).Spec.Analysis.StepWeight = 20
		}, false, ""),
		ginkgo.Entry("a Canary's interval (under a CEL rule, and a pattern)", progressing(), false, func(o client.Object) {
			canary(o).Spec.Analysis.Interval = "5x"
		}, false, `spec.analysis.interval: Invalid value: "5x"`),
		ginkgo.Entry("a Canary's service port (unbounded)", progressing(), false, func(o client.Object) {
			canary(o).Spec.Service.Port = -1
		}, true, ""),
		ginkgo.Entry("a Canary's label", progressing(), false, func(o client.Object) {
			o.SetLabels(map[string]string{"team": "a"})
		}, true, ""),
		ginkgo.Entry("a Canary's label that is no label (metadata is checked when it changes)", progressing(), false, func(o client.Object) {
			o.SetLabels(map[string]string{"team": "a b"})
		}, true, `metadata.labels: Invalid value: "a b"`),
		ginkgo.Entry("a Canary's status in an update (which keeps the stored one)", progressing(), false, func(o client.Object) {
			canary(o).Status.CanaryWeight = 30
		}, false, ""),
		ginkgo.Entry("a VirtualService's weights", weighted(), false, func(o client.Object) {
			route(o)[0].Weight, route(o)[1].Weight = 80, 20
		}, true, ""),
		ginkgo.Entry("a VirtualService's weight to 0 (left out)", weighted(), false, func(o client.Object) {
			route(o)[0].Weight, route(o)[1].Weight = 100, 0
		}, true, ""),
		ginkgo.Entry("a VirtualService's negative weight (unbounded in the CRD)", weighted(), false, func(o client.Object) {
			route(o)[1].Weight = -5
		}, true, ""),
		ginkgo.Entry("a VirtualService's host", weighted(), false, func(o client.Object) {
			route(o)[1].Destination.Host = "podinfo-canary.test.svc.cluster.local"
		}, true, ""),
		ginkgo.Entry("a VirtualService's timeout (a duration, under a CEL rule)", weighted(), false, func(o client.Object) {
			o.(*istionet.VirtualService).Spec.Http[0].Timeout = durationpb.New(30e9)
		}, false, ""),
		ginkgo.Entry("a VirtualService's timeout of 0s", weighted(), false, func(o client.Object) {
			o.(*istionet.VirtualService).Spec.Http[0].Timeout = durationpb.New(0)
		}, false, `must be a valid duration greater than 1ms`),
		ginkgo.Entry("a VirtualService's third destination (a list grows)", weighted(), false, func(o client.Object) {
			vs := o.(*istionet.VirtualService)
			vs.Spec.Http[0].Route = append(vs.Spec.Http[0].Route, &istioapi.HTTPRouteDestination{Destination: &istioapi.Destination{Host: "x"}})
		}, false, ""),
	)

	ginkgo.It("judges a write its memo knows as it judged it first", func() {
		s, err := NewScheme()
		Expect(err).NotTo(HaveOccurred())
		bad := fcCanary()
		bad.Spec.Analysis.Interval = "5x"
		provider := func() *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "aviary.dev/v1beta1", "kind": "AlertProvider",
				"metadata": map[string]any{"name": "memo", "namespace": "test"},
				"spec":     map[string]any{"type": "slack", "secretRef": map[string]any{}, "unknown": "pruned"},
			}}
		}
		for _, obj := range []client.Object{bad, provider(), fcVirtualService()} {
			gvk, err := apiutil.GVKForObject(obj, s)
			Expect(err).NotTo(HaveOccurred())
			sc := newServerChecks(nil) // a fresh memo: the first write is judged afresh
			c, err := sc.crds[gvk].validators()
			Expect(err).NotTo(HaveOccurred())
			var results []string
			for range 2 {
				o := obj.DeepCopyObject().(client.Object)
				err := sc.create(context.Background(), gvk, o)
				stored, _ := json.Marshal(o)
				results = append(results, fmt.Sprint(err)+"\n"+string(stored))
			}
			_, known := sc.memo.recall(c, func() string { b, _ := json.Marshal(obj); return string(b) }())
			Expect(known).To(BeTrue(), "remembered")
			Expect(results[1]).To(Equal(results[0]), gvk.Kind)
		}
	})

	ginkgo.It("defaults a create as the API server does: an AlertProvider's secretRef gets its name", func() {
		s, err := NewScheme()
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "aviary.dev/v1beta1", "kind": "AlertProvider",
			"metadata": map[string]any{"name": "a", "namespace": "test"},
			"spec":     map[string]any{"type": "slack", "secretRef": map[string]any{}, "unknown": "pruned"},
		}}
		Expect(CheckCreate(s, u)).To(Succeed())
		Expect(u.Object["spec"]).To(Equal(map[string]any{"type": "slack", "secretRef": map[string]any{"name": ""}}))
	})
})
