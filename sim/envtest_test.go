package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	containous "aviary.dev/aviary/api/traefik/containous/v1alpha1"
	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// The envtest API server of this package's tests and benchmarks: started on first
// use, stopped by TestMain.
var shared struct {
	once sync.Once
	env  *cluster.Envtest
	err  error
}

func sharedEnvtest() (*cluster.Envtest, error) {
	shared.once.Do(func() { shared.env, shared.err = cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{}) })
	return shared.env, shared.err
}

// envtestOrFail is the shared API server; without its binaries the spec fails with the
// hint to build them.
func envtestOrFail() *cluster.Envtest {
	GinkgoHelper()
	env, err := sharedEnvtest()
	if err != nil {
		Fail(err.Error())
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}
	os.Exit(code)
}

// writeScenario writes a scenario file (and nothing else) into a temporary directory.
func writeScenario(body string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "scenario.yaml")
	Expect(os.WriteFile(path, []byte(body), 0o644)).To(Succeed())
	return path
}

// analysisScenario is a minimal podinfo scenario whose analysis block is given.
func analysisScenario(name, analysis string) string {
	return podinfoScenario(name, analysis, "until: 5m\nexpect:\n  phase: Succeeded")
}

// podinfoScenario is a podinfo scenario whose Canary has the given analysis block, a
// new revision at 2m, and the rest of spec (YAML at spec's indentation).
func podinfoScenario(name, analysis, rest string) string {
	return fmt.Sprintf(`apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: %s
spec:
  policy:
    objects:
      - apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata: {name: podinfo, namespace: test}
        spec:
          targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
          service: {port: 9898}
          analysis: %s
  timeline:
    - {at: 2m, image: podinfo:6.0.1}
%s
`, name, analysis, indent(rest, "  "))
}

