package workload

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"aviary.dev/aviary/api/v1beta1"
)

// ConfigTrackingAnnotation on a ConfigMap or Secret with a value starting with
// "disable" excludes it from config tracking.
const ConfigTrackingAnnotation = "flagger.app/config-tracking"

// configKind is the kind part of a tracked config's key ("<kind>/<name>").
type configKind string

const (
	configMapKind configKind = "configmap"
	secretKind    configKind = "secret"
)

// configRef is a tracked ConfigMap or Secret and the checksum of its data.
type configRef struct {
	name     string
	kind     configKind
	checksum string
}

func (r configRef) key() string { return fmt.Sprintf("%s/%s", r.kind, r.name) }

// TrackedConfigs returns "<kind>/<name>" -> checksum of every ConfigMap and Secret the
// target's pod template references (env valueFrom, envFrom, volumes, projected volumes;
// containers and init containers), except those annotated
// flagger.app/config-tracking: disabled and Secrets of other types than Opaque,
// basic-auth, ssh-auth and tls. Empty when ConfigTracking is off.
func (d *Deployments) TrackedConfigs(ctx context.Context, cd *v1beta1.Canary) (map[string]string, error) {
	if err := supported(cd); err != nil {
		return nil, err
	}
	targetName, _ := names(cd)
	target, err := d.viewDeployment(ctx, cd.Namespace, targetName)
	if err != nil {
		return nil, fmt.Errorf("GetTargetConfigs failed: %w", err)
	}
	refs, err := d.targetConfigs(ctx, cd, target)
	if err != nil {
		return nil, fmt.Errorf("GetTargetConfigs failed: %w", err)
	}
	res := make(map[string]string, len(refs))
	for k, ref := range refs {
		res[k] = ref.checksum
	}
	return res, nil
}

// targetConfigs is Flagger's GetTargetConfigs for a Deployment already read.
// A referenced object that cannot be read is skipped unless the reference is
// explicitly optional: false.
func (d *Deployments) targetConfigs(ctx context.Context, cd *v1beta1.Canary, target *appsv1.Deployment) (map[string]configRef, error) {
	res := make(map[string]configRef)
	if !d.ConfigTracking {
		return res, nil
	}
	spec := target.Spec.Template.Spec
	configMaps := map[string]bool{} // name -> required
	secrets := map[string]bool{}

	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			configMaps[v.ConfigMap.Name] = mandatory(v.ConfigMap.Optional)
		}
		if v.Secret != nil {
			secrets[v.Secret.SecretName] = mandatory(v.Secret.Optional)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					configMaps[s.ConfigMap.Name] = mandatory(s.ConfigMap.Optional)
				}
				if s.Secret != nil {
					secrets[s.Secret.Name] = mandatory(s.Secret.Optional)
				}
			}
		}
	}
	containers := append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...)
	for _, c := range containers {
		for _, env := range c.Env {
			if env.ValueFrom == nil {
				continue
			}
			switch {
			case env.ValueFrom.ConfigMapKeyRef != nil:
				configMaps[env.ValueFrom.ConfigMapKeyRef.Name] = mandatory(env.ValueFrom.ConfigMapKeyRef.Optional)
			case env.ValueFrom.SecretKeyRef != nil:
				secrets[env.ValueFrom.SecretKeyRef.Name] = mandatory(env.ValueFrom.SecretKeyRef.Optional)
			}
		}
		for _, envFrom := range c.EnvFrom {
			switch {
			case envFrom.ConfigMapRef != nil:
				configMaps[envFrom.ConfigMapRef.Name] = mandatory(envFrom.ConfigMapRef.Optional)
			case envFrom.SecretRef != nil:
				secrets[envFrom.SecretRef.Name] = mandatory(envFrom.SecretRef.Optional)
			}
		}
	}

	for _, name := range sortedKeys(configMaps) {
		cm := &corev1.ConfigMap{}
		if err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: name}, cm); err != nil {
			if configMaps[name] {
				return nil, fmt.Errorf("configmap %s.%s get query error: %w", name, cd.Namespace, err)
			}
			continue
		}
		if trackingDisabled(cm.Annotations) {
			continue
		}
		ref := configRef{name: cm.Name, kind: configMapKind, checksum: checksum(cm.Data)}
		res[ref.key()] = ref
	}
	for _, name := range sortedKeys(secrets) {
		s := &corev1.Secret{}
		if err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: name}, s); err != nil {
			if secrets[name] {
				return nil, fmt.Errorf("secret %s.%s get query error: %w", name, cd.Namespace, err)
			}
			continue
		}
		if !trackedSecretType(s.Type) || trackingDisabled(s.Annotations) {
			continue
		}
		ref := configRef{name: s.Name, kind: secretKind, checksum: checksum(s.Data)}
		res[ref.key()] = ref
	}
	return res, nil
}

