// Package scenario owns the Scenario format (aviary.dev/v1alpha1, kind Scenario;
// docs/scenario-format.md) and the record of a scenario's run: the types, the strict
// loader that reports every problem as file:line: field: message, the limits on what
// a scenario may ask of a run (Limits: one constant each, checked before anything is
// expanded), the positions of what only a run finds out (Loaded.FieldError), the load-time
// warnings (policies Flagger would trip on or read otherwise than written,
// expectations that cannot fail), the
// expectations, their checker and their negative controls, the rule that says which
// spec.hooks entry answers a webhook call (SelectEndpoint), and Result, the JSON run
// record reports are built from.
//
// The world section of a scenario is the world's own type (world.Spec), validated by
// the world's rules; this package adds where each problem is written. It does not run
// anything: it knows neither the event loop, nor the engine's ports, nor Kubernetes
// beyond decoding the policy objects (policyKinds: Flagger's API types and the
// built-in kinds that sit next to a Canary) and converting those of APIs no longer
// served (Convert). What the engine does not model it asks the engine.
package scenario
