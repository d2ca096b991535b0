package router

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/api/networking/v1alpha3"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// Istio routes traffic with an Istio VirtualService <apex> and the DestinationRules
// <apex>-primary and <apex>-canary (networking.istio.io/v1beta1; Flagger's
// IstioRouter). It implements engine.MeshRouter.
//
// With a Memo, a reconcile that finds an object as the canary wants it is remembered
// (see verifiedKey) and not compared again while neither changes.
//
// Session affinity (analysis.sessionAffinity) is not implemented: Reconcile and
// SetRoutes return an error rather than route differently from Flagger.
type Istio struct {
	// Client reads and writes VirtualServices and DestinationRules; its scheme must
	// know istio.io/client-go's networking/v1beta1 types.
	Client client.Client
	// Memo, when set, remembers the specs built on earlier ticks and the objects
	// found as wanted (keyed by their input, so it may be shared with other users of
	// distinct key types); nil builds and compares every spec afresh.
	Memo *lru.Cache
}

// Reconcile creates or updates the DestinationRules and the VirtualService. A new
// VirtualService routes primary 100 / canary 0. An existing one keeps its weights and
// mirror; the rest of its spec (and its apex metadata) is updated when it differs.
func (r *Istio) Reconcile(ctx context.Context, cd *v1beta1.Canary) error {
	if err := checkSessionAffinity(cd); err != nil {
		return err
	}
	_, primaryName, canaryName := cd.GetServiceNames()
	if err := r.reconcileDestinationRule(ctx, cd, canaryName); err != nil {
		return fmt.Errorf("reconcileDestinationRule failed: %w", err)
	}
	if err := r.reconcileDestinationRule(ctx, cd, primaryName); err != nil {
		return fmt.Errorf("reconcileDestinationRule failed: %w", err)
	}
	if err := r.reconcileVirtualService(ctx, cd); err != nil {
		return fmt.Errorf("reconcileVirtualService failed: %w", err)
	}
	return nil
}

func (r *Istio) reconcileDestinationRule(ctx context.Context, cd *v1beta1.Canary, name string) error {
	key := types.NamespacedName{Namespace: cd.Namespace, Name: name}
	if isVerified(r.Memo, viewed(ctx, r.Client, key, &istio.DestinationRule{}), cd, "") {
		return nil
	}
	var newSpec *istionet.DestinationRule
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dr := &istio.DestinationRule{}
		err := r.Client.Get(ctx, key, dr)
		if newSpec == nil {
			newSpec = &istionet.DestinationRule{}
			if err := convert(r.Memo, struct {
				Host          string                 `json:"host"`
				TrafficPolicy *v1beta1.TrafficPolicy `json:"trafficPolicy,omitempty"`
			}{name, cd.Spec.Service.TrafficPolicy}, newSpec); err != nil {
				return fmt.Errorf("DestinationRule %s.%s spec conversion error: %w", name, cd.Namespace, err)
			}
		}
		if apierrors.IsNotFound(err) {
			dr = &istio.DestinationRule{ObjectMeta: metav1.ObjectMeta{
				Name:            name,
				Namespace:       cd.Namespace,
				OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(r.Client, cd)},
			}}
			proto.Merge(&dr.Spec, newSpec)
			if err := r.Client.Create(ctx, dr); err != nil {
				return fmt.Errorf("DestinationRule %s.%s create error: %w", name, cd.Namespace, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("DestinationRule %s.%s get query error: %w", name, cd.Namespace, err)
		}
		if proto.Equal(&dr.Spec, newSpec) {
			markVerified(r.Memo, dr, cd, "")
			return nil
		}
		setSpec(&dr.Spec, newSpec)
		if err := r.Client.Update(ctx, dr); err != nil {
			return fmt.Errorf("DestinationRule %s.%s update error: %w", name, cd.Namespace, err)
		}
		return nil
	})
}

