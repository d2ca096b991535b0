// Package scaffold writes a starting set of scenarios for a Canary (aviary init): a
// healthy promotion, a 5xx burst, a latency spike, no traffic and a new revision
// mid-analysis, each referring to the user's policy files (never a copy of them), with
// expectations computed from the policy — the steps to promotion and the promotion's
// ticks from the engine's own walk ((*engine.Engine).Walk), the analysis interval and
// threshold as Flagger reads them, the checks that can see each fault — and a world
// fitted to the provider and to the series the Canary's own templates read.
//
// The policy is decoded by the scenario loader (scenario.Load of a scenario around the
// files), never by a decoder of its own. Each generated scenario is loaded and run
// with the runner before it is handed back, so that a set whose expectations would
// not hold says so; the application counters a template reads are given values by
// running the healthy scenario with each candidate.
//
// It must not know how a rollout decides (it asks the engine's Walk and reads the
// run's record), how the world is made (it writes a world section and asks the
// world for the families it writes), or how files reach the disk (it returns their
// bytes; cmd/aviary writes them).
package scaffold
