package deploy_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller"
	"aviary.dev/aviary/deploy"
	"aviary.dev/aviary/deploy/image"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/fixtures"
	"aviary.dev/aviary/version"
)

// aviaryVersion is aviary's release: the chart's version, appVersion and default
// image tag must equal it.
const aviaryVersion = version.Version

// customValues are the non-default values the specs render and install.
const customValues = "testdata/values-custom.yaml"

// render is the chart rendered with args (--set, -f).
func render(args ...string) []*unstructured.Unstructured {
	GinkgoHelper()
	objs, err := deploy.Render(context.Background(), helm(), chartDir(), args...)
	Expect(err).NotTo(HaveOccurred())
	return objs
}

// byKey indexes objects by deploy.Key.
func byKey(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		Expect(out).NotTo(HaveKey(deploy.Key(u)), "one object of each name")
		out[deploy.Key(u)] = u
	}
	return out
}

// typed converts u into a typed object.
func typed[T any](u *unstructured.Unstructured) *T {
	GinkgoHelper()
	Expect(u).NotTo(BeNil())
	out := new(T)
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)).To(Succeed())
	return out
}

// readYAML decodes a file of the chart.
func readYAML(name string) map[string]any {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(chartDir(), name))
	Expect(err).NotTo(HaveOccurred())
	var out map[string]any
	Expect(yaml.Unmarshal(data, &out)).To(Succeed())
	return out
}

var _ = Describe("the chart's files", func() {
	It("carry aviary's version: Chart.yaml's version and appVersion, the default image tag", func() {
		chart, values := readYAML("Chart.yaml"), readYAML("values.yaml")
		Expect(chart).To(HaveKeyWithValue("apiVersion", "v2"))
		Expect(chart).To(HaveKeyWithValue("version", aviaryVersion))
		Expect(chart).To(HaveKeyWithValue("appVersion", aviaryVersion))
		Expect(values["image"]).To(HaveKeyWithValue("tag", aviaryVersion))
		Expect(values["image"]).To(HaveKeyWithValue("repository", image.Repository))
	})

	It("default to the controller's defaults", func() {
		values := readYAML("values.yaml")
		Expect(values).To(HaveKeyWithValue("metricsServer", v1beta1.DefaultMetricsServer))
		Expect(values).To(HaveKeyWithValue("meshProvider", ""), "the controller's default, "+v1beta1.DefaultMeshProvider)
		Expect(values).To(HaveKeyWithValue("apiGroup", v1beta1.FlaggerGroupVersion.Group))
		Expect(values["podAnnotations"]).To(HaveKeyWithValue("prometheus.io/port", "8080"))
		Expect(values["leaderElection"]).To(HaveKeyWithValue("enabled", false))
	})

	It("hold the CRDs generated from aviary's API (`make chart-crds` when this fails)", func() {
		files, err := deploy.ChartCRDs()
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(HaveLen(3 * len(deploy.APIGroups)))
		stale, err := deploy.Stale(filepath.Join(chartDir(), deploy.ChartCRDsDir), files)
		Expect(err).NotTo(HaveOccurred())
		Expect(stale).To(BeEmpty(), "run `make chart-crds`")
	})

	It("offer in values.schema.json the mesh providers, log levels and API groups the controller accepts", func() {
		data, err := os.ReadFile(filepath.Join(chartDir(), "values.schema.json"))
		Expect(err).NotTo(HaveOccurred())
		var schema struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		Expect(json.Unmarshal(data, &schema)).To(Succeed())
		Expect(schema.Properties["meshProvider"].Enum).To(ConsistOf(append([]string{""}, (&engine.Engine{}).RoutedProviders()...)))
		Expect(schema.Properties["logLevel"].Enum).To(ConsistOf(controller.LogLevels))
		Expect(schema.Properties["apiGroup"].Enum).To(ConsistOf(deploy.APIGroups))
		for _, g := range deploy.APIGroups {
			Expect(controller.CheckAPIGroup(g)).To(Succeed())
		}
	})
})

