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
	_, primaryName, canaryName := cd.GetServiceNames()
	if err := k.reconcileService(ctx, cd, canaryName, k.LabelValue, cd.Spec.Service.Canary); err != nil {
		return fmt.Errorf("reconcileService failed: %w", err)
	}
	if err := k.reconcileService(ctx, cd, primaryName, k.LabelValue+"-primary", cd.Spec.Service.Primary); err != nil {
		return fmt.Errorf("reconcileService failed: %w", err)
	}
	return nil
}

// Reconcile creates or updates the apex Service <svc>, selecting the primary's pods.
// Like Flagger, it leaves the -canary and -primary Services to Initialize.
func (k *KubernetesServices) Reconcile(ctx context.Context, cd *v1beta1.Canary) error {
	apexName, _, _ := cd.GetServiceNames()
	if err := k.reconcileService(ctx, cd, apexName, k.LabelValue+"-primary", cd.Spec.Service.Apex); err != nil {
		return fmt.Errorf("reconcileService failed: %w", err)
	}
	return nil
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

func (k *KubernetesServices) reconcileService(ctx context.Context, cd *v1beta1.Canary, name, podSelector string, custom *v1beta1.CustomMetadata) error {
	key := types.NamespacedName{Namespace: cd.Namespace, Name: name}
	if isVerified(k.Memo, viewed(ctx, k.Client, key, &corev1.Service{}), cd, k.verifiedInputs()) {
		return nil
	}
	var (
		desired             *corev1.ServiceSpec
		labels, annotations map[string]string
	)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc := &corev1.Service{}
		err := k.Client.Get(ctx, key, svc)
		if desired == nil {
			spec := k.serviceSpec(cd, podSelector)
			desired = &spec
			labels, annotations = map[string]string{}, map[string]string{}
			if custom != nil {
				maps.Copy(labels, custom.Labels)
				maps.Copy(annotations, custom.Annotations)
			}
			labels[k.LabelKey] = name
			annotations = filterMetadata(annotations)
		}
		if apierrors.IsNotFound(err) {
			svc = &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{
					Name:            name,
					Namespace:       cd.Namespace,
					Labels:          labels,
					Annotations:     annotations,
					OwnerReferences: []metav1.OwnerReference{ownerRef(cd)},
				},
				Spec: *desired,
			}
			if err := k.Client.Create(ctx, svc); err != nil {
				return fmt.Errorf("service %s.%s create error: %w", name, cd.Namespace, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("service %s get query error: %w", name, err)
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
			return fmt.Errorf("service %s update error: %w", name, err)
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
