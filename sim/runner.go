package sim

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
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
	// Store is the store the run's world writes its series to and its checks read;
	// nil makes one. A caller that gives one reads the world's series after the run
	// (sim/explore, with KeepSeries so that none was dropped).
	Store *promstore.Storage
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
	if err := r.Setup(ctx); err != nil {
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

// run is one simulation in progress.
type run struct {
	// Stage is the scenario's objects, Deployment simulator and world.
	*Stage
	mode string

	clock *clocktesting.FakePassiveClock
	// engineClock is the engine's view of clock: it counts the engine's reads.
	engineClock *countingClock
	store       *promstore.Storage
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
	r := &run{mode: opts.Mode, profile: opts.Profile,
		everyTick: opts.EveryTick, observer: opts.Observer, tickByTick: opts.TickByTick}
	if r.profile == nil {
		r.profile = &Profile{}
	}
	c := opts.Client
	if c == nil {
		s := opts.Scheme
		if s == nil {
			var err error
			if s, err = cluster.NewScheme(); err != nil {
				return nil, err
			}
		}
		c = cluster.NewFakeClient(s, opts.Verdicts)
		r.mode = ModeFast
	}
	if r.mode == "" {
		r.mode = ModeFast
	}
	if wc, ok := c.(writeCounter); ok {
		r.writes = wc
	}
	r.clock = clocktesting.NewFakePassiveClock(scenario.Epoch)
	r.engineClock = &countingClock{PassiveClock: r.clock}
	r.store = opts.Store
	if r.store == nil {
		r.store = promstore.NewStorage()
	}
	prom := opts.PromEngine
	if prom == nil {
		prom = promstore.NewEngine()
	}
	stage, err := NewStage(l, c, scenario.Epoch, r.store, r.cachedRouting)
	if err != nil {
		return nil, err
	}
	r.Stage = stage
	r.routesStale = true
	r.webhooks = cluster.NewWebhookSimulator(WebhookScript(r.sc.Spec.Hooks), r.clock, scenario.Epoch)
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
	boundaries := r.ReadyFaultBoundaries()
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
			if err := r.Apply(ctx, ai); err != nil {
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
				return r.WorldError(fmt.Errorf("scrape at %s: %w", now.Sub(scenario.Epoch), err))
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
