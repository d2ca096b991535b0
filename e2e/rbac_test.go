package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"aviary.dev/aviary/deploy"
	"aviary.dev/aviary/e2e"
)

// The chart's RBAC, proven: aviary's controller under test runs as the chart's
// ServiceAccount (its kubeconfig impersonates system:serviceaccount:aviary-system:aviary,
// bound by the chart's own roles, applied to the API server), not as the admin; the
// API servers' audit logs say what it asked for. The main run (e2e/scenarios) uses the
// cluster-wide variant with leader election; the namespaced run (e2e/rbac, on an API
// server of its own) the Role variant, with -namespace, and the paths e2e/scenarios do
// not reach (Traefik, an HPA, tracked ConfigMaps and Secrets, credentials in Secrets).

// rbacLabels are the namespaced run's container's labels.
var rbacLabels = Label("e2e", "rbac")

// rbacNamespace is the namespace the namespaced run watches: the one of e2e/rbac's
// scenario.
const rbacNamespace = "e2e-rbac"

// unusedAllowed are the grants no end-to-end run uses, each with why the controller
// needs it anyway. Keys are Grant.Verb + " " + resource.group ("core" for "").
var unusedAllowed = map[string]string{
	"update canaries/finalizers.flagger.app": "the OwnerReferencesPermissionEnforcement admission plugin (on in these runs) checks it " +
		"when the controller creates an object its Canary owns with blockOwnerDeletion: an authorization check inside the " +
		"API server, not a request, so the audit log cannot show it (\"needs canaries/finalizers\" below shows a create refused without it)",
	"update destinationrules.networking.istio.io": "the Istio router rewrites a DestinationRule only when it differs from what the " +
		"Canary wants (service.trafficPolicy changed, or someone edited it); the Istio scenarios of e2e/scenarios, which the " +
		"Flagger comparison shares, change neither",
}

var (
	chartMu sync.Mutex
	// chartObjects are the RBAC objects applied to each stack.
	chartObjects = map[*stack][]*unstructured.Unstructured{}

	nsOnce sync.Once
	nsRun  *future
)

// mainStackArgs are the main API server's flags: the audit log when aviary's
// controller is under test (Flagger runs as the admin: it needs Flagger's RBAC).
func mainStackArgs() func(dir string) (map[string]string, error) {
	if controllerName() != "aviary" {
		return nil
	}
	return e2e.AuditArgs
}

// asChartServiceAccount applies the chart's ServiceAccount and roles, rendered with
// set, to o's API server, and makes o's controller (aviary's only) run as that
// ServiceAccount, with leader election in the release namespace when asked.
func asChartServiceAccount(o *liveOptions, helm string, leaderElection bool, set ...string) error {
	if o.ctl.Name != "aviary" {
		return nil
	}
	if leaderElection {
		set = append([]string{"leaderElection.enabled=true"}, set...)
		o.ctl.Flags = append(o.ctl.Flags, "-enable-leader-election", "-leader-election-namespace", deploy.Namespace)
	}
	if _, err := applyChartRBAC(o.stack, helm, set...); err != nil {
		return err
	}
	o.as = e2e.ServiceAccountUser(deploy.Namespace, deploy.Release)
	return nil
}

// chartHelm is helm, for aviary's controller (which runs with the chart's RBAC):
// when it is missing, a failure if required and otherwise a skip.
func chartHelm(ctl e2e.Controller) string {
	GinkgoHelper()
	if ctl.Name != "aviary" {
		return ""
	}
	return tool(e2e.HelmBinary, requireE2E)
}

// applyChartRBAC renders the chart's ServiceAccount and roles with set and applies
// them to s's API server.
func applyChartRBAC(s *stack, helm string, set ...string) ([]*unstructured.Unstructured, error) {
	root, err := e2e.ModuleRoot()
	if err != nil {
		return nil, err
	}
	objs, err := e2e.RenderRBAC(context.Background(), helm, filepath.Join(root, deploy.ChartDir), set...)
	if err != nil {
		return nil, err
	}
	if err := deploy.Apply(context.Background(), s.env.Client(), objs, deploy.ApplyOptions{FieldOwner: "aviary-e2e"}); err != nil {
		return nil, err
	}
	chartMu.Lock()
	chartObjects[s] = objs
	chartMu.Unlock()
	return objs, nil
}

