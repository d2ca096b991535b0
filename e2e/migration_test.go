package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/deploy"
	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/engine/workload"
)

// yamlFiles are the scenario files of dir, sorted.
func yamlFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(files)
	return files
}

// FlaggerHash is what Flagger v1.44.0 wrote for a target: the pod template as the
// API server returned it and status.lastAppliedSpec (engine/workload's test data).
type FlaggerHash struct {
	Name            string                 `json:"name"`
	Template        corev1.PodTemplateSpec `json:"template"`
	LastAppliedSpec string                 `json:"lastAppliedSpec"`
}

// The documented migration (docs/migration.md) on one API server, Prometheus and
// sim serve world: Flagger v1.44.0 runs the canaries of e2e/migration and is stopped
// (SIGTERM, as scaling its Deployment to 0 does) while one of them is at weight 20;
// aviary's controller takes over; then, briefly, Flagger again.
var _ = Describe("migration from Flagger to aviary", Label("e2e", "migration"), Ordered, func() {
	It("continues every Canary from the status Flagger left, and Flagger continues aviary's", func(ctx SpecContext) {
		flagger := tool(e2e.FlaggerBinary, requireE2E)
		helm := tool(e2e.HelmBinary, requireE2E)
		// The live runs of the other containers go on in the background meanwhile, so
		// that this spec adds little to the package's time, whichever runs first.
		startRuns()
		main := theStack()
		s, err := newStack()
		Expect(err).NotTo(HaveOccurred())
		s.aviary, s.prometheus = main.aviary, main.prometheus
		// One Canary in each phase Flagger leaves them in: Initialized, Progressing,
		// Succeeded, Failed.
		files := yamlFiles("migration")
		Expect(files).To(HaveLen(4))
		predictions := map[string]*e2e.Prediction{}
		keys := map[string]string{} // scenario name -> Canary namespace/name
		for _, f := range files {
			p, err := e2e.Predict(ctx, f)
			Expect(err).NotTo(HaveOccurred())
			predictions[p.Loaded.Scenario.Metadata.Name] = p
			keys[p.Loaded.Scenario.Metadata.Name] = canaryKey(p)
		}
		dir, err := os.MkdirTemp(s.dir, "migration-")
		Expect(err).NotTo(HaveOccurred())

		recCtx, stopRec := context.WithCancel(context.Background())
		var rec *e2e.Recorder
		l, err := e2e.StartLive(ctx, e2e.RunOptions{Aviary: s.aviary, Prometheus: s.prometheus,
			Controller: e2e.FlaggerController(flagger), Kubeconfig: s.kubeconfig, Dir: dir, Scenarios: files},
			func(r e2e.ServeReady) { rec = e2e.Record(recCtx, s.client, r.Namespaces()...) })
		DeferCleanup(func() {
			stopRec()
			if rec != nil {
				rec.Wait()
			}
		})
		if l != nil {
			processes(l.Processes()...)
		}
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()

		status := func(name string) v1beta1.CanaryStatus {
			GinkgoHelper()
			var c v1beta1.Canary
			ns, n := splitKey(keys[name])
			Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, &c)).To(Succeed())
			return c.Status
		}
		phases := func() map[string]string {
			out := map[string]string{}
			for name := range keys {
				st := status(name)
				out[name] = fmt.Sprintf("%s/%d", st.Phase, st.CanaryWeight)
			}
			return out
		}

		By("Flagger runs until migrate-progressing is at weight 20, every other Canary in its phase")
		Eventually(phases).WithTimeout(3 * time.Minute).WithPolling(100 * time.Millisecond).Should(SatisfyAll(
			HaveKeyWithValue("migrate-initialized", "Initialized/0"),
			HaveKeyWithValue("migrate-succeeded", "Succeeded/0"),
			HaveKeyWithValue("migrate-failed", "Failed/0"),
			HaveKeyWithValue("migrate-progressing", "Progressing/20")))
		Expect(l.Ctl.Proc.Stop(5 * time.Second)).To(Succeed())
		switched := time.Now()
		GinkgoWriter.Printf("migration: Flagger stopped %v after the start\n", switched.Sub(start).Round(time.Millisecond))
		atSwitch := map[string]v1beta1.CanaryStatus{}
		for name := range keys {
			atSwitch[name] = status(name)
		}
		Expect(atSwitch["migrate-progressing"].FailedChecks).To(BeNumerically(">=", 1), "the load test failed before weight 20")

		By("Flagger's status.lastAppliedSpec is aviary's hash of each target")
		var hashes []FlaggerHash
		for _, name := range slices.Sorted(maps.Keys(keys)) {
			ns, _ := splitKey(keys[name])
			var dep appsv1.Deployment
			Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podinfo"}, &dep)).To(Succeed())
			h, err := workload.TemplateHash(&dep.Spec.Template)
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(Equal(atSwitch[name].LastAppliedSpec), name)
			hashes = append(hashes, FlaggerHash{Name: name, Template: dep.Spec.Template, LastAppliedSpec: atSwitch[name].LastAppliedSpec})
		}
		raw, err := json.MarshalIndent(hashes, "", "  ")
		Expect(err).NotTo(HaveOccurred())
		if out := os.Getenv("AVIARY_E2E_FLAGGER_HASHES"); out != "" {
			Expect(os.WriteFile(out, append(raw, '\n'), 0o644)).To(Succeed())
		}

		By("aviary's controller takes over, as the chart installs it: its ServiceAccount and RBAC")
		root, err := e2e.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		rbac, err := e2e.RenderRBAC(ctx, helm, filepath.Join(root, deploy.ChartDir), "crd.create=false")
		Expect(err).NotTo(HaveOccurred())
		Expect(deploy.Apply(ctx, s.env.Client(), rbac, deploy.ApplyOptions{FieldOwner: "aviary-e2e"})).To(Succeed())
		asChart := filepath.Join(dir, "kubeconfig-aviary")
		Expect(e2e.WriteKubeconfigAs(s.env.Config, "", asChart, e2e.ServiceAccountUser(deploy.Namespace, deploy.Release))).To(Succeed())
		aviary := e2e.AviaryController(s.aviary)
		aviary.LogLevel = os.Getenv("AVIARY_E2E_LOG_LEVEL")
		ctl, err := aviary.Start(e2e.ControllerOptions{Kubeconfig: asChart, MetricsServer: l.Prometheus.URL,
			Proxy: l.Ready.Listen, LogDir: dir}, l.Ctl.Port)
		Expect(err).NotTo(HaveOccurred())
		processes(ctl.Proc)
		Expect(ctl.WaitServing(ctx)).To(Succeed())

		// The first status aviary writes for migrate-progressing goes on from Flagger's.
		after := func(name string, from time.Time) []e2e.CanaryState {
			var out []e2e.CanaryState
			for _, st := range rec.States(keys[name]) {
				if st.At.After(from) {
					out = append(out, st)
				}
			}
			return out
		}
		prog := atSwitch["migrate-progressing"]
		Eventually(func() []e2e.CanaryState { return after("migrate-progressing", switched) }).
			WithTimeout(time.Minute).Should(ContainElement(HaveField("CanaryWeight", Not(Equal(20)))))
		var next e2e.CanaryState
		for _, st := range after("migrate-progressing", switched) {
			if st.CanaryWeight != 20 {
				next = st
				break
			}
		}
		Expect(next).To(Equal(e2e.CanaryState{At: next.At, Phase: "Progressing", CanaryWeight: 30,
			FailedChecks: prog.FailedChecks, Iterations: prog.Iterations}),
			"the next step after Flagger's weight 20, failed checks and iterations kept")

		By("aviary promotes migrate-progressing and a second revision of migrate-succeeded")
		Eventually(phases).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(SatisfyAll(
			HaveKeyWithValue("migrate-progressing", "Succeeded/0"),
			HaveKeyWithValue("migrate-succeeded", "Succeeded/0")))
		Eventually(func() []e2e.CanaryState { return after("migrate-succeeded", switched) }).
			Should(ContainElement(HaveField("Phase", "Succeeded")))
		for _, name := range []string{"migrate-initialized", "migrate-failed"} {
			Expect(after(name, switched)).NotTo(ContainElement(HaveField("Phase", "Progressing")), name+" is not analysed again")
			st := status(name)
			Expect(st.Phase).To(Equal(atSwitch[name].Phase), name)
			Expect(st.LastAppliedSpec).To(Equal(atSwitch[name].LastAppliedSpec), name)
			Expect(st.TrackedConfigs).To(Equal(atSwitch[name].TrackedConfigs), name)
		}

		By("Flagger takes over again, from the hashes aviary wrote")
		Expect(ctl.Proc.Stop(5 * time.Second)).To(Succeed())
		back := time.Now()
		atBack := map[string]v1beta1.CanaryStatus{}
		for name := range keys {
			atBack[name] = status(name)
		}
		Expect(atBack["migrate-succeeded"].LastAppliedSpec).NotTo(Equal(atSwitch["migrate-succeeded"].LastAppliedSpec),
			"aviary analysed migrate-succeeded's second revision and wrote its hash")
		Expect(l.Ctl.Proc.Start()).To(Succeed())
		Expect(l.Ctl.WaitServing(ctx)).To(Succeed())

		select {
		case <-l.Serve.Done():
		case <-ctx.Done():
			Fail("interrupted while sim serve played the migration")
		}
		Expect(l.Serve.Err()).NotTo(HaveOccurred(), "sim serve's log: %s", l.Serve.Log)
		Expect(l.Ctl.Proc.Running()).To(BeTrue(), "Flagger runs to the end; its log: %s", l.Ctl.Proc.Log)
		GinkgoWriter.Printf("migration: Flagger again for %v until sim serve ended, %v after the start\n",
			time.Since(back).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		for name := range keys {
			Expect(after(name, back)).NotTo(ContainElement(HaveField("Phase", Not(Equal(string(atBack[name].Phase))))),
				name+": Flagger does not analyse again what aviary left")
			Expect(status(name).LastAppliedSpec).To(Equal(atBack[name].LastAppliedSpec), name)
		}

		By("the steps of both controllers together are those one controller would have taken (sim.Run)")
		for _, name := range slices.Sorted(maps.Keys(keys)) {
			d := e2e.Compare(predictions[name], rec.Steps(keys[name]), rec.Events(keys[name]))
			GinkgoWriter.Printf("%s: live steps %v\n  live events %q\n", name, d.LiveSteps, d.LiveMessages)
			Expect(d.Steps).To(BeEmpty(), name+": phases and canary weights (predicted | live)")
			Expect(d.Messages).To(BeEmpty(), name+": event messages (predicted | live)")
		}
	}, SpecTimeout(8*time.Minute))
})

// splitKey splits namespace/name.
func splitKey(key string) (namespace, name string) {
	namespace, name, _ = strings.Cut(key, "/")
	return namespace, name
}