var _ = Describe("the chart rendered by Helm", func() {
	It("with default values: aviary's CRDs in flagger.app, the Deployment and the metrics Service; no monitors, no PDB", func() {
		objs := byKey(render())
		for _, plural := range []string{"canaries", "metrictemplates", "alertproviders"} {
			Expect(objs).To(HaveKey("CustomResourceDefinition " + plural + ".flagger.app"))
		}
		Expect(objs).To(HaveKey("Service aviary-system/aviary"))
		for k := range objs {
			Expect(k).NotTo(MatchRegexp(`^(PodMonitor|ServiceMonitor|PodDisruptionBudget) `))
			Expect(k).NotTo(HaveSuffix(".aviary.dev"))
		}
		d := typed[appsv1.Deployment](objs["Deployment aviary-system/aviary"])
		Expect(*d.Spec.Replicas).To(BeEquivalentTo(1))
		Expect(d.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType))
		pod := d.Spec.Template.Spec
		Expect(pod.ServiceAccountName).To(Equal("aviary"))
		Expect(pod.Containers).To(HaveLen(1))
		c := pod.Containers[0]
		Expect(c.Image).To(Equal(image.Ref()))
		Expect(c.Command).To(BeEmpty(), "the image's entrypoint, /aviary, runs")
		Expect(c.VolumeMounts).To(HaveExactElements(And(HaveField("Name", "tmp"), HaveField("MountPath", "/tmp"))), "a writable /tmp under the read-only root")
		Expect(pod.Volumes).To(HaveExactElements(And(HaveField("Name", "tmp"), HaveField("EmptyDir", Not(BeNil())))))
		Expect(c.Args).To(Equal([]string{"controller", "-port=8080", "-log-level=info", "-api-group=flagger.app",
			"-metrics-server=http://prometheus:9090", "-slack-user=flagger"}))
		Expect(c.Env).To(BeEmpty())
	})

	It("the CRDs are aviary's API as the simulator's envtest installs them, kept on uninstall", func() {
		crds, err := fixtures.CRDsInGroup("flagger.app")
		Expect(err).NotTo(HaveOccurred())
		objs := byKey(render())
		n := 0
		for _, want := range crds {
			if want.Spec.Group != "flagger.app" {
				continue
			}
			n++
			got := objs["CustomResourceDefinition "+want.Name]
			Expect(got).NotTo(BeNil(), want.Name)
			Expect(got.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
			spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want.Spec)
			Expect(err).NotTo(HaveOccurred())
			// through JSON both: the converter keeps int64s where YAML gives float64s
			Expect(jsonOf(got.Object["spec"])).To(MatchJSON(jsonOf(spec)), want.Name)
		}
		Expect(n).To(Equal(3))
	})

	It("with non-default values: namespace-scoped, leader election over 2 replicas and a PDB, both monitors, the notifier, a custom image", func() {
		objs := byKey(render("-f", customValues))
		for _, plural := range []string{"canaries", "metrictemplates", "alertproviders"} {
			Expect(objs).To(HaveKey("CustomResourceDefinition " + plural + ".aviary.dev"))
			Expect(objs).NotTo(HaveKey("CustomResourceDefinition " + plural + ".flagger.app"))
		}
		d := typed[appsv1.Deployment](objs["Deployment aviary-system/aviary"])
		Expect(*d.Spec.Replicas).To(BeEquivalentTo(2))
		Expect(d.Spec.Strategy.Type).To(Equal(appsv1.RollingUpdateDeploymentStrategyType), "the leader hands over")
		Expect(d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue()).To(BeZero())
		pod := d.Spec.Template.Spec
		Expect(pod.ServiceAccountName).To(Equal("aviary-controller"))
		Expect(pod.ImagePullSecrets).To(HaveExactElements(HaveField("Name", "regcred")))
		Expect(pod.NodeSelector).To(Equal(map[string]string{"kubernetes.io/os": "linux"}))
		Expect(pod.Tolerations).To(HaveExactElements(HaveField("Key", "dedicated")))
		Expect(d.Spec.Template.Labels).To(HaveKeyWithValue("team", "platform"))
		Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue("cluster-autoscaler.kubernetes.io/safe-to-evict", "true"))
		c := pod.Containers[0]
		Expect(c.Image).To(Equal("registry.example.com/platform/aviary:0.14.0-custom"))
		Expect(string(c.ImagePullPolicy)).To(Equal("Always"))
		Expect(c.Args).To(Equal([]string{"controller", "-port=8080", "-log-level=warn", "-api-group=aviary.dev",
			"-metrics-server=http://prometheus.monitoring:9090", "-mesh-provider=traefik",
			"-selector-labels=app,app.kubernetes.io/name", "-namespace=team-a", "-control-loop-interval=30s",
			"-slack-url=https://hooks.slack.com/services/T000/B000/XXXX", "-slack-proxy-url=http://proxy.example.com:3128",
			"-slack-user=aviary", "-slack-channel=deploys",
			"-msteams-url=https://example.webhook.office.com/webhookb2/x", "-msteams-proxy-url=http://proxy.example.com:3128",
			"-enable-leader-election=true", "-leader-election-namespace=aviary-system",
			"-event-webhook=https://events.example.com/flagger", "-kubeconfig-qps=50", "-kubeconfig-burst=80",
			"-cluster-name=prod-eu"}))
		Expect(c.Env).To(HaveExactElements(HaveField("Name", "SLACK_TOKEN")))
		Expect(c.Resources.Limits.Memory().String()).To(Equal("256Mi"))
		Expect(c.Resources.Requests.Cpu().String()).To(Equal("50m"))

		pdb := objs["PodDisruptionBudget aviary-system/aviary"]
		Expect(pdb).NotTo(BeNil())
		Expect(pdb.Object["spec"]).To(HaveKeyWithValue("minAvailable", BeNumerically("==", 1)))
		pm := objs["PodMonitor monitoring/aviary"]
		Expect(pm).NotTo(BeNil())
		Expect(pm.GetLabels()).To(HaveKeyWithValue("release", "kube-prometheus"))
		Expect(jsonOf(pm.Object["spec"])).To(MatchJSON(`{"podMetricsEndpoints":[{"port":"http-metrics","path":"/metrics","interval":"30s","honorLabels":false}],
			"namespaceSelector":{"matchNames":["aviary-system"]},
			"selector":{"matchLabels":{"app.kubernetes.io/name":"aviary","app.kubernetes.io/instance":"aviary"}}}`))
		sm := objs["ServiceMonitor aviary-system/aviary"]
		Expect(sm).NotTo(BeNil())
		Expect(sm.GetLabels()).To(And(HaveKeyWithValue("release", "kube-prometheus"), HaveKeyWithValue("team", "platform")))
		Expect(jsonOf(sm.Object["spec"])).To(ContainSubstring(`"port":"http-metrics"`))
	})

	DescribeTable("takes the seed articles' `helm upgrade -i flagger ... --set` values as Flagger's chart does",
		func(sets []string, want ...string) {
			var args []string
			for _, s := range sets {
				args = append(args, "--set", s)
			}
			d := typed[appsv1.Deployment](byKey(render(args...))["Deployment aviary-system/aviary"])
			Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElements(want))
		},
		Entry("the Istio article", []string{"metricsServer=http://prometheus.istio-system:9090", "controlLoopInterval=1m"},
			"-metrics-server=http://prometheus.istio-system:9090", "-control-loop-interval=1m"),
		Entry("the Slack section", []string{"slack.url=https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK", "slack.channel=general", "slack.user=flagger"},
			"-slack-url=https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK", "-slack-channel=general", "-slack-user=flagger"),
		Entry("the Traefik article (without prometheus.install: the schema refuses it)", []string{"meshProvider=traefik"},
			"-mesh-provider=traefik"),
	)

	It("a PodDisruptionBudget on its own when enabled", func() {
		objs := byKey(render("--set", "podDisruptionBudget.enabled=true"))
		Expect(objs).To(HaveKey("PodDisruptionBudget aviary-system/aviary"))
	})

	It("without CRDs when crd.create=false (Flagger's stay)", func() {
		for k := range byKey(render("--set", "crd.create=false")) {
			Expect(k).NotTo(HavePrefix("CustomResourceDefinition "))
		}
	})

	DescribeTable("lints with `helm lint` and `helm lint --strict`",
		func(args ...string) {
			for _, strict := range []bool{false, true} {
				a := append([]string{"lint", chartDir()}, args...)
				if strict {
					a = append(a, "--strict")
				}
				out, err := deploy.Run(context.Background(), helm(), a...)
				Expect(err).NotTo(HaveOccurred(), string(out))
				Expect(string(out)).To(ContainSubstring("1 chart(s) linted, 0 chart(s) failed"))
			}
		},
		Entry("default values"),
		Entry("non-default values", "-f", customValues),
	)

	DescribeTable("refuses wrong values at install time, naming the field",
		func(want string, args ...string) {
			out, err := deploy.Run(context.Background(), helm(), append([]string{"template", "aviary", chartDir()}, args...)...)
			Expect(err).To(HaveOccurred())
			Expect(out).To(BeEmpty(), "nothing rendered")
			Expect(err.Error()).To(ContainSubstring("values don't meet the specifications of the schema"))
			Expect(err.Error()).To(ContainSubstring(want))
		},
		Entry("a mesh provider typo", "at '/meshProvider': value must be one of '', 'istio', 'kubernetes', 'traefik'", "--set", "meshProvider=istoi"),
		Entry("a mesh provider Flagger has and aviary does not route", "at '/meshProvider'", "--set", "meshProvider=linkerd"),
		Entry("a log level zap does not have", "at '/logLevel': value must be one of", "--set", "logLevel=verbose"),
		Entry("an unknown key", "additional properties 'metricServer' not allowed", "--set", "metricServer=http://prometheus:9090"),
		Entry("Flagger's bundled Prometheus", "additional properties 'prometheus' not allowed", "--set", "prometheus.install=true"),
		Entry("a Flagger flag aviary refuses", "additional properties 'ingressClass' not allowed", "--set", "ingressClass=contour"),
		Entry("a string where an integer goes", "at '/leaderElection/replicaCount': got string, want integer", "--set", "leaderElection.replicaCount=two"),
		Entry("2 replicas without leader election", "at '/leaderElection/enabled': value must be true", "--set", "leaderElection.replicaCount=2"),
		Entry("a metrics server without a scheme", "at '/metricsServer': 'prometheus:9090' does not match pattern", "--set", "metricsServer=prometheus:9090"),
		Entry("a Slack webhook that is no URL", "at '/slack/url'", "--set", "slack.url=hooks.slack.com"),
		Entry("config tracking off, which the controller refuses", "at '/configTracking/enabled': value must be true", "--set", "configTracking.enabled=false"),
		Entry("an API group the controller does not serve", "at '/apiGroup'", "--set", "apiGroup=flagger.io"),
		Entry("an unknown pull policy", "at '/image/pullPolicy'", "--set", "image.pullPolicy=Sometimes"),
		Entry("a scrape interval without a unit", "at '/podMonitor/interval'", "--set-string", "podMonitor.interval=15"),
		Entry("an unknown key below a known one", "at '/slack': additional properties 'webhook' not allowed", "--set", "slack.webhook=https://hooks.slack.com/x"),
		Entry("a namespace that is no DNS label", "at '/namespace'", "--set", "namespace=Team_A"),
	)
})

