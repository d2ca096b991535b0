package sim

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/prometheus/prometheus/promql"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/world"
)

// Mode names.
const (
	ModeFast    = "fast"
	ModeEnvtest = "envtest"
)

// RunOptions chooses the Kubernetes API a run talks to.
type RunOptions struct {
	// Client is the API to use; nil means a new fast-mode fake client.
	Client client.Client
	// Mode names the cluster mode for the result ("fast" when Client is nil).
	Mode string
	// PromEngine is a shared PromQL engine (safe for concurrent use); nil makes one.
	PromEngine *promql.Engine
	// Scheme is a shared cluster.NewScheme for the fast-mode client (safe for concurrent
	// use); nil makes one. Building it is a sizeable part of a short run.
	Scheme *runtime.Scheme
	// Verdicts is a memo of the API server checks' verdicts the fast-mode client shares
	// with other runs (safe for concurrent use); nil: the run's own. The runs of a
	// suite create the same objects: judging them once is most of what the checks cost.
	Verdicts *cluster.Verdicts
	// Profile, when set, accumulates where the run's wall time went (benchmarks).
	Profile *Profile
	// EveryTick runs the engine on every tick, even one known to repeat the previous
	// (replay.go); for tests and benchmarks that compare the two.
	EveryTick bool
	// Observer, when set, also receives the record of every tick, replayed ones
	// included, as the tick ends; for tests and tools that watch a run as it goes.
	Observer engine.TickObserver
	// Baselines evaluates each metric check's query against the primary too, at the
	// same virtual time, into the result's Baselines (baseline.go): for reports,
	// which draw them next to the canary's values. It changes nothing else in the
	// run and costs about as much PromQL again as the checks, so it is off unless
	// asked for (aviary test --report or --json).
	Baselines bool
	// TickByTick records every tick as a record of its own, as the engine wrote it,
	// instead of a stretch of ticks with the same record as one (scenario.Tick); for
	// tests that compare the two.
	TickByTick bool
	// KeepSeries keeps every sample in the run's store instead of only those its
	// queries can still read (retention.go): for exploring a run's series. It changes
	// nothing in the run record.
	KeepSeries bool
}

// InEnvtest returns the options of a run of l against e's API server, in namespaces
// of its own (cluster.ScenarioClient), so that runs may go side by side.
func InEnvtest(e *cluster.Envtest, l *scenario.Loaded) RunOptions {
	return RunOptions{Client: e.ScenarioClient(l.Scenario.Metadata.Name, l.Canary.Namespace), Mode: ModeEnvtest}
}

// InEnvtestSuite is RunSuite's opts for runs of loaded against e's API server.
func InEnvtestSuite(e *cluster.Envtest, loaded []*scenario.Loaded) func(i int) RunOptions {
	return func(i int) RunOptions { return InEnvtest(e, loaded[i]) }
}

// Profile splits a run's wall time by who spent it.
type Profile struct {
	// PromQL is the time spent answering metric queries: Prometheus' PromQL engine
	// over the in-memory store. It is part of Engine.
	PromQL time.Duration
	// Engine is the time spent in engine ticks, PromQL included.
	Engine time.Duration
	// Scrape is the world model's: serving traffic and appending samples.
	Scrape time.Duration
	// Deployments is the Deployment simulator's (cluster.DeploymentSimulator).
	Deployments time.Duration
	// Total is the whole run's, setup included.
	Total time.Duration
	// Baselines is the time spent evaluating baselines (RunOptions.Baselines); it
	// is not part of Engine or PromQL.
	Baselines time.Duration
	// Ticks counts the engine's ticks, Replayed those of them repeated from the
	// previous tick's record instead of run (replay.go).
	Ticks, Replayed int
	// Horizon is how long the last run's store kept samples (retention.go); 0 when it
	// kept every one, KeptAll then saying why (RunOptions.KeepSeries, or a query whose
	// reach has no bound).
	Horizon time.Duration
	KeptAll string
}