func (r *Istio) reconcileVirtualService(ctx context.Context, cd *v1beta1.Canary) error {
	apexName, _, _ := cd.GetServiceNames()
	svc := cd.Spec.Service
	if svc.Delegation && (len(svc.Hosts) > 0 || len(svc.Gateways) > 0) {
		return fmt.Errorf("VirtualService %s.%s cannot have hosts and gateways when delegation enabled", apexName, cd.Namespace)
	}

	// hosts: the apex Service is added unless present or "*" is
	hosts := append([]string(nil), svc.Hosts...)
	hasServiceHost := false
	for _, h := range hosts {
		if h == apexName || h == "*" {
			hasServiceHost = true
			break
		}
	}
	if !hasServiceHost {
		hosts = append(hosts, apexName)
	}
	// gateways: "mesh" only when none is given
	gateways := append([]string(nil), svc.Gateways...)
	if len(gateways) == 0 {
		gateways = []string{"mesh"}
	}
	if svc.Delegation {
		hosts, gateways = nil, nil
	}

	key := types.NamespacedName{Namespace: cd.Namespace, Name: apexName}
	if isVerified(r.Memo, viewed(ctx, r.Client, key, &istio.VirtualService{}), cd, "") {
		return nil
	}
	var (
		newSpec             *istionet.VirtualService
		labels, annotations map[string]string
	)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vs := &istio.VirtualService{}
		err := r.Client.Get(ctx, key, vs)
		if newSpec == nil {
			var specErr error
			if newSpec, specErr = r.virtualServiceSpec(cd, hosts, gateways, 100, 0, false); specErr != nil {
				return fmt.Errorf("VirtualService %s.%s spec conversion error: %w", apexName, cd.Namespace, specErr)
			}
			labels, annotations = map[string]string{}, map[string]string{}
			if apex := svc.Apex; apex != nil {
				maps.Copy(labels, apex.Labels)
				maps.Copy(annotations, apex.Annotations)
			}
			annotations = filterMetadata(annotations)
		}
		if apierrors.IsNotFound(err) {
			vs = &istio.VirtualService{ObjectMeta: metav1.ObjectMeta{
				Name:            apexName,
				Namespace:       cd.Namespace,
				Labels:          labels,
				Annotations:     annotations,
				OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(r.Client, cd)},
			}}
			proto.Merge(&vs.Spec, newSpec)
			if err := r.Client.Create(ctx, vs); err != nil {
				return fmt.Errorf("VirtualService %s.%s create error: %w", apexName, cd.Namespace, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("VirtualService %s.%s get query error %v", apexName, cd.Namespace, err)
		}

		wantAnnotations := maps.Clone(annotations)
		for _, key := range []string{kubectlAnnotation, configAnnotation} {
			if v, ok := vs.Annotations[key]; ok {
				wantAnnotations[key] = v
			}
		}
		specDiff := !equalIgnoringWeights(newSpec, &vs.Spec)
		labelsDiff := !maps.Equal(labels, vs.Labels)
		annotationsDiff := !maps.Equal(wantAnnotations, vs.Annotations)
		if !specDiff && !labelsDiff && !annotationsDiff {
			markVerified(r.Memo, vs, cd, "")
			return nil
		}
		if specDiff {
			if _, ok := wantAnnotations[kubectlAnnotation]; !ok {
				// keep the replaced spec, as Flagger does, for a later revert
				if b, err := json.Marshal(&vs.Spec); err == nil {
					wantAnnotations[configAnnotation] = string(b)
				}
			}
			// Like Flagger, a spec change other than weights or mirroring replaces the
			// whole spec, so traffic returns to the primary (primary 100 / canary 0).
			setSpec(&vs.Spec, newSpec)
		}
		vs.Labels = labels
		vs.Annotations = wantAnnotations
		if err := r.Client.Update(ctx, vs); err != nil {
			return fmt.Errorf("VirtualService %s.%s update error: %w", apexName, cd.Namespace, err)
		}
		return nil
	})
}

