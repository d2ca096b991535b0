// Package explore plays a scenario as sim.Run does and keeps its world's series —
// every sample, none dropped for retention — queryable with PromQL at any virtual
// time of the run: a query at a tick's time reads what a check at that tick read.
// `aviary query` and `aviary serve` stand on it.
//
// It must not know how a rollout decides or how a world is made: it reads the store
// a run filled (sim.RunOptions.Store), with the PromQL engine the simulator's metric
// source uses (promstore.NewEngine), and nothing of the engine's or the world's.
package explore

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// World is a played scenario's series as the policy saw them.
type World struct {
	// Storage holds every sample the world wrote during the run.
	Storage *promstore.Storage
	// Result is the run's record, the same as sim.Run's.
	Result *scenario.Result
	// Start is virtual time zero (scenario.Epoch), End the scenario's end
	// (spec.until after Start): no sample is later.
	Start, End time.Time
	engine     *promql.Engine
}

// Play runs l with opts (its Store and KeepSeries are set here) and returns its world.
func Play(ctx context.Context, l *scenario.Loaded, opts sim.RunOptions) (*World, error) {
	w := &World{
		Storage: promstore.NewStorage(),
		Start:   scenario.Epoch,
		End:     scenario.Epoch.Add(l.Scenario.Spec.Until.Duration),
		engine:  opts.PromEngine,
	}
	if w.engine == nil {
		w.engine = promstore.NewEngine()
	}
	opts.Store, opts.KeepSeries, opts.PromEngine = w.Storage, true, w.engine
	res, err := sim.Run(ctx, l, opts)
	if err != nil {
		return nil, err
	}
	w.Result = res
	return w, nil
}

// At is the absolute time of the virtual offset at, which must lie within the run.
func (w *World) At(at time.Duration) (time.Time, error) {
	end := w.End.Sub(w.Start)
	switch {
	case at < 0:
		return time.Time{}, fmt.Errorf("time %s is before the scenario's start (0s)", at)
	case at > end:
		return time.Time{}, fmt.Errorf("time %s is after the scenario's end (spec.until: %s): the world has no samples then", at, end)
	}
	return w.Start.Add(at), nil
}

// Answer is a query's result. Its value is valid until Close.
type Answer struct {
	Value    parser.Value
	Warnings annotations.Annotations
	q        promql.Query
}

// Close releases the answer's memory to the engine.
func (a *Answer) Close() { a.q.Close() }

// QueryError is a query PromQL rejects before evaluating it: one that does not
// parse (the message names the position, line:column, of each error) or a range
// query of a range vector. The Prometheus HTTP API answers it as bad_data.
type QueryError struct{ Err error }

func (e *QueryError) Error() string { return e.Err.Error() }
func (e *QueryError) Unwrap() error { return e.Err }

// Parse checks that expr parses as PromQL, as the engine parses it: for a command
// to say so before playing the scenario.
func Parse(expr string) error {
	if _, err := parser.ParseExpr(expr); err != nil {
		return &QueryError{Err: err}
	}
	return nil
}

// Query evaluates expr as an instant query at t, as the simulator's metric source
// does at a check (promstore.Source).
func (w *World) Query(ctx context.Context, expr string, t time.Time) (*Answer, error) {
	q, err := w.engine.NewInstantQuery(ctx, w.Storage, nil, expr, t)
	return w.exec(ctx, q, err)
}

// QueryRange evaluates expr at every step from start to end, as Prometheus'
// query_range does.
func (w *World) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (*Answer, error) {
	if step <= 0 {
		return nil, &QueryError{Err: fmt.Errorf("step %s must be positive", step)}
	}
	if end.Before(start) {
		return nil, &QueryError{Err: fmt.Errorf("range end %s is before its start %s", end.Sub(w.Start), start.Sub(w.Start))}
	}
	q, err := w.engine.NewRangeQuery(ctx, w.Storage, nil, expr, start, end, step)
	return w.exec(ctx, q, err)
}

// exec runs a query NewInstantQuery or NewRangeQuery made (err: why it could not).
func (w *World) exec(ctx context.Context, q promql.Query, err error) (*Answer, error) {
	if err != nil {
		// NewInstantQuery and NewRangeQuery fail only for the query itself.
		return nil, &QueryError{Err: err}
	}
	res := q.Exec(ctx)
	if res.Err != nil {
		q.Close()
		return nil, res.Err
	}
	return &Answer{Value: res.Value, Warnings: res.Warnings, q: q}, nil
}
