// Package sim is the runner: it plays one scenario in virtual time, or a suite of
// them side by side, and returns the run record. It is the only place where the
// parts of a simulation meet: the scenario (sim/scenario), the synthetic world
// (sim/world), the series store and metric source under PromQL (sim/promstore), the
// Kubernetes side (sim/cluster) and the engine (engine).
//
// What a scenario creates and changes on a cluster besides the engine is its stage
// (Stage, stage.go): setup, timeline actions, the Deployment simulator with the
// readiness faults, the world and the traffic split it is served by, the webhook
// script. The runner plays it in virtual time; sim serve (sim/serve) plays the same
// stage in wall-clock time beside a live controller, so both share every rule.
//
// A run is an event loop over virtual time (runner.go): timeline actions, the
// Deployment simulator, scrapes of the world and engine ticks, in that order at one
// instant. The runner also reads the traffic split the mesh would apply from the
// router's objects (routing.go) and hands the world the simulator's pods: the world
// never sees the cluster side. Idle ticks are repeated from their record instead of
// run (replay.go, with the contracts it rests on). The store keeps only the samples
// the run's queries can read (retention.go), and repeated tick records are stored
// once (scenario.AppendTick), so a long run's memory does not grow with virtual time.
// Beside the engine's ticks the record holds what reached users between ticks and,
// when asked, each check's query against the primary (baseline.go): for reports,
// never for a decision.
//
// It does not decide anything about a rollout (the engine does), nor interpret
// expectations (sim/scenario does), nor format results (reports does).
package sim