// GetRoutes reads the weights of the HTTP route that sends traffic to the canary (the
// last such route, as Flagger) and whether that route mirrors to the canary.
func (r *Istio) GetRoutes(ctx context.Context, cd *v1beta1.Canary) (primary, canary int, mirrored bool, err error) {
	apexName, primaryName, canaryName := cd.GetServiceNames()
	vs := &istio.VirtualService{} // only looked at
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: apexName}, vs, client.UnsafeDisableDeepCopy); err != nil {
		return 0, 0, false, fmt.Errorf("VirtualService %s.%s get query error %v", apexName, cd.Namespace, err)
	}
	var route *istionet.HTTPRoute
	for _, h := range vs.Spec.GetHttp() {
		for _, d := range h.GetRoute() {
			if d.GetDestination().GetHost() == canaryName {
				route = h
				break
			}
		}
	}
	for _, d := range route.GetRoute() {
		switch d.GetDestination().GetHost() {
		case primaryName:
			primary = int(d.GetWeight())
		case canaryName:
			canary = int(d.GetWeight())
		}
	}
	if m := route.GetMirror(); m != nil && m.GetHost() != "" {
		mirrored = true
	}
	if primary == 0 && canary == 0 {
		return 0, 0, mirrored, fmt.Errorf("VirtualService %s.%s does not contain routes for %s-primary and %s-canary",
			apexName, cd.Namespace, apexName, apexName)
	}
	return primary, canary, mirrored, nil
}

// SetRoutes rewrites the VirtualService's HTTP routes with the given weights: one
// weighted route (mirroring to the canary when mirrored, with
// analysis.mirrorWeight as the mirror percentage), or, for A/B testing
// (analysis.match), a route for the matching requests with the weights followed by a
// route to the primary for the rest.
func (r *Istio) SetRoutes(ctx context.Context, cd *v1beta1.Canary, primary, canary int, mirrored bool) error {
	if err := checkSessionAffinity(cd); err != nil {
		return err
	}
	apexName, _, _ := cd.GetServiceNames()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vs := &istio.VirtualService{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: apexName}, vs); err != nil {
			return fmt.Errorf("VirtualService %s.%s get query error %v", apexName, cd.Namespace, err)
		}
		// A VirtualService found as the canary wants it has the routes the canary's
		// spec builds, but for their weights and mirrors: setting those is the same
		// as building the routes again. And it stays as the canary wants it, since
		// Reconcile ignores them (the VirtualService CRD defaults nothing, so what is
		// sent is what is stored).
		wanted := isVerified(r.Memo, vs, cd, "")
		if wanted {
			setRouting(cd, vs.Spec.Http, primary, canary, mirrored)
		} else {
			spec, err := r.virtualServiceSpec(cd, vs.Spec.GetHosts(), vs.Spec.GetGateways(), primary, canary, mirrored)
			if err != nil {
				return fmt.Errorf("VirtualService %s.%s spec conversion error: %w", apexName, cd.Namespace, err)
			}
			vs.Spec.Http = spec.Http
		}
		if err := r.Client.Update(ctx, vs); err != nil {
			return fmt.Errorf("VirtualService %s.%s update failed: %w", apexName, cd.Namespace, err)
		}
		if wanted {
			markVerified(r.Memo, vs, cd, "")
		}
		return nil
	})
}

// CheckCanary names the first field of cd the Istio router refuses, and why: today
// only analysis.sessionAffinity (Flagger's cookie routing is not implemented). The
// router refuses it on every Reconcile and SetRoutes; the engine asks the same
// function before a run (engine.(*Engine).Unsupported), so the scenario loader
// reports it with its line instead.
func (r *Istio) CheckCanary(cd *v1beta1.Canary) (field string, err error) {
	if err := checkSessionAffinity(cd); err != nil {
		return "spec.analysis.sessionAffinity", err
	}
	return "", nil
}

func checkSessionAffinity(cd *v1beta1.Canary) error {
	if a := cd.GetAnalysis(); a != nil && a.SessionAffinity != nil {
		return fmt.Errorf("canary %s.%s: analysis.sessionAffinity is not supported by aviary yet (session affinity cookies are not routed)", cd.Name, cd.Namespace)
	}
	return nil
}

