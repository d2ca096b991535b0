// Package lint checks canary policies without running them: Canaries,
// MetricTemplates and AlertProviders (or the policies of scenario files) are loaded
// by sim/scenario's strict loader and every rule of Rules() reads the decoded
// objects, the engine's own rules (engine, engine/analysis) and the queries rendered
// with Flagger's variables and parsed by Prometheus' PromQL parser. Each Finding
// names the rule, the file, line and field, what goes wrong at run time in
// Flagger's terms, and the fix; Report writes them as text, JSON or SARIF 2.1.0.
//
// It must not know how a run is played (the runner, the world, the cluster): a rule
// that needs to show its consequence names a library scenario that does.
package lint
