// Package serve plays scenarios' worlds in wall-clock time against a real API
// server, for a live controller (aviary's or Flagger) and a real Prometheus: `aviary
// sim serve`. For each scenario it creates what the simulator's setup creates
// (sim.Stage: namespaces, the policy's objects, the target Deployment, the
// MetricTemplates, AlertProviders and the Canary), then plays the rest of the
// scenario as the clock goes: the timeline at its offsets from the start, the
// Deployment simulator (statuses through the status subresource) with the readiness
// faults, and the world at the traffic split the controller wrote, seeded by the
// scenario. Several scenarios go side by side, each in namespaces of its own.
//
// One HTTP listener serves:
//   - /metrics/<scenario>: the world's live series in Prometheus' text exposition
//     format, the world advanced to the request's instant first (a GET is a scrape);
//   - as an HTTP proxy (absolute request URIs, as a controller run with HTTP_PROXY
//     sends them): webhook calls answered from the scenario's spec.hooks script,
//     alerts to an AlertProvider's host recorded in the log, the Prometheus HTTP API
//     of any other host forwarded to the real Prometheus.
//
// It must not know the engine's decisions nor the controller: it only plays the
// world a controller acts in, and reads back only what the controller wrote to the
// API (the router's objects, the Deployments) as the mesh and the kubelets would.
// The rules of how a scenario acts on a cluster are sim.Stage's, the runner's own.
package serve
