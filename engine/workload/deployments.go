package workload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// DefaultSelectorLabels are Flagger's default -selector-labels: the first of these
// found in the target's spec.selector.matchLabels selects its pods.
var DefaultSelectorLabels = []string{"app", "name", "app.kubernetes.io/name"}

const (
	// kindDeployment is the only targetRef.kind this package handles.
	kindDeployment = "Deployment"
	// flaggerIDKey is the pod-template annotation that forces a rolling update of the
	// primary on every promotion.
	flaggerIDKey = "flagger-id"
	// toolkitMarker marks Flux ownership labels and annotations, never copied.
	toolkitMarker = "toolkit.fluxcd.io"
)

// sidecars are the container names port discovery skips (service-mesh proxies).
var sidecars = map[string]bool{"istio-proxy": true, "envoy": true}

// Deployments is the target controller for targetRef.kind Deployment (Flagger's
// DeploymentController with its ConfigTracker). It implements engine.Workload.
type Deployments struct {
	// Client reads and writes Deployments, ConfigMaps, Secrets (and reads HPAs).
	Client client.Client
	// Clock is "now" for the readiness deadline and for the flagger-id annotation.
	// Nil means the real clock.
	Clock clock.PassiveClock
	// SelectorLabels is Flagger's -selector-labels; empty means DefaultSelectorLabels.
	SelectorLabels []string
	// ConfigTracking is Flagger's -enable-config-tracking (Flagger's default is true):
	// when false no ConfigMap or Secret is tracked, copied or renamed.
	ConfigTracking bool
	// IncludeLabelPrefixes is Flagger's -include-label-prefix: prefixes of the target's
	// labels (and, on promotion, annotations) copied to the primary and to the primary
	// configs; "*" copies all. Empty (Flagger's default) copies none.
	IncludeLabelPrefixes []string
	// Memo, when set, remembers the template hashes computed on earlier ticks (keyed
	// by their input, so it may be shared with other users of distinct key types);
	// nil computes every hash afresh.
	Memo *lru.Cache
}

// hashKey names a version of a Deployment's spec: the API server moves
// metadata.generation on every change of the spec, and only then. The tick asks for
// the target's hash once or twice an interval, and Flagger's hash (a spew dump of the
// whole template) was a sizeable part of a tick; keyed by the resourceVersion instead,
// the memo missed after each status write of the Deployment controller.
type hashKey struct {
	uid        types.UID
	generation int64
}

// hash returns TemplateHash(&dep.Spec.Template), remembered in memo (may be nil).
// A Deployment without a UID or a generation (not read from an API server) is hashed
// every time.
func hash(memo *lru.Cache, dep *appsv1.Deployment) (string, error) {
	if memo == nil || dep.UID == "" || dep.Generation == 0 {
		return TemplateHash(&dep.Spec.Template)
	}
	key := hashKey{dep.UID, dep.Generation}
	if h, ok := memo.Get(key); ok {
		return h.(string), nil
	}
	h, err := TemplateHash(&dep.Spec.Template)
	if err != nil {
		return "", err
	}
	memo.Add(key, h)
	return h, nil
}

// Initialize creates <target>-primary, and the -primary copies of the target's tracked
// ConfigMaps and Secrets, when the primary Deployment does not exist (Flagger's
// createPrimaryDeployment). An existing primary is left alone.
func (d *Deployments) Initialize(ctx context.Context, cd *v1beta1.Canary) error {
	if err := supported(cd); err != nil {
		return err
	}
	if err := d.createPrimaryDeployment(ctx, cd); err != nil {
		return fmt.Errorf("createPrimaryDeployment failed: %w", err)
	}
	return nil
}

