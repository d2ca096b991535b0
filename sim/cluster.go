package sim

import (
	"context"
	"fmt"
	"reflect"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/v1beta1"
)

// NewScheme returns the scheme of every type the simulator and the engine use:
// Kubernetes' built-ins, aviary's v1beta1 API and Istio's networking API.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1beta1.AddToScheme, istionet.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}

// NewFakeClient returns the fast mode's Kubernetes API: controller-runtime's fake
// client with status subresources, plus what a real API server does that the fake
// does not and that the engine observes: metadata.generation moves on spec changes
// of Deployments (the readiness check compares it with status.observedGeneration).
func NewFakeClient(s *runtime.Scheme) client.Client {
	return newReadCache(newFakeClient(s))
}

// newFakeClient is the fake client itself, without the read cache.
func newFakeClient(s *runtime.Scheme) client.Client {
	// A plain object tracker: the default field-managed tracker rebuilds a REST mapper
	// on every write, which made it the bulk of a simulated run's cost; aviary does
	// not use server-side apply.
	tracker := clienttesting.NewObjectTracker(s, serializer.NewCodecFactory(s).UniversalDecoder())
	return fake.NewClientBuilder().
		WithScheme(s).
		WithObjectTracker(tracker).
		WithStatusSubresource(&v1beta1.Canary{}, &appsv1.Deployment{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if d, ok := obj.(*appsv1.Deployment); ok {
					d.Generation = 1
				}
				return c.Create(ctx, obj, opts...)
			},
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
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				d, ok := obj.(*appsv1.Deployment)
				if !ok {
					return c.Patch(ctx, obj, patch, opts...)
				}
				old := &appsv1.Deployment{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(d), old); err != nil {
					return c.Patch(ctx, obj, patch, opts...)
				}
				if err := c.Patch(ctx, obj, patch, opts...); err != nil {
					return err
				}
				if equality.Semantic.DeepEqual(old.Spec, d.Spec) {
					return nil
				}
				d.Generation = old.Generation + 1
				return c.Update(ctx, d)
			},
		}).
		Build()
}

// readCache is the fast mode's informer: Gets are served from typed deep copies of
// what was last read or written, instead of the fake client's JSON round trip (most
// of a run's cost otherwise). Every write goes to the fake client first (its
// validation, resourceVersion conflicts and status-subresource rules apply), and the
// cache keeps the result, so reads always see the latest state: the simulator is the
// only writer, and one run is single-threaded. Lists pass straight through. The
// envtest parity test compares every decision against a real API server.
type readCache struct {
	client.Client
	objects map[cacheKey]client.Object
	// writes counts successful writes, so the event loop can tell that nothing changed.
	writes uint64
}

type cacheKey struct {
	typ reflect.Type
	key client.ObjectKey
}

// newReadCache wraps c.
func newReadCache(c client.Client) *readCache {
	return &readCache{Client: c, objects: map[cacheKey]client.Object{}}
}

// Get serves obj from the cache, filling the cache on a miss.
func (c *readCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	k := cacheKey{reflect.TypeOf(obj), key}
	if cached, ok := c.objects[k]; ok {
		copyInto(cached, obj)
		return nil
	}
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	c.objects[k] = obj.DeepCopyObject().(client.Object)
	return nil
}

// copyInto deep-copies src into dst (both of the same pointer type) with the type's
// generated DeepCopyInto.
func copyInto(src, dst client.Object) {
	reflect.ValueOf(src).MethodByName("DeepCopyInto").Call([]reflect.Value{reflect.ValueOf(dst)})
}

func (c *readCache) forget(obj client.Object) {
	delete(c.objects, cacheKey{reflect.TypeOf(obj), client.ObjectKeyFromObject(obj)})
}

// written keeps what a successful write left in obj: the fake client writes the
// stored object back into it (the new resourceVersion and, for a status write, the
// stored spec), so it is what the next Get would return. A failed write forgets it.
func (c *readCache) written(obj client.Object, err error) error {
	if err != nil {
		c.forget(obj)
		return err
	}
	c.writes++
	c.objects[cacheKey{reflect.TypeOf(obj), client.ObjectKeyFromObject(obj)}] = obj.DeepCopyObject().(client.Object)
	return nil
}

// Writes is the number of successful writes so far.
func (c *readCache) Writes() uint64 { return c.writes }

// Create writes through and keeps what was written.
func (c *readCache) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.written(obj, c.Client.Create(ctx, obj, opts...))
}

// Update writes through and keeps what was written.
func (c *readCache) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.written(obj, c.Client.Update(ctx, obj, opts...))
}

// Patch writes through and keeps what was written.
func (c *readCache) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.written(obj, c.Client.Patch(ctx, obj, patch, opts...))
}

// Delete writes through and forgets the object.
func (c *readCache) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	defer c.forget(obj)
	c.writes++
	return c.Client.Delete(ctx, obj, opts...)
}

// DeleteAllOf writes through and forgets everything.
func (c *readCache) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	clear(c.objects)
	c.writes++
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

// Status returns a status writer that forgets what it writes.
func (c *readCache) Status() client.SubResourceWriter { return c.SubResource("status") }

// SubResource returns a subresource client that forgets what it writes.
func (c *readCache) SubResource(name string) client.SubResourceClient {
	return cacheSubResourceClient{SubResourceClient: c.Client.SubResource(name), cache: c}
}

type cacheSubResourceClient struct {
	client.SubResourceClient
	cache *readCache
}

func (s cacheSubResourceClient) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	defer s.cache.forget(obj)
	s.cache.writes++
	return s.SubResourceClient.Create(ctx, obj, sub, opts...)
}

func (s cacheSubResourceClient) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	return s.cache.written(obj, s.SubResourceClient.Update(ctx, obj, opts...))
}

func (s cacheSubResourceClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.cache.written(obj, s.SubResourceClient.Patch(ctx, obj, patch, opts...))
}

func (s cacheSubResourceClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	clear(s.cache.objects)
	s.cache.writes++
	return s.SubResourceClient.Apply(ctx, obj, opts...)
}

// Apply writes through and forgets everything.
func (c *readCache) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	clear(c.objects)
	c.writes++
	return c.Client.Apply(ctx, obj, opts...)
}
