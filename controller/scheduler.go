package controller

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// ticker advances one canary: engine.Engine.Tick.
type ticker interface {
	Tick(ctx context.Context, key types.NamespacedName) (time.Duration, error)
}

// scheduler is Flagger's control loop (pkg/controller: Run, scheduleCanaries, CanaryJob):
// every interval it lists the Canaries (from the manager's cache, as Flagger's
// informer) and keeps one job per Canary — started when new, restarted when its
// analysis interval changed, stopped when the Canary is gone. A job ticks once when
// it starts and then on its own ticker at the analysis interval; a Canary's ticks
// never depend on watch events, which is what makes the simulator's schedule hold.
// It is a manager Runnable that runs only on the leader.
type scheduler struct {
	list     func(ctx context.Context) ([]v1beta1.Canary, error)
	engine   ticker
	clock    clock.WithTicker
	interval time.Duration
	log      *zap.Logger
	metrics  *recorder

	mu   sync.Mutex
	jobs map[string]*job // by "name.namespace"
	wg   sync.WaitGroup
}

// job is one canary's ticker (Flagger's CanaryJob).
type job struct {
	key      types.NamespacedName
	interval time.Duration
	done     chan struct{}
}

// Start runs the control loop until ctx ends, then stops every job and waits for the
// ticks in flight. Like Flagger's, the first pass comes one interval after the start.
func (s *scheduler) Start(ctx context.Context) error {
	s.log.Info("Starting operator")
	t := s.clock.NewTicker(s.interval)
	defer t.Stop()
	defer s.stopAll()
	for {
		select {
		case <-t.C():
			s.schedule(ctx)
		case <-ctx.Done():
			s.log.Info("Shutting down operator workers")
			return nil
		}
	}
}

// schedule is one pass of the control loop (Flagger's scheduleCanaries).
func (s *scheduler) schedule(ctx context.Context) {
	canaries, err := s.list(ctx)
	if err != nil {
		// Flagger's informer keeps its last state through API errors; keeping the
		// jobs as they are is the same.
		s.log.Error(fmt.Sprintf("list canaries: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	current := map[string]string{}
	perNamespace := map[string]int{}
	for i := range canaries {
		cd := &canaries[i]
		name := cd.Name + "." + cd.Namespace
		current[name] = cd.Spec.TargetRef.Name + "." + cd.Namespace
		perNamespace[cd.Namespace]++
		s.metrics.setCanary(cd)
		interval := cd.GetAnalysisInterval()
		if j, ok := s.jobs[name]; ok {
			if j.interval == interval {
				continue
			}
			close(j.done)
		}
		j := &job{key: types.NamespacedName{Namespace: cd.Namespace, Name: cd.Name}, interval: interval, done: make(chan struct{})}
		s.jobs[name] = j
		s.wg.Add(1)
		go s.run(ctx, j)
	}
	for name, j := range s.jobs {
		if _, ok := current[name]; !ok {
			close(j.done)
			delete(s.jobs, name)
			s.metrics.forgetCanary(name)
		}
	}
	s.warnSharedTargets(current)
	for ns, n := range perNamespace {
		s.metrics.total.WithLabelValues(ns).Set(float64(n))
	}
}

// warnSharedTargets logs Flagger's error for canaries that share a target.
func (s *scheduler) warnSharedTargets(current map[string]string) {
	names := make([]string, 0, len(current))
	byTarget := map[string]int{}
	for name, target := range current {
		names = append(names, name)
		byTarget[target]++
	}
	sort.Strings(names)
	for _, name := range names {
		if byTarget[current[name]] > 1 {
			s.log.Error(fmt.Sprintf("Bad things will happen! Found more than one canary with the same target %s", current[name]),
				zap.String("canary", name))
		}
	}
}

// run is one job: a tick at once (Flagger's "infra bootstrap on job creation"), then
// one per analysis interval until the job is stopped or the controller shuts down.
func (s *scheduler) run(ctx context.Context, j *job) {
	defer s.wg.Done()
	t := s.clock.NewTicker(j.interval)
	defer t.Stop()
	s.tick(ctx, j)
	for {
		select {
		case <-t.C():
			s.tick(ctx, j)
		case <-j.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// tick runs one engine tick. Its errors are logged, never fatal: the engine already
// reported what Flagger reports as events, and the next tick reads everything again.
func (s *scheduler) tick(ctx context.Context, j *job) {
	select {
	case <-j.done:
		return // stopped while waiting for the ticker's channel
	default:
	}
	start := s.clock.Now()
	next, err := s.engine.Tick(ctx, j.key)
	s.metrics.ticks.Observe(s.clock.Since(start).Seconds())
	name := j.key.Name + "." + j.key.Namespace
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error(err.Error(), zap.String("canary", name))
	case err == nil && next == 0:
		s.log.Error(fmt.Sprintf("Canary %s not found", name), zap.String("canary", name))
	}
}

// stopAll stops every job and waits for their ticks to end.
func (s *scheduler) stopAll() {
	s.mu.Lock()
	for name, j := range s.jobs {
		close(j.done)
		delete(s.jobs, name)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// listFrom lists the Canaries in c (the manager's cache), in namespace or all.
func listFrom(c client.Reader, namespace string) func(ctx context.Context) ([]v1beta1.Canary, error) {
	return func(ctx context.Context) ([]v1beta1.Canary, error) {
		var list v1beta1.CanaryList
		if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return nil, err
		}
		return list.Items, nil
	}
}
