package sim

import (
	"context"
	"fmt"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
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
	return fake.NewClientBuilder().
		WithScheme(s).
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