// The Istio-JSON shapes a VirtualService spec is built from; our API types are
// Istio-JSON-shaped, so the spec is their JSON read by Istio's own unmarshaler.
type (
	vsJSON struct {
		Hosts    []string    `json:"hosts,omitempty"`
		Gateways []string    `json:"gateways,omitempty"`
		HTTP     []routeJSON `json:"http,omitempty"`
	}
	routeJSON struct {
		Match      []v1beta1.HTTPMatchRequest `json:"match,omitempty"`
		Route      []routeDestinationJSON     `json:"route,omitempty"`
		Rewrite    *rewriteJSON               `json:"rewrite,omitempty"`
		Timeout    string                     `json:"timeout,omitempty"`
		Retries    *v1beta1.HTTPRetry         `json:"retries,omitempty"`
		CorsPolicy *v1beta1.CorsPolicy        `json:"corsPolicy,omitempty"`
		Headers    *v1beta1.Headers           `json:"headers,omitempty"`
	}
	routeDestinationJSON struct {
		Destination destinationJSON `json:"destination"`
	}
	destinationJSON struct {
		Host string    `json:"host"`
		Port *portJSON `json:"port,omitempty"`
	}
	portJSON struct {
		Number uint32 `json:"number"`
	}
	rewriteJSON struct {
		URI       string `json:"uri,omitempty"`
		Authority string `json:"authority,omitempty"`
	}
)

// virtualServiceSpec builds the spec Flagger writes for these weights.
func (r *Istio) virtualServiceSpec(cd *v1beta1.Canary, hosts, gateways []string, primaryWeight, canaryWeight int, mirrored bool) (*istionet.VirtualService, error) {
	_, primaryName, canaryName := cd.GetServiceNames()
	svc := cd.Spec.Service
	route := func(match []v1beta1.HTTPMatchRequest, dests ...routeDestinationJSON) routeJSON {
		rt := routeJSON{
			Match:      match,
			Route:      dests,
			Timeout:    svc.Timeout,
			Retries:    svc.Retries,
			CorsPolicy: svc.CorsPolicy,
			Headers:    svc.Headers,
		}
		if svc.Rewrite != nil {
			rt.Rewrite = &rewriteJSON{URI: svc.Rewrite.URI, Authority: svc.Rewrite.Authority}
		}
		return rt
	}

	// The weights and mirrors change at every step: setRouting sets them after the
	// conversion, so that a memo holds one spec per route shape, not one per step.
	spec := vsJSON{Hosts: hosts, Gateways: gateways}
	if abRoutes(cd) {
		spec.HTTP = []routeJSON{
			route(mergeMatchConditions(cd.GetAnalysis().Match, svc.Match), destination(cd, primaryName), destination(cd, canaryName)),
			route(svc.Match, destination(cd, primaryName)),
		}
	} else {
		spec.HTTP = []routeJSON{route(svc.Match, destination(cd, primaryName), destination(cd, canaryName))}
	}
	out := &istionet.VirtualService{}
	if err := convert(r.Memo, spec, out); err != nil {
		return nil, err
	}
	setRouting(cd, out.Http, primaryWeight, canaryWeight, mirrored)
	return out, nil
}

// abRoutes reports whether the canary's routes are A/B testing's: a route for the
// requests analysis.match selects, then one to the primary for the rest.
func abRoutes(cd *v1beta1.Canary) bool {
	a := cd.GetAnalysis()
	return a != nil && len(a.Match) > 0
}

// CanMirror is true but on A/B testing's routes, which Flagger never mirrors.
func (r *Istio) CanMirror(cd *v1beta1.Canary) bool { return !abRoutes(cd) }

// setRouting sets the weights and mirrors of the HTTP routes virtualServiceSpec
// builds for cd (in place): every destination of the primary gets primaryWeight, of
// the canary canaryWeight; without A/B matching, the one weighted route mirrors to
// the canary when mirrored (analysis.mirrorWeight percent of it when set).
func setRouting(cd *v1beta1.Canary, http []*istionet.HTTPRoute, primaryWeight, canaryWeight int, mirrored bool) {
	_, primaryName, canaryName := cd.GetServiceNames()
	for _, h := range http {
		for _, d := range h.GetRoute() {
			switch d.GetDestination().GetHost() {
			case primaryName:
				d.Weight = int32(primaryWeight)
			case canaryName:
				d.Weight = int32(canaryWeight)
			}
		}
		h.Mirror, h.MirrorPercentage = nil, nil
	}
	if !mirrored || abRoutes(cd) {
		return
	}
	http[0].Mirror = &istionet.Destination{Host: canaryName}
	if analysis := cd.GetAnalysis(); analysis != nil && analysis.MirrorWeight > 0 {
		http[0].MirrorPercentage = &istionet.Percent{Value: float64(analysis.MirrorWeight)}
	}
}

