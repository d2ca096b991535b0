package v1beta1_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"text/template"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"aviary.dev/aviary/api/v1beta1"
)

// render executes query the way Flagger does: text/template with the model's
// functions, missingkey=error, nil data.
func render(model *v1beta1.MetricTemplateModel, query string) (string, error) {
	t, err := template.New("q").Funcs(model.TemplateFunctions()).Option("missingkey=error").Parse(query)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", err
	}
	return b.String(), nil
}

var _ = Describe("MetricTemplateModel", func() {
	model := &v1beta1.MetricTemplateModel{
		Name: "podinfo-canary", Namespace: "test", Target: "podinfo", Service: "podinfo-svc",
		Ingress: "podinfo-ing", Route: "podinfo-route", Interval: "1m",
		Variables: map[string]string{"direction": "inbound"},
	}

	It("offers exactly Flagger's eight niladic functions", func() {
		funcs := model.TemplateFunctions()
		names := make([]string, 0, len(funcs))
		for name := range funcs {
			names = append(names, name)
		}
		Expect(names).To(ConsistOf("name", "namespace", "target", "service", "ingress", "route", "interval", "variables"))
	})

	DescribeTable("renders each function",
		func(query, want string) {
			Expect(render(model, query)).To(Equal(want))
		},
		Entry("name", "{{ name }}", "podinfo-canary"),
		Entry("namespace", "{{ namespace }}", "test"),
		Entry("target", "{{ target }}", "podinfo"),
		Entry("service", "{{ service }}", "podinfo-svc"),
		Entry("ingress", "{{ ingress }}", "podinfo-ing"),
		Entry("route", "{{ route }}", "podinfo-route"),
		Entry("interval", "{{ interval }}", "1m"),
		Entry("variables.KEY", "{{ variables.direction }}", "inbound"),
		Entry("a full query",
			`sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}",reporter="{{ variables.direction }}"}[{{ interval }}]))`,
			`sum(rate(istio_requests_total{destination_workload_namespace="test",destination_workload=~"podinfo",reporter="inbound"}[1m]))`),
	)

	It("fails on a missing variable", func() {
		_, err := render(model, "{{ variables.missing }}")
		Expect(err).To(MatchError(ContainSubstring("missing")))
	})

	It("fails on an unknown function at parse time", func() {
		_, err := render(model, "{{ pod }}")
		Expect(err).To(MatchError(ContainSubstring(`function "pod" not defined`)))
	})
})

var _ = Describe("MetricTemplate and AlertProvider JSON", func() {
	It("decodes a Flagger MetricTemplate", func() {
		mt := &v1beta1.MetricTemplate{}
		Expect(yaml.UnmarshalStrict([]byte(`
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: istio-system
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
    secretRef:
      name: prom-auth
    headers:
      X-Scope-OrgID: [tenant-a]
    insecureSkipVerify: true
    region: eu-west-1
  query: |
    100 - sum(rate(istio_requests_total{response_code!~"5.*"}[{{ interval }}]))
`), mt)).To(Succeed())
		Expect(mt.Kind).To(Equal(v1beta1.MetricTemplateKind))
		p := mt.Spec.Provider
		Expect(p.Type).To(Equal("prometheus"))
		Expect(p.Address).To(Equal("http://prometheus.istio-system:9090"))
		Expect(p.SecretRef.Name).To(Equal("prom-auth"))
		Expect(p.Headers).To(Equal(http.Header{"X-Scope-OrgID": {"tenant-a"}}))
		Expect(p.InsecureSkipVerify).To(BeTrue())
		Expect(p.Region).To(Equal("eu-west-1"))
		Expect(mt.Spec.Query).To(HavePrefix("100 - sum(rate("))

		back := &v1beta1.MetricTemplate{}
		b, err := json.Marshal(mt)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(b, back)).To(Succeed())
		Expect(back).To(Equal(mt))
		Expect(mt.DeepCopy()).To(Equal(mt))
	})

	It("decodes a Flagger AlertProvider", func() {
		ap := &v1beta1.AlertProvider{}
		Expect(yaml.UnmarshalStrict([]byte(`
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: flagger
spec:
  type: slack
  channel: on-call-alerts
  username: flagger
  proxy: http://proxy.example.com:3128
  secretRef:
    name: on-call-url
`), ap)).To(Succeed())
		Expect(ap.Kind).To(Equal(v1beta1.AlertProviderKind))
		Expect(ap.Spec).To(Equal(v1beta1.AlertProviderSpec{
			Type: "slack", Channel: "on-call-alerts", Username: "flagger",
			Proxy: "http://proxy.example.com:3128", SecretRef: ap.Spec.SecretRef,
		}))
		Expect(ap.Spec.SecretRef).NotTo(BeNil())
		Expect(ap.Spec.SecretRef.Name).To(Equal("on-call-url"))
		Expect(ap.Spec.Address).To(BeEmpty())
	})
})