var _ = Describe("the kustomize base", func() {
	It("is the chart's default render without Helm's metadata (`make kustomize-base` when this fails)", func() {
		files, err := deploy.KustomizeBase(render())
		Expect(err).NotTo(HaveOccurred())
		stale, err := deploy.Stale(filepath.Join(root, deploy.KustomizeDir), files)
		Expect(err).NotTo(HaveOccurred())
		Expect(stale).To(BeEmpty(), "run `make kustomize-base`")
	})

	It("builds with kustomize into the objects of the chart's default render, object by object", func() {
		out, err := deploy.Run(context.Background(), kustomize(), "build", filepath.Join(root, deploy.KustomizeDir))
		Expect(err).NotTo(HaveOccurred())
		built, err := deploy.Decode(out)
		Expect(err).NotTo(HaveOccurred())
		got := byKey(built)
		Expect(got).To(HaveKey("Namespace "+deploy.Namespace), "the base makes the namespace helm --create-namespace makes")
		delete(got, "Namespace "+deploy.Namespace)
		want := map[string]*unstructured.Unstructured{}
		for _, u := range render() {
			want[deploy.Key(u)] = deploy.WithoutHelmMetadata(u)
		}
		Expect(want).NotTo(BeEmpty())
		Expect(slices.Sorted(maps.Keys(got))).To(Equal(slices.Sorted(maps.Keys(want))))
		var diffs []string
		for k, w := range want {
			if d := cmp.Diff(w.Object, got[k].Object); d != "" {
				diffs = append(diffs, k+" (-chart +kustomize):\n"+d)
			}
		}
		if len(diffs) > 0 {
			Fail(strings.Join(diffs, "\n"))
		}
	})

	It("takes the overlay README shows: another metrics server and mesh provider", func() {
		out, err := deploy.Run(context.Background(), kustomize(), "build", "testdata/overlay")
		Expect(err).NotTo(HaveOccurred())
		built, err := deploy.Decode(out)
		Expect(err).NotTo(HaveOccurred())
		d := typed[appsv1.Deployment](byKey(built)["Deployment aviary-system/aviary"])
		Expect(d.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{"controller", "-port=8080", "-log-level=info",
			"-api-group=flagger.app", "-metrics-server=http://prometheus.monitoring:9090", "-slack-user=flagger", "-mesh-provider=istio"}))
	})
})

// jsonOf is v as JSON.
func jsonOf(v any) string {
	GinkgoHelper()
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}
