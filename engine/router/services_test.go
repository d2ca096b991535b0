package router_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/router"
)

func getService(c client.Client, name string) *corev1.Service {
	GinkgoHelper()
	svc := &corev1.Service{}
	Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc)).To(Succeed())
	return svc
}

var _ = Describe("KubernetesServices", func() {
	newRouter := func(c client.Client) *router.KubernetesServices {
		return &router.KubernetesServices{Client: c, LabelKey: "app", LabelValue: "podinfo"}
	}

	It("Initialize creates the canary and primary Services, Reconcile the apex selecting the primary", func() {
		c := newClient()
		r := newRouter(c)
		cd := newCanary()
		Expect(r.Initialize(ctx, cd)).To(Succeed())
		Expect(getService(c, "podinfo-canary").Spec.Selector).To(Equal(map[string]string{"app": "podinfo"}))
		Expect(getService(c, "podinfo-primary").Spec.Selector).To(Equal(map[string]string{"app": "podinfo-primary"}))
		err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "podinfo"}, &corev1.Service{})
		Expect(err).To(HaveOccurred(), "the apex Service is Reconcile's")

		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		apex := getService(c, "podinfo")
		Expect(apex.Spec.Selector).To(Equal(map[string]string{"app": "podinfo-primary"}))
		Expect(apex.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
		Expect(apex.Spec.Ports).To(Equal([]corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898)}}))
		Expect(apex.Labels).To(Equal(map[string]string{"app": "podinfo"}))
		Expect(apex.Annotations).To(Equal(map[string]string{
			"kustomize.toolkit.fluxcd.io/reconcile": "disabled",
			"helm.toolkit.fluxcd.io/driftDetection": "disabled",
		}))
		Expect(apex.OwnerReferences).To(HaveLen(1))
		Expect(apex.OwnerReferences[0].Kind).To(Equal("Canary"))
		Expect(apex.OwnerReferences[0].Name).To(Equal("podinfo"))
		Expect(*apex.OwnerReferences[0].Controller).To(BeTrue())
	})

	It("uses service.name, portName, targetPort, appProtocol and discovered ports", func() {
		c := newClient()
		r := newRouter(c)
		r.Ports = map[string]int32{"http-metrics": 9797, "grpc": 9999}
		cd := newCanary()
		cd.Spec.Service.Name = "frontend"
		cd.Spec.Service.PortName = "web"
		cd.Spec.Service.TargetPort = intstr.FromString("http")
		cd.Spec.Service.AppProtocol = "http"
		Expect(r.Initialize(ctx, cd)).To(Succeed())
		Expect(r.Reconcile(ctx, cd)).To(Succeed())

		svc := getService(c, "frontend-canary")
		Expect(svc.Labels).To(HaveKeyWithValue("app", "frontend-canary"))
		Expect(svc.Spec.Ports).To(Equal([]corev1.ServicePort{
			{Name: "web", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromString("http"), AppProtocol: ptr("http")},
			{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 9999, TargetPort: intstr.FromInt32(9999)},
			{Name: "http-metrics", Protocol: corev1.ProtocolTCP, Port: 9797, TargetPort: intstr.FromInt32(9797)},
		}))
		Expect(getService(c, "frontend").Spec.Selector).To(Equal(map[string]string{"app": "podinfo-primary"}))
	})

	It("orders discovered ports by name", func() {
		c := newClient()
		r := newRouter(c)
		r.Ports = map[string]int32{"h": 8, "g": 7, "f": 6, "e": 5, "d": 4, "c": 3, "b": 2, "a": 1}
		Expect(r.Initialize(ctx, newCanary())).To(Succeed())
		var got []string
		for _, p := range getService(c, "podinfo-canary").Spec.Ports {
			got = append(got, p.Name)
		}
		Expect(got).To(Equal([]string{"http", "a", "b", "c", "d", "e", "f", "g", "h"}))
	})

	It("sets custom metadata on the Services it creates", func() {
		c := newClient()
		cd := newCanary()
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"tier": "web"}, Annotations: map[string]string{"a": "b"}}
		cd.Spec.Service.Primary = &v1beta1.CustomMetadata{Labels: map[string]string{"role": "primary"}}
		r := newRouter(c)
		Expect(r.Initialize(ctx, cd)).To(Succeed())
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getService(c, "podinfo").Labels).To(Equal(map[string]string{"app": "podinfo", "tier": "web"}))
		Expect(getService(c, "podinfo").Annotations).To(HaveKeyWithValue("a", "b"))
		Expect(getService(c, "podinfo-primary").Labels).To(Equal(map[string]string{"app": "podinfo-primary", "role": "primary"}))
		Expect(cd.Spec.Service.Apex.Labels).To(Equal(map[string]string{"tier": "web"}), "the canary is not modified")
	})

	It("updates the selector and ports of an existing apex Service, and its metadata only when it owns it", func() {
		existing := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, Labels: map[string]string{"app": "podinfo", "owner": "user"}},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": "podinfo"},
				Ports:    []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(9898)}},
			},
		}
		c := newClient(existing)
		cd := newCanary()
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"tier": "web"}}
		Expect(newRouter(c).Reconcile(ctx, cd)).To(Succeed())
		svc := getService(c, "podinfo")
		Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "podinfo-primary"}))
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(9898)))
		Expect(svc.Labels).To(Equal(map[string]string{"app": "podinfo", "owner": "user"}), "not owned: metadata untouched")
	})

	It("keeps the node ports of an existing Service", func() {
		existing := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: map[string]string{"app": "podinfo"},
				Ports:    []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898), NodePort: 30080}},
			},
		}
		c := newClient(existing)
		Expect(newRouter(c).Reconcile(ctx, newCanary())).To(Succeed())
		svc := getService(c, "podinfo")
		Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "podinfo-primary"}))
		Expect(svc.Spec.Ports[0].NodePort).To(Equal(int32(30080)))
	})

	It("updates the metadata of owned Services, keeping unmanaged keys", func() {
		c := newClient()
		cd := newCanary()
		r := newRouter(c)
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		svc := getService(c, "podinfo")
		svc.Labels["external"] = "kept"
		svc.Labels["stray"] = "dropped"
		Expect(c.Update(ctx, svc)).To(Succeed())

		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"tier": "web"}}
		cd.Spec.Service.UnmanagedMetadata = &v1beta1.UnmanagedMetadata{Labels: []string{"external"}}
		Expect(r.Reconcile(ctx, cd)).To(Succeed())
		Expect(getService(c, "podinfo").Labels).To(Equal(map[string]string{"app": "podinfo", "tier": "web", "external": "kept"}))
	})

	It("does not write an unchanged Service", func() {
		c := newClient()
		r := newRouter(c)
		Expect(r.Initialize(ctx, newCanary())).To(Succeed())
		before := getService(c, "podinfo-canary").ResourceVersion
		Expect(r.Initialize(ctx, newCanary())).To(Succeed())
		Expect(getService(c, "podinfo-canary").ResourceVersion).To(Equal(before))
	})
})

