package sim

import (
	"context"
	"fmt"
	"strings"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
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
		rt, err := r.Routing(ctx)
		if err != nil {
			return world.Routing{}, err
		}
		r.routes, r.routesStale = rt, false
	}
	return r.routes, nil
}

// Routing reads how user traffic is split right now, the way the mesh would apply it:
// from the Istio VirtualService, or for provider traefik the TraefikService, when
// there is one, else from the apex Service (all traffic to the primary once it
// exists, to the target before initialization).
func (s *Stage) Routing(ctx context.Context) (world.Routing, error) {
	if s.canary.Spec.Provider == "traefik" {
		return s.traefikRouting(ctx)
	}
	apex, primarySvc, canarySvc := s.canary.GetServiceNames()
	vs := &istionet.VirtualService{} // only looked at
	err := s.client.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: apex}, vs, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return s.routingWithoutMesh(ctx)
	}
	if err != nil {
		return world.Routing{}, fmt.Errorf("read VirtualService %s: %w", apex, err)
	}
	var out world.Routing
	http := vs.Spec.GetHttp()
	if len(http) == 0 {
		return s.routingWithoutMesh(ctx)
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
			case hostIs(host, primarySvc, s.namespace):
				p += w
			case hostIs(host, canarySvc, s.namespace):
				c += w
			}
		}
		return p, c
	}
	last := len(http) - 1
	out.PrimaryWeight, out.CanaryWeight = weights(last)
	if m := http[last].GetMirror(); m != nil && hostIs(m.GetHost(), canarySvc, s.namespace) {
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
func (s *Stage) traefikRouting(ctx context.Context) (world.Routing, error) {
	apex, primarySvc, canarySvc := s.canary.GetServiceNames()
	ts := &traefik.TraefikService{} // only looked at
	err := s.client.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: apex}, ts, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return s.routingWithoutMesh(ctx)
	}
	if err != nil {
		return world.Routing{}, fmt.Errorf("read TraefikService %s: %w", apex, err)
	}
	var out world.Routing
	if ts.Spec.Weighted == nil {
		return out, nil
	}
	total := 0
	for _, svc := range ts.Spec.Weighted.Services {
		weight := 1
		if svc.Weight != nil {
			weight = *svc.Weight
		}
		total += weight
		ns := svc.Namespace
		if ns == "" {
			ns = s.namespace
		}
		if svc.Kind == traefik.TraefikServiceKind || ns != s.namespace {
			continue
		}
		port := ""
		if svc.Port != (intstr.IntOrString{}) {
			port = svc.Port.String()
		}
		switch svc.Name {
		case primarySvc:
			out.PrimaryWeight += weight
			out.TraefikPrimary = world.TraefikServiceLabel(ns, svc.Name, port)
		case canarySvc:
			out.CanaryWeight += weight
			out.TraefikCanary = world.TraefikServiceLabel(ns, svc.Name, port)
		}
	}
	out.WeightTotal = total
	return out, nil
}

// routingWithoutMesh is the split when no VirtualService or TraefikService routes
// traffic.
func (s *Stage) routingWithoutMesh(ctx context.Context) (world.Routing, error) {
	primary := &appsv1.Deployment{}
	name := s.canary.Spec.TargetRef.Name + "-primary"
	err := s.client.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: name}, primary)
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
