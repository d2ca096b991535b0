package sim

import (
	"context"
	"errors"
	"fmt"
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
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"github.com/prometheus/prometheus/promql"
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
	// Scheme is a shared NewScheme for the fast-mode client (safe for concurrent
	// use); nil makes one. Building it is a sizeable part of a short run.
	Scheme *runtime.Scheme
	// Profile, when set, accumulates where the run's wall time went (benchmarks).
	Profile *Profile
	// EveryTick runs the engine on every tick, even one known to repeat the previous
	// (see run.tick); for tests and benchmarks that compare the two.
	EveryTick bool
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
	// Kubelet is the kubelet simulator's.
	Kubelet time.Duration
	// Total is the whole run's, setup included.
	Total time.Duration
	// Ticks counts the engine's ticks, Replayed those of them repeated from the
	// previous tick's record instead of run (see run.tick).
	Ticks, Replayed int
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
func Run(ctx context.Context, l *Loaded, opts RunOptions) (*Result, error) {
	if opts.Profile != nil {
		start := time.Now()
		defer func() { opts.Profile.Total += time.Since(start) }()
	}
	r, err := newRun(l, opts)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", l.Scenario.Metadata.Name, err)
	}
	if err := r.setup(ctx); err != nil {
		return nil, fmt.Errorf("scenario %q: setup: %w", l.Scenario.Metadata.Name, err)
	}
	if err := r.loop(ctx); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", l.Scenario.Metadata.Name, err)
	}
	return r.result(), nil
}

// run is one simulation in progress.
type run struct {
	l         *Loaded
	sc        *Scenario
	mode      string
	namespace string
	canary    *v1beta1.Canary
	key       types.NamespacedName

	client client.Client
	clock  *clocktesting.FakePassiveClock
	// engineClock is the engine's view of clock: it counts the engine's reads.
	engineClock *countingClock
	store       *Storage
	kubelet     *Kubelet
	world       *WorldModel
	hooks       *WebhookSim
	engine      *engine.Engine
	ticks       tickLog

	// routes caches the traffic split; only the engine changes it, so it is re-read
	// after each tick rather than at every scrape, and with the fast client only after
	// a write it is read from (routeWrites, nil for a real API server; routesReadAt is
	// its count at the last read).
	routes       Routing
	routesStale  bool
	routeWrites  routeWriteCounter
	routesReadAt uint64
	// syncedWrites is the client's Deployment write count when the kubelet last synced.
	syncedWrites uint64
	// repeats is the fast client's write count, by which the loop tells that the API
	// has not changed since an idle tick; nil with a real API server or
	// RunOptions.EveryTick, and then every tick runs.
	repeats writeCounter
	// idle is the last tick when it is known to repeat until the API changes, else nil.
	idle *idleTick
	// profile accumulates where the time went: RunOptions.Profile, or a scratch one
	// (a few clock reads per scrape and tick are not worth a branch).
	profile *Profile
}

// tickLog is the engine's TickObserver: it keeps every record.
type tickLog struct{ records []engine.TickRecord }

func (l *tickLog) ObserveTick(r engine.TickRecord) { l.records = append(l.records, r) }