var _ = Describe("Scheme registration", func() {
	It("registers the three kinds and their lists under aviary.dev/v1beta1", func() {
		s := runtime.NewScheme()
		Expect(v1beta1.AddToScheme(s)).To(Succeed())
		for obj, kind := range map[runtime.Object]string{
			&v1beta1.Canary{}: "Canary", &v1beta1.CanaryList{}: "CanaryList",
			&v1beta1.MetricTemplate{}: "MetricTemplate", &v1beta1.MetricTemplateList{}: "MetricTemplateList",
			&v1beta1.AlertProvider{}: "AlertProvider", &v1beta1.AlertProviderList{}: "AlertProviderList",
		} {
			gvks, _, err := s.ObjectKinds(obj)
			Expect(err).NotTo(HaveOccurred())
			Expect(gvks).To(ConsistOf(schema.GroupVersionKind{Group: "aviary.dev", Version: "v1beta1", Kind: kind}))
		}
	})

	It("names Flagger's group version for the loader", func() {
		Expect(v1beta1.GroupVersion.String()).To(Equal("aviary.dev/v1beta1"))
		Expect(v1beta1.FlaggerGroupVersion.String()).To(Equal("flagger.app/v1beta1"))
	})
})

var _ = Describe("AddToSchemeAs", func() {
	It("serves the types in Flagger's group only, and CanaryGVK follows the scheme", func() {
		s := runtime.NewScheme()
		Expect(v1beta1.AddToSchemeAs(s, v1beta1.FlaggerGroupVersion)).To(Succeed())
		gvks, _, err := s.ObjectKinds(&v1beta1.MetricTemplate{})
		Expect(err).NotTo(HaveOccurred())
		Expect(gvks).To(ConsistOf(v1beta1.FlaggerGroupVersion.WithKind("MetricTemplate")))
		Expect(v1beta1.CanaryGVK(s)).To(Equal(v1beta1.FlaggerGroupVersion.WithKind("Canary")))

		plain := runtime.NewScheme()
		Expect(v1beta1.AddToScheme(plain)).To(Succeed())
		Expect(v1beta1.CanaryGVK(plain)).To(Equal(v1beta1.GroupVersion.WithKind("Canary")))
		Expect(v1beta1.CanaryGVK(runtime.NewScheme()).Group).To(Equal("aviary.dev"))
	})

	It("makes the Canary the controller of what it generates, in its scheme's group", func() {
		s := runtime.NewScheme()
		Expect(v1beta1.AddToSchemeAs(s, v1beta1.FlaggerGroupVersion)).To(Succeed())
		cd := &v1beta1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", UID: "u1"}}
		ref := v1beta1.ControllerRef(schemed{s}, cd)
		Expect(ref.APIVersion).To(Equal("flagger.app/v1beta1"))
		Expect([]any{ref.Kind, ref.Name, ref.UID, *ref.Controller, *ref.BlockOwnerDeletion}).To(Equal([]any{"Canary", "podinfo", types.UID("u1"), true, true}))
		Expect(v1beta1.ControllerRef(nil, cd).APIVersion).To(Equal("aviary.dev/v1beta1"), "no client: aviary's group")
	})
})

// schemed is a client as far as ControllerRef looks at it.
type schemed struct{ s *runtime.Scheme }

func (c schemed) Scheme() *runtime.Scheme { return c.s }