// timedSource measures the time spent in a metric source.
type timedSource struct {
	src   analysis.MetricSource
	spent *time.Duration
}

func (s timedSource) Query(ctx context.Context, p v1beta1.MetricTemplateProvider, q string) (float64, error) {
	start := time.Now()
	v, err := s.src.Query(ctx, p, q)
	*s.spent += time.Since(start)
	return v, err
}

// Run simulates one loaded scenario from virtual time zero to spec.until and checks
// its expectations. Errors are about the simulation itself (bad objects, API
// failures); a policy that misbehaves is a failed expectation, not an error.
func Run(ctx context.Context, l *scenario.Loaded, opts RunOptions) (*scenario.Result, error) {
	if opts.Profile != nil {
		start := time.Now()
		defer func() { opts.Profile.Total += time.Since(start) }()
	}
	r, err := newRun(l, opts)
	if err != nil {
		return nil, runError(l, err)
	}
	if err := r.setup(ctx); err != nil {
		return nil, runError(l, err)
	}
	if err := r.loop(ctx); err != nil {
		return nil, runError(l, err)
	}
	return r.result(), nil
}

// runError names the scenario in an error of its run, unless the error is about one
// of its fields (scenario.LoadError), which names it and where the field is written.
func runError(l *scenario.Loaded, err error) error {
	if _, ok := errors.AsType[*scenario.LoadError](err); ok {
		return err
	}
	return fmt.Errorf("scenario %q: %w", l.Scenario.Metadata.Name, err)
}

// worldError is a problem of the world's, at the spec.world field it is about.
func (r *run) worldError(err error) error {
	if fe, ok := errors.AsType[world.FieldError](err); ok {
		return r.l.FieldError("spec.world."+fe.Path, errors.New(fe.Msg))
	}
	return err
}

// objectError is a problem of a policy object the API server refused (obj is the
// loaded one), at the field its first cause names.
func (r *run) objectError(obj client.Object, err error) error {
	field := ""
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		if d := st.Status().Details; d != nil && len(d.Causes) > 0 {
			field = d.Causes[0].Field
		}
	}
	if e, ok := r.l.ObjectError(obj, field, err); ok {
		return e
	}
	return err
}

// run is one simulation in progress.
type run struct {
	l         *scenario.Loaded
	sc        *scenario.Scenario
	mode      string
	namespace string
	canary    *v1beta1.Canary
	key       types.NamespacedName

	client client.Client
	clock  *clocktesting.FakePassiveClock
	// engineClock is the engine's view of clock: it counts the engine's reads.
	engineClock *countingClock
	store       *promstore.Storage
	deployments *cluster.DeploymentSimulator
	world       *world.Model
	webhooks    *cluster.WebhookSimulator
	engine      *engine.Engine
	// ticks are the run's tick records (repeated ones as one: scenario.AppendTick,
	// unless tickByTick); last is the last tick's.
	ticks      []scenario.Tick
	last       engine.TickRecord
	tickByTick bool
	observer   engine.TickObserver
	// exposure is what reached users, one per record of ticks; exposed is the
	// world's count at the last tick, recordStart at the last tick of the record
	// before the last.
	exposure    []scenario.TickExposure
	exposed     world.Exposure
	recordStart world.Exposure
	// baselines evaluates checks against the primary (nil: RunOptions.Baselines
	// off); checked are the ticks with checks since it last did.
	baselines *baseliner
	checked   []engine.TickRecord

	// writes counts the client's writes: the fast client's, nil with a real API
	// server, whose objects others change too (replay.go).
	writes writeCounter
	// everyTick: RunOptions.EveryTick.
	everyTick bool
	// routes caches the traffic split; only the engine changes it, so it is re-read
	// after each tick rather than at every scrape, and with the fast client only after
	// a write it is read from (routesReadAt is writes' Routes at the last read).
	routes       world.Routing
	routesStale  bool
	routesReadAt uint64
	// syncedWrites is the client's Deployment write count when the Deployment
	// simulator last synced.
	syncedWrites uint64
	// idle is the last tick when it is known to repeat until the API changes, else nil.
	idle *idleTick
	// horizon is how long the store keeps samples (retention.go), 0 for ever;
	// truncatedAt is when it last dropped older ones.
	horizon     time.Duration
	truncatedAt time.Time
	// profile accumulates where the time went: RunOptions.Profile, or a scratch one
	// (a few clock reads per scrape and tick are not worth a branch).
	profile *Profile
}

