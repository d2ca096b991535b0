package router

import (
	"context"
	"fmt"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
)

// Traefik routes traffic with a TraefikService <apex> in traefik.io/v1alpha1, a
// weighted round robin over the Services <apex>-primary and <apex>-canary at the
// canary's service port (Flagger's TraefikRouter, pkg/router/traefik.go). It
// implements engine.MeshRouter.
//
// Flagger reads and writes the TraefikService through types that know only
// spec.weighted.services[].{name, namespace, port, weight}: it compares those alone,
// and a write leaves nothing else in the spec. Traefik weighs a service without a
// weight 1, and Flagger leaves a weight of 0 out (omitempty), so "all traffic to the
// canary" is 1 : 100 on the wire (docs/flagger-semantics.md#traefik-router).
//
// It needs no memo: the reconcile compares a few fields of the object as the client
// shares it (client.UnsafeDisableDeepCopy), and reads a copy only to write one.
type Traefik struct {
	// Client reads and writes TraefikServices; its scheme must know
	// aviary.dev/aviary/api/traefik/v1alpha1.
	Client client.Client
}

// Reconcile creates the TraefikService (primary weight 100) or, when its services
// (but for their weights), labels or annotations differ from what the canary wants,
// replaces its spec and metadata. Like Flagger, a replaced spec routes primary 100,
// plus canary 100 when two services were listed: the weights are not kept.
func (r *Traefik) Reconcile(ctx context.Context, cd *v1beta1.Canary) error {
	apexName, _, _ := cd.GetServiceNames()
	labels, annotations := map[string]string{}, map[string]string{}
	if apex := cd.Spec.Service.Apex; apex != nil {
		maps.Copy(labels, apex.Labels)
		maps.Copy(annotations, apex.Annotations)
	}
	annotations = filterMetadata(annotations)

	key := types.NamespacedName{Namespace: cd.Namespace, Name: apexName}
	view := &traefik.TraefikService{} // only looked at
	err := r.Client.Get(ctx, key, view, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		ts := &traefik.TraefikService{
			ObjectMeta: metav1.ObjectMeta{
				Name:            apexName,
				Namespace:       cd.Namespace,
				Labels:          labels,
				Annotations:     annotations,
				OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(r.Client, cd)},
			},
			Spec: traefikServiceSpec(cd, 100, 0),
		}
		if err := r.Client.Create(ctx, ts); err != nil {
			return fmt.Errorf("TraefikService %s.%s create error: %w", apexName, cd.Namespace, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("TraefikService %s.%s get query error: %w", apexName, cd.Namespace, err)
	}

	// Flagger keeps the canary's entry when two services are listed (with weight 100:
	// the weights are ignored by the comparison, not kept by the update).
	canaryWeight := 0
	if len(weightedServices(view)) == 2 {
		canaryWeight = 100
	}
	want := traefikServiceSpec(cd, 100, canaryWeight)
	if sameServicesIgnoringWeights(want.Weighted.Services, weightedServices(view)) &&
		maps.Equal(labels, view.Labels) && maps.Equal(annotations, view.Annotations) {
		return nil
	}
	ts := view.DeepCopy()
	ts.Spec = want
	ts.Labels, ts.Annotations = labels, annotations
	if err := r.Client.Update(ctx, ts); err != nil {
		return fmt.Errorf("TraefikService %s.%s update error: %w", apexName, cd.Namespace, err)
	}
	return nil
}

// GetRoutes reads the primary's weight from the first weighted service named
// <apex>-primary; the canary's is what the primary's leaves of 100, whatever the
// canary's entry says (Flagger). A TraefikService without such a service routes
// nowhere the engine knows: 0/0 and no error, as in Flagger. It never mirrors.
func (r *Traefik) GetRoutes(ctx context.Context, cd *v1beta1.Canary) (primary, canary int, mirrored bool, err error) {
	apexName, primaryName, _ := cd.GetServiceNames()
	view := &traefik.TraefikService{} // only looked at
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: apexName}, view, client.UnsafeDisableDeepCopy); err != nil {
		return 0, 0, false, fmt.Errorf("TraefikService %s.%s query error: %w", apexName, cd.Namespace, err)
	}
	services := weightedServices(view)
	if len(services) < 1 {
		return 0, 0, false, fmt.Errorf("TraefikService %s.%s services not found", apexName, cd.Namespace)
	}
	for _, s := range services {
		if s.Name == primaryName {
			if s.Weight != nil {
				primary = *s.Weight
			}
			return primary, 100 - primary, false, nil
		}
	}
	return 0, 0, false, nil
}

// SetRoutes replaces the spec with the weighted primary and, when its weight is
// positive, the canary; mirrored is ignored (Flagger's Traefik router cannot mirror).
func (r *Traefik) SetRoutes(ctx context.Context, cd *v1beta1.Canary, primary, canary int, _ bool) error {
	apexName, _, _ := cd.GetServiceNames()
	if primary == 0 && canary == 0 {
		return fmt.Errorf("RoutingRule %s.%s update failed: no valid weights", apexName, cd.Namespace)
	}
	ts := &traefik.TraefikService{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: apexName}, ts); err != nil {
		return fmt.Errorf("TraefikService %s.%s query error: %w", apexName, cd.Namespace, err)
	}
	ts.Spec = traefikServiceSpec(cd, primary, canary)
	if err := r.Client.Update(ctx, ts); err != nil {
		return fmt.Errorf("TraefikService %s.%s update error: %w", apexName, cd.Namespace, err)
	}
	return nil
}

// CanMirror is false: Flagger's Traefik router writes no mirror.
func (r *Traefik) CanMirror(*v1beta1.Canary) bool { return false }

// traefikServiceSpec is the spec Flagger writes: the primary, then the canary when
// its weight is positive, each at the canary's namespace and service port. A weight
// of 0 is left out, as Flagger's omitempty does.
func traefikServiceSpec(cd *v1beta1.Canary, primaryWeight, canaryWeight int) traefik.TraefikServiceSpec {
	_, primaryName, canaryName := cd.GetServiceNames()
	service := func(name string, weight int) traefik.Service {
		s := traefik.Service{LoadBalancerSpec: traefik.LoadBalancerSpec{
			Name:      name,
			Namespace: cd.Namespace,
			Port:      intstr.FromInt32(cd.Spec.Service.Port),
		}}
		if weight != 0 {
			s.Weight = &weight
		}
		return s
	}
	services := []traefik.Service{service(primaryName, primaryWeight)}
	if canaryWeight > 0 {
		services = append(services, service(canaryName, canaryWeight))
	}
	return traefik.TraefikServiceSpec{Weighted: &traefik.WeightedRoundRobin{Services: services}}
}

// weightedServices are the weighted round robin's services (none without one, where
// Flagger would dereference nil).
func weightedServices(ts *traefik.TraefikService) []traefik.Service {
	if ts.Spec.Weighted == nil {
		return nil
	}
	return ts.Spec.Weighted.Services
}

// sameServicesIgnoringWeights compares what Flagger's types see of two service lists
// but for the weights: names, namespaces and numeric ports, in order.
func sameServicesIgnoringWeights(want, got []traefik.Service) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Name != g.Name || w.Namespace != g.Namespace || g.Port.Type != intstr.Int || w.Port.IntVal != g.Port.IntVal {
			return false
		}
	}
	return true
}