func (d *Deployments) createPrimaryDeployment(ctx context.Context, cd *v1beta1.Canary) error {
	targetName, primaryName := names(cd)
	target, err := d.viewDeployment(ctx, cd.Namespace, targetName)
	if err != nil {
		return err
	}
	label, labelValue, err := d.selectorLabel(target)
	if err != nil {
		return fmt.Errorf("getSelectorLabel failed: %w", err)
	}
	primaryLabelValue := labelValue + "-primary"

	err = d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: primaryName}, &appsv1.Deployment{}, client.UnsafeDisableDeepCopy)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("deployment %s.%s get query error: %w", primaryName, cd.Namespace, err)
	}

	refs, err := d.targetConfigs(ctx, cd, target)
	if err != nil {
		return fmt.Errorf("GetTargetConfigs failed: %w", err)
	}
	if err := d.createPrimaryConfigs(ctx, cd, refs); err != nil {
		return fmt.Errorf("CreatePrimaryConfigs failed: %w", err)
	}

	annotations, err := d.makeAnnotations(cd, target)
	if err != nil {
		return err
	}
	replicas := int32(1)
	if target.Spec.Replicas != nil && *target.Spec.Replicas > 0 {
		replicas = *target.Spec.Replicas
	}
	primary := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            primaryName,
			Namespace:       cd.Namespace,
			Labels:          makePrimaryLabels(includeByPrefix(target.Labels, d.IncludeLabelPrefixes), primaryLabelValue, label),
			Annotations:     withoutToolkit(target.Annotations),
			OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(d.Client, cd)},
		},
		Spec: appsv1.DeploymentSpec{
			// copies: target is a view
			ProgressDeadlineSeconds: clonePtr(target.Spec.ProgressDeadlineSeconds),
			MinReadySeconds:         target.Spec.MinReadySeconds,
			RevisionHistoryLimit:    clonePtr(target.Spec.RevisionHistoryLimit),
			Replicas:                &replicas,
			Strategy:                *target.Spec.Strategy.DeepCopy(),
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{label: primaryLabelValue}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      makePrimaryLabels(target.Spec.Template.Labels, primaryLabelValue, label),
					Annotations: annotations,
				},
				Spec: d.primaryPodSpec(target, refs),
			},
		},
	}
	if err := d.Client.Create(ctx, primary); err != nil {
		return fmt.Errorf("creating deployment %s.%s failed: %w", primaryName, cd.Namespace, err)
	}
	return nil
}

// Promote copies the target's pod template, strategy and deadlines (and its tracked
// ConfigMaps and Secrets, as -primary copies) to the primary, keeping the primary's
// selector label. Without an autoscaler the primary also takes the target's replicas.
func (d *Deployments) Promote(ctx context.Context, cd *v1beta1.Canary) error {
	if err := supported(cd); err != nil {
		return err
	}
	targetName, primaryName := names(cd)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		target, err := d.getDeployment(ctx, cd.Namespace, targetName)
		if err != nil {
			return err
		}
		label, labelValue, err := d.selectorLabel(target)
		if err != nil {
			return fmt.Errorf("getSelectorLabel failed: %w", err)
		}
		primaryLabelValue := labelValue + "-primary"
		primary, err := d.getDeployment(ctx, cd.Namespace, primaryName)
		if err != nil {
			return err
		}

		refs, err := d.targetConfigs(ctx, cd, target)
		if err != nil {
			return fmt.Errorf("GetTargetConfigs failed: %w", err)
		}
		if err := d.createPrimaryConfigs(ctx, cd, refs); err != nil {
			return fmt.Errorf("CreatePrimaryConfigs failed: %w", err)
		}

		primary.Spec.ProgressDeadlineSeconds = target.Spec.ProgressDeadlineSeconds
		primary.Spec.MinReadySeconds = target.Spec.MinReadySeconds
		primary.Spec.RevisionHistoryLimit = target.Spec.RevisionHistoryLimit
		primary.Spec.Strategy = *target.Spec.Strategy.DeepCopy()
		if cd.Spec.AutoscalerRef == nil {
			primary.Spec.Replicas = target.Spec.Replicas
		}
		annotations, err := d.makeAnnotations(cd, target)
		if err != nil {
			return err
		}
		primary.Spec.Template.Spec = d.primaryPodSpec(target, refs)
		primary.Spec.Template.Annotations = annotations
		primary.Spec.Template.Labels = makePrimaryLabels(target.Spec.Template.Labels, primaryLabelValue, label)
		primary.Annotations = includeByPrefix(target.Annotations, d.IncludeLabelPrefixes)
		primary.Labels = makePrimaryLabels(includeByPrefix(target.Labels, d.IncludeLabelPrefixes), primaryLabelValue, label)
		return d.Client.Update(ctx, primary)
	})
	if err != nil {
		return fmt.Errorf("updating deployment %s.%s template spec failed: %w", primaryName, cd.Namespace, err)
	}
	return nil
}

