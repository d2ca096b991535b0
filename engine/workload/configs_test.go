package workload_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func configMap(name string, data map[string]string, annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations, Labels: map[string]string{"app": "podinfo"}},
		Data:       data,
	}
}

func secret(name string, t corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: t, Data: data}
}

// targetWithConfigs references configs in every way Flagger tracks.
func targetWithConfigs() *appsv1.Deployment {
	dep := newTarget(ptr(int32(1)))
	spec := &dep.Spec.Template.Spec
	spec.Volumes = []corev1.Volume{
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-vol"}}}},
		{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec-vol"}}},
		{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-proj"}}},
		}}}},
		{Name: "untracked", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-disabled"}}}},
	}
	spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-env"}, Key: "color"}}},
		{Name: "REG", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "registry"}, Key: "x"}}},
		{Name: "GONE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-missing"}, Key: "x"}}},
	}
	spec.InitContainers = []corev1.Container{{
		Name: "init", Image: "busybox",
		EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-init"}}}},
	}}
	return dep
}

func configObjects() []client.Object {
	return []client.Object{
		targetWithConfigs(),
		configMap("cfg-vol", map[string]string{"a": "1"}, nil),
		configMap("cfg-proj", map[string]string{"b": "2"}, nil),
		configMap("cfg-env", map[string]string{"color": "blue"}, nil),
		configMap("cfg-disabled", map[string]string{"c": "3"}, map[string]string{"flagger.app/config-tracking": "disabled"}),
		secret("sec-vol", corev1.SecretTypeOpaque, map[string][]byte{"k": []byte("v")}),
		secret("sec-init", corev1.SecretTypeBasicAuth, map[string][]byte{"username": []byte("u")}),
		secret("registry", corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte("{}")}),
	}
}

var _ = Describe("config tracking", func() {
	It("tracks the referenced ConfigMaps and Secrets with Flagger's checksums", func() {
		d := newDeployments(newClient(configObjects()...))
		configs, err := d.TrackedConfigs(ctx, newCanary())
		Expect(err).NotTo(HaveOccurred())
		Expect(configs).To(HaveLen(5))
		Expect(configs).To(HaveKey("configmap/cfg-vol"))
		Expect(configs).To(HaveKey("configmap/cfg-proj"))
		Expect(configs).To(HaveKey("secret/sec-vol"))
		Expect(configs).To(HaveKey("secret/sec-init"))
		// printf '{"color":"blue"}' | sha256sum | cut -c1-16
		Expect(configs).To(HaveKeyWithValue("configmap/cfg-env", "f234cb93c08ad64e"))
	})

	It("detects a ConfigMap change", func() {
		c := newClient(configObjects()...)
		d := newDeployments(c)
		before, err := d.TrackedConfigs(ctx, newCanary())
		Expect(err).NotTo(HaveOccurred())

		cm := &corev1.ConfigMap{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "cfg-env"}, cm)).To(Succeed())
		cm.Data["color"] = "green"
		Expect(c.Update(ctx, cm)).To(Succeed())

		after, err := d.TrackedConfigs(ctx, newCanary())
		Expect(err).NotTo(HaveOccurred())
		Expect(after["configmap/cfg-env"]).NotTo(Equal(before["configmap/cfg-env"]))
		Expect(after["configmap/cfg-vol"]).To(Equal(before["configmap/cfg-vol"]))
	})

	It("tracks nothing when config tracking is off", func() {
		d := newDeployments(newClient(configObjects()...))
		d.ConfigTracking = false
		configs, err := d.TrackedConfigs(ctx, newCanary())
		Expect(err).NotTo(HaveOccurred())
		Expect(configs).To(BeEmpty())
	})

	It("fails on a missing config that is explicitly not optional", func() {
		objs := configObjects()
		dep := objs[0].(*appsv1.Deployment)
		dep.Spec.Template.Spec.Containers[0].Env[2].ValueFrom.ConfigMapKeyRef.Optional = ptr(false)
		_, err := newDeployments(newClient(objs...)).TrackedConfigs(ctx, newCanary())
		Expect(err).To(MatchError(ContainSubstring("configmap cfg-missing.test get query error")))
	})

	It("creates -primary copies of tracked configs and points the primary at them", func() {
		c := newClient(configObjects()...)
		Expect(newDeployments(c).Initialize(ctx, newCanary())).To(Succeed())

		for _, name := range []string{"cfg-vol-primary", "cfg-proj-primary", "cfg-env-primary"} {
			cm := &corev1.ConfigMap{}
			Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cm)).To(Succeed(), name)
			Expect(cm.OwnerReferences).To(HaveLen(1))
		}
		cm := &corev1.ConfigMap{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "cfg-env-primary"}, cm)).To(Succeed())
		Expect(cm.Data).To(Equal(map[string]string{"color": "blue"}))
		Expect(cm.Labels).To(BeEmpty(), "labels are copied only with include-label prefixes")
		s := &corev1.Secret{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "sec-init-primary"}, s)).To(Succeed())
		Expect(s.Type).To(Equal(corev1.SecretTypeBasicAuth))
		for _, name := range []string{"cfg-disabled-primary", "cfg-missing-primary"} {
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &corev1.ConfigMap{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), name)
		}
		Expect(apierrors.IsNotFound(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "registry-primary"}, &corev1.Secret{}))).To(BeTrue())

		spec := getDeployment(c, "podinfo-primary").Spec.Template.Spec
		Expect(spec.Volumes[0].ConfigMap.Name).To(Equal("cfg-vol-primary"))
		Expect(spec.Volumes[1].Secret.SecretName).To(Equal("sec-vol-primary"))
		Expect(spec.Volumes[2].Projected.Sources[0].ConfigMap.Name).To(Equal("cfg-proj-primary"))
		Expect(spec.Volumes[3].ConfigMap.Name).To(Equal("cfg-disabled"), "untracked configs keep their name")
		Expect(spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name).To(Equal("cfg-env-primary"))
		Expect(spec.Containers[0].Env[1].ValueFrom.SecretKeyRef.Name).To(Equal("registry"))
		Expect(spec.Containers[0].Env[2].ValueFrom.ConfigMapKeyRef.Name).To(Equal("cfg-missing"))
		Expect(spec.InitContainers[0].EnvFrom[0].SecretRef.Name).To(Equal("sec-init-primary"))

		target := getDeployment(c, "podinfo").Spec.Template.Spec
		Expect(target.Volumes[0].ConfigMap.Name).To(Equal("cfg-vol"), "the target is untouched")
	})

	It("promotes changed config data to the -primary copies", func() {
		c := newClient(configObjects()...)
		d := newDeployments(c)
		Expect(d.Initialize(ctx, newCanary())).To(Succeed())
		cm := &corev1.ConfigMap{}
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "cfg-env"}, cm)).To(Succeed())
		cm.Data["color"] = "green"
		Expect(c.Update(ctx, cm)).To(Succeed())

		Expect(d.Promote(ctx, newCanary())).To(Succeed())
		Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "cfg-env-primary"}, cm)).To(Succeed())
		Expect(cm.Data).To(Equal(map[string]string{"color": "green"}))
	})
})