// observe records a tick, with what reached users since the previous one, and shows
// it to RunOptions.Observer.
func (r *run) observe(rec engine.TickRecord) {
	repeated := false
	if r.tickByTick {
		r.ticks = append(r.ticks, scenario.Tick{TickRecord: rec})
	} else {
		r.ticks, repeated = scenario.AppendTick(r.ticks, rec)
	}
	r.last = rec
	r.noteExposure(rec.At, repeated)
	if r.baselines != nil && len(rec.Metrics) > 0 {
		r.checked = append(r.checked, rec)
	}
	if r.observer != nil {
		r.observer.ObserveTick(rec)
	}
}

func newRun(l *scenario.Loaded, opts RunOptions) (*run, error) {
	r := &run{l: l, sc: l.Scenario, mode: opts.Mode, client: opts.Client, profile: opts.Profile,
		everyTick: opts.EveryTick, observer: opts.Observer, tickByTick: opts.TickByTick}
	if r.profile == nil {
		r.profile = &Profile{}
	}
	r.canary = l.Canary.DeepCopy()
	// The policy's namespace; envtest runs isolate scenarios in the client instead
	// (cluster.ScenarioClient), so messages and queries read the same in both modes.
	r.namespace = r.canary.Namespace
	r.key = types.NamespacedName{Namespace: r.namespace, Name: r.canary.Name}
	if r.client == nil {
		s := opts.Scheme
		if s == nil {
			var err error
			if s, err = cluster.NewScheme(); err != nil {
				return nil, err
			}
		}
		r.client = cluster.NewFakeClient(s, opts.Verdicts)
		r.mode = ModeFast
	}
	if r.mode == "" {
		r.mode = ModeFast
	}
	if wc, ok := r.client.(writeCounter); ok {
		r.writes = wc
	}
	r.clock = clocktesting.NewFakePassiveClock(scenario.Epoch)
	r.engineClock = &countingClock{PassiveClock: r.clock}
	r.store = promstore.NewStorage()
	prom := opts.PromEngine
	if prom == nil {
		prom = promstore.NewEngine()
	}
	r.deployments = cluster.NewDeploymentSimulator(r.client, r.namespace, r.sc.Spec.Target.StartupDelay.Duration, r.readyOverride)
	if l.ReadinessFromProbes {
		r.deployments.UseReadinessProbes()
	}
	apex, _, _ := r.canary.GetServiceNames()
	w, err := world.New(world.Config{
		Spec:         r.sc.Spec.World,
		Namespace:    r.namespace,
		Target:       r.canary.Spec.TargetRef.Name,
		Service:      apex,
		InitialImage: r.sc.Spec.Target.Image,
		Start:        scenario.Epoch,
		Store:        r.store,
		Pods:         podSource{r.deployments},
		Routes:       r.cachedRouting,
	})
	if err != nil {
		return nil, r.worldError(err)
	}
	r.world = w
	r.routesStale = true
	r.webhooks = cluster.NewWebhookSimulator(webhookScript(r.sc.Spec.Hooks), r.clock, scenario.Epoch)
	source := &promstore.Source{Engine: prom, Storage: r.store, Clock: r.clock}
	metrics := timedSource{src: source, spent: &r.profile.PromQL}
	r.engine = &engine.Engine{
		Client:   r.client,
		Clock:    r.engineClock,
		Metrics:  metrics,
		Webhooks: r.webhooks,
		Observer: tickObserver{r},
	}
	if r.mode == ModeEnvtest {
		// A real API server also gets Kubernetes Events, as from Flagger in a cluster.
		r.engine.Events = &cluster.EventWriter{Client: r.client, Clock: r.clock}
	}
	if opts.Baselines {
		r.baselines = newBaseliner(r.client, source, r.engine.MeshProvider, r.engine.MetricsServer)
	}
	r.profile.Horizon, r.profile.KeptAll = 0, "RunOptions.KeepSeries"
	if !opts.KeepSeries {
		ret := r.retention() // Horizon 0 when it must keep all
		r.horizon = ret.Horizon
		r.profile.Horizon, r.profile.KeptAll = ret.Horizon, ret.KeepAll
	}
	r.truncatedAt = scenario.Epoch
	return r, nil
}