func newRun(l *Loaded, opts RunOptions) (*run, error) {
	r := &run{l: l, sc: l.Scenario, mode: opts.Mode, client: opts.Client, profile: opts.Profile}
	if r.profile == nil {
		r.profile = &Profile{}
	}
	r.canary = l.Canary.DeepCopy()
	// The policy's namespace; envtest runs isolate scenarios in the client instead
	// (ScenarioClient), so messages and queries read the same in both modes.
	r.namespace = r.canary.Namespace
	r.key = types.NamespacedName{Namespace: r.namespace, Name: r.canary.Name}
	if r.client == nil {
		s := opts.Scheme
		if s == nil {
			var err error
			if s, err = NewScheme(); err != nil {
				return nil, err
			}
		}
		r.client = NewFakeClient(s)
		r.mode = ModeFast
	}
	if r.mode == "" {
		r.mode = ModeFast
	}
	if wc, ok := r.client.(writeCounter); ok && !opts.EveryTick {
		r.repeats = wc
	}
	if rc, ok := r.client.(routeWriteCounter); ok {
		r.routeWrites = rc
	}
	r.clock = clocktesting.NewFakePassiveClock(Epoch)
	r.engineClock = &countingClock{PassiveClock: r.clock}
	r.store = NewStorage()
	prom := opts.PromEngine
	if prom == nil {
		prom = NewPromEngine()
	}
	w := r.sc.Spec.World
	r.kubelet = NewKubelet(r.client, r.namespace, r.sc.Spec.Target.StartupDelay.Duration, r.readyOverride)
	apex, _, _ := r.canary.GetServiceNames()
	world, err := NewWorld(WorldConfig{
		Spec:           w,
		Namespace:      r.namespace,
		Target:         r.canary.Spec.TargetRef.Name,
		Service:        apex,
		InitialImage:   r.sc.Spec.Target.Image,
		Start:          Epoch,
		ScrapeInterval: w.ScrapeInterval.Duration,
		Store:          r.store,
		Kubelet:        r.kubelet,
		Routes:         r.cachedRouting,
	})
	if err != nil {
		return nil, err
	}
	r.world = world
	r.routesStale = true
	r.hooks = NewHookSim(r.sc.Spec.Hooks, r.clock, Epoch)
	metrics := timedSource{src: &PromSource{Engine: prom, Storage: r.store, Clock: r.clock}, spent: &r.profile.PromQL}
	r.engine = &engine.Engine{
		Client:   r.client,
		Clock:    r.engineClock,
		Metrics:  metrics,
		Webhooks: r.hooks,
		Observer: &r.ticks,
	}
	if r.mode == ModeEnvtest {
		// A real API server also gets Kubernetes Events, as from Flagger in a cluster.
		r.engine.Events = &KubeEvents{Client: r.client, Clock: r.clock}
	}
	return r, nil
}

// readyOverride applies `ready` faults to the kubelet simulator.
func (r *run) readyOverride(image string, now time.Time) (ready bool, overridden bool) {
	at := now.Sub(Epoch)
	for _, f := range r.sc.Spec.World.Faults {
		if f.Ready == nil || (f.Image != "" && f.Image != image) || !f.active(at) {
			continue
		}
		ready, overridden = *f.Ready, true
	}
	return ready, overridden
}

// active reports whether the fault's window [from, until) contains at.
func (f Fault) active(at time.Duration) bool {
	return at >= f.From.Duration && (f.Until.Duration == 0 || at < f.Until.Duration)
}

// setup creates the namespace, the target Deployment and the policy objects.
func (r *run) setup(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.namespace}}
	if err := r.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", r.namespace, err)
	}
	if err := r.client.Create(ctx, r.targetDeployment()); err != nil {
		return fmt.Errorf("create target deployment: %w", err)
	}
	for _, t := range r.l.Templates {
		t = t.DeepCopy()
		t.Namespace = r.namespace
		if err := r.client.Create(ctx, t); err != nil {
			return fmt.Errorf("create MetricTemplate %s: %w", t.Name, err)
		}
	}
	for _, a := range r.l.AlertProviders {
		a = a.DeepCopy()
		a.Namespace = r.namespace
		if err := r.client.Create(ctx, a); err != nil {
			return fmt.Errorf("create AlertProvider %s: %w", a.Name, err)
		}
	}
	if err := r.client.Create(ctx, r.canary.DeepCopy()); err != nil {
		return fmt.Errorf("create Canary %s: %w", r.canary.Name, err)
	}
	return nil
}