// decisions is a result without its mode, as JSON: what must be equal in both modes.
func decisions(r *scenario.Result) string {
	GinkgoHelper()
	c := *r
	c.Mode = ""
	b, err := json.Marshal(c)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var _ = Describe("envtest mode", func() {
	It("runs a scenario in its own namespace on the API server, with the state in the Canary's status", func() {
		env := envtestOrFail()
		l, err := scenario.LoadFile(filepath.Join("..", "scenarios", "podinfo-500-burst.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sc := env.ScenarioClient(l.Scenario.Metadata.Name, l.Canary.Namespace)
		ns := sc.Namespace("test")
		Expect(ns).To(MatchRegexp(`^podinfo-500-burst-\d+$`))
		res, err := sim.Run(context.Background(), l, sim.RunOptions{Client: sc, Mode: sim.ModeEnvtest})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Mode).To(Equal(sim.ModeEnvtest))
		Expect(res.Passed).To(BeTrue())

		cd := &v1beta1.Canary{}
		Expect(env.Client().Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "podinfo"}, cd)).To(Succeed())
		Expect(string(cd.Status.Phase)).To(Equal(res.Phase))
		Expect(cd.Status.FailedChecks).To(Equal(res.Ticks[len(res.Ticks)-1].FailedChecks))
		// nothing was stored under the policy's own namespace
		err = env.Client().Get(context.Background(), types.NamespacedName{Name: "test"}, &corev1.Namespace{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace test: %v", err)

		// every event of the run is a Kubernetes Event about the Canary, in order
		var recorded []string
		for t := range res.EachTick() {
			for _, e := range t.Events {
				recorded = append(recorded, e.Type+"|"+e.Message)
			}
		}
		events := &corev1.EventList{}
		Expect(env.Client().List(context.Background(), events, client.InNamespace(ns))).To(Succeed())
		sort.Slice(events.Items, func(i, j int) bool { return eventSeq(events.Items[i].Name) < eventSeq(events.Items[j].Name) })
		var written []string
		for _, e := range events.Items {
			if e.Source.Component != "flagger" {
				// the API server's own repair loops write events too, such as
				// "Cluster IP ... is not allocated; repairing" about a Service
				// created while its ClusterIP allocator was being checked
				continue
			}
			Expect(e.InvolvedObject.Kind).To(Equal("Canary"), "event %s: %s %s/%s %q", e.Name, e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, e.Message)
			Expect(e.InvolvedObject.Namespace).To(Equal(ns))
			Expect(e.InvolvedObject.Name).To(Equal("podinfo"))
			Expect(e.Reason).To(Equal("Synced"))
			written = append(written, e.Type+"|"+e.Message)
		}
		Expect(written).To(Equal(recorded))
		Expect(written).To(ContainElement("Warning|Rolling back podinfo.test failed checks threshold reached 5"))
	})

	DescribeTable("rejects a Canary the CRD schema does not admit, naming the scenario and the field",
		func(analysis, field, message string) {
			env := envtestOrFail()
			l, err := scenario.LoadFile(writeScenario(analysisScenario("bad-analysis", analysis)))
			Expect(err).NotTo(HaveOccurred(), "the loader accepts it; the API server is the judge")

			_, err = sim.Run(context.Background(), l, sim.InEnvtest(env, l))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(`scenario "bad-analysis"`))
			Expect(err.Error()).To(ContainSubstring("create Canary podinfo"))
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%#v", err)
		},
		Entry("interval 5x", `{interval: 5x, threshold: 2, maxWeight: 50, stepWeight: 10}`,
			"spec.analysis.interval", `should match '^[0-9]+(m|s)'`),
		Entry("stepWeight and iterations", `{interval: 1m, threshold: 2, iterations: 5, stepWeight: 10}`,
			"spec.analysis", "exactly one of iterations, stepWeight and stepWeights must be set"),
	)

	It("accepts Traefik's IngressRoute and TraefikService in both of Traefik's groups, as users write them", func() {
		env := envtestOrFail()
		scheme, err := cluster.NewScheme()
		Expect(err).NotTo(HaveOccurred())
		decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
		sc := env.ScenarioClient("traefik-objects", "test")
		Expect(sc.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test"}})).To(Succeed())
		for _, doc := range []string{
			// the seed article's IngressRoute (Traefik v2, the older group)
			`apiVersion: traefik.containo.us/v1alpha1
kind: IngressRoute
metadata: {name: podinfo, namespace: test}
spec:
  entryPoints: [web]
  routes:
    - match: Host(` + "`app.example.com`" + `)
      kind: Rule
      services: [{name: podinfo, kind: TraefikService, port: 80}]
`,
			// Flagger 1.44's tutorial's (traefik.io), with TLS
			`apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: podinfo, namespace: test}
spec:
  entryPoints: [websecure]
  routes:
    - match: Host(` + "`app.example.com`" + `)
      kind: Rule
      services: [{name: podinfo, kind: TraefikService, port: 80}]
  tls: {certResolver: le}
`,
			`apiVersion: traefik.containo.us/v1alpha1
kind: TraefikService
metadata: {name: podinfo, namespace: test}
spec:
  weighted:
    services: [{name: podinfo-primary, port: 80, weight: 90}, {name: podinfo-canary, port: 80, weight: 10}]
`,
			`apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: mirrored, namespace: test}
spec:
  mirroring:
    name: podinfo-primary
    port: 80
    mirrors: [{name: podinfo-canary, port: 80, percent: 20}]
`,
		} {
			obj, gvk, err := decoder.Decode([]byte(doc), nil, nil)
			Expect(err).NotTo(HaveOccurred(), doc)
			o := obj.(client.Object)
			Expect(sc.Create(context.Background(), o)).To(Succeed(), "%s", gvk)
			back := obj.DeepCopyObject().(client.Object)
			Expect(sc.Get(context.Background(), client.ObjectKeyFromObject(o), back)).To(Succeed())
			Expect(back.GetNamespace()).To(Equal("test"))
		}
		old := &containous.IngressRoute{}
		Expect(sc.Get(context.Background(), types.NamespacedName{Namespace: "test", Name: "podinfo"}, old)).To(Succeed())
		Expect(old.Spec.Routes[0].Services[0].Kind).To(Equal("TraefikService"))
		ts := &traefik.TraefikService{}
		Expect(sc.Get(context.Background(), types.NamespacedName{Namespace: "test", Name: "mirrored"}, ts)).To(Succeed())
		Expect(ts.Spec.Mirroring.Mirrors[0].Percent).To(Equal(20))

		// Traefik's validations hold for the fields modelled
		bad := &traefik.IngressRoute{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "test"},
			Spec: traefik.IngressRouteSpec{Routes: []traefik.Route{{Match: "PathPrefix(`/`)", Kind: "Redirect"}}}}
		err = sc.Create(context.Background(), bad)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.routes[0].kind"))
	})

	It("retries a status write that conflicts with a concurrent writer, and decides as without it", func() {
		env := envtestOrFail()
		l, err := scenario.LoadFile(filepath.Join("..", "scenarios", "podinfo-500-burst.yaml"))
		Expect(err).NotTo(HaveOccurred())
		fast, err := sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).NotTo(HaveOccurred())

		c := &conflictingWriter{ScenarioClient: env.ScenarioClient(l.Scenario.Metadata.Name, l.Canary.Namespace)}
		res, err := sim.Run(context.Background(), l, sim.RunOptions{Client: c, Mode: sim.ModeEnvtest})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.conflicts).To(BeNumerically(">=", 3), "the API server answered 409 Conflict to the engine's status writes")
		Expect(c.conflicts).To(Equal(c.interfered))
		Expect(decisions(res)).To(Equal(decisions(fast)))
	})
})

// conflictingWriter changes the Canary (an annotation, so the resourceVersion moves)
// right before every third status write of the engine, as a second controller or a
// kubectl user would; the write then carries a stale resourceVersion.
type conflictingWriter struct {
	*cluster.ScenarioClient
	writes, interfered, conflicts int
}

func (c *conflictingWriter) Status() client.SubResourceWriter {
	return conflictingStatus{SubResourceWriter: c.ScenarioClient.Status(), c: c}
}

type conflictingStatus struct {
	client.SubResourceWriter
	c *conflictingWriter
}

func (s conflictingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if _, ok := obj.(*v1beta1.Canary); ok {
		s.c.writes++
		if s.c.writes%3 == 1 {
			other := &v1beta1.Canary{}
			if err := s.c.Get(ctx, client.ObjectKeyFromObject(obj), other); err != nil {
				return err
			}
			if other.Annotations == nil {
				other.Annotations = map[string]string{}
			}
			other.Annotations["test.aviary.dev/concurrent-write"] = fmt.Sprint(s.c.writes)
			if err := s.c.Update(ctx, other); err != nil {
				return err
			}
			s.c.interfered++
		}
	}
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	if apierrors.IsConflict(err) {
		s.c.conflicts++
	}
	return err
}

// eventSeq is the sequence number of an event named "<canary>.<n>".
func eventSeq(name string) int {
	n, _ := strconv.Atoi(name[strings.LastIndex(name, ".")+1:])
	return n
}
