package sim

import (
	"context"
	"time"

	"k8s.io/utils/clock"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim/cluster"
)

// Idle-tick replay: the event loop repeats the record of a tick that did nothing but
// read the API, instead of running the engine again, until the API changes. It is
// what makes a long stretch in Succeeded or Failed cost almost nothing. It rests on
// three contracts, each checked by a test:
//
//  1. The engine is a function of what it reads from the API, of the clock, and of
//     its memo (which only spares recomputing the same answers). It reads the clock
//     through its Clock port only, once per tick for the record's time when the tick
//     depends on nothing else (engine/wallclock_test.go fails when code under engine/
//     reads wall time instead).
//  2. The fast client counts its writes (cluster.Writes); with no new write since an
//     idle tick, every object the engine could read is as that tick saw it. Nothing
//     else writes in fast mode. A real API server's objects change by its own hand
//     (its controllers, repair loops), so envtest mode has no count and runs every
//     tick.
//  3. A tick is idle when its record shows no dealings with anything but the API (no
//     metric query, webhook, route change, event, alert, error or phase change:
//     engine.TickRecord.Quiet; a phase change is a status write anyway), it wrote
//     nothing, and it read the clock exactly once.
//
// `make test` runs every library scenario both ways (RunOptions.EveryTick) and
// requires byte-identical records.

// writeCounter is the fast client's count of its writes.
type writeCounter interface{ Writes() cluster.Writes }

// idleTick is a tick known to repeat until the API changes.
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

// tick runs the engine's tick at the clock's time, or repeats the last tick's record
// when that tick was idle and nothing has been written since.
func (r *run) tick(ctx context.Context) (time.Duration, error) {
	r.profile.Ticks++
	replaying := r.writes != nil && !r.everyTick
	if r.idle != nil && replaying && r.writes.Writes().All == r.idle.writes {
		rec := r.idle.rec
		rec.At = r.clock.Now()
		r.observe(rec)
		r.profile.Replayed++
		return r.idle.interval, nil
	}
	r.idle = nil
	var writes uint64
	if replaying {
		writes = r.writes.Writes().All
	}
	reads := r.engineClock.reads
	start := time.Now()
	interval, err := r.engine.Tick(ctx, r.key)
	r.profile.Engine += time.Since(start)
	if r.writes == nil {
		r.routesStale = true // without a write count, whatever the tick did may have moved traffic
	}
	if err != nil || !replaying || r.writes.Writes().All != writes || r.engineClock.reads != reads+1 {
		return interval, err
	}
	if r.last.Quiet() {
		r.idle = &idleTick{rec: r.last, interval: interval, writes: writes}
	}
	return interval, nil
}
