// Package e2e is aviary's end-to-end harness: a real kube-apiserver (envtest), a
// real Prometheus server built from the Go module the simulator embeds
// (hack/tool-assets.sh), `aviary sim serve` playing scenarios' worlds in wall-clock
// time, and a controller under test — aviary's own (`aviary controller`) or
// Flagger v1.44.0 — each a separate process. Its tests require that a live
// rollout decides what `sim.Run` of the same scenario file decides in virtual
// time, and that aviary's controller survives faults (SIGKILL, Prometheus and the
// API server going away, conflicting writes).
//
// aviary's controller runs as the Helm chart's ServiceAccount, by impersonation, and
// the API server's audit log shows what it asked for (rbac.go).
//
// This file's package holds the machinery (processes in their own process groups,
// Prometheus' configuration and HTTP API, a TCP proxy that can cut a connection,
// the controllers under test, recording Canaries and Events, the chart's RBAC and
// the audit log); the specs are in the _test.go files. The package must not know the controller's code nor how
// scenarios are played (sim/serve; sim/layers_test.go holds it to that): it starts
// the programs that do and compares what they leave on the API server with the
// records of sim.Run (the engine's tick records, the statuses it wrote).
package e2e
