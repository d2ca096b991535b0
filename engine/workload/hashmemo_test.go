package workload_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/workload"
)

// targetWithUID is newTarget named name, with a UID and generation 1 (the fake client
// gives neither, and without them the memo is not used).
func targetWithUID(name string, uid types.UID, image string) *appsv1.Deployment {
	t := newTarget(ptr(int32(1)))
	t.Name = name
	t.UID = uid
	t.Generation = 1
	t.Spec.Template.Spec.Containers[0].Image = image
	return t
}

// newGenerationClient is newClient with the API server's rule for
// metadata.generation, which the fake client lacks: an update that changes the spec
// moves it by one; anything else (a status write) leaves it.
func newGenerationClient(objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(newScheme()).
		WithStatusSubresource(&appsv1.Deployment{}).WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if d, ok := obj.(*appsv1.Deployment); ok {
					old := &appsv1.Deployment{}
					if err := c.Get(ctx, client.ObjectKeyFromObject(d), old); err == nil {
						d.Generation = old.Generation
						if !equality.Semantic.DeepEqual(old.Spec, d.Spec) {
							d.Generation++
						}
					}
				}
				return c.Update(ctx, obj, opts...)
			},
		}).Build()
}

func canaryFor(name string) *v1beta1.Canary {
	cd := newCanary()
	cd.Name = name
	cd.Spec.TargetRef.Name = name
	return cd
}

// hashOf is d.Hash of the canary of the target name.
func hashOf(d *workload.Deployments, name string) string {
	GinkgoHelper()
	h, err := d.Hash(ctx, canaryFor(name))
	Expect(err).NotTo(HaveOccurred())
	return h
}

// mustTemplateHash is workload.TemplateHash of dep's pod template.
func mustTemplateHash(dep *appsv1.Deployment) string {
	GinkgoHelper()
	h, err := workload.TemplateHash(&dep.Spec.Template)
	Expect(err).NotTo(HaveOccurred())
	return h
}

// templateHash is TemplateHash of the stored target's pod template.
func templateHash(c client.Client, name string) string {
	GinkgoHelper()
	return mustTemplateHash(getDeployment(c, name))
}

var _ = Describe("Deployments with a hash memo", func() {
	var (
		c            client.Client
		plain, memo  *workload.Deployments
		cache        *lru.Cache
		setTemplate  func(name, image string)
		setReplicas  func(name string, replicas int32)
		resourceVers func(name string) string
		generation   func(name string) int64
	)
	BeforeEach(func() {
		c = newGenerationClient(
			targetWithUID("podinfo", "uid-podinfo", "podinfo:6.0.0"),
			targetWithUID("backend", "uid-backend", "backend:1.0.0"),
		)
		cache = lru.New(16)
		plain = newDeployments(c)
		memo = newDeployments(c)
		memo.Memo = cache
		setTemplate = func(name, image string) {
			GinkgoHelper()
			dep := getDeployment(c, name)
			dep.Spec.Template.Spec.Containers[0].Image = image
			Expect(c.Update(ctx, dep)).To(Succeed())
		}
		setReplicas = func(name string, replicas int32) {
			GinkgoHelper()
			dep := getDeployment(c, name)
			dep.Spec.Replicas = ptr(replicas)
			Expect(c.Update(ctx, dep)).To(Succeed())
		}
		resourceVers = func(name string) string {
			GinkgoHelper()
			return getDeployment(c, name).ResourceVersion
		}
		generation = func(name string) int64 {
			GinkgoHelper()
			return getDeployment(c, name).Generation
		}
	})

	It("returns TemplateHash of the target's template, as without a memo", func() {
		want := templateHash(c, "podinfo")
		Expect(hashOf(plain, "podinfo")).To(Equal(want))
		Expect(hashOf(memo, "podinfo")).To(Equal(want))
		Expect(cache.Len()).To(Equal(1), "the hash is remembered")
		Expect(hashOf(memo, "podinfo")).To(Equal(want), "and served from the memo")
		Expect(cache.Len()).To(Equal(1))
	})

	It("follows the target's template through updates", func() {
		first := hashOf(memo, "podinfo")
		rv := resourceVers("podinfo")

		setTemplate("podinfo", "podinfo:6.0.1")
		Expect(resourceVers("podinfo")).NotTo(Equal(rv))
		Expect(generation("podinfo")).To(Equal(int64(2)))
		second := hashOf(memo, "podinfo")
		Expect(second).NotTo(Equal(first))
		Expect(second).To(Equal(templateHash(c, "podinfo")))
		Expect(second).To(Equal(hashOf(plain, "podinfo")))

		setReplicas("podinfo", 3)
		Expect(hashOf(memo, "podinfo")).To(Equal(second), "only the pod template is hashed")

		setTemplate("podinfo", "podinfo:6.0.0")
		Expect(hashOf(memo, "podinfo")).To(Equal(first), "the first template again")
		Expect(hashOf(memo, "podinfo")).To(Equal(templateHash(c, "podinfo")))
	})

	It("serves the hash across status writes, which leave the generation alone", func() {
		want := hashOf(memo, "podinfo")
		Expect(cache.Len()).To(Equal(1))
		dep := getDeployment(c, "podinfo")
		rv := dep.ResourceVersion
		dep.Status.ReadyReplicas = 1
		Expect(c.Status().Update(ctx, dep)).To(Succeed())
		Expect(resourceVers("podinfo")).NotTo(Equal(rv))
		Expect(generation("podinfo")).To(Equal(int64(1)))

		Expect(hashOf(memo, "podinfo")).To(Equal(want))
		Expect(cache.Len()).To(Equal(1), "the status write did not make a new entry")
	})

	It("keeps apart Deployments with different UIDs and the same generation", func() {
		Expect(generation("podinfo")).To(Equal(generation("backend")))
		podinfo, backend := templateHash(c, "podinfo"), templateHash(c, "backend")
		Expect(podinfo).NotTo(Equal(backend))

		Expect(hashOf(memo, "podinfo")).To(Equal(podinfo))
		Expect(hashOf(memo, "backend")).To(Equal(backend))
		Expect(hashOf(memo, "podinfo")).To(Equal(podinfo))
		Expect(cache.Len()).To(Equal(2))

		// and in the other order, on a fresh memo
		memo.Memo = lru.New(16)
		Expect(hashOf(memo, "backend")).To(Equal(backend))
		Expect(hashOf(memo, "podinfo")).To(Equal(podinfo))
	})

	DescribeTable("does not remember Deployments it cannot tell apart",
		func(uid types.UID, gen int64) {
			podinfo, backend := targetWithUID("podinfo", uid, "podinfo:6.0.0"), targetWithUID("backend", uid, "backend:1.0.0")
			podinfo.Generation, backend.Generation = gen, gen
			c = newGenerationClient(podinfo, backend)
			memo = newDeployments(c)
			memo.Memo = cache
			Expect(hashOf(memo, "podinfo")).To(Equal(templateHash(c, "podinfo")))
			Expect(hashOf(memo, "backend")).To(Equal(templateHash(c, "backend")))
			Expect(cache.Len()).To(BeZero())
		},
		Entry("without a UID", types.UID(""), int64(1)),
		Entry("without a generation", types.UID("same-uid"), int64(0)),
	)
})