// destination routes to host (setRouting sets the weight); the port is set when port
// discovery is on and the first gateway is not the mesh (or the VirtualService is a
// delegate).
func destination(cd *v1beta1.Canary, host string) routeDestinationJSON {
	svc := cd.Spec.Service
	d := routeDestinationJSON{Destination: destinationJSON{Host: host}}
	if svc.PortDiscovery && (len(svc.Gateways) > 0 && svc.Gateways[0] != "mesh" || svc.Delegation) {
		d.Destination.Port = &portJSON{Number: uint32(svc.Port)}
	}
	return d
}

// mergeMatchConditions is Flagger's: one condition per (canary, default) pair, the
// default's fields with the canary's headers and source labels when set. Without
// defaults the canary conditions are used as they are.
func mergeMatchConditions(canary, defaults []v1beta1.HTTPMatchRequest) []v1beta1.HTTPMatchRequest {
	if len(defaults) == 0 {
		return canary
	}
	merged := make([]v1beta1.HTTPMatchRequest, 0, len(canary)*len(defaults))
	for _, c := range canary {
		for _, d := range defaults {
			m := *d.DeepCopy()
			if c.Headers != nil {
				m.Headers = c.Headers
			}
			if c.SourceLabels != nil {
				m.SourceLabels = c.SourceLabels
			}
			merged = append(merged, m)
		}
	}
	return merged
}

// specKey names a spec built from its input's JSON. The router rebuilds its specs
// on every tick, and Istio's JSON unmarshaler was most of its cost; with the JSON as
// the key, a remembered spec is exactly what the unmarshaler would return.
type specKey struct {
	typ  reflect.Type
	json string
}

// convert reads src's JSON into dst (an empty Istio message) with Istio's
// unmarshaler, or copies the spec memo holds for the same JSON; memo may be nil.
func convert(memo *lru.Cache, src any, dst interface {
	proto.Message
	json.Unmarshaler
}) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	if memo == nil {
		return dst.UnmarshalJSON(b)
	}
	key := specKey{reflect.TypeOf(dst), string(b)}
	if spec, ok := memo.Get(key); ok {
		proto.Merge(dst, spec.(proto.Message))
		return nil
	}
	if err := dst.UnmarshalJSON(b); err != nil {
		return err
	}
	memo.Add(key, proto.Clone(dst))
	return nil
}

// setSpec replaces dst's content with src's.
func setSpec[M proto.Message](dst, src M) {
	proto.Reset(dst)
	proto.Merge(dst, src)
}

// equalIgnoringWeights compares two VirtualService specs without destination weights,
// mirrors and mirror percentages (what SetRoutes owns). Both must be the caller's own:
// those fields are set aside in place for the comparison and put back, since cloning
// both specs on every tick was a good part of a reconcile.
func equalIgnoringWeights(a, b *istionet.VirtualService) bool {
	defer setAsideRouting(a)()
	defer setAsideRouting(b)()
	return proto.Equal(a, b)
}

// setAsideRouting clears the weights and mirrors of vs's HTTP routes and returns
// what puts them back.
func setAsideRouting(vs *istionet.VirtualService) (restore func()) {
	type routing struct {
		mirror  *istionet.Destination
		percent *istionet.Percent
		weights []int32
	}
	saved := make([]routing, len(vs.GetHttp()))
	for i, h := range vs.GetHttp() {
		saved[i] = routing{mirror: h.Mirror, percent: h.MirrorPercentage}
		h.Mirror, h.MirrorPercentage = nil, nil
		for _, d := range h.GetRoute() {
			saved[i].weights = append(saved[i].weights, d.Weight)
			d.Weight = 0
		}
	}
	return func() {
		for i, h := range vs.GetHttp() {
			h.Mirror, h.MirrorPercentage = saved[i].mirror, saved[i].percent
			for j, d := range h.GetRoute() {
				d.Weight = saved[i].weights[j]
			}
		}
	}
}
