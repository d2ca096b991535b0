package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The Go GC's settings aviary runs with unless GOGC or GOMEMLIMIT are set.
//
// A scenario run allocates about 2.6 MB and keeps little, so at Go's default
// (GOGC=100) the collector took a quarter of a suite's CPU time. With --parallel 1
// much of it ran on the idle second core, where it cost no wall time; with
// --parallel 2 it took the runs' own cores: a suite's runs were 1.6× faster with two
// workers than with one (1.85× with these settings; README, Performance).
// Collecting when the heap has grown to 9× what is live (gcPercent) cuts the
// collector's share to 2–7%. heapBudget bounds the memory that costs while what is
// live is small; as a large suite's run records accumulate, the limit follows
// liveFactor × what is live, so the collector never runs more often than at GOGC=200
// (a fixed limit would make it run without pause once the records approached it).
const (
	gcPercent  = 800
	heapBudget = 768 << 20
	liveFactor = 3
)

// servers are the commands that run until stopped, holding a steady heap: the live
// controller and sim serve. They keep Go's defaults — with the settings above the
// controller over 1,000 Canaries held about 450 MiB resident instead of 119 MiB
// (e2e/scale, README "The live controller at scale") for no gain in speed.
var servers = map[string]bool{"controller": true, "sim": true}

// tuneGC applies the settings above, for the command args runs, until restore is
// called (or ctx ends): it raises the memory limit with what is live, looking once a
// second. Servers and explicit GOGC or GOMEMLIMIT settings keep what they have.
func tuneGC(ctx context.Context, args []string) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || len(args) > 0 && servers[args[0]] {
		return func() {}
	}
	oldPercent, oldLimit := debug.SetGCPercent(gcPercent), debug.SetMemoryLimit(heapBudget)
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				followLive(heapBudget)
			}
		}
	}()
	return func() {
		stop()
		<-done
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

// followLive sets the memory limit to liveFactor × what the last collection found
// live, or to budget if that is more, and returns it.
func followLive(budget int64) int64 {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	limit := max(budget, liveFactor*int64(live[0].Value.Uint64()))
	debug.SetMemoryLimit(limit)
	return limit
}