// tickObserver passes the engine's tick records to the run.
type tickObserver struct{ r *run }

func (o tickObserver) ObserveTick(rec engine.TickRecord) { o.r.observe(rec) }

// podSource shows the world the pods of the Deployment simulator: the one place
// where the world and the cluster side meet over pods.
type podSource struct{ d *cluster.DeploymentSimulator }

func (s podSource) AppendPods(buf []world.Pod, deployment string) ([]world.Pod, string, bool) {
	image, known := s.d.EachPod(deployment, func(p cluster.Pod) { buf = append(buf, world.Pod(p)) })
	return buf, image, known
}

// webhookScript answers each webhook call with the replies of the spec.hooks entry
// that selects it (scenario.SelectEndpoint: by the hook's name, metadata and URL).
func webhookScript(hooks []scenario.WebhookEndpoint) cluster.WebhookScript {
	replies := make([][]cluster.WebhookReply, len(hooks))
	for i, h := range hooks {
		for _, resp := range h.Responses {
			replies[i] = append(replies[i], cluster.WebhookReply{
				From: resp.From.Duration, Delay: resp.Delay.Duration, Status: resp.Status, Body: resp.Body})
		}
	}
	return func(hook v1beta1.CanaryWebhook, url string) []cluster.WebhookReply {
		call := scenario.WebhookCall{Name: hook.Name, URL: url}
		if hook.Metadata != nil {
			call.Metadata = *hook.Metadata
		}
		if i := scenario.SelectEndpoint(hooks, call); i >= 0 {
			return replies[i]
		}
		return nil
	}
}

// readyOverride applies `ready` faults to the Deployment simulator.
func (r *run) readyOverride(image string, now time.Time) (ready bool, overridden bool) {
	at := now.Sub(scenario.Epoch)
	for _, f := range r.sc.Spec.World.Faults {
		if f.Ready == nil || (f.Image != "" && f.Image != image) || !f.Active(at) {
			continue
		}
		ready, overridden = *f.Ready, true
	}
	return ready, overridden
}

