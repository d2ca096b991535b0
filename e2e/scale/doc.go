// Package scale measures aviary's live controller at scale: BenchmarkScale (make
// bench-scale) runs `aviary controller` as a process of its own against envtest's API
// server with a thousand Canaries — most idle once initialized, a rolling set in
// analysis against a stub Prometheus — and reports the controller's resident memory,
// its tick latency, how long initializing every Canary took and the API
// requests it sends.
//
// The package's own code is what a measurement reads: a process's memory from
// /proc, histograms and counters from a Prometheus exposition, and the stub
// Prometheus. It must not know how the controller decides (the engine) nor how it
// schedules: it starts the binary and reads what the binary serves and writes.
package scale
