package router

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// KubernetesServices manages the ClusterIP Services of a canary (Flagger's
// KubernetesDefaultRouter). It implements engine.ServiceRouter.
//
// With a Memo, a reconcile that finds a Service as the canary wants it is remembered
// (see verifiedKey) and not compared again while neither changes.
type KubernetesServices struct {
	// Client reads and writes Services.
	Client client.Client
	// LabelKey and LabelValue are the target's pod selector label (workload's Metadata).
	LabelKey, LabelValue string
	// Ports are the extra ports found by port discovery, by name.
	Ports map[string]int32
	// Memo, when set, remembers the Services found as wanted (it may be shared with
	// other users of distinct key types); nil compares every Service every time.
	Memo *lru.Cache

	// inputs is LabelKey, LabelValue and Ports as one string (verifiedKey.inputs),
	// made on first use.
	inputs string
}

// Initialize creates or updates <svc>-canary (selector label=value) and <svc>-primary
// (selector label=value-primary). The engine calls it on every tick.
func (k *KubernetesServices) Initialize(ctx context.Context, cd *v1beta1.Canary) error {
	canary, primary, _ := k.roles(cd)
	for _, r := range []serviceRole{canary, primary} {
		if err := k.reconcileService(ctx, cd, r); err != nil {
			return fmt.Errorf("reconcileService failed: %w", err)
		}
	}
	return nil
}

// Reconcile creates or updates the apex Service <svc>, selecting the primary's pods.
// Like Flagger, it leaves the -canary and -primary Services to Initialize.
func (k *KubernetesServices) Reconcile(ctx context.Context, cd *v1beta1.Canary) error {
	_, _, apex := k.roles(cd)
	if err := k.reconcileService(ctx, cd, apex); err != nil {
		return fmt.Errorf("reconcileService failed: %w", err)
	}
	return nil
}

// serviceRole is one generated Service: its name, the value of the selector label
// of the pods it selects, and the metadata the Canary gives it.
type serviceRole struct {
	name, podSelector string
	custom            *v1beta1.CustomMetadata
}

// roles are the canary's Service, the primary's, and the apex Service, which
// selects the primary's pods.
func (k *KubernetesServices) roles(cd *v1beta1.Canary) (canary, primary, apex serviceRole) {
	apexName, primaryName, canaryName := cd.GetServiceNames()
	svc := &cd.Spec.Service
	return serviceRole{canaryName, k.LabelValue, svc.Canary},
		serviceRole{primaryName, k.LabelValue + "-primary", svc.Primary},
		serviceRole{apexName, k.LabelValue + "-primary", svc.Apex}
}

// GeneratedServices are the Services Flagger creates for cd (the canary's, the
// primary's and the apex), as it creates them, for a target whose pods carry the
// selector label key=value; without the ports port discovery adds. The scenario
// loader holds them against the API server's rules before a run.
func GeneratedServices(cd *v1beta1.Canary, key, value string) []*corev1.Service {
	k := &KubernetesServices{LabelKey: key, LabelValue: value}
	canary, primary, apex := k.roles(cd)
	return []*corev1.Service{k.newService(cd, canary), k.newService(cd, primary), k.newService(cd, apex)}
}

// newService is a generated Service as it is created.
func (k *KubernetesServices) newService(cd *v1beta1.Canary, r serviceRole) *corev1.Service {
	labels, annotations := map[string]string{}, map[string]string{}
	if r.custom != nil {
		maps.Copy(labels, r.custom.Labels)
		maps.Copy(annotations, r.custom.Annotations)
	}
	labels[k.LabelKey] = r.name
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:            r.name,
			Namespace:       cd.Namespace,
			Labels:          labels,
			Annotations:     filterMetadata(annotations),
			OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(k.Client, cd)},
		},
		Spec: k.serviceSpec(cd, r.podSelector),
	}
}

// serviceSpec is the desired spec of a generated Service.
func (k *KubernetesServices) serviceSpec(cd *v1beta1.Canary, podSelector string) corev1.ServiceSpec {
	svc := cd.Spec.Service
	portName := svc.PortName
	if portName == "" {
		portName = "http"
	}
	targetPort := intstr.FromInt32(svc.Port)
	if svc.TargetPort.String() != "0" {
		targetPort = svc.TargetPort
	}
	spec := corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: map[string]string{k.LabelKey: podSelector},
		Ports: []corev1.ServicePort{{
			Name:       portName,
			Protocol:   corev1.ProtocolTCP,
			Port:       svc.Port,
			TargetPort: targetPort,
		}},
	}
	if svc.AppProtocol != "" {
		appProtocol := svc.AppProtocol
		spec.Ports[0].AppProtocol = &appProtocol
	}
	if svc.Headless {
		spec.ClusterIP = corev1.ClusterIPNone
	}
	if svc.TrafficDistribution != "" {
		td := svc.TrafficDistribution
		spec.TrafficDistribution = &td
	}
	// Flagger ranges over the map; aviary sorts by name so runs are reproducible.
	names := make([]string, 0, len(k.Ports))
	for n := range k.Ports {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := k.Ports[n]
		spec.Ports = append(spec.Ports, corev1.ServicePort{
			Name:       n,
			Protocol:   corev1.ProtocolTCP,
			Port:       p,
			TargetPort: intstr.FromInt32(p),
		})
	}
	return spec
}

