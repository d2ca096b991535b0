package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/router"
	"aviary.dev/aviary/engine/workload"
)

// DefaultSelectorLabels are the labels Flagger looks for in the target's selector.
var DefaultSelectorLabels = []string{"app", "name", "app.kubernetes.io/name"}

// Engine advances canaries. Its fields are the ports; Client, Clock, Metrics and
// Webhooks are required, the rest optional.
type Engine struct {
	Client   client.Client
	Clock    clock.PassiveClock
	Metrics  analysis.MetricSource
	Webhooks WebhookCaller
	// Events receives every event (e.g. a Kubernetes event recorder); may be nil.
	Events EventSink
	// Observer receives the record of every tick; may be nil.
	Observer TickObserver
	// Alerts posts the alerts the engine routes; nil sends nothing (the simulator:
	// alerts are only recorded).
	Alerts AlertSender

	// MeshProvider is the default provider when spec.provider is empty (Flagger's
	// -mesh-provider flag); "" means v1beta1.DefaultMeshProvider.
	MeshProvider string
	// MetricsServer is the default Prometheus address for builtin and inline metrics;
	// "" means v1beta1.DefaultMetricsServer.
	MetricsServer string
	// SelectorLabels overrides DefaultSelectorLabels.
	SelectorLabels []string
	// EventWebhook is the operator's event webhook (Flagger's -event-webhook): every
	// event of a canary without event webhooks of its own is posted there too; "" none.
	EventWebhook string

	// memo is kept across ticks: what the routers, the target controller and the
	// checker would otherwise compute again from the same input on every tick (Istio
	// specs, template hashes, rendered queries). Made on first use.
	memoOnce sync.Once
	memo     *lru.Cache
}

// Tick performs one analysis step for the canary named by key, in Flagger's order
// (docs/flagger-semantics.md#tick-order). It returns the interval after which the next tick is due:
// the canary's analysis interval (Flagger's per-canary ticker), or 0 when the canary
// no longer exists.
//
// A tick reads the clock once for its record's time; any other read is a dependence on
// the time (a deadline, a timestamp written). The simulator relies on this to tell a
// tick that would repeat itself (sim's idleTick).
func (e *Engine) Tick(ctx context.Context, key types.NamespacedName) (time.Duration, error) {
	t := e.newTick(key)
	err := t.run(ctx)
	t.finish(ctx, err)
	if e.Observer != nil {
		e.Observer.ObserveTick(t.rec)
	}
	if t.cd == nil {
		return 0, err
	}
	return t.cd.GetAnalysisInterval(), err
}

// tick is the state of one Tick: the canary as last read or written, the routers and
// target controller built for it, the router's weights, and the record being written.
type tick struct {
	e   *Engine
	key types.NamespacedName
	cd  *v1beta1.Canary

	provider   string
	workload   Workload
	autoscaler Autoscaler // nil without autoscalerRef
	services   ServiceRouter
	mesh       MeshRouter
	checker    *analysis.Checker
	maxWeight  int

	primaryWeight, canaryWeight int
	mirrored                    bool
	routesKnown                 bool

	// status is the canary's status as last read or written: what the API server holds.
	status *v1beta1.CanaryStatus

	rec TickRecord
}

func (e *Engine) newTick(key types.NamespacedName) *tick {
	return &tick{
		e:   e,
		key: key,
		rec: TickRecord{At: e.Clock.Now(), Canary: key.Name + "." + key.Namespace},
	}
}

// errStop ends a tick early without it being an error: Flagger's "return" after an
// event that already told the user what happened.
var errStop = errors.New("tick ended")

// step is one named step of the tick.
type step struct {
	name string
	run  func(t *tick, ctx context.Context) error
}

