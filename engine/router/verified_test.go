package router_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/router"
)

// The routers' verdicts (verified.go): which reconciles are remembered, and when a
// remembered one no longer counts.
var _ = Describe("verified reconciles", func() {
	var (
		c     client.Client
		memo  *lru.Cache
		cd    *v1beta1.Canary
		mesh  *router.Istio
		svcs  *router.KubernetesServices
		inOut string
	)
	BeforeEach(func() {
		c = capturingClient(nil)
		memo = lru.New(64)
		cd = newCanary()
		cd.Generation = 1
		mesh = &router.Istio{Client: c, Memo: memo}
		svcs = &router.KubernetesServices{Client: c, LabelKey: "app", LabelValue: "podinfo", Memo: memo}
		inOut = svcs.VerifiedInputs()
	})
	get := func(obj client.Object, name string) client.Object {
		GinkgoHelper()
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj)).To(Succeed())
		return obj
	}
	vs := func() client.Object { return get(&istio.VirtualService{}, "podinfo") }
	dr := func(name string) client.Object { return get(&istio.DestinationRule{}, name) }
	svc := func(name string) client.Object { return get(&corev1.Service{}, name) }

	It("remembers what a reconcile found as wanted, not what it created or wrote", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(svcs.Initialize(ctx, cd)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeFalse(), "just created")
		Expect(router.IsVerified(memo, svc("podinfo-canary"), cd, inOut)).To(BeFalse(), "just created")

		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(svcs.Initialize(ctx, cd)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeTrue())
		Expect(router.IsVerified(memo, dr("podinfo-primary"), cd, "")).To(BeTrue())
		Expect(router.IsVerified(memo, dr("podinfo-canary"), cd, "")).To(BeTrue())
		Expect(router.IsVerified(memo, svc("podinfo-canary"), cd, inOut)).To(BeTrue())
		Expect(router.IsVerified(memo, svc("podinfo-primary"), cd, inOut)).To(BeTrue())
		Expect(router.IsVerified(memo, svc("podinfo-canary"), cd, "app=other")).To(BeFalse(), "other inputs")
	})

	It("carries the verdict through SetRoutes, which changes only what Reconcile ignores", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(mesh.SetRoutes(ctx, cd, 90, 10, false)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeFalse(), "never found as wanted yet")
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeTrue())

		before := vs().GetResourceVersion()
		Expect(mesh.SetRoutes(ctx, cd, 80, 20, true)).To(Succeed())
		Expect(vs().GetResourceVersion()).NotTo(Equal(before))
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeTrue(), "at the new resourceVersion")
	})

	It("forgets a verdict when the object, the canary's generation or its identity moves", func() {
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(mesh.Reconcile(ctx, cd)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeTrue())

		next := cd.DeepCopy()
		next.Generation++
		Expect(router.IsVerified(memo, vs(), next, "")).To(BeFalse(), "a new generation")
		other := cd.DeepCopy()
		other.UID = "another-canary"
		Expect(router.IsVerified(memo, vs(), other, "")).To(BeFalse(), "another canary")

		v := vs().(*istio.VirtualService)
		v.Spec.Hosts = []string{"elsewhere"}
		Expect(c.Update(ctx, v)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeFalse(), "changed by someone else")
		Expect(mesh.SetRoutes(ctx, cd, 50, 50, false)).To(Succeed())
		Expect(router.IsVerified(memo, vs(), cd, "")).To(BeFalse(), "SetRoutes carries only a verdict there was")
	})

	It("remembers nothing for a canary or an object that does not tell its versions apart", func() {
		noGeneration := cd.DeepCopy()
		noGeneration.Generation = 0
		Expect(mesh.Reconcile(ctx, noGeneration)).To(Succeed())
		Expect(mesh.Reconcile(ctx, noGeneration)).To(Succeed())
		Expect(memo.Len()).To(Equal(3), "only the specs the memo converted (two DestinationRules, one VirtualService)")

		noUID := vs().DeepCopyObject().(client.Object)
		noUID.SetUID("")
		router.MarkVerified(memo, noUID, cd, "")
		Expect(router.IsVerified(memo, noUID, cd, "")).To(BeFalse())
	})
})
