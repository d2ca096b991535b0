// Package promapi is the live controller's metric source: the engine's
// analysis.MetricSource (and CredentialedSource) port over the Prometheus HTTP API, as
// Flagger 1.44's Prometheus provider queries it (pkg/metrics/providers/prometheus.go):
// GET <address>/api/v1/query, the MetricTemplate's headers, basic auth or a bearer
// token from the provider's Secret, insecureSkipVerify, a per-query timeout, and the
// response read by engine/analysis' rules (DecodeResponse, ResponseStatusError), so
// that a live check ends exactly as a simulated one does.
//
// It must not know Kubernetes (the engine reads templates and Secrets and hands the
// credentials over), scenarios or the simulator.
package promapi