// steps are the tick's steps in Flagger's order; each returns errStop to end the tick.
var steps = []step{
	{"get-canary", (*tick).getCanary},
	{"suspend", (*tick).checkSuspended},
	{"metadata", (*tick).buildControllers},
	{"init-services", (*tick).initServices},
	{"check-providers", (*tick).checkProviders},
	{"init-primary", (*tick).initPrimary},
	{"reconcile-autoscaler", (*tick).reconcileAutoscaler},
	{"reconcile-services", (*tick).reconcileServices},
	{"scale-target-to-zero", (*tick).scaleTargetToZeroOnInit},
	{"reconcile-mesh", (*tick).reconcileMesh},
	{"set-initialized", (*tick).setInitialized},
	{"should-advance", (*tick).shouldAdvance},
	{"primary-ready", (*tick).checkPrimaryReady},
	{"get-routes", (*tick).getRoutes},
	{"start-revision", (*tick).startRevision},
	{"detect-revision", (*tick).detectRevisionChange},
	{"canary-ready", (*tick).checkCanaryReady},
	{"skip-analysis", (*tick).skipAnalysis},
	{"rollback-hooks", (*tick).runRollbackHooks},
	{"promote-traffic", (*tick).shiftPromotionTraffic},
	{"finalise", (*tick).finalise},
	{"threshold", (*tick).checkThreshold},
	{"analysis", (*tick).runChecks},
	{"kubernetes-provider", (*tick).applyKubernetesProviderLimits},
	{"advance", (*tick).advance},
}

func (t *tick) run(ctx context.Context) error {
	for _, s := range steps {
		t.rec.Step = s.name
		if err := s.run(t, ctx); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return fmt.Errorf("canary %s: step %s: %w", t.rec.Canary, s.name, err)
		}
	}
	return nil
}

// finish completes the tick's record with the canary's state at the end of the tick.
func (t *tick) finish(ctx context.Context, err error) {
	if err != nil {
		t.rec.Error = err.Error()
	}
	if t.cd == nil {
		return
	}
	st := t.cd.Status
	if t.status != nil {
		st = *t.status
	}
	t.rec.Phase = string(st.Phase)
	t.rec.FailedChecks = st.FailedChecks
	t.rec.Iterations = st.Iterations
	if !t.routesKnown {
		// A tick that ended before reading the routes (suspended, not initialized)
		// still records where traffic goes; reading changes nothing.
		mesh := t.mesh
		if mesh == nil {
			mesh, _ = t.e.meshRouterFor(t.e.providerOf(t.cd))
		}
		if mesh != nil {
			if p, c, m, gerr := mesh.GetRoutes(ctx, t.cd); gerr == nil {
				t.primaryWeight, t.canaryWeight, t.mirrored, t.routesKnown = p, c, m, true
			}
		}
	}
	if t.routesKnown {
		t.rec.PrimaryWeight, t.rec.CanaryWeight, t.rec.Mirrored = t.primaryWeight, t.canaryWeight, t.mirrored
	}
}

// getCanary is step 1: always read the canary from the API server, so spec edits
// apply on the next tick. New canaries get the Initializing phase first (Flagger does
// this on informer sync, before the first job tick).
func (t *tick) getCanary(ctx context.Context) error {
	cd := &v1beta1.Canary{}
	if err := t.e.Client.Get(ctx, t.key, cd); err != nil {
		if apierrors.IsNotFound(err) {
			return errStop
		}
		return fmt.Errorf("get canary: %w", err)
	}
	t.cd = cd
	t.status = cd.Status.DeepCopy()
	t.rec.PhaseBefore = string(cd.Status.Phase)
	if cd.Status.Conditions != nil {
		return nil
	}
	if err := t.setPhaseInitializing(ctx); err != nil {
		return err
	}
	// Flagger does this on informer sync; the job's tick then reads the result.
	return t.refresh(ctx)
}

// checkSuspended is step 2: a suspended canary is left exactly as it is.
func (t *tick) checkSuspended(context.Context) error {
	if t.cd.Spec.Suspend {
		t.normal("skipping canary run as object is suspended")
		return errStop
	}
	return nil
}

