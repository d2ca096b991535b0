package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"aviary.dev/aviary/controller"
	"aviary.dev/aviary/deploy"
	"aviary.dev/aviary/deploy/image"
	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/sim/cluster"
)

// prometheusOperator is the module whose CRDs the PodMonitor and ServiceMonitor are
// applied against; hack/prometheus-operator/go.mod pins its version.
const prometheusOperator = "github.com/prometheus-operator/prometheus-operator"

// monitorCRDs are the Prometheus Operator's real PodMonitor and ServiceMonitor CRDs,
// from its module in the module cache (downloaded when missing).
func monitorCRDs() []string {
	GinkgoHelper()
	cmd := exec.Command("go", "mod", "download", "-json", prometheusOperator)
	cmd.Dir = filepath.Join(root, "hack", "prometheus-operator")
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "go mod download %s in %s: %s", prometheusOperator, cmd.Dir, out)
	var mod struct{ Dir string }
	Expect(json.Unmarshal(out, &mod)).To(Succeed())
	dir := filepath.Join(mod.Dir, "example", "prometheus-operator-crd")
	return []string{
		filepath.Join(dir, "monitoring.coreos.com_podmonitors.yaml"),
		filepath.Join(dir, "monitoring.coreos.com_servicemonitors.yaml"),
	}
}

// startAPIServer starts envtest's kube-apiserver and etcd with the monitors' CRDs
// only: the chart's CRDs are the chart's to install.
func startAPIServer() *rest.Config {
	GinkgoHelper()
	assets, err := cluster.FindEnvtestAssets("")
	Expect(err).NotTo(HaveOccurred())
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: monitorCRDs(), ErrorIfPathMissing: true},
	}
	// explicit paths, as sim/cluster's: envtest would prefer $KUBEBUILDER_ASSETS
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	Expect(env.CRDs).To(HaveLen(2))
	return cfg
}

// apply server-side-applies objs as Helm's field manager would (deploy.Apply: after
// the namespaces they are in; CRDs first, until established), and reads each back.
func apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) {
	GinkgoHelper()
	Expect(deploy.Apply(ctx, c, objs, deploy.ApplyOptions{
		FieldOwner: "helm",
		Established: func(crds []*unstructured.Unstructured) error {
			var typedCRDs []*apiextensionsv1.CustomResourceDefinition
			for _, u := range crds {
				typedCRDs = append(typedCRDs, typed[apiextensionsv1.CustomResourceDefinition](u))
			}
			return envtest.WaitForCRDs(restConfig, typedCRDs, envtest.CRDInstallOptions{MaxTime: time.Minute, PollInterval: 100 * time.Millisecond})
		},
		Applied: func(u *unstructured.Unstructured) error {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(u.GroupVersionKind())
			Expect(c.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed(), deploy.Key(u))
			if len(u.Object) > 3 { // more than apiVersion, kind and a name, which no manager owns
				Expect(got.GetManagedFields()).To(ContainElement(HaveField("Manager", "helm")), deploy.Key(u))
			}
			return nil
		},
	})).To(Succeed())
}

// namespace is a Namespace to apply.
func namespace(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(name)
	return u
}

// restConfig reaches the API server of the install specs as an administrator.
var restConfig *rest.Config

