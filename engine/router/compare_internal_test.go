package router

import (
	"reflect"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The Service reconcile's comparisons replace reflect.DeepEqual (of ports sorted by
// port number, and of string maps); they must decide exactly as it did.
var _ = Describe("Service comparisons", func() {
	http := corev1.ServicePort{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}
	grpc := corev1.ServicePort{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 90, TargetPort: intstr.FromString("grpc")}
	with := func(p corev1.ServicePort, change func(*corev1.ServicePort)) corev1.ServicePort {
		change(&p)
		return p
	}
	h2c, alsoH2c, grpcProto := "kubernetes.io/h2c", "kubernetes.io/h2c", "grpc"

	DescribeTable("samePorts",
		func(a, b []corev1.ServicePort, want bool) {
			Expect(samePorts(a, b)).To(Equal(want))
			Expect(samePorts(b, a)).To(Equal(want))
		},
		Entry("same ports, same order", []corev1.ServicePort{http, grpc}, []corev1.ServicePort{http, grpc}, true),
		Entry("same ports, another order", []corev1.ServicePort{grpc, http}, []corev1.ServicePort{http, grpc}, true),
		Entry("none", nil, []corev1.ServicePort{}, true),
		Entry("one more", []corev1.ServicePort{http}, []corev1.ServicePort{http, grpc}, false),
		Entry("a duplicate instead of another port", []corev1.ServicePort{http, http}, []corev1.ServicePort{http, grpc}, false),
		Entry("name", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.Name = "web" })}, false),
		Entry("protocol", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.Protocol = corev1.ProtocolUDP })}, false),
		Entry("port", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.Port = 81 })}, false),
		Entry("target port", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.TargetPort = intstr.FromString("http") })}, false),
		Entry("node port", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.NodePort = 30080 })}, false),
		Entry("app protocol set on one side", []corev1.ServicePort{http}, []corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.AppProtocol = &h2c })}, false),
		Entry("equal app protocols at different addresses",
			[]corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.AppProtocol = &h2c })},
			[]corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.AppProtocol = &alsoH2c })}, true),
		Entry("different app protocols",
			[]corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.AppProtocol = &h2c })},
			[]corev1.ServicePort{with(http, func(p *corev1.ServicePort) { p.AppProtocol = &grpcProto })}, false),
	)

	It("compares every field of a ServicePort", func() {
		// a field added to ServicePort must be added to samePort
		Expect(reflect.TypeFor[corev1.ServicePort]().NumField()).To(Equal(6))
	})

	DescribeTable("sameMap is reflect.DeepEqual for string maps",
		func(a, b map[string]string) {
			Expect(sameMap(a, b)).To(Equal(reflect.DeepEqual(a, b)))
			Expect(sameMap(b, a)).To(Equal(reflect.DeepEqual(b, a)))
		},
		Entry("both nil", nil, nil),
		Entry("nil and empty", nil, map[string]string{}),
		Entry("equal", map[string]string{"app": "podinfo"}, map[string]string{"app": "podinfo"}),
		Entry("another value", map[string]string{"app": "podinfo"}, map[string]string{"app": "web"}),
		Entry("one more key", map[string]string{"app": "podinfo"}, map[string]string{"app": "podinfo", "x": ""}),
	)
})