// buildControllers is steps 3 and 4: pick the provider, the target controller and the
// routers, and read the target's selector label.
func (t *tick) buildControllers(ctx context.Context) error {
	e := t.e
	t.provider = e.providerOf(t.cd)
	labels := e.SelectorLabels
	if len(labels) == 0 {
		labels = DefaultSelectorLabels
	}
	t.workload = &workload.Deployments{Client: e.Client, Clock: e.Clock, SelectorLabels: labels, ConfigTracking: true, Memo: e.memoized()}
	labelKey, labelValue, ports, err := t.workload.Metadata(ctx, t.cd)
	if err != nil {
		t.warning("%v", err)
		return errStop
	}
	if ref := t.cd.Spec.AutoscalerRef; ref != nil {
		// Flagger's factory returns no reconciler for a kind it does not know and then
		// dereferences it; aviary says so instead (and the scenario loader before a run).
		a, err := e.autoscalerFor(ref.Kind)
		if err != nil {
			t.warning("%v", err)
			return errStop
		}
		t.autoscaler = a
	}
	t.services = &router.KubernetesServices{Client: e.Client, LabelKey: labelKey, LabelValue: labelValue, Ports: ports, Memo: e.memoized()}
	mesh, err := e.meshRouterFor(t.provider)
	if err != nil {
		t.warning("%v", err)
		return errStop
	}
	t.mesh = mesh
	// MeshProvider is the global default: Flagger's observer choice depends on it too.
	t.checker = &analysis.Checker{Source: e.Metrics, Client: e.Client, MetricsServer: e.MetricsServer, MeshProvider: e.MeshProvider, Memo: e.memoized()}
	t.maxWeight = t.cd.MaxWeight()
	return nil
}

// memoSize bounds the engine's memo: a canary has a handful of entries per weight
// step and target version, so it is only reached with many canaries.
const memoSize = 4096

// memoized returns the engine's memo.
func (e *Engine) memoized() *lru.Cache {
	e.memoOnce.Do(func() { e.memo = lru.New(memoSize) })
	return e.memo
}

// providerOf is the canary's provider: spec.provider, else the engine's default.
func (e *Engine) providerOf(cd *v1beta1.Canary) string {
	switch {
	case cd.Spec.Provider != "":
		return cd.Spec.Provider
	case e.MeshProvider != "":
		return e.MeshProvider
	}
	return v1beta1.DefaultMeshProvider
}

// meshRouterFor picks the traffic router for a provider (Flagger's
// (*Factory).MeshRouter): an unknown provider falls back to Istio, as in Flagger;
// providers Flagger knows but aviary does not route are an error rather than a silent
// Istio fallback. The scenario loader asks the same function before a run
// ((*Engine).Unsupported), so routing a new provider is one case in meshRouter.
func (e *Engine) meshRouterFor(provider string) (MeshRouter, error) {
	if r, ok := e.meshRouter(provider); ok {
		return r, nil
	}
	return nil, fmt.Errorf("provider %q is not supported by aviary yet (supported: %s)", provider, strings.Join(e.RoutedProviders(), ", "))
}

// meshRouter is the router of a provider; ok is false for a provider Flagger routes
// and aviary does not.
func (e *Engine) meshRouter(provider string) (r MeshRouter, ok bool) {
	switch {
	case provider == "kubernetes":
		return router.Nop{}, true
	case provider == "istio":
		return &router.Istio{Client: e.Client, Memo: e.memoized()}, true
	case provider == "traefik":
		return &router.Traefik{Client: e.Client}, true
	case flaggerProvider(provider):
		return nil, false
	}
	return &router.Istio{Client: e.Client, Memo: e.memoized()}, true
}

// RoutedProviders are the providers of Flagger's list that the engine routes, in
// Flagger's order: what -mesh-provider and spec.provider may name (the chart's
// values.schema.json offers these; a test in deploy/ checks).
func (e *Engine) RoutedProviders() []string {
	var out []string
	for _, p := range flaggerProviders {
		if _, ok := e.meshRouter(p); ok {
			out = append(out, p)
		}
	}
	return out
}

