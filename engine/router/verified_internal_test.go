package router

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/v1beta1"
)

// The routers' verdicts (verified.go): which reconciles are remembered, and when a
// remembered one no longer counts.
var _ = Describe("verified reconciles", func() {
	ctx := context.Background()
	var (
		c     client.Client
		memo  *lru.Cache
		cd    *v1beta1.Canary
		mesh  *Istio
		svcs  *KubernetesServices
		inOut string
	)
	BeforeEach(func() {
		s := runtime.NewScheme()
		Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
		Expect(istio.AddToScheme(s)).To(Succeed())
		uids := 0
		c = fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				uids++
				obj.SetUID(types.UID(fmt.Sprintf("uid-%d", uids)))
				return c.Create(ctx, obj, opts...)
			},
		}).Build()
		memo = lru.New(64)
		cd = &v1beta1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "canary-uid", Generation: 1},
			Spec: v1beta1.CanarySpec{
				TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
				Service:   v1beta1.CanaryService{Port: 9898},
				Analysis:  &v1beta1.CanaryAnalysis{Interval: "1m", Threshold: 5, StepWeight: 10},
			},
		}
		mesh = &Istio{Client: c, Memo: memo}
		svcs = &KubernetesServices{Client: c, LabelKey: "app", LabelValue: "podinfo", Memo: memo}
		inOut = svcs.verifiedInputs()
	})
	get := func(obj client.Object, name string) client.Object {
		GinkgoHelper()
		Expect(c.Get(ctx, types.NamespacedName{Namespace: "test", Name: name}, obj)).To(Succeed())
		return obj
	}
	vs := func() client.Object { return get(&istio.VirtualService{}, "podinfo") }
	dr := func(name string) client.Object { return get(&istio.DestinationRule{}, name) }
	svc := func(name string) client.Object { return get(&corev1.Service{}, name) }

	It("remembers what a reconcile found as wanted, not what it created or wrote", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(svcs.Initialize(ctx, cd)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeFalse(), "just created")
		Expect(isVerified(memo, svc("podinfo-canary"), cd, inOut)).To(BeFalse(), "just created")

		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(svcs.Initialize(ctx, cd)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeTrue())
		Expect(isVerified(memo, dr("podinfo-primary"), cd, "")).To(BeTrue())
		Expect(isVerified(memo, dr("podinfo-canary"), cd, "")).To(BeTrue())
		Expect(isVerified(memo, svc("podinfo-canary"), cd, inOut)).To(BeTrue())
		Expect(isVerified(memo, svc("podinfo-primary"), cd, inOut)).To(BeTrue())
		Expect(isVerified(memo, svc("podinfo-canary"), cd, "app=other")).To(BeFalse(), "other inputs")
	})

	It("carries the verdict through SetRoutes, which changes only what Reconcile ignores", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(mesh.SetRoutes(ctx, cd, 90, 10, false)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeFalse(), "never found as wanted yet")
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeTrue())

		before := vs().GetResourceVersion()
		Expect(mesh.SetRoutes(ctx, cd, 80, 20, true)).To(Succeed())
		Expect(vs().GetResourceVersion()).NotTo(Equal(before))
		Expect(isVerified(memo, vs(), cd, "")).To(BeTrue(), "at the new resourceVersion")
	})

	It("forgets a verdict when the object, the canary's generation or its identity moves", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeTrue())

		next := cd.DeepCopy()
		next.Generation++
		Expect(isVerified(memo, vs(), next, "")).To(BeFalse(), "a new generation")
		other := cd.DeepCopy()
		other.UID = "another-canary"
		Expect(isVerified(memo, vs(), other, "")).To(BeFalse(), "another canary")

		v := vs().(*istio.VirtualService)
		v.Spec.Hosts = []string{"elsewhere"}
		Expect(c.Update(ctx, v)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeFalse(), "changed by someone else")
		Expect(mesh.SetRoutes(ctx, cd, 50, 50, false)).To(Succeed())
		Expect(isVerified(memo, vs(), cd, "")).To(BeFalse(), "SetRoutes carries only a verdict there was")
	})

	It("remembers nothing for a canary or an object that does not tell its versions apart", func() {
		noGeneration := cd.DeepCopy()
		noGeneration.Generation = 0
		Expect(mesh.Reconcile(ctx, noGeneration)).To(Succeed())
		Expect(mesh.Reconcile(ctx, noGeneration)).To(Succeed())
		Expect(memo.Len()).To(Equal(3), "only the specs the memo converted (two DestinationRules, one VirtualService)")

		noUID := vs().DeepCopyObject().(client.Object)
		noUID.SetUID("")
		markVerified(memo, noUID, cd, "")
		Expect(isVerified(memo, noUID, cd, "")).To(BeFalse())
	})
})
