package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/fixtures"
)

// EnvtestK8sVersion is the Kubernetes release of the envtest binaries looked up in
// bin/k8s/<version>/; it equals K8S_VERSION in hack/envtest-assets.sh (a test checks).
const EnvtestK8sVersion = "v1.36.3"

// envtestServiceRange is the ClusterIP range of the envtest API server's Services.
const envtestServiceRange = "10.0.0.0/16"

// envtestBinaries are the files an assets directory must hold.
var envtestBinaries = []string{"kube-apiserver", "etcd"}

// EnvtestOptions configure StartEnvtest.
type EnvtestOptions struct {
	// AssetsDir is the directory holding kube-apiserver and etcd; "" looks them up as
	// FindEnvtestAssets says ($KUBEBUILDER_ASSETS, else bin/k8s/<EnvtestK8sVersion>).
	AssetsDir string
	// Logger receives controller-runtime's (envtest's) log; the zero value discards it.
	// It is installed with controller-runtime's global log.SetLogger.
	Logger logr.Logger
	// APIGroup is the group aviary's CRDs are installed in and its client's scheme
	// serves them in; "" is aviary.dev. "flagger.app" makes the API server a cluster
	// where Flagger's objects live (a live controller, or Flagger itself, reads them).
	APIGroup string
	// APIServerArgs are kube-apiserver flags (name without dashes: value) set over
	// envtest's, e.g. an audit log or admission plugins for a test of RBAC.
	APIServerArgs map[string]string
}

// StartupTimes split how long StartEnvtest took.
type StartupTimes struct {
	// APIServer is etcd + kube-apiserver up and serving (the default namespace exists).
	APIServer time.Duration
	// CRDs is installing the fixtures' CRDs until every one is established.
	CRDs time.Duration
	// WarmUp is one dry-run write per CRD, so that the first run does not pay for the
	// API server's lazily built validators.
	WarmUp time.Duration
}

// Total is the whole start.
func (s StartupTimes) Total() time.Duration { return s.APIServer + s.CRDs + s.WarmUp }

// String is e.g. "5.1s (API server 3.4s, CRDs 1.0s, warm-up 0.7s)".
func (s StartupTimes) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	return fmt.Sprintf("%v (API server %v, CRDs %v, warm-up %v)", r(s.Total()), r(s.APIServer), r(s.CRDs), r(s.WarmUp))
}

// Envtest is envtest mode's Kubernetes API: one real kube-apiserver + etcd (started by
// controller-runtime's envtest) with aviary's, Istio's and Traefik's CRDs, shared by every run
// of one invocation. Each run gets its own namespaces (see ScenarioClient), so runs
// may go concurrently. Reads go to the API server: there is no cache.
type Envtest struct {
	// Startup is how long the start took.
	Startup StartupTimes
	// AssetsDir is where the binaries were found.
	AssetsDir string
	// Config reaches the API server as an administrator.
	Config *rest.Config

	env    *envtest.Environment
	client client.Client
	seq    atomic.Int64

	stopOnce sync.Once
	stopErr  error
}

// MissingAssetsError says that the envtest binaries are not where they were looked for.
type MissingAssetsError struct {
	// Searched are the directories looked in, in order.
	Searched []string
	// Missing are the binaries missing from the last of them.
	Missing []string
	// Source says how the directories were chosen.
	Source string
}

func (e *MissingAssetsError) Error() string {
	return fmt.Sprintf("envtest binaries not found: %s missing in %s (%s); "+
		"run `make envtest-assets` in the aviary repository to build them (several minutes the first time), "+
		"or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd",
		strings.Join(e.Missing, " and "), strings.Join(e.Searched, ", "), e.Source)
}

