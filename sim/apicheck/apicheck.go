package apicheck

import (
	"maps"
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Errors is what a kube-apiserver would find wrong with a create (old nil) or an
// update of a Deployment or a Service, as far as aviary can tell: the object's name
// (from targetRef.name and service.name), its labels and annotations (service.apex
// and the like), container and Service port numbers and names (service.port,
// targetPort, portName). Other kinds get nil. Everything else is left to the fake
// client; the envtest parity test compares the decisions of every library scenario
// in both modes.
func Errors(obj, old client.Object) field.ErrorList {
	var nameFn metavalidation.ValidateNameFunc
	var spec func() field.ErrorList
	sameSpec := false // an update that leaves the checked fields as they were
	switch o := obj.(type) {
	case *appsv1.Deployment:
		nameFn = metavalidation.NameIsDNSSubdomain
		spec = func() field.ErrorList {
			return podSpecErrors(&o.Spec.Template.Spec, field.NewPath("spec", "template", "spec"))
		}
		if od, ok := old.(*appsv1.Deployment); ok {
			sameSpec = sameContainers(o.Spec.Template.Spec.Containers, od.Spec.Template.Spec.Containers)
		}
	case *corev1.Service:
		nameFn = metavalidation.NameIsDNS1035Label
		spec = func() field.ErrorList { return servicePortErrors(o.Spec.Ports, field.NewPath("spec", "ports")) }
		if os, ok := old.(*corev1.Service); ok {
			sameSpec = slices.Equal(o.Spec.Ports, os.Spec.Ports)
		}
	default:
		return nil
	}
	var errs field.ErrorList
	switch {
	case old == nil:
		errs = metavalidation.ValidateObjectMetaAccessor(obj, true, nameFn, field.NewPath("metadata"))
	case !SameMetadata(ObjectMetaOf(obj), ObjectMetaOf(old)):
		errs = metavalidation.ValidateObjectMetaAccessorUpdate(obj, old, field.NewPath("metadata"))
	}
	// What an update leaves as it was passed when it was written: a value's errors
	// are its own.
	if !sameSpec {
		errs = append(errs, spec()...)
	}
	return errs
}

// ObjectMetaOf is a typed object's metadata.
func ObjectMetaOf(obj client.Object) *metav1.ObjectMeta {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if m, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return m
		}
	}
	return &metav1.ObjectMeta{}
}

// SameMetadata compares what the API server checks of metadata on an update, leaving
// out what every write moves on (resourceVersion, generation).
func SameMetadata(a, b *metav1.ObjectMeta) bool {
	return a.Name == b.Name && a.GenerateName == b.GenerateName && a.Namespace == b.Namespace && a.UID == b.UID &&
		a.SelfLink == b.SelfLink && a.CreationTimestamp.Equal(&b.CreationTimestamp) &&
		a.DeletionTimestamp.Equal(b.DeletionTimestamp) &&
		reflect.DeepEqual(a.DeletionGracePeriodSeconds, b.DeletionGracePeriodSeconds) &&
		maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) &&
		slices.Equal(a.Finalizers, b.Finalizers) &&
		(len(a.OwnerReferences) == 0 && len(b.OwnerReferences) == 0 || reflect.DeepEqual(a.OwnerReferences, b.OwnerReferences)) &&
		(len(a.ManagedFields) == 0 && len(b.ManagedFields) == 0 || reflect.DeepEqual(a.ManagedFields, b.ManagedFields))
}

// sameContainers says whether two pod specs' containers have the same names and
// ports.
func sameContainers(a, b []corev1.Container) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.Container) bool {
		return x.Name == y.Name && slices.Equal(x.Ports, y.Ports)
	})
}

// podSpecErrors checks the containers' names and ports.
func podSpecErrors(pod *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range pod.Containers {
		ctr := &pod.Containers[i]
		p := path.Child("containers").Index(i)
		errs = append(errs, dns1123Label(ctr.Name, p.Child("name"))...)
		names := map[string]bool{}
		for j, port := range ctr.Ports {
			pp := p.Child("ports").Index(j)
			if port.Name != "" {
				if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
					errs = append(errs, invalidEach(pp.Child("name"), port.Name, msgs)...)
				} else if names[port.Name] {
					errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
				}
				names[port.Name] = true
			}
			if port.ContainerPort == 0 {
				errs = append(errs, field.Required(pp.Child("containerPort"), ""))
			} else {
				errs = append(errs, invalidEach(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
			}
			if port.HostPort != 0 {
				errs = append(errs, invalidEach(pp.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
			}
		}
	}
	return errs
}

// servicePortErrors checks a Service's port names and numbers. A zero targetPort (0
// or "") is the port, as the API server defaults it before it validates: so a port
// out of range is reported twice, as port and as targetPort.
func servicePortErrors(ports []corev1.ServicePort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, sp := range ports {
		p := path.Index(i)
		switch {
		case sp.Name == "" && len(ports) > 1:
			errs = append(errs, field.Required(p.Child("name"), ""))
		case sp.Name != "":
			errs = append(errs, dns1123Label(sp.Name, p.Child("name"))...)
			if names[sp.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), sp.Name))
			}
			names[sp.Name] = true
		}
		errs = append(errs, invalidEach(p.Child("port"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
		switch tp := sp.TargetPort; {
		case tp.Type == intstr.Int && tp.IntVal == 0, tp.Type == intstr.String && tp.StrVal == "":
			errs = append(errs, invalidEach(p.Child("targetPort"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
		case tp.Type == intstr.Int:
			errs = append(errs, invalidEach(p.Child("targetPort"), tp.IntValue(), validation.IsValidPortNum(tp.IntValue()))...)
		default:
			errs = append(errs, invalidEach(p.Child("targetPort"), tp.StrVal, validation.IsValidPortName(tp.StrVal))...)
		}
	}
	return errs
}

func dns1123Label(value string, path *field.Path) field.ErrorList {
	return invalidEach(path, value, validation.IsDNS1123Label(value))
}

// invalidEach is one field.Invalid per message.
func invalidEach(path *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(path, value, m))
	}
	return errs
}