// createPrimaryConfigs creates or overwrites the -primary copy of every tracked config.
func (d *Deployments) createPrimaryConfigs(ctx context.Context, cd *v1beta1.Canary, refs map[string]configRef) error {
	for _, key := range sortedKeys(refs) {
		ref := refs[key]
		switch ref.kind {
		case configMapKind:
			if err := d.syncPrimaryConfigMap(ctx, cd, ref.name); err != nil {
				return err
			}
		case secretKind:
			if err := d.syncPrimarySecret(ctx, cd, ref.name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Deployments) syncPrimaryConfigMap(ctx context.Context, cd *v1beta1.Canary, name string) error {
	src := &corev1.ConfigMap{}
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: name}, src); err != nil {
		return fmt.Errorf("configmap %s.%s get query failed : %w", name, cd.Name, err)
	}
	primaryName := name + "-primary"
	dst := &corev1.ConfigMap{}
	err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: primaryName}, dst)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating configmap %s.%s failed: %w", primaryName, cd.Namespace, err)
	}
	dst.Name, dst.Namespace = primaryName, cd.Namespace
	dst.Labels = includeByPrefix(src.Labels, d.IncludeLabelPrefixes)
	dst.Annotations = nil
	dst.OwnerReferences = []metav1.OwnerReference{v1beta1.ControllerRef(d.Client, cd)}
	dst.Data = src.Data
	dst.BinaryData = src.BinaryData
	if exists {
		if err := d.Client.Update(ctx, dst); err != nil {
			return fmt.Errorf("updating configmap %s.%s failed: %w", primaryName, cd.Namespace, err)
		}
		return nil
	}
	if err := d.Client.Create(ctx, dst); err != nil {
		return fmt.Errorf("creating configmap %s.%s failed: %w", primaryName, cd.Namespace, err)
	}
	return nil
}

func (d *Deployments) syncPrimarySecret(ctx context.Context, cd *v1beta1.Canary, name string) error {
	src := &corev1.Secret{}
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: name}, src); err != nil {
		return fmt.Errorf("secret %s.%s get query failed : %w", name, cd.Name, err)
	}
	primaryName := name + "-primary"
	dst := &corev1.Secret{}
	err := d.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: primaryName}, dst)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating secret %s.%s failed: %w", primaryName, cd.Namespace, err)
	}
	dst.Name, dst.Namespace = primaryName, cd.Namespace
	dst.Labels = includeByPrefix(src.Labels, d.IncludeLabelPrefixes)
	dst.Annotations = nil
	dst.OwnerReferences = []metav1.OwnerReference{v1beta1.ControllerRef(d.Client, cd)}
	dst.Type = src.Type
	dst.Data = src.Data
	dst.StringData = nil
	if exists {
		if err := d.Client.Update(ctx, dst); err != nil {
			return fmt.Errorf("updating secret %s.%s failed: %w", primaryName, cd.Namespace, err)
		}
		return nil
	}
	if err := d.Client.Create(ctx, dst); err != nil {
		return fmt.Errorf("creating secret %s.%s failed: %w", primaryName, cd.Namespace, err)
	}
	return nil
}

// applyPrimaryConfigs renames every tracked config reference of the pod spec to its
// -primary copy (containers and init containers).
func applyPrimaryConfigs(spec corev1.PodSpec, refs map[string]configRef) corev1.PodSpec {
	tracked := func(kind configKind, name string) bool {
		_, ok := refs[configRef{name: name, kind: kind}.key()]
		return ok
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.ConfigMap != nil && tracked(configMapKind, v.ConfigMap.Name) {
			v.ConfigMap.Name += "-primary"
		}
		if v.Secret != nil && tracked(secretKind, v.Secret.SecretName) {
			v.Secret.SecretName += "-primary"
		}
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				s := &v.Projected.Sources[j]
				if s.ConfigMap != nil && tracked(configMapKind, s.ConfigMap.Name) {
					s.ConfigMap.Name += "-primary"
				}
				if s.Secret != nil && tracked(secretKind, s.Secret.Name) {
					s.Secret.Name += "-primary"
				}
			}
		}
	}
	renameContainers := func(cs []corev1.Container) {
		for ci := range cs {
			c := &cs[ci]
			for i := range c.Env {
				from := c.Env[i].ValueFrom
				if from == nil {
					continue
				}
				switch {
				case from.ConfigMapKeyRef != nil:
					if tracked(configMapKind, from.ConfigMapKeyRef.Name) {
						from.ConfigMapKeyRef.Name += "-primary"
					}
				case from.SecretKeyRef != nil:
					if tracked(secretKind, from.SecretKeyRef.Name) {
						from.SecretKeyRef.Name += "-primary"
					}
				}
			}
			for i := range c.EnvFrom {
				ef := &c.EnvFrom[i]
				switch {
				case ef.ConfigMapRef != nil:
					if tracked(configMapKind, ef.ConfigMapRef.Name) {
						ef.ConfigMapRef.Name += "-primary"
					}
				case ef.SecretRef != nil:
					if tracked(secretKind, ef.SecretRef.Name) {
						ef.SecretRef.Name += "-primary"
					}
				}
			}
		}
	}
	renameContainers(spec.Containers)
	renameContainers(spec.InitContainers)
	return spec
}

// checksum is Flagger's: the first 8 bytes of the SHA-256 of the JSON of the data, in hex.
func checksum(data any) string {
	b, _ := json.Marshal(data)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum[:8])
}

func trackingDisabled(annotations map[string]string) bool {
	return strings.HasPrefix(annotations[ConfigTrackingAnnotation], "disable")
}

// trackedSecretType reports whether Flagger tracks Secrets of this type (registry
// secrets are not). An empty type is Opaque: the API server defaults it, the fake
// client does not.
func trackedSecretType(t corev1.SecretType) bool {
	switch t {
	case "", corev1.SecretTypeOpaque, corev1.SecretTypeBasicAuth, corev1.SecretTypeSSHAuth, corev1.SecretTypeTLS:
		return true
	}
	return false
}

// mandatory is true for a reference explicitly marked optional: false.
func mandatory(optional *bool) bool {
	return optional != nil && !*optional
}

// sortedKeys are m's keys in order, in one allocation (a tick asks for them).
func sortedKeys[V any](m map[string]V) []string {
	keys := slices.AppendSeq(make([]string, 0, len(m)), maps.Keys(m))
	slices.Sort(keys)
	return keys
}