// FindEnvtestAssets returns the directory holding the envtest binaries: explicit when
// given, else $KUBEBUILDER_ASSETS when set, else the first of bin/k8s/<EnvtestK8sVersion>
// in the working directory or a parent up to the module root (the directory with
// go.mod), and k8s/<EnvtestK8sVersion> next to the running executable (`make build`
// puts aviary into bin/). The error is a *MissingAssetsError.
func FindEnvtestAssets(explicit string) (string, error) {
	missingIn := func(dir string) []string {
		var missing []string
		for _, b := range envtestBinaries {
			st, err := os.Stat(filepath.Join(dir, b))
			if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				missing = append(missing, b)
			}
		}
		return missing
	}
	search := func(source string, dirs ...string) (string, error) {
		var missing []string
		for _, d := range dirs {
			if missing = missingIn(d); len(missing) == 0 {
				if abs, err := filepath.Abs(d); err == nil {
					return abs, nil
				}
				return d, nil
			}
		}
		return "", &MissingAssetsError{Searched: dirs, Missing: missing, Source: source}
	}
	if explicit != "" {
		return search("given as EnvtestOptions.AssetsDir", explicit)
	}
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return search("from KUBEBUILDER_ASSETS", dir)
	}
	rel := filepath.Join("bin", "k8s", EnvtestK8sVersion)
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				dirs = append(dirs, filepath.Join(dir, rel))
				break
			}
			if filepath.Dir(dir) == dir {
				dirs = append(dirs, filepath.Join(wd, rel)) // outside a module: report the working directory
				break
			}
			if missingIn(filepath.Join(dir, rel)) == nil {
				dirs = append(dirs, filepath.Join(dir, rel))
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "k8s", EnvtestK8sVersion))
	}
	return search("the module root or a directory up to it, and next to the aviary executable", dirs...)
}

// StartEnvtest starts the API server, installs the embedded CRDs and connects a
// client. The caller must Stop it (also on error paths; Stop is idempotent).
func StartEnvtest(ctx context.Context, opts EnvtestOptions) (*Envtest, error) {
	dir, err := FindEnvtestAssets(opts.AssetsDir)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger.GetSink() == nil {
		logger = logr.Discard()
	}
	ctrllog.SetLogger(logger)
	group := opts.APIGroup
	if group == "" {
		group = v1beta1.GroupVersion.Group
	}
	crds, err := fixtures.CRDsInGroup(group)
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	s, err := NewSchemeIn(group)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{Scheme: s, BinaryAssetsDirectory: dir}
	// Explicit paths: envtest itself would prefer $KUBEBUILDER_ASSETS over dir.
	env.ControlPlane.GetAPIServer().Path = filepath.Join(dir, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(dir, "etcd")}
	// Without the watch cache every read is a quorum read from etcd, as with it (reads
	// are consistent either way), but a LIST no longer waits for the cache to catch up
	// with etcd: about 20 ms each, which made envtest runs ~40% slower.
	env.ControlPlane.GetAPIServer().Configure().Set("watch-cache", "false")
	// envtest's default Service range is a /24: 254 ClusterIPs for every run of one
	// invocation, and a run creates three or four Services that stay (envtest runs no
	// namespace controller to clean up). The library alone took 164; benchmarks run it
	// several times on one server. A /16 holds 65,534.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", envtestServiceRange)
	for name, value := range opts.APIServerArgs {
		env.ControlPlane.GetAPIServer().Configure().Set(name, value)
	}
	e := &Envtest{AssetsDir: dir, env: env}

	start := time.Now()
	cfg, err := env.Start()
	e.Startup.APIServer = time.Since(start)
	if err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("envtest: start kube-apiserver and etcd from %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		_ = e.Stop()
		return nil, err
	}
	start = time.Now()
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Scheme: s, CRDs: crds}); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("envtest: install CRDs: %w", err)
	}
	e.Startup.CRDs = time.Since(start)

	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit: the runs are the only users
	e.Config = cfg
	e.client, err = client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("envtest: client: %w", err)
	}
	start = time.Now()
	if err := e.warmUp(ctx, crds); err != nil {
		_ = e.Stop()
		return nil, err
	}
	e.Startup.WarmUp = time.Since(start)
	return e, nil
}