// ScaleToZero sets the target's replicas to 0.
func (d *Deployments) ScaleToZero(ctx context.Context, cd *v1beta1.Canary) error {
	if err := supported(cd); err != nil {
		return err
	}
	targetName, _ := names(cd)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		target, err := d.getDeployment(ctx, cd.Namespace, targetName)
		if err != nil {
			return err
		}
		target.Spec.Replicas = int32p(0)
		if err := d.Client.Update(ctx, target); err != nil {
			return fmt.Errorf("deployment %s.%s update query error: %w", targetName, cd.Namespace, err)
		}
		return nil
	})
}

// ScaleFromZero restores the target's replicas: its own when positive, else (without
// an autoscaler) the primary's when positive, else the HPA's minReplicas when above 1,
// else 1.
func (d *Deployments) ScaleFromZero(ctx context.Context, cd *v1beta1.Canary) error {
	if err := supported(cd); err != nil {
		return err
	}
	targetName, primaryName := names(cd)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		target, err := d.getDeployment(ctx, cd.Namespace, targetName)
		if err != nil {
			return err
		}
		replicas := int32(1)
		switch {
		case target.Spec.Replicas != nil && *target.Spec.Replicas > 0:
			replicas = *target.Spec.Replicas
		case cd.Spec.AutoscalerRef == nil:
			primary, err := d.viewDeployment(ctx, cd.Namespace, primaryName)
			if err != nil {
				return err
			}
			if primary.Spec.Replicas != nil && *primary.Spec.Replicas > 0 {
				replicas = *primary.Spec.Replicas
			}
		case cd.Spec.AutoscalerRef.Kind == "HorizontalPodAutoscaler":
			hpa := &autoscalingv2.HorizontalPodAutoscaler{}
			key := types.NamespacedName{Namespace: cd.Namespace, Name: cd.Spec.AutoscalerRef.Name}
			if err := d.Client.Get(ctx, key, hpa); err == nil && hpa.Spec.MinReplicas != nil && *hpa.Spec.MinReplicas > 1 {
				replicas = *hpa.Spec.MinReplicas
			}
		}
		target.Spec.Replicas = &replicas
		if err := d.Client.Update(ctx, target); err != nil {
			return fmt.Errorf("scaling up %s.%s to %v failed: %w", targetName, cd.Namespace, replicas, err)
		}
		return nil
	})
}

// Metadata is Flagger's GetMetadata: the target's pod selector label (the first of
// SelectorLabels in spec.selector.matchLabels) and its value, and, when
// spec.service.portDiscovery is set, the target's container ports other than the
// service port (sidecars excluded), by name.
func (d *Deployments) Metadata(ctx context.Context, cd *v1beta1.Canary) (labelKey, labelValue string, ports map[string]int32, err error) {
	if err := supported(cd); err != nil {
		return "", "", nil, err
	}
	targetName, _ := names(cd)
	target, err := d.viewDeployment(ctx, cd.Namespace, targetName)
	if err != nil {
		return "", "", nil, err
	}
	labelKey, labelValue, err = d.selectorLabel(target)
	if err != nil {
		return "", "", nil, fmt.Errorf("getSelectorLabel failed: %w", err)
	}
	if cd.Spec.Service.PortDiscovery {
		ports = discoverPorts(cd, target.Spec.Template.Spec.Containers)
	}
	return labelKey, labelValue, ports, nil
}

// Hash is TemplateHash (Flagger's ComputeHash) of the target's pod template
// (status.lastAppliedSpec).
func (d *Deployments) Hash(ctx context.Context, cd *v1beta1.Canary) (string, error) {
	if err := supported(cd); err != nil {
		return "", err
	}
	targetName, _ := names(cd)
	target, err := d.viewDeployment(ctx, cd.Namespace, targetName)
	if err != nil {
		return "", err
	}
	return hash(d.Memo, target)
}