// startNamespaced starts the namespaced run: e2e/rbac on an API server of its own,
// aviary's controller with -namespace as the chart's namespaced variant allows.
func startNamespaced() *future {
	GinkgoHelper()
	main := theStack()
	helm := tool(e2e.HelmBinary, requireE2E)
	nsOnce.Do(func() {
		s, err := newStackWith(e2e.AuditArgs)
		if err != nil {
			nsRun = failedRun(err)
			return
		}
		s.aviary, s.prometheus = main.aviary, main.prometheus
		ctl := e2e.AviaryController(main.aviary)
		ctl.LogLevel = os.Getenv("AVIARY_E2E_LOG_LEVEL")
		ctl.Flags = []string{"-namespace", rbacNamespace}
		// client-go streams a cache's initial list through its watch (WatchListClient,
		// on since 1.35) where the API server can, as envtest's does; off, its cache
		// LISTs as against API servers that cannot: this run uses that path.
		ctl.Env = []string{"KUBE_FEATURE_WatchListClient=false"}
		files, _ := filepath.Glob(filepath.Join("rbac", "*.yaml"))
		o := liveOptions{stack: s, files: files, ctl: ctl}
		if err := asChartServiceAccount(&o, helm, true, "namespace="+rbacNamespace); err != nil {
			nsRun = failedRun(err)
			return
		}
		nsRun = goLive(context.Background(), o)
	})
	return nsRun
}

// finished waits for a run without taking its processes over (another container
// holds them to a prediction and stops them).
func finished(ctx context.Context, f *future) *live {
	GinkgoHelper()
	select {
	case <-f.done:
	case <-ctx.Done():
		Fail("interrupted while waiting for a live run")
	}
	Expect(f.err).NotTo(HaveOccurred())
	return f.l
}

// rbacRun is what one run's controller did and was given.
type rbacRun struct {
	name   string
	audit  e2e.Audit
	grants []e2e.Grant
}

func readRBACRun(name string, l *live) rbacRun {
	GinkgoHelper()
	chartMu.Lock()
	objs := chartObjects[l.stack]
	chartMu.Unlock()
	Expect(objs).NotTo(BeEmpty(), "the chart's RBAC was applied to %s's API server", name)
	audit, err := e2e.ReadAudit(filepath.Join(l.stack.dir, "audit.log"), e2e.ServiceAccountUser(deploy.Namespace, deploy.Release))
	Expect(err).NotTo(HaveOccurred())
	Expect(audit.Counts).NotTo(BeEmpty(), "%s: the audit log holds the controller's requests", name)
	grants, err := e2e.GrantsTo(objs, deploy.Namespace, deploy.Release)
	Expect(err).NotTo(HaveOccurred())
	Expect(grants).NotTo(BeEmpty())
	return rbacRun{name: name, audit: audit, grants: grants}
}

// ruleKey is "verb resource.group" of a grant or access, scope left out.
func ruleKey(verb, resource, group string) string {
	if group == "" {
		group = "core"
	}
	return verb + " " + resource + "." + group
}