// setup creates the namespaces (the policy's own Namespace objects as given, bare
// ones for the others), the policy's other objects (ConfigMaps, Secrets, Services,
// HPAs, ...), the target Deployment, the MetricTemplates, AlertProviders and the
// Canary, each in its own namespace, as given.
func (r *run) setup(ctx context.Context) error {
	written := map[string]*corev1.Namespace{}
	for _, o := range r.l.Objects {
		if n, ok := o.(*corev1.Namespace); ok {
			written[n.Name] = n
		}
	}
	for _, ns := range r.namespaces() {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if n, ok := written[ns]; ok {
			obj = n.DeepCopy()
		}
		if err := r.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			err = fmt.Errorf("setup: create namespace %s: %w", ns, err)
			if n, ok := written[ns]; ok {
				return r.objectError(n, err)
			}
			return err
		}
	}
	for _, o := range r.l.Objects {
		if _, ok := o.(*corev1.Namespace); ok {
			continue
		}
		if err := r.client.Create(ctx, o.DeepCopyObject().(client.Object)); err != nil {
			return r.objectError(o, fmt.Errorf("setup: create %T %s.%s: %w", o, o.GetName(), o.GetNamespace(), err))
		}
	}
	if err := r.client.Create(ctx, r.targetDeployment()); err != nil {
		err = fmt.Errorf("setup: create target deployment: %w", err)
		if r.l.Target != nil {
			return r.objectError(r.l.Target, err)
		}
		// made from spec.target, with the Canary's targetRef.name and service port
		return r.l.FieldError("spec.target", err)
	}
	for _, t := range r.l.Templates {
		if err := r.client.Create(ctx, t.DeepCopy()); err != nil {
			return r.objectError(t, fmt.Errorf("setup: create MetricTemplate %s.%s: %w", t.Name, t.Namespace, err))
		}
	}
	for _, a := range r.l.AlertProviders {
		if err := r.client.Create(ctx, a.DeepCopy()); err != nil {
			return r.objectError(a, fmt.Errorf("setup: create AlertProvider %s.%s: %w", a.Name, a.Namespace, err))
		}
	}
	if err := r.client.Create(ctx, r.canary.DeepCopy()); err != nil {
		return r.objectError(r.l.Canary, fmt.Errorf("setup: create Canary %s: %w", r.canary.Name, err))
	}
	return nil
}

// namespaces are the namespaces of the run's objects: the Canary's first, then the
// others in the order they are first named.
func (r *run) namespaces() []string {
	out := []string{r.namespace}
	add := func(ns string) {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	for _, o := range r.l.Objects {
		if n, ok := o.(*corev1.Namespace); ok {
			add(n.Name)
			continue
		}
		add(o.GetNamespace())
	}
	for _, t := range r.l.Templates {
		add(t.Namespace)
	}
	for _, a := range r.l.AlertProviders {
		add(a.Namespace)
	}
	return out
}

// targetDeployment is the workload the Canary's targetRef names: the policy's own
// Deployment when it holds one, else one as a user would have deployed it: selector
// label app=<name>, one container serving the service port.
func (r *run) targetDeployment() *appsv1.Deployment {
	if r.l.Target != nil {
		return r.l.Target.DeepCopy()
	}
	name := r.canary.Spec.TargetRef.Name
	labels := map[string]string{"app": name}
	port := r.canary.Spec.Service.Port
	if tp := r.canary.Spec.Service.TargetPort; tp.Type == intstr.Int && tp.IntVal > 0 {
		port = tp.IntVal
	}
	if port == 0 {
		port = 8080
	}
	replicas := *r.sc.Spec.Target.Replicas
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  name,
					Image: r.sc.Spec.Target.Image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		},
	}
}