// CheckTarget reports a target kind this package does not handle: every method
// refuses it with this error at run time, and the engine asks it before a run
// (engine.(*Engine).Unsupported) so that the scenario loader reports it with its line.
// Flagger also handles DaemonSet and Service targets.
func CheckTarget(cd *v1beta1.Canary) error {
	if kind := cd.Spec.TargetRef.Kind; kind != kindDeployment {
		return fmt.Errorf("target kind %q is not supported by aviary yet (supported: %s)", kind, kindDeployment)
	}
	return nil
}

// supported rejects targets this package does not handle.
func supported(cd *v1beta1.Canary) error { return CheckTarget(cd) }

// names returns the target and primary Deployment names.
func names(cd *v1beta1.Canary) (target, primary string) {
	return cd.Spec.TargetRef.Name, cd.Spec.TargetRef.Name + "-primary"
}

// getDeployment reads a Deployment to change.
func (d *Deployments) getDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return d.readDeployment(ctx, namespace, name)
}

// viewDeployment reads a Deployment only to look at it: a caching client
// (controller-runtime's cache, the simulator's) may hand out its own copy's maps and
// slices instead of a deep copy, which was most of a read's cost. What it returns must
// not be changed.
func (d *Deployments) viewDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return d.readDeployment(ctx, namespace, name, client.UnsafeDisableDeepCopy)
}

func (d *Deployments) readDeployment(ctx context.Context, namespace, name string, opts ...client.GetOption) (*appsv1.Deployment, error) {
	dep := &appsv1.Deployment{}
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, dep, opts...); err != nil {
		return nil, fmt.Errorf("deployment %s.%s get query error: %w", name, namespace, err)
	}
	return dep, nil
}

func (d *Deployments) labels() []string {
	if len(d.SelectorLabels) == 0 {
		return DefaultSelectorLabels
	}
	return d.SelectorLabels
}

// selectorLabel returns the first selector label found in the Deployment's
// spec.selector.matchLabels, and its value.
func (d *Deployments) selectorLabel(dep *appsv1.Deployment) (string, string, error) {
	if key, value, ok := SelectorLabel(dep.Spec.Selector, d.labels()); ok {
		return key, value, nil
	}
	return "", "", fmt.Errorf("deployment %s.%s spec.selector.matchLabels must contain one of %v",
		dep.Name, dep.Namespace, d.labels())
}

// SelectorLabel is the first of labels (Flagger's -selector-labels) among a
// selector's matchLabels, and its value: the label Flagger selects the target's pods
// by. ok is false when the selector has none of them.
func SelectorLabel(sel *metav1.LabelSelector, labels []string) (key, value string, ok bool) {
	if sel == nil {
		return "", "", false
	}
	for _, l := range labels {
		if v, found := sel.MatchLabels[l]; found {
			return l, v, true
		}
	}
	return "", "", false
}

func (d *Deployments) now() clock.PassiveClock {
	if d.Clock == nil {
		return clock.RealClock{}
	}
	return d.Clock
}

// primaryPodSpec is the target's pod spec with tracked configs renamed to their
// -primary copies and the selector label values in topology spread constraints and
// pod anti-affinity that name the target renamed to the primary
// (Flagger's getPrimaryDeploymentTemplateSpec).
func (d *Deployments) primaryPodSpec(target *appsv1.Deployment, refs map[string]configRef) corev1.PodSpec {
	spec := applyPrimaryConfigs(*target.Spec.Template.Spec.DeepCopy(), refs)
	for i := range spec.TopologySpreadConstraints {
		d.renameSelectorValues(spec.TopologySpreadConstraints[i].LabelSelector, target.Name)
	}
	if spec.Affinity != nil && spec.Affinity.PodAntiAffinity != nil {
		anti := spec.Affinity.PodAntiAffinity
		for i := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
			d.renameSelectorValues(anti.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm.LabelSelector, target.Name)
		}
		for i := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
			d.renameSelectorValues(anti.RequiredDuringSchedulingIgnoredDuringExecution[i].LabelSelector, target.Name)
		}
	}
	return spec
}