var _ = Describe("KubernetesServices with a memo", func() {
	// Two routers, with and without a memo, over clients that give UIDs; every step is
	// made on both, and every Service must end the same in both.
	var (
		plain, memo *router.KubernetesServices
		cache       *lru.Cache
	)
	BeforeEach(func() {
		cache = lru.New(64)
		plain = &router.KubernetesServices{Client: capturingClient(nil), LabelKey: "app", LabelValue: "podinfo"}
		memo = &router.KubernetesServices{Client: capturingClient(nil), LabelKey: "app", LabelValue: "podinfo", Memo: cache}
	})
	expectSame := func() {
		GinkgoHelper()
		for _, name := range []string{"podinfo", "podinfo-primary", "podinfo-canary"} {
			want, got := getService(plain.Client, name), getService(memo.Client, name)
			Expect(got.Spec).To(Equal(want.Spec), name)
			Expect(got.ObjectMeta).To(Equal(want.ObjectMeta), name)
		}
	}
	reconcile := func(cd *v1beta1.Canary) {
		GinkgoHelper()
		for _, r := range []*router.KubernetesServices{plain, memo} {
			Expect(r.Initialize(ctx, cd)).To(Succeed())
			Expect(r.Reconcile(ctx, cd)).To(Succeed())
		}
		expectSame()
	}

	It("writes exactly what the router without a memo writes", func() {
		cd := newCanary()
		cd.Generation = 1
		for range 3 {
			reconcile(cd)
		}
		Expect(cache.Len()).To(Equal(3), "the three Services, found as wanted")

		By("a new generation of the canary")
		cd.Spec.Service.Port = 8080
		cd.Spec.Service.Apex = &v1beta1.CustomMetadata{Labels: map[string]string{"tier": "web"}}
		cd.Generation++
		reconcile(cd)
		reconcile(cd)
		Expect(getService(memo.Client, "podinfo").Spec.Ports[0].Port).To(Equal(int32(8080)))
		Expect(getService(memo.Client, "podinfo").Labels).To(HaveKeyWithValue("tier", "web"))

		By("other inputs: the target's selector label, then its discovered ports")
		for _, r := range []*router.KubernetesServices{plain, memo} {
			*r = router.KubernetesServices{Client: r.Client, Memo: r.Memo, LabelKey: "app", LabelValue: "frontend"}
		}
		reconcile(cd)
		reconcile(cd)
		Expect(getService(memo.Client, "podinfo-canary").Spec.Selector).To(Equal(map[string]string{"app": "frontend"}))
		for _, r := range []*router.KubernetesServices{plain, memo} {
			*r = router.KubernetesServices{Client: r.Client, Memo: r.Memo, LabelKey: "app", LabelValue: "frontend",
				Ports: map[string]int32{"metrics": 9797}}
		}
		reconcile(cd)
		Expect(getService(memo.Client, "podinfo-canary").Spec.Ports).To(HaveLen(2))

		By("a Service changed by someone else")
		for _, r := range []*router.KubernetesServices{plain, memo} {
			svc := getService(r.Client, "podinfo-primary")
			svc.Spec.Selector = map[string]string{"app": "elsewhere"}
			Expect(r.Client.Update(ctx, svc)).To(Succeed())
		}
		reconcile(cd)
		Expect(getService(memo.Client, "podinfo-primary").Spec.Selector).To(Equal(map[string]string{"app": "frontend-primary"}))
	})
})