var _ = Describe("the chart installed on a real API server", Ordered, func() {
	var (
		c          client.Client
		aviary     string
		kubeconfig string
	)

	BeforeAll(func() {
		helm() // skips (or fails under make test) before anything starts
		restConfig = startAPIServer()
		var err error
		c, err = client.New(restConfig, client.Options{})
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		kubeconfig = filepath.Join(dir, "kubeconfig")
		Expect(e2e.WriteKubeconfig(restConfig, "", kubeconfig)).To(Succeed())
		aviary = filepath.Join(dir, "aviary")
		build := exec.Command("go", "build", "-o", aviary, "./cmd/aviary")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build ./cmd/aviary: %s", out)
	})

	It("installs with `helm upgrade -i` as README says, upgrades, and keeps the CRDs with crd.create=false and when uninstalled", func(ctx SpecContext) {
		h := func(args ...string) string {
			GinkgoHelper()
			out, err := deploy.Run(ctx, helm(), append(args, "--kubeconfig", kubeconfig)...)
			Expect(err).NotTo(HaveOccurred())
			return string(out)
		}
		out := h("upgrade", "-i", deploy.Release, chartDir(), "--namespace", deploy.Namespace, "--create-namespace",
			"--set", "metricsServer=http://prometheus.monitoring:9090", "--set", "meshProvider=istio")
		Expect(out).To(ContainSubstring("STATUS: deployed"))
		// NOTES.txt: what was installed and how to check it
		Expect(out).To(ContainSubstring("aviary " + aviaryVersion + " (Flagger 1.44's canary analysis) is installed as release aviary in namespace aviary-system"))
		Expect(out).To(ContainSubstring("advancing the flagger.app Canaries of every namespace"))
		Expect(out).To(ContainSubstring("mesh provider istio, metrics from http://prometheus.monitoring:9090"))
		Expect(out).To(ContainSubstring("kubectl -n aviary-system rollout status deployment/aviary"))
		d := &appsv1.Deployment{}
		Expect(c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "aviary"}, d)).To(Succeed())
		Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElements("-metrics-server=http://prometheus.monitoring:9090", "-mesh-provider=istio"))

		// the other namespaces the values name are the user's: Prometheus' (the
		// PodMonitor's) and the one watched (its Role)
		for _, u := range render("-f", customValues) {
			if ns := u.GetNamespace(); ns != "" && ns != deploy.Namespace {
				apply(ctx, c, []*unstructured.Unstructured{namespace(ns)})
			}
		}
		out = h("upgrade", "-i", deploy.Release, chartDir(), "--namespace", deploy.Namespace, "-f", customValues)
		Expect(out).To(ContainSubstring("REVISION: 2"))
		Expect(out).To(ContainSubstring("advancing the aviary.dev Canaries of namespace team-a"))
		Expect(out).To(ContainSubstring("kubectl -n aviary-system get lease " + controller.DefaultLeaderElectionID))
		Expect(c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "aviary"}, d)).To(Succeed())
		Expect(*d.Spec.Replicas).To(BeEquivalentTo(2))

		// crd.create=false after all: Helm leaves the CRDs it no longer renders (keep)
		out = h("upgrade", deploy.Release, chartDir(), "--namespace", deploy.Namespace, "--reuse-values", "--set", "crd.create=false")
		Expect(out).To(ContainSubstring("the aviary.dev CRDs must exist"))
		Expect(c.Get(ctx, client.ObjectKey{Name: "canaries.aviary.dev"}, &apiextensionsv1.CustomResourceDefinition{})).To(Succeed())

		h("uninstall", deploy.Release, "--namespace", deploy.Namespace)
		Expect(c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "aviary"}, d)).To(MatchError(ContainSubstring("not found")))
		for _, name := range []string{"canaries.flagger.app", "canaries.aviary.dev"} {
			Expect(c.Get(ctx, client.ObjectKey{Name: name}, &apiextensionsv1.CustomResourceDefinition{})).To(Succeed(), name+" kept")
		}
	})

	DescribeTable("server-side-applies every object (no dry run), and the Deployment's arguments start the controller",
		func(ctx SpecContext, start bool, args ...string) {
			objs := render(args...)
			apply(ctx, c, objs)

			d := &appsv1.Deployment{}
			Expect(c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "aviary"}, d)).To(Succeed())
			pod := d.Spec.Template.Spec
			Expect(pod.Containers).To(HaveLen(1))
			ctr := pod.Containers[0]
			sc := ctr.SecurityContext
			Expect(sc).NotTo(BeNil())
			Expect(sc.RunAsNonRoot).To(Equal(ptr.To(true)))
			Expect(sc.RunAsUser).To(Equal(ptr.To[int64](image.UID)), "the image's user")
			Expect(sc.RunAsGroup).To(Equal(ptr.To[int64](image.GID)))
			Expect(sc.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)))
			Expect(sc.AllowPrivilegeEscalation).To(Equal(ptr.To(false)))
			Expect(sc.Capabilities).NotTo(BeNil())
			Expect(sc.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
			Expect(sc.Capabilities.Add).To(BeEmpty())
			Expect(sc.SeccompProfile).To(Equal(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}))
			Expect(ctr.Ports).To(HaveExactElements(And(HaveField("Name", "http-metrics"), HaveField("ContainerPort", BeEquivalentTo(8080)))))
			Expect(ctr.LivenessProbe.HTTPGet).To(And(HaveField("Path", "/healthz"), HaveField("Port.StrVal", "http-metrics")))
			Expect(ctr.ReadinessProbe.HTTPGet).To(And(HaveField("Path", "/readyz"), HaveField("Port.StrVal", "http-metrics")))
			svc := &corev1.Service{}
			Expect(c.Get(ctx, client.ObjectKey{Namespace: deploy.Namespace, Name: "aviary"}, svc)).To(Succeed())
			Expect(svc.Spec.Selector).To(Equal(d.Spec.Selector.MatchLabels))
			Expect(svc.Spec.Ports).To(HaveExactElements(HaveField("TargetPort.StrVal", "http-metrics")))
			if !start {
				return
			}

			// The container's arguments, with the test's API server and a free port
			// (the later flags win), start a controller that gets ready: its caches
			// of the installed CRDs synced.
			port, err := e2e.FreePort()
			Expect(err).NotTo(HaveOccurred())
			p, err := e2e.StartProcess("controller", GinkgoT().TempDir(), nil, aviary,
				append(ctr.Args, "-kubeconfig="+kubeconfig, fmt.Sprintf("-port=127.0.0.1:%d", port))...)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() {
				if CurrentSpecReport().Failed() {
					AddReportEntry("controller log", p.Tail(4000))
				}
				_ = p.Kill()
			})
			Eventually(func() (int, error) {
				if !p.Running() {
					return 0, StopTrying("the controller exited: " + p.Tail(2000))
				}
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Equal(http.StatusOK))
			Expect(p.Stop(10 * time.Second)).To(Succeed())
			Expect(p.Err()).NotTo(HaveOccurred(), "SIGTERM: exit 0")
		},
		Entry("default values", true),
		Entry("non-default values (an upgrade of the default release)", true, "-f", customValues),
		Entry("crd.create=false over installed CRDs", false, "--set", "crd.create=false"),
	)

	It("installed the monitors in the Prometheus Operator's schema", func(ctx SpecContext) {
		for _, m := range []struct{ kind, ns string }{{"PodMonitor", "monitoring"}, {"ServiceMonitor", deploy.Namespace}} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: m.kind})
			Expect(c.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: "aviary"}, u)).To(Succeed(), m.kind)
		}
		// the CRDs are the operator's: they refuse what it refuses
		bad := render("-f", customValues)
		for _, u := range bad {
			if u.GetKind() == "PodMonitor" {
				Expect(unstructured.SetNestedSlice(u.Object, []any{map[string]any{"port": "http-metrics", "interval": "15"}}, "spec", "podMetricsEndpoints")).To(Succeed())
				err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("helm"), client.ForceOwnership, client.DryRunAll)
				Expect(err).To(MatchError(ContainSubstring("podMetricsEndpoints[0].interval")))
			}
		}
	})
})