func (d *Deployments) renameSelectorValues(sel *metav1.LabelSelector, targetName string) {
	if sel == nil {
		return
	}
	isSelectorLabel := func(key string) bool {
		for _, l := range d.labels() {
			if l == key {
				return true
			}
		}
		return false
	}
	for _, expr := range sel.MatchExpressions {
		if !isSelectorLabel(expr.Key) {
			continue
		}
		for i := range expr.Values {
			if expr.Values[i] == targetName {
				expr.Values[i] += "-primary"
				break
			}
		}
	}
	for key, value := range sel.MatchLabels {
		if isSelectorLabel(key) && value == targetName {
			sel.MatchLabels[key] = value + "-primary"
		}
	}
}

// makeAnnotations is the target's pod-template annotations (Flux ownership dropped)
// plus a new flagger-id, which makes every promotion a rolling update of the primary.
// Flagger draws the id from crypto/rand; aviary derives it from the target, its pod
// template and the clock's time, so a run is reproducible and each promotion still
// gets a new id.
func (d *Deployments) makeAnnotations(cd *v1beta1.Canary, target *appsv1.Deployment) (map[string]string, error) {
	res := make(map[string]string)
	for k, v := range target.Spec.Template.Annotations {
		if strings.Contains(k, toolkitMarker) || k == flaggerIDKey {
			continue
		}
		res[k] = v
	}
	h, err := hash(d.Memo, target)
	if err != nil {
		return nil, err
	}
	seed := fmt.Sprintf("%s/%s@%d#%s", cd.Namespace, target.Name, d.now().Now().UnixNano(), h)
	sum := sha256.Sum256([]byte(seed))
	uuid := sum[:16]
	uuid[8] = uuid[8]&^0xc0 | 0x80
	uuid[6] = uuid[6]&^0xf0 | 0x40
	res[flaggerIDKey] = fmt.Sprintf("%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:])
	return res, nil
}

// makePrimaryLabels copies labels without Flux ownership and sets label=labelValue.
func makePrimaryLabels(labels map[string]string, labelValue, label string) map[string]string {
	res := make(map[string]string)
	for k, v := range labels {
		if strings.Contains(k, toolkitMarker) || k == label {
			continue
		}
		res[k] = v
	}
	res[label] = labelValue
	return res
}

// withoutToolkit copies metadata without Flux ownership keys.
func withoutToolkit(meta map[string]string) map[string]string {
	res := make(map[string]string)
	for k, v := range meta {
		if !strings.Contains(k, toolkitMarker) {
			res[k] = v
		}
	}
	return res
}

// includeByPrefix keeps the keys with one of the prefixes ("*" = all), never Flux
// ownership keys.
func includeByPrefix(meta map[string]string, prefixes []string) map[string]string {
	res := make(map[string]string)
	for k, v := range meta {
		if strings.Contains(k, toolkitMarker) {
			continue
		}
		for _, p := range prefixes {
			if p == "*" || (p != "" && strings.HasPrefix(k, p)) {
				res[k] = v
				break
			}
		}
	}
	return res
}

// discoverPorts is Flagger's getPorts.
func discoverPorts(cd *v1beta1.Canary, containers []corev1.Container) map[string]int32 {
	svc := cd.Spec.Service
	ports := make(map[string]int32, len(containers))
	for _, c := range containers {
		if sidecars[c.Name] {
			continue
		}
		for i, p := range c.Ports {
			if svc.TargetPort.String() == "0" {
				if p.ContainerPort == svc.Port {
					continue
				}
			} else {
				if svc.TargetPort.Type == intstr.Int && p.ContainerPort == svc.TargetPort.IntVal {
					continue
				}
				if svc.TargetPort.Type == intstr.String && p.Name == svc.TargetPort.StrVal {
					continue
				}
			}
			name := fmt.Sprintf("tcp-%s-%v", c.Name, i)
			if p.Name != "" {
				name = p.Name
			}
			ports[name] = p.ContainerPort
		}
	}
	return ports
}
func int32p(i int32) *int32 { return &i }

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