// warmUp sends one server-side dry-run create of an empty object of every CRD: the
// API server builds a custom resource's validators on its first write (about 2 s for
// the Canary's schema and CEL rules), which would otherwise land on the first run.
// The objects are invalid and nothing is stored; only a transport error counts.
func (e *Envtest) warmUp(ctx context.Context, crds []*apiextensionsv1.CustomResourceDefinition) error {
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Storage {
				continue
			}
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind})
			u.SetName("aviary-warm-up")
			if crd.Spec.Scope == apiextensionsv1.NamespaceScoped {
				u.SetNamespace(metav1.NamespaceDefault)
			}
			err := e.client.Create(ctx, u, client.DryRunAll)
			if err != nil && apierrors.ReasonForError(err) == metav1.StatusReasonUnknown {
				return fmt.Errorf("envtest: warm up %s: %w", crd.Name, err)
			}
		}
	}
	return nil
}

// Stop stops the API server and etcd and removes their temporary directories.
func (e *Envtest) Stop() error {
	e.stopOnce.Do(func() { e.stopErr = e.env.Stop() })
	return e.stopErr
}

// Client is the administrator's client, without namespace mapping.
func (e *Envtest) Client() client.Client { return e.client }

// ScenarioClient returns the client of one run of the scenario named scenario whose
// objects live in namespace home: every namespace the run names is mapped to one of
// its own on the API server (see ScenarioClient).
func (e *Envtest) ScenarioClient(scenario, home string) *ScenarioClient {
	return NewScenarioClient(e.client, home, namespaceBase(scenario, e.seq.Add(1)))
}

var notDNSLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// namespaceBase is "<scenario name as a DNS label>-<n>", at most 63 characters.
func namespaceBase(scenario string, n int64) string {
	suffix := "-" + strconv.FormatInt(n, 10)
	s := strings.Trim(notDNSLabel.ReplaceAllString(strings.ToLower(scenario), "-"), "-")
	if s == "" {
		s = "scenario"
	}
	return dnsLabel(s, 63-len(suffix)) + suffix
}

// dnsLabel cuts s to at most n characters, not ending in '-'.
func dnsLabel(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}

// ScenarioClient gives one run its own namespaces on a shared API server while the
// engine and the simulator keep seeing the policy's own: the Canary's namespace
// ("test") is stored as the run's base namespace ("podinfo-500-burst-3"), any other
// namespace N as "<base>-N". Every request's namespace (and a Namespace object's
// name) is mapped on the way in, every object and list item back on the way out,
// and an API error's message names the policy's namespace. So event messages,
// rendered queries and webhook payloads read exactly as in fast mode — the runs are
// comparable decision for decision — and expectations such as
// "Rolling back podinfo.test ..." hold in both modes. Nothing else is touched:
// validation, defaulting, resourceVersions and conflicts are the API server's.
type ScenarioClient struct {
	client.Client
	home, base string

	mu         sync.Mutex
	toPhysical map[string]string
	toLogical  map[string]string
}

// NewScenarioClient maps namespace home to base and any other N to "<base>-N".
func NewScenarioClient(c client.Client, home, base string) *ScenarioClient {
	return &ScenarioClient{
		Client: c, home: home, base: base,
		toPhysical: map[string]string{home: base},
		toLogical:  map[string]string{base: home},
	}
}

// Namespace is the API server's namespace for the policy's namespace ns.
func (c *ScenarioClient) Namespace(ns string) string {
	if ns == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.toPhysical[ns]; ok {
		return p
	}
	p := dnsLabel(c.base+"-"+ns, 63)
	c.toPhysical[ns], c.toLogical[p] = p, ns
	return p
}

// logical maps an API server namespace back.
func (c *ScenarioClient) logical(ns string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.toLogical[ns]; ok {
		return l
	}
	return ns
}

// in maps obj to the API server's namespaces; out maps it back.
func (c *ScenarioClient) in(obj client.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		o.SetName(c.Namespace(o.GetName()))
		return
	case *corev1.Event:
		// the API server requires an event's object to be in the event's namespace
		o.InvolvedObject.Namespace = c.Namespace(o.InvolvedObject.Namespace)
	}
	obj.SetNamespace(c.Namespace(obj.GetNamespace()))
}

func (c *ScenarioClient) out(obj runtime.Object) {
	o, ok := obj.(client.Object)
	if !ok {
		return
	}
	switch e := obj.(type) {
	case *corev1.Namespace:
		o.SetName(c.logical(o.GetName()))
		return
	case *corev1.Event:
		e.InvolvedObject.Namespace = c.logical(e.InvolvedObject.Namespace)
	}
	o.SetNamespace(c.logical(o.GetNamespace()))
}