// flaggerProviders are the mesh providers Flagger's router factory knows (its CRD's
// enum of spec.provider without versions: "smi:v1alpha3" is "smi").
var flaggerProviders = []string{"apisix", "appmesh", "contour", "gatewayapi", "gloo", "istio", "knative", "kubernetes", "kuma", "linkerd", "nginx", "osm", "skipper", "smi", "traefik"}

// flaggerProvider reports whether Flagger knows the provider: one of flaggerProviders,
// alone or with a ":version" suffix.
func flaggerProvider(provider string) bool {
	for _, p := range flaggerProviders {
		if provider == p || strings.HasPrefix(provider, p+":") {
			return true
		}
	}
	return false
}

// autoscalerFor picks the reconciler of an autoscalerRef kind (Flagger's
// (*Factory).ScalerReconciler). KEDA ScaledObjects are not reconciled by aviary.
func (e *Engine) autoscalerFor(kind string) (Autoscaler, error) {
	if kind == workload.HPAKind {
		return &workload.HPA{Client: e.Client}, nil
	}
	return nil, fmt.Errorf("autoscalerRef kind %q is not supported by aviary yet (supported: %s)", kind, workload.HPAKind)
}

// initServices is step 5: the canary and primary Services.
func (t *tick) initServices(ctx context.Context) error {
	if err := t.services.Initialize(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	return nil
}

// checkProviders is step 6: metric provider availability, reported but never blocking.
func (t *tick) checkProviders(ctx context.Context) error {
	if t.cd.SkipAnalysis() || !t.initializing() {
		return nil
	}
	if err := t.checker.CheckProviders(ctx, t.cd); err != nil {
		t.warning("Error checking metric providers: %v", err)
		return nil
	}
	t.normal("all the metrics providers are available!")
	return nil
}

// initPrimary is step 8: create the primary and, while initializing, wait for it.
func (t *tick) initPrimary(ctx context.Context) error {
	if err := t.workload.Initialize(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if !t.initializing() || t.cd.SkipAnalysis() {
		return nil
	}
	retriable, err := t.workload.IsPrimaryReady(ctx, t.cd)
	if err == nil {
		return nil
	}
	t.warning("%v", err)
	if !retriable {
		return t.rollback(ctx)
	}
	return errStop
}

// reconcileAutoscaler is step 9: with autoscalerRef, create the primary's autoscaler
// when absent (Flagger's ReconcilePrimaryScaler(cd, true); its PauseTargetScaler does
// nothing for an HPA).
func (t *tick) reconcileAutoscaler(ctx context.Context) error {
	return t.reconcilePrimaryScaler(ctx, true)
}

// reconcilePrimaryScaler is Flagger's ReconcilePrimaryScaler(cd, init), when the
// canary has an autoscaler: a failure is a Warning and ends the tick.
func (t *tick) reconcilePrimaryScaler(ctx context.Context, init bool) error {
	if t.autoscaler == nil {
		return nil
	}
	if err := t.autoscaler.ReconcilePrimary(ctx, t.cd, init); err != nil {
		t.warning("%v", err)
		return errStop
	}
	return nil
}

// reconcileServices is step 10: the apex Service now selects the primary.
func (t *tick) reconcileServices(ctx context.Context) error {
	if err := t.services.Reconcile(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	return nil
}

// scaleTargetToZeroOnInit is step 11.
func (t *tick) scaleTargetToZeroOnInit(ctx context.Context) error {
	if !t.initializing() {
		return nil
	}
	if err := t.workload.ScaleToZero(ctx, t.cd); err != nil {
		t.warning("scaling down canary %s %s.%s failed: %v", t.cd.Spec.TargetRef.Kind, t.cd.Spec.TargetRef.Name, t.cd.Namespace, err)
		return errStop
	}
	return nil
}

// reconcileMesh is step 12: routing objects at primary 100 / canary 0 when new.
func (t *tick) reconcileMesh(ctx context.Context) error {
	if err := t.mesh.Reconcile(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	return nil
}

// setInitialized is step 13.
func (t *tick) setInitialized(ctx context.Context) error {
	if !t.initializing() {
		return nil
	}
	t.cd.Status.Phase = v1beta1.CanaryPhaseInitialized
	if err := t.syncStatus(ctx, v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseInitialized}); err != nil {
		t.warning("failed to sync canary %s.%s status: %v", t.cd.Name, t.cd.Namespace, err)
		return errStop
	}
	// Like Flagger, carry what shouldAdvance compares into the in-memory canary.
	t.cd.Status.LastAppliedSpec = t.status.LastAppliedSpec
	t.cd.Status.TrackedConfigs = t.status.TrackedConfigs
	t.normal("Initialization done! %s.%s", t.cd.Name, t.cd.Namespace)
	t.alert("info", fmt.Sprintf("New %s detected, initialization completed.", t.cd.Spec.TargetRef.Kind), true)
	return nil
}

// shouldAdvance is step 14: is there anything to do?
//
// Deviation from Flagger (README, compatibility): in the Failed phase Flagger first
// rewrites lastAppliedSpec to the current target, which wedges a canary whose next
// tick aborts before the analysis starts (docs/flagger-semantics.md#h1-failed-phase-wedge). aviary
// compares first and never loses a pending revision.
func (t *tick) shouldAdvance(ctx context.Context) error {
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhaseInitializing, v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaiting,
		v1beta1.CanaryPhaseWaitingPromotion, v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFinalising:
		return nil
	}
	if t.cd.Status.LastAppliedSpec == "" {
		return nil
	}
	changed, err := t.targetChanged(ctx)
	if err != nil {
		t.warning("%v", err)
		return errStop
	}
	if !changed {
		return errStop
	}
	return nil
}

// targetChanged is Flagger's HasTargetChanged || HaveDependenciesChanged.
func (t *tick) targetChanged(ctx context.Context) (bool, error) {
	st := t.cd.Status
	hash, err := t.workload.Hash(ctx, t.cd)
	if err != nil {
		return false, err
	}
	if st.LastAppliedSpec == "" {
		return true, nil
	}
	if hash != st.LastPromotedSpec && hash != st.LastAppliedSpec {
		return true, nil
	}
	configs, err := t.workload.TrackedConfigs(ctx, t.cd)
	if err != nil {
		return false, err
	}
	return configsChanged(st.TrackedConfigs, configs), nil
}

// configsChanged is Flagger's ConfigTracker.HasConfigChanged: a config added, removed
// or changed since the status was written.
func configsChanged(tracked *map[string]string, current map[string]string) bool {
	if tracked == nil {
		return len(current) > 0
	}
	if len(current) != len(*tracked) {
		return true
	}
	for k, v := range current {
		if (*tracked)[k] != v {
			return true
		}
	}
	return false
}

// checkPrimaryReady is step 16.
func (t *tick) checkPrimaryReady(ctx context.Context) error {
	if t.cd.SkipAnalysis() {
		return nil
	}
	retriable, err := t.workload.IsPrimaryReady(ctx, t.cd)
	if err == nil {
		return nil
	}
	t.warning("%v", err)
	if retriable {
		return errStop
	}
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFinalising:
		return t.failPromotion(ctx, err)
	}
	return t.rollback(ctx)
}

// getRoutes is step 17.
func (t *tick) getRoutes(ctx context.Context) error {
	p, c, m, err := t.mesh.GetRoutes(ctx, t.cd)
	if err != nil {
		t.warning("%v", err)
		return errStop
	}
	t.primaryWeight, t.canaryWeight, t.mirrored, t.routesKnown = p, c, m, true
	return nil
}

// startRevision is step 18: a new revision in a resting phase passes the
// confirm-rollout gates, scales up and starts Progressing; the analysis starts next tick.
func (t *tick) startRevision(ctx context.Context) error {
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion,
		v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFinalising:
		return nil
	}
	if err := t.refresh(ctx); err != nil {
		return err
	}
	if !t.confirmRollout(ctx) {
		return errStop
	}
	t.eventAs(v1beta1.CanaryPhaseProgressing, "Normal", "New revision detected! Scaling up %s.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace)
	t.alert("info", "New revision detected, progressing canary analysis.", true)
	if err := t.workload.ScaleFromZero(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.syncStatus(ctx, v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseProgressing}); err != nil {
		return err
	}
	return errStop
}

// detectRevisionChange is step 19: a new revision during the analysis restarts it.
func (t *tick) detectRevisionChange(ctx context.Context) error {
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion:
	default:
		return nil
	}
	changed, err := t.targetChanged(ctx)
	if err != nil {
		t.warning("%v", err)
		return errStop
	}
	if !changed {
		return nil
	}
	t.normal("New revision detected! Restarting analysis for %s.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace)
	if err := t.setRoutes(ctx, totalWeight, 0, false); err != nil {
		return errStop
	}
	if err := t.syncStatus(ctx, v1beta1.CanaryStatus{Phase: v1beta1.CanaryPhaseProgressing}); err != nil {
		return err
	}
	return errStop
}

// checkCanaryReady is step 20; a canary past its progress deadline is rolled back.
func (t *tick) checkCanaryReady(ctx context.Context) error {
	retriable, err := t.workload.IsCanaryReady(ctx, t.cd)
	if err == nil {
		return nil
	}
	t.warning("%v", err)
	if retriable {
		return errStop
	}
	return t.rollback(ctx)
}

// skipAnalysis is step 21: skipAnalysis promotes at once.
func (t *tick) skipAnalysis(ctx context.Context) error {
	if !t.cd.SkipAnalysis() {
		return nil
	}
	if err := t.setRoutes(ctx, totalWeight, 0, false); err != nil {
		return errStop
	}
	t.normal("Copying %s.%s template spec to %s-primary.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace, t.cd.Spec.TargetRef.Name, t.cd.Namespace)
	if err := t.workload.Promote(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.syncAutoscaler(ctx); err != nil {
		return err
	}
	if err := t.workload.ScaleToZero(ctx, t.cd); err != nil {
		t.warning("%v", err)
		return errStop
	}
	if err := t.setStatusPhase(ctx, v1beta1.CanaryPhaseSucceeded); err != nil {
		return err
	}
	t.reportAs(v1beta1.CanaryPhaseSucceeded)
	t.postRollout(ctx, v1beta1.CanaryPhaseSucceeded)
	t.normal("Promotion completed! Canary analysis was skipped for %s.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace)
	t.alert("info", "Canary analysis was skipped, promotion finished.", false)
	return errStop
}

// runRollbackHooks is step 22: a rollback webhook answering 2xx rolls back.
func (t *tick) runRollbackHooks(ctx context.Context) error {
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaiting, v1beta1.CanaryPhaseWaitingPromotion:
	default:
		return nil
	}
	if !t.rollbackRequested(ctx) {
		return nil
	}
	t.warning("Rolling back %s.%s manual webhook invoked", t.cd.Name, t.cd.Namespace)
	t.alert("warn", "Rolling back manual webhook invoked", false)
	return t.rollback(ctx)
}

// checkThreshold is step 25: enough failed checks roll the canary back.
func (t *tick) checkThreshold(ctx context.Context) error {
	switch t.cd.Status.Phase {
	case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion:
	default:
		return nil
	}
	if t.cd.Status.FailedChecks >= t.cd.GetAnalysisThreshold() {
		return t.rollback(ctx)
	}
	return nil
}

// runChecks is step 27: the first step runs the pre-rollout hooks, every later step
// the rollout hooks and the metric checks. A failure counts one failed check.
func (t *tick) runChecks(ctx context.Context) error {
	ok := true
	if t.canaryWeight == 0 && t.cd.Status.Iterations == 0 && !(analysisOf(t.cd).Mirror && t.mirrored) {
		t.normal("Starting canary analysis for %s.%s", t.cd.Spec.TargetRef.Name, t.cd.Namespace)
		ok = t.preRollout(ctx)
	} else {
		ok = t.rolloutHooks(ctx) && t.metricChecks(ctx)
	}
	if ok {
		return nil
	}
	if err := t.setStatusFailedChecks(ctx, t.cd.Status.FailedChecks+1); err != nil {
		return err
	}
	return errStop
}

// metricChecks runs every metric check and records each result and its event.
func (t *tick) metricChecks(ctx context.Context) bool {
	results, ok := t.checker.Run(ctx, t.cd)
	for _, r := range results {
		t.rec.Metrics = append(t.rec.Metrics, r)
		if r.Message != "" {
			t.event(r.EventType, "%s", r.Message)
		}
	}
	return ok
}

// applyKubernetesProviderLimits is step 28: the kubernetes provider cannot route by
// weight or header, so Flagger turns the analysis into Blue/Green in memory.
func (t *tick) applyKubernetesProviderLimits(context.Context) error {
	if t.provider != "kubernetes" {
		return nil
	}
	a := t.cd.GetAnalysis()
	if a == nil {
		return nil
	}
	if len(a.Match) > 0 {
		t.warning("A/B testing is not supported when using the kubernetes provider")
		a.Match = nil
	}
	if a.Iterations < 1 {
		t.warning("Progressive traffic is not supported when using the kubernetes provider")
		t.warning("Setting canaryAnalysis.iterations: %d", kubernetesIterations)
		a.Iterations = kubernetesIterations
	}
	return nil
}

// advance is steps 29 and 30: move the strategy one step forward.
func (t *tick) advance(ctx context.Context) error {
	switch t.cd.DeploymentStrategy() {
	case v1beta1.DeploymentStrategyABTesting:
		return t.advanceABTesting(ctx)
	case v1beta1.DeploymentStrategyBlueGreen:
		return t.advanceBlueGreen(ctx)
	}
	if nextStepWeight(t.cd, t.canaryWeight) <= 0 {
		return nil
	}
	if !t.mirrored {
		switch t.cd.Status.Phase {
		case v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseWaitingPromotion, v1beta1.CanaryPhaseFinalising:
		default:
			if !t.confirmTrafficIncrease(ctx) {
				return errStop
			}
		}
	}
	return t.advanceCanary(ctx)
}

// reportAs makes the rest of the tick report about a copy of the canary in the given
// phase, as Flagger does after a promotion completes.
func (t *tick) reportAs(phase v1beta1.CanaryPhase) {
	t.cd = t.cd.DeepCopy()
	t.cd.Status.Phase = phase
}

// initializing reports whether the canary has not finished initialization.
func (t *tick) initializing() bool {
	p := t.cd.Status.Phase
	return p == "" || p == v1beta1.CanaryPhaseInitializing
}

// refresh re-reads the canary from the API server.
func (t *tick) refresh(ctx context.Context) error {
	cd := &v1beta1.Canary{}
	if err := t.e.Client.Get(ctx, t.key, cd); err != nil {
		return fmt.Errorf("get canary: %w", err)
	}
	t.cd = cd
	t.status = cd.Status.DeepCopy()
	return nil
}

// analysisOf returns the canary's analysis, or an empty one (Flagger would dereference nil).
func analysisOf(cd *v1beta1.Canary) *v1beta1.CanaryAnalysis {
	if a := cd.GetAnalysis(); a != nil {
		return a
	}
	return &v1beta1.CanaryAnalysis{}
}