// verifiedInputs is the other inputs of a Service's desired state: the target's
// selector label and its discovered ports.
func (k *KubernetesServices) verifiedInputs() string {
	if k.inputs == "" {
		names := slices.Sorted(maps.Keys(k.Ports))
		var b strings.Builder
		b.WriteString(k.LabelKey + "=" + k.LabelValue)
		for _, n := range names {
			fmt.Fprintf(&b, ",%s:%d", n, k.Ports[n])
		}
		k.inputs = b.String()
	}
	return k.inputs
}

func (k *KubernetesServices) reconcileService(ctx context.Context, cd *v1beta1.Canary, r serviceRole) error {
	key := types.NamespacedName{Namespace: cd.Namespace, Name: r.name}
	if isVerified(k.Memo, viewed(ctx, k.Client, key, &corev1.Service{}), cd, k.verifiedInputs()) {
		return nil
	}
	var wanted *corev1.Service
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc := &corev1.Service{}
		err := k.Client.Get(ctx, key, svc)
		if wanted == nil {
			wanted = k.newService(cd, r)
		}
		desired, labels, annotations := &wanted.Spec, wanted.Labels, wanted.Annotations
		if apierrors.IsNotFound(err) {
			if err := k.Client.Create(ctx, wanted.DeepCopy()); err != nil {
				return fmt.Errorf("service %s.%s create error: %w", r.name, cd.Namespace, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("service %s get query error: %w", r.name, err)
		}

		// keep the node ports the API server allocated
		ports := append([]corev1.ServicePort(nil), desired.Ports...)
		for _, existing := range svc.Spec.Ports {
			for i := range ports {
				if existing.Name == ports[i].Name && existing.NodePort > 0 {
					ports[i].NodePort = existing.NodePort
					break
				}
			}
		}

		update := false
		if !samePorts(ports, svc.Spec.Ports) || !sameMap(desired.Selector, svc.Spec.Selector) {
			svc.Spec.Ports = ports
			svc.Spec.Selector = desired.Selector
			update = true
		}
		// metadata is managed only on Services this canary created
		if isOwnedBy(svc, cd.Name) {
			wantLabels := keepUnmanaged(labels, svc.Labels, unmanagedLabels(cd))
			wantAnnotations := keepUnmanaged(annotations, svc.Annotations, unmanagedAnnotations(cd))
			if !sameMap(wantAnnotations, svc.Annotations) {
				svc.Annotations = wantAnnotations
				update = true
			}
			if !sameMap(wantLabels, svc.Labels) {
				svc.Labels = wantLabels
				update = true
			}
		}
		if !update {
			markVerified(k.Memo, svc, cd, k.verifiedInputs())
			return nil
		}
		if err := k.Client.Update(ctx, svc); err != nil {
			return fmt.Errorf("service %s update error: %w", r.name, err)
		}
		return nil
	})
}

// samePorts compares service ports regardless of order (Flagger sorts by port).
func samePorts(a, b []corev1.ServicePort) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.EqualFunc(a, b, samePort) {
		return true
	}
	sorted := func(p []corev1.ServicePort) []corev1.ServicePort {
		s := slices.Clone(p)
		slices.SortStableFunc(s, func(x, y corev1.ServicePort) int { return cmp.Compare(x.Port, y.Port) })
		return s
	}
	return slices.EqualFunc(sorted(a), sorted(b), samePort)
}

// samePort compares every field of two service ports (reflection made this the
// largest part of a Service reconcile, which runs on every tick).
func samePort(a, b corev1.ServicePort) bool {
	return a.Name == b.Name && a.Protocol == b.Protocol && a.Port == b.Port &&
		a.TargetPort == b.TargetPort && a.NodePort == b.NodePort &&
		(a.AppProtocol == nil) == (b.AppProtocol == nil) && (a.AppProtocol == nil || *a.AppProtocol == *b.AppProtocol)
}

// sameMap is reflect.DeepEqual for string maps (nil differs from empty), without
// reflection.
func sameMap(a, b map[string]string) bool {
	return (a == nil) == (b == nil) && maps.Equal(a, b)
}

// isOwnedBy reports whether the object's controller is the Canary of that name.
func isOwnedBy(obj metav1.Object, canaryName string) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.Kind == v1beta1.CanaryKind && ref.Name == canaryName
}

func unmanagedLabels(cd *v1beta1.Canary) []string {
	if u := cd.Spec.Service.UnmanagedMetadata; u != nil {
		return u.Labels
	}
	return nil
}

func unmanagedAnnotations(cd *v1beta1.Canary) []string {
	if u := cd.Spec.Service.UnmanagedMetadata; u != nil {
		return u.Annotations
	}
	return nil
}

// keepUnmanaged returns desired with the unmanaged keys as they are on the object.
func keepUnmanaged(desired, current map[string]string, unmanaged []string) map[string]string {
	if len(unmanaged) == 0 {
		return desired
	}
	res := maps.Clone(desired)
	for _, key := range unmanaged {
		if v, ok := current[key]; ok {
			res[key] = v
		} else {
			delete(res, key)
		}
	}
	return res
}
