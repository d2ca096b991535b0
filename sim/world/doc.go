// Package world is the synthetic world of a simulation: traffic through the mesh's
// split, how each version serves it (response codes, log-normal latency), faults over
// virtual time, and the series a Prometheus would scrape from it, with the real label
// sets of each metric family (per pod Istio's and the Prometheus client's, per Service
// Traefik's, the scenario's own counters and promtool-notation series). It also
// counts what each version served to users: the blast radius (5xx answers).
//
// It owns the world's spec (Spec, the scenario's spec.world) and its one set of
// rules (Spec.Validate), its limits included (Limits: what a world may ask of a run),
// used by the scenario loader and by New alike.
//
// It must not know Kubernetes or the engine: the pods it serves from come in through
// the Pods interface and the traffic split (with the names Traefik gives the Services
// it routes to) through Config.Routes; the runner is where they are read from the
// cluster side. Samples go to a promstore.Storage.
package world