var _ = Describe("the chart's RBAC", Ordered, rbacLabels, func() {
	var runs []rbacRun
	var ns *live

	BeforeAll(func(ctx SpecContext) {
		startRuns()
		ns = startNamespaced().wait(ctx)
		runs = append(runs, readRBACRun("namespaced run", ns))
		if controllerName() == "aviary" {
			runs = append(runs, readRBACRun("main run", finished(ctx, startMain())))
		} else {
			AddReportEntry("rbac", "the main run's controller is "+controllerName()+", run as the admin: only the namespaced run is checked")
		}
	}, NodeTimeout(15*time.Minute))

	It("lets the namespaced controller decide what the simulator predicted", func() {
		for _, p := range ns.predictions {
			key := canaryKey(p)
			d := e2e.Compare(p, ns.rec.Steps(key), ns.rec.Events(key))
			GinkgoWriter.Printf("%s: live steps %v\n  live events %q\n", key, d.LiveSteps, d.LiveMessages)
			Expect(d.Steps).To(BeEmpty(), "phases and canary weights (predicted | live)")
			Expect(d.Messages).To(BeEmpty(), "event messages (predicted | live)")
			Expect(d.Counts).To(BeEmpty(), "event counts")
		}
	})

	It("refuses the controller nothing it asked for", func() {
		for _, r := range runs {
			Expect(r.audit.Refused).To(BeEmpty(), "%s: requests answered 403 Forbidden", r.name)
			Expect(e2e.Ungranted(r.grants, r.audit)).To(BeEmpty(), "%s: requests the chart's roles do not grant", r.name)
		}
	})

	It("keeps the namespaced controller in its namespace and the release's", func() {
		var outside []e2e.Access
		for acc := range runs[0].audit.Counts {
			if acc.Path == "" && acc.Namespace != rbacNamespace && acc.Namespace != deploy.Namespace {
				outside = append(outside, acc)
			}
		}
		e2e.SortAccesses(outside)
		Expect(outside).To(BeEmpty())
	})

	It("grants nothing the controller did not use, but the allow-list", func() {
		used := map[string]int{}
		for _, r := range runs {
			for acc, n := range r.audit.Counts {
				if acc.Path == "" {
					used[ruleKey(acc.Verb, acc.ResourceName(), acc.Group)] += n
				}
			}
		}
		granted := map[string]bool{}
		for _, r := range runs {
			for _, g := range r.grants {
				granted[ruleKey(g.Verb, g.Resource, g.Group)] = true
			}
		}
		var unused, stale []string
		for k := range granted {
			if used[k] == 0 && unusedAllowed[k] == "" {
				unused = append(unused, k)
			}
		}
		for k := range unusedAllowed {
			if used[k] > 0 || !granted[k] {
				stale = append(stale, k)
			}
		}
		sort.Strings(unused)
		sort.Strings(stale)
		keys := slices.Sorted(maps.Keys(used))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "  %6d  %s\n", used[k], k)
		}
		AddReportEntry("rbac", fmt.Sprintf("%d distinct (resource, verb) pairs issued by the controller (requests):\n%s", len(keys), b.String()))
		fmt.Fprintf(GinkgoWriter, "rbac: %d distinct (resource, verb) pairs issued by the controller (requests):\n%s", len(keys), b.String())
		Expect(unused).To(BeEmpty(), "granted, never used, and not in unusedAllowed")
		Expect(stale).To(BeEmpty(), "unusedAllowed entries that are used after all, or no longer granted")
	})
})

var _ = Describe("the chart's RBAC where owner references are enforced", rbacLabels, func() {
	It("needs canaries/finalizers to create an object its Canary owns with blockOwnerDeletion", func(ctx SpecContext) {
		tool(e2e.PrometheusBinary, requireE2E) // the end-to-end test's prerequisites, as every spec here
		s, err := newStackWith(e2e.AuditArgs)  // OwnerReferencesPermissionEnforcement on
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.env.Stop)
		const ns = "finalizers"
		objs, err := applyChartRBAC(s, tool(e2e.HelmBinary, requireE2E), "namespace="+ns)
		Expect(err).NotTo(HaveOccurred())
		canary := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(`{apiVersion: flagger.app/v1beta1, kind: Canary, metadata: {name: podinfo, namespace: `+ns+`},
spec: {targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}, service: {port: 80},
  analysis: {interval: 10s, threshold: 2, maxWeight: 50, stepWeight: 25}}}`), &canary.Object)).To(Succeed())
		Expect(s.env.Client().Create(ctx, canary)).To(Succeed())

		cfg := rest.CopyConfig(s.env.Config)
		cfg.Impersonate.UserName = e2e.ServiceAccountUser(deploy.Namespace, deploy.Release)
		asSA, err := client.New(cfg, client.Options{})
		Expect(err).NotTo(HaveOccurred())
		owned := func(name string) *corev1.ConfigMap {
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: canary.GetName(), UID: canary.GetUID(),
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}}}
		}
		Expect(asSA.Create(ctx, owned("with-grant"))).To(Succeed(), "the chart's Role as rendered")

		var role *unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() == "Role" && o.GetNamespace() == ns {
				role = o.DeepCopy()
			}
		}
		Expect(role).NotTo(BeNil())
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		kept := slices.DeleteFunc(slices.Clone(rules), func(r any) bool {
			res, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
			return slices.Contains(res, "canaries/finalizers")
		})
		Expect(kept).To(HaveLen(len(rules)-1), "the Role has a canaries/finalizers rule")
		Expect(unstructured.SetNestedSlice(role.Object, kept, "rules")).To(Succeed())
		Expect(deploy.Apply(ctx, s.env.Client(), []*unstructured.Unstructured{role}, deploy.ApplyOptions{FieldOwner: "aviary-e2e"})).To(Succeed())
		Eventually(func() error { return asSA.Create(ctx, owned("without-grant")) }).WithContext(ctx).
			Should(MatchError(ContainSubstring("cannot set blockOwnerDeletion")), "the same create without canaries/finalizers")
	}, SpecTimeout(2*time.Minute))
})

