package cluster

import (
	"context"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"aviary.dev/aviary/api/v1beta1"
)

// BenchmarkChecks measures the API server's checks of the writes a run makes most:
// the Canary's status every tick, the VirtualService at each weight step, and the
// creates of the objects a run starts with.
func BenchmarkChecks(b *testing.B) {
	s, err := NewScheme()
	if err != nil {
		b.Fatal(err)
	}
	checks := newServerChecks(nil)
	ctx := context.Background()
	update := func(name string, old client.Object, status bool, change func(client.Object)) {
		b.Run(name, func(b *testing.B) {
			gvk, err := apiutil.GVKForObject(old, s)
			if err != nil {
				b.Fatal(err)
			}
			old.SetResourceVersion("3")
			obj := old.DeepCopyObject().(client.Object)
			change(obj)
			b.ReportAllocs()
			for b.Loop() {
				if err := checks.update(ctx, gvk, obj, old, status); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	progressing := func() client.Object {
		cd := fcCanary()
		cd.Status = v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseProgressing, CanaryWeight: 10, FailedChecks: 1,
			LastTransitionTime: metav1.NewTime(time.Unix(1000, 0))}
		return cd
	}
	update("canary-status", progressing(), true, func(o client.Object) {
		cd := o.(*v1beta1.Canary)
		cd.Status.CanaryWeight, cd.Status.FailedChecks = 20, 2
		cd.Status.LastTransitionTime = metav1.NewTime(time.Unix(1060, 0))
	})
	update("canary-status-phase", progressing(), true, func(o client.Object) {
		o.(*v1beta1.Canary).Status.Phase = v1beta1.CanaryPhasePromoting
	})
	vs := fcVirtualService()
	vs.Spec.Http[0].Route[0].Weight, vs.Spec.Http[0].Route[1].Weight = 90, 10
	update("virtualservice-step", vs, false, func(o client.Object) {
		r := o.(*istionet.VirtualService).Spec.Http[0].Route
		r[0].Weight, r[1].Weight = 80, 20
	})
	update("virtualservice-step-from-100", fcVirtualService(), false, func(o client.Object) {
		r := o.(*istionet.VirtualService).Spec.Http[0].Route
		r[0].Weight, r[1].Weight = 90, 10
	})
	dr := &istionet.DestinationRule{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: "a"}}
	dr.Spec.Host = "podinfo-primary"
	for name, obj := range map[string]client.Object{"canary": fcCanary(), "virtualservice": fcVirtualService(), "destinationrule": dr} {
		gvk, err := apiutil.GVKForObject(obj, s)
		if err != nil {
			b.Fatal(err)
		}
		for _, memo := range []bool{false, true} {
			b.Run(map[bool]string{false: "create-", true: "create-again-"}[memo]+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !memo {
						checks.memo = NewVerdicts()
					}
					if err := checks.create(ctx, gvk, obj.DeepCopyObject().(client.Object)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
