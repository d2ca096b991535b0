package scenario

import (
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"aviary.dev/aviary/engine/workload"
	"aviary.dev/aviary/sim/world"
)

// ---------------------------------------------------------------------------------
// The target Deployment of the policy, and timeline changes of its configs

// checkTarget checks the policy's target Deployment as the API server would validate
// the fields a run depends on (a selector that selects the pod template, containers
// with a name and an image), warns when Flagger would not find its selector label,
// and makes spec.target agree with it: spec.target.replicas and image may only repeat
// what the Deployment says; both are then the Deployment's.
func (l *loader) checkTarget(s *Scenario, ld *Loaded) {
	dep, d := ld.Target, l.targetDoc
	spec := &dep.Spec
	switch sel, err := metav1.LabelSelectorAsSelector(spec.Selector); {
	case spec.Selector == nil:
		l.policyErr(d, nil, "spec.selector", "required (apps/v1): the labels that select the pod template's pods")
	case err != nil:
		l.policyErr(d, nil, "spec.selector", "%v", err)
	case sel.Empty():
		l.policyErr(d, nil, "spec.selector", "empty selector: it must select the pod template's labels")
	case !sel.Matches(labels.Set(spec.Template.Labels)):
		l.policyErr(d, nil, "spec.template.metadata.labels", "%v do not match spec.selector %s (the API server rejects such a Deployment)", spec.Template.Labels, sel)
	}
	if len(spec.Template.Spec.Containers) == 0 {
		l.policyErr(d, nil, "spec.template.spec.containers", "required: at least one container")
	}
	for i, c := range spec.Template.Spec.Containers {
		p := fmt.Sprintf("spec.template.spec.containers[%d]", i)
		if c.Name == "" {
			l.policyErr(d, nil, p+".name", "required")
		}
		if c.Image == "" {
			l.policyErr(d, nil, p+".image", "required")
		}
	}
	if len(l.errs) > 0 {
		return
	}
	if !hasSelectorLabel(spec.Selector) {
		l.policyWarn(d, RuleSelectorLabels, "spec.selector.matchLabels", "has none of %v — Flagger would warn \"spec.selector.matchLabels must contain one of\" on every tick and never initialize",
			workload.DefaultSelectorLabels)
	}

	image := spec.Template.Spec.Containers[0].Image
	replicas := int32(1) // the API server's default
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	where := func(path string) string { return fmt.Sprintf("%s:%d: %s", d.file, lineIn(d, path), path) }
	t := &s.Spec.Target
	if l.present("spec.target.image") && t.Image != image {
		l.errAt("spec.target.image", "%s conflicts with the target Deployment %s (%s is %s): the Deployment is the target; leave spec.target.image out",
			t.Image, dep.Name, where("spec.template.spec.containers[0].image"), image)
	}
	if l.present("spec.target.replicas") && t.Replicas != nil && *t.Replicas != replicas {
		l.errAt("spec.target.replicas", "%d conflicts with the target Deployment %s (%s is %d): the Deployment is the target; leave spec.target.replicas out",
			*t.Replicas, dep.Name, where("spec.replicas"), replicas)
	}
	t.Image, t.Replicas = image, &replicas
}

// hasSelectorLabel reports whether a selector's matchLabels hold one of the labels
// Flagger selects pods by (its -selector-labels default).
func hasSelectorLabel(sel *metav1.LabelSelector) bool {
	for _, key := range workload.DefaultSelectorLabels {
		if _, ok := sel.MatchLabels[key]; ok {
			return true
		}
	}
	return false
}

// checkConfigChange checks a timeline configMap or secret entry on its own.
func (l *loader) checkConfigChange(path string, c *ConfigChange, secret bool) {
	if c.Name == "" {
		l.errAt(path+".name", "required: the name of a ConfigMap or Secret among the policy objects")
	}
	if !secret && c.StringData != nil {
		l.errAt(path+".stringData", "a ConfigMap has no stringData: give its new data")
	}
	if secret {
		for _, k := range sortedMapKeys(c.Data) {
			if _, err := base64.StdEncoding.DecodeString(c.Data[k]); err != nil {
				l.errAt(path+".data."+k, "not base64 (a Secret's data is base64 as in its manifest; give plain text in stringData): %v", err)
			}
		}
	}
	// What the API server refuses of a ConfigMap's or Secret's data, found here rather
	// than when the run writes it.
	size := 0
	for _, f := range []struct {
		key  string
		data map[string]string
	}{{"data", c.Data}, {"stringData", c.StringData}} {
		for _, k := range sortedMapKeys(f.data) {
			for _, msg := range validation.IsConfigMapKey(k) {
				l.errAt(world.JoinKey(path+"."+f.key, k), "invalid key %q: %s", k, msg)
			}
			size += len(f.data[k])
		}
	}
	if secret {
		size = 0
		for _, v := range c.SecretData() {
			size += len(v)
		}
	}
	if size > corev1.MaxSecretSize {
		l.errAt(path, "its data is %d bytes, more than the %d a ConfigMap or Secret may hold (the API server refuses it)", size, corev1.MaxSecretSize)
	}
}

// checkTimelineConfigs requires each timeline configMap or secret entry to name one of
// the policy's objects in the Canary's namespace.
func (l *loader) checkTimelineConfigs(s *Scenario, ld *Loaded) {
	ns := ld.Canary.Namespace
	for i, a := range s.Spec.Timeline {
		kind, c, key := "ConfigMap", a.ConfigMap, "configMap"
		if a.Secret != nil {
			kind, c, key = "Secret", a.Secret, "secret"
		}
		if c == nil || c.Name == "" {
			continue
		}
		found := false
		for _, o := range ld.Objects {
			switch o.(type) {
			case *corev1.ConfigMap:
				found = found || kind == "ConfigMap" && o.GetName() == c.Name && o.GetNamespace() == ns
			case *corev1.Secret:
				found = found || kind == "Secret" && o.GetName() == c.Name && o.GetNamespace() == ns
			}
		}
		if !found {
			l.errAt(fmt.Sprintf("spec.timeline[%d].%s.name", i, key), "no %s %q in namespace %s among the policy objects (a timeline entry changes one of them)", kind, c.Name, ns)
		}
	}
}
