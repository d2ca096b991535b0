package e2e

import (
	"context"
	"fmt"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// Prediction is what `sim.Run` of a scenario decided in virtual time, in the terms
// the live run is compared in.
type Prediction struct {
	Loaded *scenario.Loaded
	Result *scenario.Result
	// States are the Canary's statuses as written, one per status write (the
	// live side's watch sees one per write too), consecutive repeats collapsed.
	States []CanaryState
	// Events are the events the engine emitted, in order, repeats included.
	Events []engine.Event
	// Metrics are the values of each metric check (by the metric's name), in order.
	Metrics map[string][]float64
	// Kinds are the metrics' kinds (analysis.Result.Kind) by name.
	Kinds map[string]string
}

// Steps are the distinct consecutive (phase, canary weight) pairs.
func (p *Prediction) Steps() []Step { return DistinctSteps(p.States) }

// Predict runs the scenario file in virtual time (fast mode) and records the
// Canary's status at every write.
func Predict(ctx context.Context, file string) (*Prediction, error) {
	l, err := scenario.LoadFile(file)
	if err != nil {
		return nil, err
	}
	s, err := cluster.NewScheme()
	if err != nil {
		return nil, err
	}
	rec := &statusRecorder{Client: cluster.NewFakeClient(s, nil)}
	p := &Prediction{Loaded: l, Metrics: map[string][]float64{}, Kinds: map[string]string{}}
	p.Result, err = sim.Run(ctx, l, sim.RunOptions{Client: rec, Mode: sim.ModeFast, Scheme: s,
		Observer: eventsOf{p}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p.States = rec.states
	return p, nil
}

// statusRecorder is a client that keeps every status of a Canary it writes.
type statusRecorder struct {
	client.Client
	mu     sync.Mutex
	states []CanaryState
}

func (r *statusRecorder) seen(o client.Object) {
	c, ok := o.(*v1beta1.Canary)
	if !ok {
		return
	}
	st := CanaryState{Phase: string(c.Status.Phase), CanaryWeight: c.Status.CanaryWeight, Iterations: c.Status.Iterations, FailedChecks: c.Status.FailedChecks}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.states); n == 0 || r.states[n-1] != st {
		r.states = append(r.states, st)
	}
}

func (r *statusRecorder) Create(ctx context.Context, o client.Object, opts ...client.CreateOption) error {
	if err := r.Client.Create(ctx, o, opts...); err != nil {
		return err
	}
	r.seen(o)
	return nil
}

func (r *statusRecorder) Status() client.SubResourceWriter {
	return statusWriter{SubResourceWriter: r.Client.Status(), r: r}
}

type statusWriter struct {
	client.SubResourceWriter
	r *statusRecorder
}

func (w statusWriter) Update(ctx context.Context, o client.Object, opts ...client.SubResourceUpdateOption) error {
	if err := w.SubResourceWriter.Update(ctx, o, opts...); err != nil {
		return err
	}
	w.r.seen(o)
	return nil
}

func (w statusWriter) Patch(ctx context.Context, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := w.SubResourceWriter.Patch(ctx, o, p, opts...); err != nil {
		return err
	}
	w.r.seen(o)
	return nil
}

// eventsOf collects the events and metric values of every tick.
type eventsOf struct{ p *Prediction }

func (o eventsOf) ObserveTick(r engine.TickRecord) {
	o.p.Events = append(o.p.Events, r.Events...)
	for _, m := range r.Metrics {
		if m.Value != nil {
			o.p.Metrics[m.Name] = append(o.p.Metrics[m.Name], *m.Value)
			o.p.Kinds[m.Name] = m.Kind
		}
	}
}
