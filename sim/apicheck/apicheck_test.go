package apicheck_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"aviary.dev/aviary/sim/apicheck"
)

// The envtest parity test (sim/schema_parity_test.go) holds these against a real
// API server; this table pins the API server's defaulting of a Service's targetPort
// before it validates.
var _ = DescribeTable("a Service's ports, as the API server judges a create",
	func(port int32, target intstr.IntOrString, want ...string) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: target}}},
		}
		var got []string
		for _, e := range apicheck.Errors(svc, nil) {
			got = append(got, e.Error())
		}
		Expect(got).To(ConsistOf(want))
	},
	Entry("valid", int32(80), intstr.FromInt32(8080)),
	Entry("no targetPort: the port's", int32(80), intstr.IntOrString{}),
	Entry("a named targetPort", int32(80), intstr.FromString("http")),
	Entry("port 0 without targetPort: the defaulted targetPort is 0 too", int32(0), intstr.IntOrString{},
		"spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
		"spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"),
	Entry(`port 0 with targetPort ""`, int32(0), intstr.FromString(""),
		"spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
		"spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"),
	Entry("port 0 with a valid targetPort", int32(0), intstr.FromInt32(8080),
		"spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
	Entry("a targetPort out of range", int32(80), intstr.FromInt32(70000),
		"spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
)
