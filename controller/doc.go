// Package controller is aviary's live controller: a controller-runtime manager that
// advances every Canary in a cluster with engine.Engine.Tick on Flagger 1.44's
// schedule — a control loop every -control-loop-interval that starts a job per Canary
// (one tick at once, then one every analysis interval), restarts it when the interval
// changes and stops it when the Canary is gone — with the live ports plugged into the
// engine: a client that reads the API server directly, the real clock, a metric source
// given in Options (controller/promapi), webhooks over HTTP, Kubernetes Events through
// client-go's recorder (component "flagger", reason "Synced"), alerts (controller/notify),
// and an observer that feeds Flagger's Prometheus metrics and JSON log lines.
//
// All rollout state lives in the Canary's status (the engine's rule), so a restarted
// controller resumes where the last one stopped.
//
// It must not know scenarios, the simulator or synthetic worlds: what it runs against
// is whatever API server, Prometheus and webhooks its options point at.
package controller