// errOut rewrites the API server's namespaces in an API error's message.
func (c *ScenarioClient) errOut(err error) error {
	var se *apierrors.StatusError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := se.ErrStatus
	changed := false
	for p, l := range c.toLogical {
		if strings.Contains(st.Message, p) {
			st.Message = strings.ReplaceAll(st.Message, `"`+p+`"`, `"`+l+`"`)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// Get reads obj from the API server.
func (c *ScenarioClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Namespace); ok {
		key.Name = c.Namespace(key.Name)
	} else {
		key.Namespace = c.Namespace(key.Namespace)
	}
	err := c.Client.Get(ctx, key, obj, opts...)
	c.out(obj)
	return c.errOut(err)
}

// List lists objects of the (mapped) namespace.
func (c *ScenarioClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	lo.Namespace = c.Namespace(lo.Namespace)
	if err := c.Client.List(ctx, list, lo); err != nil {
		return c.errOut(err)
	}
	return meta.EachListItem(list, func(o runtime.Object) error {
		c.out(o)
		return nil
	})
}

// Create creates obj.
func (c *ScenarioClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.in(obj)
	defer c.out(obj)
	return c.errOut(c.Client.Create(ctx, obj, opts...))
}

// Update updates obj.
func (c *ScenarioClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.in(obj)
	defer c.out(obj)
	return c.errOut(c.Client.Update(ctx, obj, opts...))
}

// Patch patches obj.
func (c *ScenarioClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.in(obj)
	defer c.out(obj)
	return c.errOut(c.Client.Patch(ctx, obj, patch, opts...))
}

// Delete deletes obj.
func (c *ScenarioClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.in(obj)
	defer c.out(obj)
	return c.errOut(c.Client.Delete(ctx, obj, opts...))
}

// DeleteAllOf deletes the objects of the (mapped) namespace that match.
func (c *ScenarioClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	do := (&client.DeleteAllOfOptions{}).ApplyOptions(opts)
	do.Namespace = c.Namespace(do.Namespace)
	return c.errOut(c.Client.DeleteAllOf(ctx, obj, do))
}

// errApply: an apply configuration's namespace cannot be mapped; neither the engine
// nor the simulator uses server-side apply.
var errApply = errors.New("server-side apply is not supported in envtest mode's per-scenario namespaces")

// Apply is not supported.
func (c *ScenarioClient) Apply(context.Context, runtime.ApplyConfiguration, ...client.ApplyOption) error {
	return errApply
}

// Status is the status subresource, with the same namespace mapping.
func (c *ScenarioClient) Status() client.SubResourceWriter {
	return scenarioSubResource{c: c, w: c.Client.Status()}
}

// SubResource is a subresource client with the same namespace mapping.
func (c *ScenarioClient) SubResource(name string) client.SubResourceClient {
	sub := c.Client.SubResource(name)
	return scenarioSubResource{c: c, w: sub, r: sub}
}

type scenarioSubResource struct {
	c *ScenarioClient
	w client.SubResourceWriter
	r client.SubResourceReader
}

func (s scenarioSubResource) Get(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceGetOption) error {
	s.c.in(obj)
	defer s.c.out(obj)
	defer s.c.out(sub)
	return s.c.errOut(s.r.Get(ctx, obj, sub, opts...))
}

func (s scenarioSubResource) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	s.c.in(obj)
	s.c.in(sub)
	defer s.c.out(obj)
	defer s.c.out(sub)
	return s.c.errOut(s.w.Create(ctx, obj, sub, opts...))
}

func (s scenarioSubResource) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.in(obj)
	defer s.c.out(obj)
	return s.c.errOut(s.w.Update(ctx, obj, opts...))
}

func (s scenarioSubResource) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.c.in(obj)
	defer s.c.out(obj)
	return s.c.errOut(s.w.Patch(ctx, obj, patch, opts...))
}

func (s scenarioSubResource) Apply(context.Context, runtime.ApplyConfiguration, ...client.SubResourceApplyOption) error {
	return errApply
}