// loop is the event loop over virtual time. At one instant the order is: timeline
// actions, Deployment simulator, scrape, engine tick (docs/architecture.md); the
// Deployment simulator also runs right after a tick so that what the engine changed
// starts at that instant. It only runs when something it watches may have changed:
// after an action or a tick, at a time it asked to be woken, or at a readiness
// fault's boundary.
func (r *run) loop(ctx context.Context) error {
	until := scenario.Epoch.Add(r.sc.Spec.Until.Duration)
	scrapeEvery := r.sc.Spec.World.ScrapeInterval.Duration
	nextScrape, nextTick := scenario.Epoch, scenario.Epoch
	var nextWake time.Time
	actions := r.sc.Spec.Timeline
	boundaries := r.readyFaultBoundaries()
	ai, bi := 0, 0
	for {
		now := nextScrape
		if nextTick.Before(now) {
			now = nextTick
		}
		if ai < len(actions) && scenario.Epoch.Add(actions[ai].At.Duration).Before(now) {
			now = scenario.Epoch.Add(actions[ai].At.Duration)
		}
		if bi < len(boundaries) && boundaries[bi].Before(now) {
			now = boundaries[bi]
		}
		if !nextWake.IsZero() && nextWake.Before(now) {
			now = nextWake
		}
		if now.After(until) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r.clock.SetTime(now)
		changed := !nextWake.IsZero() && !nextWake.After(now)
		for ai < len(actions) && !scenario.Epoch.Add(actions[ai].At.Duration).After(now) {
			if err := r.apply(ctx, ai); err != nil {
				return err
			}
			ai++
			changed = true
		}
		for bi < len(boundaries) && !boundaries[bi].After(now) {
			bi++
			changed = true
		}
		if changed || now.Equal(scenario.Epoch) {
			wake, err := r.syncDeployments(ctx, now)
			if err != nil {
				return err
			}
			nextWake = wake
		}
		if !now.Before(nextScrape) {
			start := time.Now()
			if err := r.world.Scrape(ctx, now); err != nil {
				return r.worldError(fmt.Errorf("scrape at %s: %w", now.Sub(scenario.Epoch), err))
			}
			r.profile.Scrape += time.Since(start)
			nextScrape = nextScrape.Add(scrapeEvery)
			r.truncate(now)
		}
		if !now.Before(nextTick) {
			interval, err := r.tick(ctx)
			if err != nil && errors.Is(err, context.Canceled) {
				return err
			}
			if interval <= 0 {
				return fmt.Errorf("canary %s disappeared at %s", r.key, now.Sub(scenario.Epoch))
			}
			nextTick = now.Add(interval)
			if err := r.noteBaselines(ctx); err != nil {
				return err
			}
			if r.deploymentsChanged() {
				wake, err := r.syncDeployments(ctx, now)
				if err != nil {
					return err
				}
				nextWake = wake
			}
		}
		if !nextWake.IsZero() && !nextWake.After(now) {
			nextWake = time.Time{}
		}
	}
}

// truncateEvery is the least virtual time between two truncations of the store:
// truncating costs a look at every series, and copies the samples it keeps, so it
// is done seldom while the store stays small (ten minutes of a few hundred series).
const truncateEvery = 10 * time.Minute

// truncate drops the samples no query can read any more, once a horizon (at least
// truncateEvery) has passed since it last did: a series then holds at most that and
// a horizon of samples.
func (r *run) truncate(now time.Time) {
	if r.horizon > 0 && now.Sub(r.truncatedAt) >= max(r.horizon, truncateEvery) {
		r.store.Truncate(now.Add(-r.horizon).UnixMilli())
		r.truncatedAt = now
	}
}

// syncDeployments runs the Deployment simulator and notes how far the API had changed.
func (r *run) syncDeployments(ctx context.Context, now time.Time) (time.Time, error) {
	start := time.Now()
	defer func() { r.profile.Deployments += time.Since(start) }()
	wake, err := r.deployments.Sync(ctx, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("deployment simulator at %s: %w", now.Sub(scenario.Epoch), err)
	}
	if r.writes != nil {
		r.syncedWrites = r.writes.Writes().Deployments
	}
	return wake, nil
}

// deploymentsChanged reports whether a Deployment may have been written since the
// Deployment simulator last looked; without a write count (a real API server) they
// always may have.
func (r *run) deploymentsChanged() bool {
	return r.writes == nil || r.writes.Writes().Deployments != r.syncedWrites
}