var _ = Describe("the chart's RBAC as rendered", rbacLabels, func() {
	// kinds renders the chart's RBAC and ServiceAccount with set: "Kind namespace/name" of
	// each object, and each binding's subject.
	render := func(set ...string) ([]string, []*unstructured.Unstructured) {
		GinkgoHelper()
		tool(e2e.PrometheusBinary, requireE2E) // the end-to-end test's prerequisites, as every spec here
		helm := tool(e2e.HelmBinary, requireE2E)
		root, err := e2e.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		objs, err := e2e.RenderRBAC(context.Background(), helm, filepath.Join(root, deploy.ChartDir), set...)
		Expect(err).NotTo(HaveOccurred())
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
		}
		return keys, objs
	}
	rulesOf := func(objs []*unstructured.Unstructured, kind string) []any {
		for _, o := range objs {
			if o.GetKind() == kind && !strings.HasSuffix(o.GetName(), "-leader-election") {
				rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
				return rules
			}
		}
		return nil
	}

	DescribeTable("renders the objects the values ask for",
		func(set []string, want []string) {
			keys, _ := render(set...)
			Expect(keys).To(ConsistOf(want))
		},
		Entry("default: cluster-wide", nil, []string{"ClusterRole /aviary", "ClusterRoleBinding /aviary", "ServiceAccount aviary-system/aviary"}),
		Entry("leader election: a Role for the Lease in the release namespace", []string{"leaderElection.enabled=true"},
			[]string{"ClusterRole /aviary", "ClusterRoleBinding /aviary", "Role aviary-system/aviary-leader-election",
				"RoleBinding aviary-system/aviary-leader-election", "ServiceAccount aviary-system/aviary"}),
		Entry("one namespace: a Role there, nothing cluster-wide", []string{"namespace=team-a"},
			[]string{"Role team-a/aviary", "RoleBinding team-a/aviary", "ServiceAccount aviary-system/aviary"}),
		Entry("rbac.create=false: the ServiceAccount only", []string{"rbac.create=false"}, []string{"ServiceAccount aviary-system/aviary"}),
		Entry("serviceAccount.create=false: the roles only", []string{"serviceAccount.create=false"}, []string{"ClusterRole /aviary", "ClusterRoleBinding /aviary"}),
	)

	It("binds the ServiceAccount serviceAccount.name names, with the same rules in either variant", func() {
		_, cluster := render()
		_, namespaced := render("namespace=team-a", "serviceAccount.create=false", "serviceAccount.name=platform")
		Expect(rulesOf(cluster, "ClusterRole")).NotTo(BeEmpty())
		Expect(rulesOf(namespaced, "Role")).To(Equal(rulesOf(cluster, "ClusterRole")))
		grants, err := e2e.GrantsTo(namespaced, deploy.Namespace, "platform")
		Expect(err).NotTo(HaveOccurred())
		Expect(grants).NotTo(BeEmpty())
		for _, g := range grants {
			Expect(g.Namespace).To(Equal("team-a"), g.String())
		}
	})
})