// targetDeployment is the workload the Canary's targetRef names, as a user would
// have deployed it: selector label app=<name>, one container serving the service port.
func (r *run) targetDeployment() *appsv1.Deployment {
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
// actions, kubelet, scrape, engine tick (DESIGN.md §4); the kubelet also runs right
// after a tick so that what the engine changed starts at that instant. The kubelet
// only runs when something it watches may have changed: after an action or a tick,
// at a time it asked to be woken, or at a readiness fault's boundary.
func (r *run) loop(ctx context.Context) error {
	until := Epoch.Add(r.sc.Spec.Until.Duration)
	scrapeEvery := r.sc.Spec.World.ScrapeInterval.Duration
	nextScrape, nextTick := Epoch, Epoch
	var nextWake time.Time
	actions := r.sc.Spec.Timeline
	boundaries := r.readyFaultBoundaries()
	ai, bi := 0, 0
	for {
		now := nextScrape
		if nextTick.Before(now) {
			now = nextTick
		}
		if ai < len(actions) && Epoch.Add(actions[ai].At.Duration).Before(now) {
			now = Epoch.Add(actions[ai].At.Duration)
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
		for ai < len(actions) && !Epoch.Add(actions[ai].At.Duration).After(now) {
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
		if changed || now.Equal(Epoch) {
			wake, err := r.syncKubelet(ctx, now)
			if err != nil {
				return err
			}
			nextWake = wake
		}
		if !now.Before(nextScrape) {
			start := time.Now()
			if err := r.world.Scrape(ctx, now); err != nil {
				return fmt.Errorf("scrape at %s: %w", now.Sub(Epoch), err)
			}
			r.profile.Scrape += time.Since(start)
			nextScrape = nextScrape.Add(scrapeEvery)
		}
		if !now.Before(nextTick) {
			interval, err := r.tick(ctx)
			if err != nil && errors.Is(err, context.Canceled) {
				return err
			}
			if interval <= 0 {
				return fmt.Errorf("canary %s disappeared at %s", r.key, now.Sub(Epoch))
			}
			nextTick = now.Add(interval)
			if r.apiChanged() {
				wake, err := r.syncKubelet(ctx, now)
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

// writeCounter is implemented by the fast mode's client: how many successful writes
// it has seen. With a real API server, whose objects others change too (its own
// controllers, repair loops), nothing can be concluded from the engine's writes alone.
type writeCounter interface{ Writes() uint64 }

// idleTick is a tick that wrote nothing, called nothing and asked nothing but the
// API's objects: no metric query, webhook, event, alert or error, and no clock read
// beyond the record's time. The engine is a function of what it reads and of its
// memo, which only spares recomputing the same answers; so until an object changes,
// every later tick would end the same way, and the event loop repeats its record
// instead of running it. The typical one is a Succeeded or Failed canary's tick,
// which reconciles the Services, the primary and the routes, finds nothing to do and
// stops at should-advance (Flagger's "nothing changed").
type idleTick struct {
	rec      engine.TickRecord
	interval time.Duration
	// writes is the client's write count after the tick: the API as the tick saw it.
	writes uint64
}

// countingClock counts reads of a clock.
type countingClock struct {
	clock.PassiveClock
	reads int
}

func (c *countingClock) Now() time.Time { c.reads++; return c.PassiveClock.Now() }

func (c *countingClock) Since(t time.Time) time.Duration {
	c.reads++
	return c.PassiveClock.Since(t)
}

// tick runs the engine's tick at the clock's time, or repeats the last tick's
// record when that tick was idle and nothing has been written since.
func (r *run) tick(ctx context.Context) (time.Duration, error) {
	r.profile.Ticks++
	if r.idle != nil && r.repeats.Writes() == r.idle.writes {
		rec := r.idle.rec
		rec.At = r.clock.Now()
		r.ticks.ObserveTick(rec)
		r.profile.Replayed++
		return r.idle.interval, nil
	}
	r.idle = nil
	var writes uint64
	if r.repeats != nil {
		writes = r.repeats.Writes()
	}
	reads := r.engineClock.reads
	start := time.Now()
	interval, err := r.engine.Tick(ctx, r.key)
	r.profile.Engine += time.Since(start)
	if r.routeWrites == nil {
		r.routesStale = true // without a write count, whatever the tick did may have moved traffic
	}
	if err != nil || r.repeats == nil || r.repeats.Writes() != writes || r.engineClock.reads != reads+1 {
		return interval, err
	}
	if rec := r.ticks.records[len(r.ticks.records)-1]; quiet(rec) {
		r.idle = &idleTick{rec: rec, interval: interval, writes: writes}
	}
	return interval, nil
}

// quiet reports whether a tick's record shows no dealings with anything but the API:
// the other half of idleTick's condition.
func quiet(rec engine.TickRecord) bool {
	return rec.Error == "" && len(rec.Metrics) == 0 && len(rec.Hooks) == 0 && len(rec.Routes) == 0 &&
		len(rec.Events) == 0 && len(rec.Alerts) == 0
}

// routeWriteCounter is implemented by the fast mode's client: how many writes that may
// have changed the traffic split it has seen (run.routing reads VirtualServices, and
// without one whether the primary Deployment exists: creates and deletes).
type routeWriteCounter interface{ RouteWrites() uint64 }

// deploymentWriteCounter is implemented by the fast mode's client: how many writes
// that may have changed a Deployment it has seen. Deployments are the kubelet's only
// input from the API; the engine's other writes (Canary status, routes) leave it
// nothing to do.
type deploymentWriteCounter interface{ DeploymentWrites() uint64 }

// syncKubelet runs the kubelet simulator and notes how far the API had changed.
func (r *run) syncKubelet(ctx context.Context, now time.Time) (time.Time, error) {
	start := time.Now()
	defer func() { r.profile.Kubelet += time.Since(start) }()
	wake, err := r.kubelet.Sync(ctx, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("kubelet at %s: %w", now.Sub(Epoch), err)
	}
	if wc, ok := r.client.(deploymentWriteCounter); ok {
		r.syncedWrites = wc.DeploymentWrites()
	}
	return wake, nil
}

// apiChanged reports whether a Deployment may have been written since the kubelet
// last looked; a client that does not count writes (a real API server) always counts
// as changed.
func (r *run) apiChanged() bool {
	wc, ok := r.client.(deploymentWriteCounter)
	return !ok || wc.DeploymentWrites() != r.syncedWrites
}

// readyFaultBoundaries are the instants at which a `ready` fault starts or ends, sorted.
func (r *run) readyFaultBoundaries() []time.Time {
	var out []time.Time
	for _, f := range r.sc.Spec.World.Faults {
		if f.Ready == nil {
			continue
		}
		out = append(out, Epoch.Add(f.From.Duration))
		if f.Until.Duration > 0 {
			out = append(out, Epoch.Add(f.Until.Duration))
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
			return fmt.Errorf("%s: set image %s: %w", field, a.Image, err)
		}
	}
	if a.Patch != nil {
		if err := r.patchCanary(ctx, a.Patch); err != nil {
			return fmt.Errorf("%s.patch: %w", field, err)
		}
	}
	return nil
}

// result assembles the run record and checks the expectations.
func (r *run) result() *Result {
	res := &Result{
		Scenario:    r.sc.Metadata.Name,
		Description: r.sc.Metadata.Description,
		File:        r.sc.File,
		Mode:        r.mode,
		Warnings:    r.l.Warnings,
		Ticks:       r.ticks.records,
		Until:       Offset(r.sc.Spec.Until.Duration),
		Traffic:     r.world.Traffic(),
	}
	res.FailedUserRequests = r.world.FailedUserRequests()
	if n := len(res.Ticks); n > 0 {
		res.Phase = res.Ticks[n-1].Phase
	}
	res.DecidedAt = decidedAt(res.Ticks, res.Phase)
	res.Routes, res.MaxCanaryWeight = routesOf(res.Ticks)
	res.Expectations = Check(r.sc.Spec.Expect, res)
	res.Passed = true
	for _, e := range res.Expectations {
		res.Passed = res.Passed && e.OK
	}
	return res
}

// decidedAt is when the final phase was last entered, for Succeeded and Failed.
func decidedAt(ticks []engine.TickRecord, final string) *Offset {
	if final != string(v1beta1.CanaryPhaseSucceeded) && final != string(v1beta1.CanaryPhaseFailed) {
		return nil
	}
	var at *Offset
	for i, t := range ticks {
		if t.Phase == final && (i == 0 || ticks[i-1].Phase != final) {
			o := Offset(t.At.Sub(Epoch))
			at = &o
		}
	}
	return at
}

// routesOf lists the canary weights the router was set to after initialization,
// consecutive repeats collapsed, and the highest of them.
func routesOf(ticks []engine.TickRecord) (routes []int, maxWeight int) {
	routes = []int{}
	for _, t := range ticks {
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
