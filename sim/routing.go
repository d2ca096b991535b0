package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/world"
)

// cachedRouting returns the traffic split, re-reading it when it may have changed:
// after a write of what it is read from (fast mode), or else after the engine ran.
func (r *run) cachedRouting(ctx context.Context) (world.Routing, error) {
	if r.writes != nil {
		if n := r.writes.Writes().Routes; n != r.routesReadAt {
			r.routesStale, r.routesReadAt = true, n
		}
	}
	if r.routesStale {
		rt, err := r.routing(ctx)
		if err != nil {
			return world.Routing{}, err
		}
		r.routes, r.routesStale = rt, false
	}
	return r.routes, nil
}

// routing reads how user traffic is split right now, the way the mesh would apply it:
// from the Istio VirtualService, or for provider traefik the TraefikService, when
// there is one, else from the apex Service (all traffic to the primary once it
// exists, to the target before initialization).
func (r *run) routing(ctx context.Context) (world.Routing, error) {
	if r.canary.Spec.Provider == "traefik" {
		return r.traefikRouting(ctx)
	}
	apex, primarySvc, canarySvc := r.canary.GetServiceNames()
	vs := &istionet.VirtualService{} // only looked at
	err := r.client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: apex}, vs, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return r.routingWithoutMesh(ctx)
	}
	if err != nil {
		return world.Routing{}, fmt.Errorf("read VirtualService %s: %w", apex, err)
	}
	var out world.Routing
	http := vs.Spec.GetHttp()
	if len(http) == 0 {
		return r.routingWithoutMesh(ctx)
	}
	weights := func(i int) (p, c int) {
		route := http[i].GetRoute()
		for _, d := range route {
			w := int(d.GetWeight())
			if len(route) == 1 {
				// Istio sends all of a route's traffic to its only destination, whatever
				// its weight: Flagger's A/B default route is the primary at weight 0.
				w = 100
			}
			host := d.GetDestination().GetHost()
			switch {
			case hostIs(host, primarySvc, r.namespace):
				p += w
			case hostIs(host, canarySvc, r.namespace):
				c += w
			}
		}
		return p, c
	}
	last := len(http) - 1
	out.PrimaryWeight, out.CanaryWeight = weights(last)
	if m := http[last].GetMirror(); m != nil && hostIs(m.GetHost(), canarySvc, r.namespace) {
		out.Mirrored = true
		out.MirrorPercent = 100
		if mp := http[last].GetMirrorPercentage(); mp != nil {
			out.MirrorPercent = int(mp.GetValue())
		}
	}
	if last > 0 && len(http[0].GetMatch()) > 0 {
		out.HasMatch = true
		out.MatchPrimaryWeight, out.MatchCanaryWeight = weights(0)
	}
	return out, nil
}

// traefikRouting is the split Traefik applies with the TraefikService: a weighted
// round robin over the Services it lists (a weight left out is 1), those of the
// canary's namespace named <apex>-primary and <apex>-canary being the primary's and
// the canary's. Services it lists besides take their share of the requests away
// from both. Flagger never writes Traefik's mirroring, so there is none to read.
func (r *run) traefikRouting(ctx context.Context) (world.Routing, error) {
	apex, primarySvc, canarySvc := r.canary.GetServiceNames()
	ts := &traefik.TraefikService{} // only looked at
	err := r.client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: apex}, ts, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return r.routingWithoutMesh(ctx)
	}
	if err != nil {
		return world.Routing{}, fmt.Errorf("read TraefikService %s: %w", apex, err)
	}
	var out world.Routing
	if ts.Spec.Weighted == nil {
		return out, nil
	}
	total := 0
	for _, s := range ts.Spec.Weighted.Services {
		weight := 1
		if s.Weight != nil {
			weight = *s.Weight
		}
		total += weight
		ns := s.Namespace
		if ns == "" {
			ns = r.namespace
		}
		if s.Kind == traefik.TraefikServiceKind || ns != r.namespace {
			continue
		}
		port := ""
		if s.Port != (intstr.IntOrString{}) {
			port = s.Port.String()
		}
		switch s.Name {
		case primarySvc:
			out.PrimaryWeight += weight
			out.TraefikPrimary = world.TraefikServiceLabel(ns, s.Name, port)
		case canarySvc:
			out.CanaryWeight += weight
			out.TraefikCanary = world.TraefikServiceLabel(ns, s.Name, port)
		}
	}
	out.WeightTotal = total
	return out, nil
}

// routingWithoutMesh is the split when no VirtualService or TraefikService routes
// traffic.
func (r *run) routingWithoutMesh(ctx context.Context) (world.Routing, error) {
	primary := &appsv1.Deployment{}
	name := r.canary.Spec.TargetRef.Name + "-primary"
	err := r.client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: name}, primary)
	switch {
	case err == nil:
		return world.Routing{PrimaryWeight: 100}, nil
	case apierrors.IsNotFound(err):
		return world.Routing{CanaryWeight: 100}, nil
	default:
		return world.Routing{}, fmt.Errorf("read Deployment %s: %w", name, err)
	}
}

// hostIs reports whether an Istio destination host names the service (short or FQDN).
func hostIs(host, service, namespace string) bool {
	return host == service || strings.HasPrefix(host, service+"."+namespace+".") || host == service+"."+namespace
}

// patchCanary applies a JSON merge patch to the Canary, as `kubectl patch --type merge`.
func (r *run) patchCanary(ctx context.Context, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	cd := &v1beta1.Canary{}
	if err := r.client.Get(ctx, r.key, cd); err != nil {
		return err
	}
	return r.client.Patch(ctx, cd, client.RawPatch(types.MergePatchType, body))
}