// readyFaultBoundaries are the instants at which a `ready` fault starts or ends, sorted.
func (r *run) readyFaultBoundaries() []time.Time {
	var out []time.Time
	for _, f := range r.sc.Spec.World.Faults {
		if f.Ready == nil {
			continue
		}
		out = append(out, scenario.Epoch.Add(f.From.Duration))
		if f.Until.Duration > 0 {
			out = append(out, scenario.Epoch.Add(f.Until.Duration))
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// apply performs timeline action i.
func (r *run) apply(ctx context.Context, i int) error {
	a := r.sc.Spec.Timeline[i]
	field := fmt.Sprintf("spec.timeline[%d]", i)
	if a.Image != "" {
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			d := &appsv1.Deployment{}
			if err := r.client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: r.canary.Spec.TargetRef.Name}, d); err != nil {
				return err
			}
			d.Spec.Template.Spec.Containers[0].Image = a.Image
			return r.client.Update(ctx, d)
		})
		if err != nil {
			return r.l.FieldError(field+".image", fmt.Errorf("set image %s: %w", a.Image, err))
		}
	}
	if a.Patch != nil {
		if err := r.patchCanary(ctx, a.Patch); err != nil {
			return r.l.FieldError(field+".patch", err)
		}
	}
	if c := a.ConfigMap; c != nil {
		err := r.updateConfig(ctx, c.Name, &corev1.ConfigMap{}, func(o client.Object) { o.(*corev1.ConfigMap).Data = maps.Clone(c.Data) })
		if err != nil {
			return r.l.FieldError(field+".configMap", err)
		}
	}
	if c := a.Secret; c != nil {
		err := r.updateConfig(ctx, c.Name, &corev1.Secret{}, func(o client.Object) { o.(*corev1.Secret).Data = c.SecretData() })
		if err != nil {
			return r.l.FieldError(field+".secret", err)
		}
	}
	return nil
}

// updateConfig writes a new version of a ConfigMap or Secret of the Canary's
// namespace, as `kubectl apply` of its changed manifest would.
func (r *run) updateConfig(ctx context.Context, name string, obj client.Object, set func(client.Object)) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if err := r.client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: name}, obj); err != nil {
			return err
		}
		set(obj)
		return r.client.Update(ctx, obj)
	})
}

// result assembles the run record and checks the expectations.
func (r *run) result() *scenario.Result {
	res := &scenario.Result{
		Scenario:    r.sc.Metadata.Name,
		Description: r.sc.Metadata.Description,
		File:        r.sc.File,
		Mode:        r.mode,
		Warnings:    r.l.Warnings,
		Ticks:       r.ticks,
		Exposure:    r.exposure,
		Until:       scenario.Offset(r.sc.Spec.Until.Duration),
		Traffic:     r.world.Traffic(),
	}
	if r.baselines != nil {
		res.Baselines = r.baselines.results
	}
	res.FailedUserRequests = r.world.FailedUserRequests()
	if n := len(res.Ticks); n > 0 {
		res.Phase = res.Ticks[n-1].Phase
	}
	res.DecidedAt = decidedAt(res.EachTick(), res.Phase)
	res.Routes, res.MaxCanaryWeight = routesOf(res.EachTick())
	res.Expectations = scenario.Check(r.sc.Spec.Expect, res)
	res.Passed = true
	for _, e := range res.Expectations {
		res.Passed = res.Passed && e.OK
	}
	return res
}

// decidedAt is when the final phase was last entered, for Succeeded and Failed.
func decidedAt(ticks iter.Seq[engine.TickRecord], final string) *scenario.Offset {
	if final != string(v1beta1.CanaryPhaseSucceeded) && final != string(v1beta1.CanaryPhaseFailed) {
		return nil
	}
	var at *scenario.Offset
	prev := ""
	for t := range ticks {
		if t.Phase == final && prev != final {
			o := scenario.Offset(t.At.Sub(scenario.Epoch))
			at = &o
		}
		prev = t.Phase
	}
	return at
}

// routesOf lists the canary weights the router was set to after initialization,
// consecutive repeats collapsed, and the highest of them.
func routesOf(ticks iter.Seq[engine.TickRecord]) (routes []int, maxWeight int) {
	routes = []int{}
	for t := range ticks {
		if t.PhaseBefore == "" || t.PhaseBefore == string(v1beta1.CanaryPhaseInitializing) {
			continue
		}
		for _, rc := range t.Routes {
			if n := len(routes); n == 0 || routes[n-1] != rc.Canary {
				routes = append(routes, rc.Canary)
			}
			maxWeight = max(maxWeight, rc.Canary)
		}
	}
	return routes, maxWeight
}
